"""X (formerly Twitter): the Global Transparency Report, H1 2024 onwards.

A PDF per half-year, loaded with `takedowns import` (X publishes no stable
listing of them). One page, headed "INFORMATION AND REMOVAL REQUESTS" in the
H1 2024 edition, has two small tables: government requests for account
information and government requests to remove content, each with a total row
and a few countries and groups (columns "TOTAL NUMBER OF REQUESTS", "CASES
DISCLOSED"/"CASES ACTIONED", "DISCLOSURE RATE"/"ACTION RATE").

The tables are found by their total rows ("TOTAL REMOVAL REQUESTS", "TOTAL
INFORMATION REQUESTS") on a page that mentions them, not by page number, and
their columns by name, so later editions with other page counts still read.
The period comes from the report's own text ("H1 2024", "January to June
2024"). "EU" and "All Others" are groups of countries that the report adds
into its total, so they are rows (codes EU and XO), not totals.

The report does not define a "case"; its action rate is cases actioned over
requests (51,487 / 72,703 = 70.82%, as printed), so cases are counted as
requests: requests_actioned and requests_data_produced.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath

from ..formats import header_key
from ..models import Document, Observation, ParseError, SourceSpec, Warning
from ..normalize import Period, half_year, parse_count, parse_number

SPEC = SourceSpec(
    slug="x-global-report",
    platform="X (Twitter)",
    title="X Global Transparency Report: government information and removal requests",
    urls=(),
    cadence="half-yearly",
    homepage="https://transparency.x.com/en",
    expect="pdf",
    import_only=True,
    datasets={
        "removal-requests": "Government requests to remove content, per half-year: total and the countries and groups "
        "listed (H1 2024: Turkey, Japan, South Korea, EU, all others) with requests, cases actioned and action rate",
        "information-requests": "Government requests for account information, per half-year: total and the countries "
        "and groups listed (H1 2024: USA, Japan, EU, UK, all others) with requests, cases disclosed and disclosure rate",
    },
    headline_datasets=("removal-requests",),
    notes="Import-only: load each PDF with `takedowns import FILE --source x-global-report`. Only the few countries "
    "the report lists are broken out; 'EU' (code EU) and 'All Others' (code XO) are groups, and the total row is XW. "
    "Continues Twitter's removal-requests series under the platform name 'X (Twitter)'.",
)


@dataclass(frozen=True)
class _TableSpec:
    total_label: str  # as printed, matched loosely
    columns: dict[str, list[str]]  # metric -> accepted header spellings


_TABLES = {
    "removal-requests": _TableSpec(
        "TOTAL REMOVAL REQUESTS",
        {
            "requests": ["TOTAL NUMBER OF REQUESTS"],
            "requests_actioned": ["CASES ACTIONED"],
            "pct_requests_actioned": ["ACTION RATE"],
        },
    ),
    "information-requests": _TableSpec(
        "TOTAL INFORMATION REQUESTS",
        {
            "requests_for_user_data": ["TOTAL NUMBER OF REQUESTS"],
            "requests_data_produced": ["CASES DISCLOSED"],
            "pct_requests_data_produced": ["DISCLOSURE RATE"],
        },
    ),
}
_SECTION_HEADING = "INFORMATION AND REMOVAL REQUESTS"
# Rows that are groups of countries, not countries: label -> pseudo code.
_GROUPS = {"eu": "EU", "european union": "EU", "all others": "XO", "all other countries": "XO", "other countries": "XO"}

_PAGE_HINT = re.compile(r"(removal|information)\s+requests", re.I)
_HALF_LABEL = re.compile(r"\bH\s?([12])\s+(20\d{2})\b")
_MONTH_SPAN = re.compile(
    r"\b(January|July)(?:\s+1)?\s*(?:to|through|until|–|—|-)\s*(June|December)(?:\s+3[01])?,?\s+(20\d{2})\b", re.I
)

# Archived file name -> the URL X published it at. The H1 2024 URL is the one
# given as the source of this PDF by apparebit/diaphanous (where our archived
# copy comes from) and matches the PDF's own title, "x-global-transparency-report-h1".
_H1_2024_URL = "https://transparency.x.com/content/dam/transparency-twitter/2024/x-global-transparency-report-h1.pdf"
_PUBLISHED_AT = {
    "x-global-transparency-report-2024-h1.pdf": _H1_2024_URL,  # our archive's name
    "x-2024-h1.pdf": _H1_2024_URL,  # apparebit/diaphanous's name
}


def fetch(session, spec: SourceSpec = SPEC) -> list[Document]:
    return [session.get(url, expect=spec.expect) for url in spec.urls]  # import-only: no URLs


def import_url(filename: str) -> str | None:
    """The URL X published an archived report at, when we know it."""
    return _PUBLISHED_AT.get(PurePath(filename).name.casefold())


def parse(document: Document) -> Iterator[Observation | Warning]:
    import pdfplumber  # heavy: only when a PDF is actually read

    where = document.url
    if not document.body.lstrip()[:5] == b"%PDF-":
        raise ParseError(f"{where}: not a PDF (starts with {document.body[:16]!r}); expected X's Global Transparency Report")
    try:
        pdf = pdfplumber.open(io.BytesIO(document.body))
    except Exception as exc:  # pdfminer raises several unrelated types on a bad file
        raise ParseError(f"{where}: not a readable PDF ({exc})") from exc
    try:
        try:
            pages = pdf.pages
        except Exception as exc:  # a damaged page tree: pdfminer's own types, TypeError, KeyError...
            raise ParseError(f"{where}: the PDF's pages cannot be read ({type(exc).__name__}: {exc})") from exc
        texts = [_page_text(page, where) for page in pages]
        found: dict[str, tuple[int, list[list[str]], int]] = {}
        for number, (page, text) in enumerate(zip(pages, texts), 1):
            if not _PAGE_HINT.search(text):
                continue
            for table in _tables(page, where):
                for dataset, spec in _TABLES.items():
                    total_row = _find_row(table, spec.total_label)
                    if total_row is not None and dataset not in found:
                        found[dataset] = (number, table, total_row)
    finally:
        # Not `with pdf:` - closing walks the page tree again, and on a damaged
        # file that raises over the ParseError above.
        with contextlib.suppress(Exception):
            pdf.close()
    for dataset, spec in _TABLES.items():
        if dataset not in found:
            raise ParseError(
                f"{where}: no table with a {spec.total_label!r} row found on any of its {len(texts)} pages "
                f"(looked on pages mentioning removal or information requests, as under the heading "
                f"{_SECTION_HEADING!r}); expected X's Global Transparency Report"
            )
    pages = {number for number, _, _ in found.values()}
    period = _period(texts, pages, where)
    for dataset, (number, table, total_row) in found.items():
        member = f"page {number}: {_TABLES[dataset].total_label}"
        yield from _read_table(table, total_row, dataset, period, member, where)


def _page_text(page, where: str) -> str:
    try:
        return page.extract_text() or ""
    except Exception as exc:
        raise ParseError(f"{where}: page {page.page_number} cannot be read ({exc})") from exc


def _tables(page, where: str) -> list[list[list[str]]]:
    """The page's tables as rows of cell strings (ruled tables first, then by text alignment)."""
    try:
        tables = page.extract_tables() or []
        if not any(_find_row(t, spec.total_label) is not None for t in tables for spec in _TABLES.values()):
            tables = tables + (page.extract_tables({"vertical_strategy": "text", "horizontal_strategy": "text"}) or [])
    except Exception as exc:  # pdfminer raises several unrelated types on a damaged page
        raise ParseError(f"{where}: tables on page {page.page_number} cannot be read ({type(exc).__name__}: {exc})") from exc
    return [[[_cell(c) for c in row] for row in table] for table in tables]


def _cell(value) -> str:
    return re.sub(r"\s+", " ", (value or "").replace("\u00a0", " ")).strip()


def _find_row(table: list[list[str]], label: str) -> int | None:
    key = header_key(label)
    for index, row in enumerate(table):
        if row and header_key(row[0] or "") == key:
            return index
    return None


def _read_table(
    table: list[list[str]], total_row: int, dataset: str, period: Period, member: str, where: str
) -> Iterator[Observation | Warning]:
    """Read one table; `total_row` is the 0-based index of its total row."""
    spec = _TABLES[dataset]
    if total_row == 0:
        raise ParseError(f"{where} {member}: the {spec.total_label!r} row has no header row above it")
    header = table[total_row - 1]
    columns = _columns(header, spec, member, where)
    for index in range(total_row, len(table)):
        cells = table[index]
        line = index + 1  # 1-based row in the table, the header row included
        if not any(cells):
            continue
        label = cells[0]
        if not label:
            raise ParseError(f"{where} {member}: row {line} has figures but no country")
        if index == total_row:
            fields = {"country_name": label, "country_code": "XW", "is_total": True, "total_over": "country"}
        elif header_key(label).startswith("total"):
            raise ParseError(f"{where} {member}: row {line}: a second total row {label!r}")
        else:
            fields = {"country_name": label, "country_code": _GROUPS.get(header_key(label))}
        for metric, column in columns.items():
            text = cells[column] if column < len(cells) else ""
            yield from _observation(dataset, period, metric, text, member, line, where, **fields)


def _columns(header: list[str], spec: _TableSpec, member: str, where: str) -> dict[str, int]:
    wanted = {header_key(s): metric for metric, names in spec.columns.items() for s in names}
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = header_key(name)
        if index == 0 and not key:
            continue  # the label column
        metric = wanted.get(key)
        if metric is None:
            raise ParseError(
                f"{where} {member}: header changed: unexpected column {name!r}; expected "
                f"{', '.join(repr(names[0]) for names in spec.columns.values())}"
            )
        if metric in found:
            raise ParseError(f"{where} {member}: column {name!r} appears twice")
        found[metric] = index
    missing = [names[0] for metric, names in spec.columns.items() if metric not in found]
    if missing:
        raise ParseError(
            f"{where} {member}: header changed: missing column(s) {', '.join(repr(m) for m in missing)}; "
            f"header is {header!r}"
        )
    return found


def _observation(dataset, period, metric, text, member, line, where, **fields) -> Iterator[Observation | Warning]:
    try:
        number = parse_number(text, percent=True) if metric.startswith("pct_") else parse_count(text)
    except ValueError as exc:
        raise ParseError(f"{where} {member} row {line}: {metric}: {exc}") from exc
    if number.kind == "blank":
        return
    if number.kind not in ("exact", "banded", "range"):
        raise ParseError(f"{where} {member} row {line}: {metric}: unexpected cell {text!r}")
    yield Observation(
        dataset=dataset,
        period_start=period.start,
        period_end=period.end,
        metric=metric,
        value=number.value,
        value_text=text,
        value_low=number.low,
        value_high=number.high,
        member=member,
        row=line,
        **fields,
    )
    if number.kind != "exact":
        yield Warning("banded_value", f"{metric} published as {text!r} for {fields['country_name']}", member, line)


def _period(texts: list[str], table_pages: set[int], where: str) -> Period:
    """The half-year the report covers, from its own words."""
    on_table_pages = {_half(m) for n in table_pages for m in _HALF_LABEL.finditer(texts[n - 1])}
    everywhere = {_half(m) for text in texts for m in _HALF_LABEL.finditer(text)}
    spans = {p for text in texts for m in _MONTH_SPAN.finditer(text) if (p := _span(m)) is not None}
    labels = on_table_pages or everywhere
    if len(labels) > 1:
        raise ParseError(
            f"{where}: the report names several half-years ({', '.join(sorted(p.label for p in labels))}); "
            "cannot tell which one its tables cover"
        )
    if labels:
        (period,) = labels
        if spans and period not in spans:
            raise ParseError(
                f"{where}: the report says {period.label} but its text covers "
                f"{', '.join(sorted(p.label for p in spans))}"
            )
        return period
    if len(spans) == 1:
        return next(iter(spans))
    raise ParseError(
        f"{where}: cannot find the period the report covers (looked for 'H1 2024' or 'January to June 2024')"
    )


def _half(m: re.Match) -> Period:
    return half_year(int(m[2]), int(m[1]))


def _span(m: re.Match) -> Period | None:
    first, last, year = m[1].lower(), m[2].lower(), int(m[3])
    if (first, last) == ("january", "june"):
        return half_year(year, 1)
    if (first, last) == ("july", "december"):
        return half_year(year, 2)
    return None
