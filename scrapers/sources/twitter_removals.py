"""Twitter (now X): removal-requests reports, 2012-H1 to 2019-H1 (import only).

Twitter published one CSV per half-year at transparency.twitter.com; those
download pages are gone, so the files are loaded with `takedowns import`.
Columns are found by name: their order changed in 2016 (TIME PERIOD moved to
the front) and from 2018-H2 the file has 9 columns (no ISO code, no
"ACCOUNTS (NO ACTION)", no website links). The "GOV'T" header is spelled five
ways across the files (curly apostrophe, GOVERNMENT, GOVT, and two mangled
encodings), each accepted explicitly so any other drift fails loudly.

What the cells mean, and how they are stored:
- "-" means none (the country is listed with no requests that half-year); a
  count is stored as 0 with value_text "-". A "-" in the percentage column is
  a share of no requests, so it publishes no figure and none is stored (a
  Warning would say so if the row had requests; none of the 15 files does).
- "158*": a footnote mark whose note is not in the file; the figure is stored
  and a Warning says so.
- "3,353 (2,440)" (Tweets withheld, 2015-H2 only): the report's notes that we
  could find do not say what the bracketed figure is, so the figure before the
  bracket is the value, the whole cell stays in value_text, and a Warning
  names the unexplained bracket. The figures before the brackets add up to the
  published total (3,353); the bracketed ones add up to the bracketed total
  (2,440) only when the rows without a bracket (Germany 1, Japan 1) count too,
  so the bracket looks like a second count of the same Tweets, of an unstated
  kind.
- The total row (TOTAL, TOTALS or Total) is a published total over countries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote

from ..formats import iter_csv_dicts, read_csv
from ..models import Document, Observation, ParseError, SourceSpec, Warning
from ..normalize import DASHES, Period, half_year, parse_number, parse_period

DOWNLOAD_BASE = "https://transparency.twitter.com/content/dam/transparency-twitter/data/download-removal-requests/"
DATASET = "removal-requests"

SPEC = SourceSpec(
    slug="twitter-removals",
    platform="X (Twitter)",
    title="Twitter Transparency Report: removal requests (2012-2019)",
    urls=(),
    cadence="archived",
    homepage="https://transparency.twitter.com/en/removal-requests.html",
    expect="csv",
    datasets={
        DATASET: (
            "Legal removal requests per country and half-year (court orders; government agency, police, other), "
            "share with some content withheld, accounts specified, accounts and Tweets withheld, accounts actioned "
            "under the terms of service (2012-H1 to 2019-H1)"
        ),
    },
    headline_datasets=(DATASET,),
    notes=(
        "Import only: load each removal-requests-report-<jan-jun|jul-dec>-<yyyy>.csv with `takedowns import`. "
        "'-' is stored as 0 (none); a '-' percentage (a share of no requests) is not stored. Tweets withheld in "
        "2015-H2 carry an unexplained bracketed second figure (e.g. '3,353 (2,440)'): the first figure is stored, "
        "the whole cell kept as published. Removal requests are published as court orders and as government "
        "agency, police, other: stored as the metric 'requests' with those two requesters."
    ),
    import_only=True,
)

_GOVT = "REMOVAL REQUESTS ({} AGENCY, POLICE, OTHER)"
COLUMNS: dict[str, list[str]] = {
    "period": ["TIME PERIOD"],
    "country": ["COUNTRY"],
    "code": ["ISO CODE"],
    "requests_court_orders": ["REMOVAL REQUESTS (COURT ORDERS)"],
    "requests_other_than_court": [
        _GOVT.format("GOV’T"),
        _GOVT.format("GOVERNMENT"),
        _GOVT.format("GOVT"),
        _GOVT.format("GOV\ufffdT"),  # jan-jun-2018 as archived: a replacement character for the apostrophe
        _GOVT.format("GOVäó»T"),  # jul-dec-2016: invalid UTF-8 in the header, read as Windows-1252
    ],
    "pct_requests_content_withheld": ["PERCENTAGE WHERE SOME CONTENT WITHHELD"],
    "accounts_specified": ["ACCOUNTS SPECIFIED"],
    "accounts_withheld": ["ACCOUNTS WITHHELD"],
    "items_withheld": ["TWEETS WITHHELD"],
    "accounts_actioned_tos": ["ACCOUNTS (TOS)"],
    "accounts_no_action": ["ACCOUNTS (NO ACTION)"],
    # Website assets (flag images, page links): not figures.
    "flags": ["FLAGS"],
    "links": ["LINKS"],
    "report_links": ["REPORT LINKS"],
}
OPTIONAL = ("code", "accounts_no_action", "flags", "links", "report_links")
METRIC_COLUMNS = (
    "requests_court_orders",
    "requests_other_than_court",
    "pct_requests_content_withheld",
    "accounts_specified",
    "accounts_withheld",
    "items_withheld",
    "accounts_actioned_tos",
    "accounts_no_action",
)
LABELS = {
    "requests_court_orders": "removal requests (court orders)",
    "requests_other_than_court": "removal requests (government agency, police, other)",
    "pct_requests_content_withheld": "percentage where some content withheld",
    "accounts_specified": "accounts specified",
    "accounts_withheld": "accounts withheld",
    "items_withheld": "Tweets withheld",
    "accounts_actioned_tos": "accounts (TOS)",
    "accounts_no_action": "accounts (no action)",
}
TOTAL_NAMES = {"total", "totals"}
# The two request columns are one metric broken down by requester, as Google's
# and X's reports are, so the series sums and runs on into X's reports.
COLUMN_FIGURE = {
    "requests_court_orders": ("requests", "Court orders"),
    "requests_other_than_court": ("requests", "Government agency, police, other"),
}


def column_of(obs: Observation) -> str:
    """The published column a stored figure came from."""
    for column, (metric, requester) in COLUMN_FIGURE.items():
        if (obs.metric, obs.requester) == (metric, requester):
            return column
    return obs.metric

_FILE_NAME = re.compile(r"^removal-requests-report-(jan-jun|jul-dec)-(\d{4})(?:\s*\(\d+\))?\.csv$", re.I)
_BRACKET = re.compile(r"^(?P<main>.*?)\s*\((?P<inner>[^()]*)\)\s*$")
_FOOTNOTE_MARK = re.compile(r"[*†‡]|\[\d+\]")


def fetch(session, spec: SourceSpec = SPEC) -> list[Document]:
    # The download pages are gone: nothing to fetch, files come in by import.
    return [session.get(url, expect=spec.expect) for url in spec.urls]


def import_url(filename: str) -> str | None:
    """Where Twitter published a file of this name (None for other names)."""
    m = _FILE_NAME.match(filename.strip())
    if not m:
        return None
    return f"{DOWNLOAD_BASE}removal-requests-report-{m[1].lower()}-{m[2]}.csv"


def file_name(url: str) -> str:
    """The file name in a document URL (an import without a URL is "file:<name>")."""
    name = unquote(url.rstrip("/").rsplit("/", 1)[-1])
    return name.removeprefix("file:")


def period_from_name(name: str) -> Period | None:
    m = _FILE_NAME.match(name)
    if not m:
        return None
    return half_year(int(m[2]), 1 if m[1].lower() == "jan-jun" else 2)


def parse(document: Document) -> Iterator[Observation | Warning]:
    member = file_name(document.url)
    where = document.url
    table = read_csv(document.body, where, COLUMNS, optional=OPTIONAL)
    period = _file_period(table, member, where)
    for line, row in iter_csv_dicts(table):
        country = row["country"].strip()
        if not country:
            if any(row.get(c, "").strip() for c in METRIC_COLUMNS):
                raise ParseError(f"{where} line {line}: figures with no COUNTRY; expected a country or a TOTAL row")
            continue
        is_total = country.casefold() in TOTAL_NAMES
        code = "XW" if is_total else (row.get("code", "").strip() or None)
        for metric in METRIC_COLUMNS:
            if metric not in table.columns:
                continue
            yield from _cell(row[metric], metric, country, code, is_total, period, member, line, where)
        pct = row["pct_requests_content_withheld"].strip()
        requests = [row[c].strip() for c in ("requests_court_orders", "requests_other_than_court")]
        if pct in DASHES and any(_is_some(r) for r in requests):
            yield Warning(
                "dash_percentage",
                f"percentage where some content withheld is '-' for {country} although it has requests "
                f"({' / '.join(requests)}); no percentage stored",
                member,
                line,
            )


def _file_period(table, member: str, where: str) -> Period:
    """The half-year the file covers: its TIME PERIOD cells, else its name."""
    texts = {cells[table.columns["period"]].strip() for _, cells in table.rows if len(cells) > table.columns["period"]}
    texts.discard("")
    periods = set()
    for text in texts:
        try:
            periods.add(parse_period(text))
        except ValueError as exc:
            raise ParseError(f"{where}: TIME PERIOD {text!r} is not a half-year such as 'January - June 2017'") from exc
    if len(periods) > 1:
        raise ParseError(f"{where}: the file mixes periods {sorted(texts)}; expected one half-year per file")
    from_name = period_from_name(member)
    if periods:
        (period,) = periods
        if period.grain != "half":
            raise ParseError(f"{where}: TIME PERIOD {next(iter(texts))!r} is not a half-year")
        if from_name and from_name != period:
            raise ParseError(
                f"{where}: the file says {period.label} but its name {member!r} says {from_name.label}"
            )
        return period
    if from_name:
        return from_name
    raise ParseError(
        f"{where}: no TIME PERIOD in the file and the name {member!r} does not say the period; "
        "expected a name like removal-requests-report-jul-dec-2017.csv"
    )


def _is_some(cell: str) -> bool:
    """A requests cell that publishes at least one request."""
    try:
        return bool(parse_number(_BRACKET.sub(r"\g<main>", cell)).value)
    except ValueError:
        return False


def _cell(text, metric, country, code, is_total, period, member, line, where) -> Iterator[Observation | Warning]:
    raw = text
    cell = raw.strip()
    if not cell:
        return  # a blank cell publishes nothing
    label = LABELS[metric]
    bracket = _BRACKET.match(cell)
    if bracket:
        cell = bracket["main"]
    is_pct = metric.startswith("pct_")
    try:
        number = parse_number(cell, percent=True) if is_pct else parse_number(cell, maximum=1e12)
    except ValueError as exc:
        raise ParseError(f"{where} line {line}: {label} for {country}: {exc}") from exc
    if number.kind not in ("exact", "dash", "banded"):
        raise ParseError(f"{where} line {line}: {label} for {country}: unexpected cell {raw!r}")
    if not is_pct and number.value is not None and number.value != int(number.value):
        raise ParseError(f"{where} line {line}: {label} for {country}: not a whole number: {raw!r}")
    if number.kind == "dash" and is_pct:
        return  # a share of no requests: no figure (parse() warns if there were requests)
    value, low, high = number.value, number.low, number.high
    if number.kind == "dash":
        value = low = high = 0.0  # "-": none
    yield Observation(
        dataset=DATASET,
        period_start=period.start,
        period_end=period.end,
        metric=COLUMN_FIGURE.get(metric, (metric, ""))[0],
        requester=COLUMN_FIGURE.get(metric, (metric, ""))[1],
        value=value,
        value_text=raw,
        value_low=low,
        value_high=high,
        country_name=country,
        country_code=code,
        is_total=is_total,
        total_over="country" if is_total else "",
        member=member,
        row=line,
    )
    if bracket:
        yield Warning(
            "unexplained_bracket",
            f"{label} for {country} published as {raw!r}: the report does not say what the bracketed "
            f"{bracket['inner']!r} is; stored {value:g}, the figure before the bracket",
            member,
            line,
        )
    if number.kind == "banded":
        yield Warning("banded_value", f"{label} published as {raw!r} for {country}", member, line)
    if number.kind == "exact" and _FOOTNOTE_MARK.search(cell):
        yield Warning(
            "footnote_mark",
            f"{label} for {country} published as {raw!r}; the footnote's text is not in the file; stored {value:g}",
            member,
            line,
        )
