"""LinkedIn: government requests for member data and for content removal.

One HTML page holds the whole report: three tab groups (one tab per year, one
table per half-year under it) with the member-data requests by country
(2016 on), the breakdown of U.S. requests for member data (2015 on; the page has
no 2022 tab there) and the content-removal requests by country (2018 on).

Every table is placed by the headings it sits under, never by its position on
the page: the section heading before its tab group says which report it is,
its own heading ("2024: July-December") says which half-year, and the tab it
sits in must name the same year. A table that cannot be placed that way stops
the parse.

Published totals are kept as published and flagged: "Total"/"Totals"/"Total
including the US" is the worldwide total (XW) and "Total minus the US" the
total of every country but the US (XR). Some published totals do not add up
(July-December 2024 content removal: rows add up to 76 requests, the total
says 63); the pipeline's total check reports those for XW, and parse reports
them for XR, which that generic check cannot know to compare without the US.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from bs4 import BeautifulSoup, Tag

from ..formats import header_key
from ..models import Document, Observation, ParseError, SourceSpec, Warning
from ..normalize import Period, half_year, parse_count, parse_number, parse_period

URL = "https://about.linkedin.com/transparency/government-requests-report"

SPEC = SourceSpec(
    slug="linkedin",
    platform="LinkedIn",
    title="LinkedIn Government Requests Report",
    urls=(URL,),
    cadence="half-yearly",
    homepage=URL,
    expect="html",
    datasets={
        "content-removal-requests": "Government requests to remove content per country and half-year: requests, "
        "requests on which action was taken, share actioned, with the published totals (2018-H1 on)",
        "member-data-requests": "Government requests for member data per country and half-year: requests, accounts "
        "subject to them, share of requests with some data provided, accounts with some data provided (2016-H1 on)",
        "member-data-requests-us": "U.S. government requests for member data per half-year: requests, accounts, share "
        "with some data provided, share by legal process (subpoenas, search warrants, court orders, other) and "
        "national-security requests in the bands the law allows (2015-H1 on; the page has no 2022 tab)",
    },
    headline_datasets=("content-removal-requests",),
    notes="Scraped from the report's HTML tables. Totals are kept as published (XW = total including the US, "
    "XR = total minus the US) and flagged when they do not match their rows. FISA figures are moved to the "
    "half-year before the table they are published in, as the page's footnote [6] says they cover.",
)

# The section heading before a tab group -> the dataset its tables hold.
_REPORTS = {
    "requests by country": "member-data-requests",
    "breakdown of u.s. government requests for data": "member-data-requests-us",
    "global government requests for content removal": "content-removal-requests",
}
_REPORT_HEADINGS = {
    "member-data-requests": "Requests by country",
    "member-data-requests-us": "Breakdown of U.S. government requests for data",
    "content-removal-requests": "Global government requests for content removal",
}

# Per-country tables: metric -> accepted header spellings. Footnote marks
# ("[1]") are ignored by header_key. The page's footnote [1] says the accounts
# column "was previously labeled 'Accounts Impacted'".
_COUNTRY_COLUMNS = {
    "member-data-requests": {
        "requests_for_user_data": ["Requests for member data"],
        "user_accounts_referenced": ["Accounts subject to request(s)", "Accounts subject to requests", "Accounts impacted"],
        "pct_requests_data_produced": ["Percentage of requests for which LinkedIn provided some data"],
        "accounts_data_produced": ["Accounts for which LinkedIn provided some data"],
    },
    "content-removal-requests": {
        "requests": ["Requests"],
        "requests_actioned": ["Action taken"],
        "pct_requests_actioned": ["Percentage action taken"],
    },
}
_LABEL_HEADERS = {"", "country", "country/region"}
# How the tables name the US (the row "Total minus the US" leaves out).
_US_NAMES = {"united states", "us", "u.s.", "usa", "united states of america"}

# Total rows of the per-country tables -> (country_code, total_over).
# XR totals add up over every country but the US; "country-except-US" keeps the
# generic total check (which would compare them with all rows) away from them.
_TOTALS = {
    "total": ("XW", "country"),
    "totals": ("XW", "country"),
    "total including the us": ("XW", "country"),
    "total minus the us": ("XR", "country-except-US"),
}

# U.S. breakdown rows: label -> (metric, requester, half-years to shift).
# Footnote [6]: "reported FISA request metrics correspond to the previous
# reporting period (for example, data for the July-December 2019 period is
# reported in our January-June 2020 report)", so FISA rows move back one half.
_US_ROWS = {
    "requests": ("requests_for_user_data", "", 0),
    "accounts subject to requests": ("user_accounts_referenced", "", 0),
    "requests for which linkedin provided some data": ("pct_requests_data_produced", "", 0),
    "subpoenas": ("pct_of_requests", "Subpoenas", 0),
    "search warrants": ("pct_of_requests", "Search warrants", 0),
    "court orders": ("pct_of_requests", "Court orders", 0),
    "other": ("pct_of_requests", "Other", 0),
    "national security letters received": ("requests_for_user_data", "National security letters", 0),
    "national security letters (accounts subject to request)": ("user_accounts_referenced", "National security letters", 0),
    "fisa requests": ("requests_for_user_data", "FISA requests", -1),
    "national security requests received": ("requests_for_user_data", "National security requests (NSLs and FISA)", 0),
    "national security requests (accounts subject to request)": (
        "user_accounts_referenced",
        "National security requests (NSLs and FISA)",
        0,
    ),
}
_US_REQUIRED = ("requests", "accounts subject to requests", "requests for which linkedin provided some data")

# Half-years a report is known to skip on the page as published: no gap
# elsewhere is accepted, since a missing tab in the middle is a layout change.
_KNOWN_GAPS = {"member-data-requests-us": {half_year(2022, 1), half_year(2022, 2)}}

_HALF_HEADING = re.compile(r"^(\d{4})\s*:\s*([A-Za-z]+)\s*[-–]\s*([A-Za-z]+)$")
_FOOTNOTE_MARK = re.compile(r"\s*(\*+|†|‡|\[\d+\])$")


@dataclass(frozen=True)
class _Placed:
    """One table with the report and half-year it belongs to."""

    table: Tag
    dataset: str
    period: Period
    member: str  # "<report heading> / <half-year heading>"
    panel: Tag


def fetch(session, spec: SourceSpec = SPEC) -> list[Document]:
    return [session.get(url, expect=spec.expect) for url in spec.urls]


def parse(document: Document) -> Iterator[Observation | Warning]:
    where = document.url
    try:
        soup = BeautifulSoup(document.body, "lxml")
    except ValueError as exc:  # lxml refuses NUL and control bytes where it guesses the encoding
        raise ParseError(f"{where}: not a readable HTML page ({exc})") from exc
    tables = soup.find_all("table")
    if not tables:
        raise ParseError(f"{where}: no tables on the page; expected LinkedIn's government requests report tables")
    placed = [_place(table, number, where) for number, table in enumerate(tables, 1)]
    _check_coverage(placed, where)
    for item in placed:
        if item.dataset == "member-data-requests-us":
            yield from _parse_us_table(item, where)
        else:
            yield from _parse_country_table(item, where)


# --------------------------------------------------------------------------
# Placing tables
# --------------------------------------------------------------------------


def _text(tag: Tag) -> str:
    return re.sub(r"\s+", " ", tag.get_text(" ", strip=True).replace("\u00a0", " ")).strip()


def _describe(table: Tag, number: int) -> str:
    first = table.find("tr")
    return f"table {number} (first row {_text(first)[:80]!r})" if first else f"table {number}"


def _place(table: Tag, number: int, where: str) -> _Placed:
    component = table.find_parent("section", class_="table-component") or table.find_parent("section")
    heading = component.find("h4") if component else None
    if heading is None:
        raise ParseError(f"{where}: {_describe(table, number)} has no half-year heading (h4) above it; cannot place it")
    label = _text(heading)
    panel = table.find_parent("artdeco-tabpanel")
    tabs = panel.find_parent("artdeco-tabs") if panel else None
    if panel is None or tabs is None:
        raise ParseError(f"{where}: table {label!r} ({_describe(table, number)}) is not inside a tab; cannot place it")
    section = tabs.find_previous("h2")
    report = _text(section) if section else ""
    dataset = _REPORTS.get(header_key(report))
    if dataset is None:
        raise ParseError(
            f"{where}: table {label!r} sits under the heading {report!r}, which is not one of the known reports "
            f"({', '.join(repr(h) for h in _REPORT_HEADINGS.values())})"
        )
    member = f"{report} / {label}"
    tab = tabs.find("artdeco-tab", attrs={"for-panel": panel.get("panel-name")})
    if tab is None:
        raise ParseError(
            f"{where}: table {member!r} sits in panel {panel.get('panel-name')!r}, which no tab names "
            "(a tab removed?); cannot tell which year it belongs to"
        )
    period = _half_year_heading(label, where, member)
    tab_years = {int(y) for y in re.findall(r"\d{4}", _text(tab))}
    if tab_years and period.start.year not in range(min(tab_years), max(tab_years) + 1):
        raise ParseError(f"{where}: table {member!r} sits under the tab {_text(tab)!r}, which is not its year")
    return _Placed(table, dataset, period, member, panel)


def _half_year_heading(label: str, where: str, member: str) -> Period:
    m = _HALF_HEADING.match(label)
    if m:
        try:
            period = parse_period(f"{m[2]}-{m[3]} {m[1]}")
        except ValueError:
            period = None
        if period is not None and period.grain == "half":
            return period
    raise ParseError(f"{where}: table {member!r}: heading {label!r} is not a half-year like '2024: July-December'")


def _check_coverage(placed: list[_Placed], where: str) -> None:
    by_dataset: dict[str, list[_Placed]] = defaultdict(list)
    for item in placed:
        by_dataset[item.dataset].append(item)
    for dataset, heading in _REPORT_HEADINGS.items():
        if dataset not in by_dataset:
            raise ParseError(f"{where}: no tables found under the heading {heading!r}")
    for dataset, items in by_dataset.items():
        seen: dict[Period, str] = {}
        for item in items:
            if item.period in seen:
                raise ParseError(f"{where}: two tables for {item.period.label} under {_REPORT_HEADINGS[dataset]!r}")
            seen[item.period] = item.member
        known_gaps = _KNOWN_GAPS.get(dataset, set())
        missing = [p for p in _halves_between(min(seen), max(seen)) if p not in seen and p not in known_gaps]
        if missing:
            raise ParseError(
                f"{where}: under {_REPORT_HEADINGS[dataset]!r} the half-year tables for "
                f"{', '.join(p.label for p in missing)} are missing (a tab removed?)"
            )


def _halves_between(first: Period, last: Period) -> list[Period]:
    out, year, half = [], first.start.year, 1 if first.start.month == 1 else 2
    while True:
        period = half_year(year, half)
        if period > last:
            return out
        out.append(period)
        year, half = (year, 2) if half == 1 else (year + 1, 1)


def _previous_half(period: Period) -> Period:
    if period.start.month == 1:
        return half_year(period.start.year - 1, 2)
    return half_year(period.start.year, 1)


# --------------------------------------------------------------------------
# Reading cells
# --------------------------------------------------------------------------


def _cells(row: Tag) -> list[str]:
    return [c.get_text(" ", strip=True) for c in row.find_all(["td", "th"], recursive=False)]


def _number(metric: str, text: str):
    if metric.startswith("pct_"):
        return parse_number(text, percent=True)
    return parse_count(text)


def _observations(
    item: _Placed, line: int, metric: str, text: str, *, period: Period | None = None, **fields
) -> Iterator[Observation | Warning]:
    """The Observation for one cell (none for a blank cell), with any finding."""
    period = period or item.period
    who = fields.get("country_name") or fields.get("requester") or "total"
    try:
        number = _number(metric, text)
    except ValueError as exc:
        # An odd cell (e.g. "0%" in a count column) is kept as published, with
        # no value, and reported rather than guessed at.
        yield _observation(item, line, metric, text, period, None, None, None, **fields)
        yield Warning("odd_cell", f"{metric} published as {text!r} for {who} ({exc}); kept with no value", item.member, line)
        return
    if number.kind == "blank":
        return
    if number.kind not in ("exact", "banded", "range"):
        yield _observation(item, line, metric, text, period, None, None, None, **fields)
        yield Warning("odd_cell", f"{metric} published as {text!r} for {who}; kept with no value", item.member, line)
        return
    yield _observation(item, line, metric, text, period, number.value, number.low, number.high, **fields)
    if number.kind != "exact":
        yield Warning("banded_value", f"{metric} published as {text!r} for {who}", item.member, line)


def _observation(item, line, metric, text, period, value, low, high, **fields) -> Observation:
    return Observation(
        dataset=item.dataset,
        period_start=period.start,
        period_end=period.end,
        metric=metric,
        value=value,
        value_text=text,
        value_low=low,
        value_high=high,
        member=item.member,
        row=line,
        **fields,
    )


# --------------------------------------------------------------------------
# Per-country tables (member data, content removal)
# --------------------------------------------------------------------------


def _parse_country_table(item: _Placed, where: str) -> Iterator[Observation | Warning]:
    rows = item.table.find_all("tr")
    if not rows:
        raise ParseError(f"{where}: table {item.member!r} is empty")
    header = _cells(rows[0])
    columns = _country_columns(header, _COUNTRY_COLUMNS[item.dataset], item, where)
    blank_columns = [i for i, name in enumerate(header) if i and not header_key(name)]
    records: list[Observation | Warning] = []
    for line, row in enumerate(rows[1:], 2):
        cells = _cells(row)
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise ParseError(
                f"{where}: table {item.member!r} row {line} has {len(cells)} cells but the header has {len(header)}"
            )
        for i in blank_columns:
            if cells[i].strip():
                raise ParseError(f"{where}: table {item.member!r} row {line} has {cells[i]!r} under a column with no heading")
        label = cells[0].strip()
        if not label:
            raise ParseError(f"{where}: table {item.member!r} row {line} has figures but no country")
        fields, note = _row_fields(label, item, where, line)
        if note:
            records.append(note)
        for metric, index in columns.items():
            records.extend(_observations(item, line, metric, cells[index], **fields))
    yield from records
    yield from _check_total_without_us(item, [r for r in records if isinstance(r, Observation)])


def _check_total_without_us(item: _Placed, observations: list[Observation]) -> Iterator[Warning]:
    """Compare "Total minus the US" (XR) with the rows of every other country."""
    for total in observations:
        if total.country_code != "XR" or total.metric.startswith("pct_") or total.value is None:
            continue
        rows = [
            o for o in observations
            if o.metric == total.metric and not o.is_total and header_key(o.country_name or "") not in _US_NAMES
        ]
        if not rows or any(o.value is None for o in rows):
            continue  # nothing to compare, or an odd cell: no exact sum
        rows_sum = sum(o.value for o in rows)
        if abs(rows_sum - total.value) > 1e-9:
            yield Warning(
                "total_mismatch",
                f"{total.dataset} {total.period_start}..{total.period_end} {total.metric}: published total "
                f"{total.value_text!r} ({total.country_name}) but the {len(rows)} rows of countries other than "
                f"the US add up to {rows_sum:g}",
                total.member,
                total.row,
            )


def _country_columns(header: list[str], wanted: dict[str, list[str]], item: _Placed, where: str) -> dict[str, int]:
    if not header or header_key(header[0]) not in _LABEL_HEADERS:
        raise ParseError(
            f"{where}: table {item.member!r}: header changed: the first column is {header[:1]!r}, "
            "expected the (blank) country column"
        )
    spellings = {header_key(s): metric for metric, names in wanted.items() for s in names}
    found: dict[str, int] = {}
    for index, name in enumerate(header[1:], 1):
        key = header_key(name)
        if not key:
            continue  # a spacer column; its cells must stay blank
        metric = spellings.get(key)
        if metric is None:
            raise ParseError(
                f"{where}: table {item.member!r}: header changed: unexpected column {name!r}; expected "
                f"{', '.join(repr(n[0]) for n in wanted.values())}"
            )
        if metric in found:
            raise ParseError(f"{where}: table {item.member!r}: column {name!r} appears twice")
        found[metric] = index
    missing = [wanted[m][0] for m in wanted if m not in found]
    if missing:
        raise ParseError(
            f"{where}: table {item.member!r}: header changed: missing column(s) "
            f"{', '.join(repr(m) for m in missing)}; header is {header!r}"
        )
    return found


def _row_fields(label: str, item: _Placed, where: str, line: int) -> tuple[dict, Warning | None]:
    key = header_key(label)
    if key in _TOTALS:
        code, over = _TOTALS[key]
        return {"country_name": label, "country_code": code, "is_total": True, "total_over": over}, None
    if key.startswith("total"):
        raise ParseError(
            f"{where}: table {item.member!r} row {line}: unknown total row {label!r}; expected one of "
            f"{', '.join(repr(t) for t in _TOTALS)}"
        )
    name, note = label, None
    mark = _FOOTNOTE_MARK.search(label)
    if mark:
        name = label[: mark.start()].strip()
        note = Warning(
            "footnote",
            f"{label!r} carries a footnote mark; the page's note: {_footnote(item.panel, mark[1])!r}",
            item.member,
            line,
        )
    return {"country_name": name, "is_total": False}, note


def _footnote(panel: Tag, mark: str) -> str:
    for text in panel.find_all(string=True):
        stripped = str(text).strip()
        if stripped.startswith(mark) and len(stripped) > len(mark) + 3:
            return stripped
    return "(no note found)"


# --------------------------------------------------------------------------
# U.S. breakdown (one row per figure)
# --------------------------------------------------------------------------


def _parse_us_table(item: _Placed, where: str) -> Iterator[Observation | Warning]:
    seen: set[str] = set()
    for line, row in enumerate(item.table.find_all("tr"), 1):
        cells = _cells(row)
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != 2:
            raise ParseError(
                f"{where}: table {item.member!r} row {line} has {len(cells)} cells; expected a label and a figure"
            )
        label, text = cells
        key = header_key(label)
        if key not in _US_ROWS:
            raise ParseError(
                f"{where}: table {item.member!r} row {line}: unexpected row {label!r}; expected one of "
                f"{', '.join(repr(k) for k in _US_ROWS)}"
            )
        if key in seen:
            raise ParseError(f"{where}: table {item.member!r}: row {label!r} appears twice")
        seen.add(key)
        metric, requester, shift = _US_ROWS[key]
        period = _previous_half(item.period) if shift else item.period
        yield from _observations(
            item, line, metric, text, period=period, country_name="United States", requester=requester
        )
    missing = [k for k in _US_REQUIRED if k not in seen]
    if missing:
        raise ParseError(f"{where}: table {item.member!r}: missing row(s) {', '.join(repr(m) for m in missing)}")
