"""TikTok: government requests to remove content (cumulative CSV download).

TikTok's "Government Removal Requests" report offers one cumulative CSV per
release, in long format: one row per (metric_name, period_value,
location_value) with the figure in `result`. Its CDN address changes with every
release, so fetch() reads the report page for the current link and falls back,
loudly, on the known addresses in SPEC.urls.

What the file publishes, per country and half-year (from 2022-H1):
requests received; content items and accounts named; how many of each TikTok
actioned for breaking its community guidelines or local law, and how many it
did not act on; and a removal rate. Worldwide, "Total Government Requests" is
given for every half-year from 2019-H1 (location "all"); it is the total of the
country rows where they exist.

The removal rate is a fraction of 1 over content and accounts together: in
every row of the 2025-H2 file it equals (content + accounts actioned) /
(content + accounts received), rounded to 3-4 decimals before 2025-H2.
"""

from __future__ import annotations

import html
import re
import warnings
from collections import defaultdict
from collections.abc import Iterator
from datetime import date

from ..formats import iter_csv_dicts, looks_like_html, read_csv
from ..models import Document, FetchError, Observation, ParseError, SourceSpec, Warning
from ..normalize import half_year, parse_count, parse_number

REPORT_PAGE = "https://www.tiktok.com/transparency/en/government-removals-report"

# Known CSV addresses, newest first; used only when the report page cannot be
# read or no longer links the CSV.
KNOWN_CSV_URLS = (
    "https://sf16-va.tiktokcdn.com/obj/eden-va2/zayvwlY_fjulyhwzuhy[/ljhwZthlaukjlkulzlp/"
    "2025H2_CLIGR/data_downloads/CLIGR_2025H2_GovernmentRemovalsRequests.csv",
)

DATASET = "removal-requests"

SPEC = SourceSpec(
    slug="tiktok",
    platform="TikTok",
    title="TikTok Government Removal Requests Report",
    urls=KNOWN_CSV_URLS,
    cadence="half-yearly",
    homepage=REPORT_PAGE,
    expect="csv",
    datasets={
        DATASET: (
            "Requests, content items and accounts per country and half-year (from 2022-H1), with how many "
            "TikTok actioned (reason: community guidelines or local law) or did not act on, and the removal "
            "rate; worldwide request totals from 2019-H1"
        ),
    },
    headline_datasets=(DATASET,),
    notes=(
        "The CSV address changes every release: it is found on the report page, else the last known address "
        "is used (with a warning). 'removal_rate' is TikTok's 'Removal rate', a fraction of 1 over content "
        "and accounts together ((content + accounts actioned) / (content + accounts received)). Items and "
        "accounts actioned are split by reason: 'Community guidelines' (TikTok's own rules) or 'Local law'. "
        "The worldwide row ('All') is a total (XW), and the only figure for 2019-H1..2021-H2."
    ),
)

REASON_GUIDELINES = "Community guidelines"
REASON_LOCAL_LAW = "Local law"

# Every metric_name the file uses -> (metric, reason). An unknown name is a
# ParseError: a new or renamed measure must be looked at, not skipped.
_METRIC_NAMES: dict[str, tuple[str, str]] = {
    "Total requests received": ("requests", ""),
    "Total content received": ("items_requested", ""),
    "Content actioned due to community guidelines violations": ("items_actioned", REASON_GUIDELINES),
    "Content actioned due to (local) law violations": ("items_actioned", REASON_LOCAL_LAW),
    "Content not actioned": ("items_no_action", ""),
    "Total accounts received": ("accounts_specified", ""),
    "Accounts actioned due to community guidelines violations": ("accounts_actioned", REASON_GUIDELINES),
    "Accounts actioned due to (local) law violations": ("accounts_actioned", REASON_LOCAL_LAW),
    "Accounts not actioned": ("accounts_no_action", ""),
    "Removal rate": ("removal_rate", ""),
}
# The worldwide row: only with location "all" / "All".
_WORLDWIDE_METRIC = "Total Government Requests"
_WORLDWIDE_NAME = "All"

_COLUMNS = {
    "replication_info": ["replication_info"],
    "entity": ["entity"],
    "aspect": ["aspect"],
    "metric_name": ["metric_name"],
    "period": ["period"],
    "period_value": ["period_value"],
    "policy": ["policy"],
    "policy_value": ["policy_value"],
    "task": ["task"],
    "task_value": ["task_value"],
    "location": ["location"],
    "location_value": ["location_value"],
    "result": ["result"],
    "base": ["base"],
    "date": ["date"],
}
# Identifiers and columns the file leaves blank or uses for its own bookkeeping
# (`date` holds e.g. 20230120.0 on older rows): not figures, not required.
_OPTIONAL = ("replication_info", "entity", "aspect", "base", "date")

# Columns that would carry a further breakdown. The file only ever says "all"
# here; anything else would split figures we would otherwise add up.
_MUST_BE_ALL = ("policy", "policy_value", "task", "task_value")

_PERIOD = re.compile(r"^(Jan-Jun|Jul-Dec) (\d{4})$")

_CSV_LINK = re.compile(r"""(?:https?:)?//[^"'\s<>()\\]*?GovernmentRemovalsRequests\.csv""")
_ESCAPED_SLASH = re.compile(r"\\+/|\\+u002[fF]")
_RELEASE = re.compile(r"(\d{4})H([12])")


class DiscoveryWarning(UserWarning):
    """The report page did not give the CSV address; a known address was used."""


# --------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------


def discover_csv_urls(page: bytes) -> list[str]:
    """The GovernmentRemovalsRequests CSV links on the report page, newest release first.

    The page is a script-rendered app: links may be plain hrefs, HTML-escaped,
    or inside JSON with escaped slashes (`\\/`, `\\u002F`).
    """
    text = _ESCAPED_SLASH.sub("/", page.decode("utf-8", errors="replace"))
    found: list[str] = []
    for match in _CSV_LINK.finditer(text):
        url = html.unescape(match.group(0))
        if url.startswith("//"):
            url = "https:" + url
        if url.startswith("https://") and url not in found:
            found.append(url)

    def release(url: str) -> tuple[int, int]:
        m = _RELEASE.findall(url)
        return (int(m[-1][0]), int(m[-1][1])) if m else (0, 0)

    # Stable sort: among links with no release label, page order is kept.
    return sorted(found, key=release, reverse=True)


def fetch(session, spec: SourceSpec = SPEC) -> list[Document]:
    documents: list[Document] = []
    problem = None
    try:
        page = session.get(REPORT_PAGE, expect="html")
    except FetchError as exc:
        problem = f"the report page {REPORT_PAGE} could not be fetched ({exc})"
    else:
        links = discover_csv_urls(page.body)
        if links:
            return [session.get(links[0], expect=spec.expect)]
        problem = f"the report page {REPORT_PAGE} has no link to a GovernmentRemovalsRequests CSV"
        # Kept so the load records (via parse) that discovery failed, and so
        # the page that lost its link can be looked at.
        documents.append(page)
    warnings.warn(
        f"tiktok: {problem}; falling back to the known address(es) in SPEC.urls, which may miss a newer release",
        DiscoveryWarning,
        stacklevel=2,
    )
    errors = []
    for url in spec.urls:
        try:
            documents.append(session.get(url, expect=spec.expect))
            return documents
        except FetchError as exc:
            errors.append(str(exc))
    raise FetchError(f"tiktok: {problem}, and no known CSV address answered: {'; '.join(errors)}")


def import_url(filename: str) -> str | None:
    """The published URL of a downloaded copy of a known release, by its file name."""
    return {url.rsplit("/", 1)[-1]: url for url in KNOWN_CSV_URLS}.get(filename)


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------


def parse(document: Document) -> Iterator[Observation | Warning]:
    if document.url.split("?", 1)[0] == REPORT_PAGE:
        yield from _parse_report_page(document)
        return
    if looks_like_html(document.body):
        raise ParseError(f"{document.url}: expected the CSV download but got an HTML page")
    member = document.name.removeprefix("file:")  # an import without a known URL is "file:<name>"
    where = document.url
    table = read_csv(document.body, where, _COLUMNS, optional=_OPTIONAL)
    # (period, location) -> metric_name -> (value, line, text), for the checks below
    cells: dict[tuple[str, str], dict[str, tuple[float | None, int, str]]] = defaultdict(dict)
    for line, row in iter_csv_dicts(table):
        for column in _MUST_BE_ALL:
            if row[column].strip().casefold() != "all":
                raise ParseError(
                    f"{where} line {line}: column {column!r} is {row[column]!r}; expected 'all' "
                    "(a new breakdown this parser does not know)"
                )
        if row["period"].strip() != "half-year":
            raise ParseError(f"{where} line {line}: column 'period' is {row['period']!r}; expected 'half-year'")
        start, end = _period(row["period_value"], where, line)
        name = row["metric_name"].strip()
        location, place = row["location"].strip(), row["location_value"].strip()
        text = row["result"]
        if name == _WORLDWIDE_METRIC:
            if (location, place) != ("all", _WORLDWIDE_NAME):
                raise ParseError(
                    f"{where} line {line}: {name!r} is given for location {location!r}={place!r}; "
                    f"expected only the worldwide row (all={_WORLDWIDE_NAME!r})"
                )
            number = _count(text, name, where, line)
            if number.kind == "blank":
                continue
            yield Observation(
                dataset=DATASET, period_start=start, period_end=end, metric="requests",
                value=number.value, value_text=text, value_low=number.low, value_high=number.high,
                country_name=place, country_code="XW", is_total=True, total_over="country",
                member=member, row=line,
            )
            continue
        if name not in _METRIC_NAMES:
            raise ParseError(
                f"{where} line {line}: unknown metric_name {name!r}; expected one of "
                f"{', '.join(repr(n) for n in [*_METRIC_NAMES, _WORLDWIDE_METRIC])}"
            )
        if location != "country_name" or not place or place == _WORLDWIDE_NAME:
            raise ParseError(
                f"{where} line {line}: {name!r} is given for location {location!r}={place!r}; "
                "expected a country (location 'country_name')"
            )
        metric, reason = _METRIC_NAMES[name]
        if metric == "removal_rate":
            number = _fraction(text, where, line)
        else:
            number = _count(text, name, where, line)
        if number.kind == "blank":
            continue  # an empty cell publishes nothing
        cells[(row["period_value"].strip(), place)][name] = (number.value, line, text)
        yield Observation(
            dataset=DATASET, period_start=start, period_end=end, metric=metric,
            value=number.value, value_text=text, value_low=number.low, value_high=number.high,
            country_name=place, reason=reason, member=member, row=line,
        )
    yield from _consistency_warnings(cells, member)


def _parse_report_page(document: Document) -> Iterator[Warning]:
    # fetch() only returns the page when it had no CSV link.
    if not discover_csv_urls(document.body):
        yield Warning(
            "discovery_failed",
            f"the report page {document.url} links no GovernmentRemovalsRequests CSV; "
            "the last known CSV address was used instead and a newer release may be missed",
            document.name,
        )


def _period(text: str, where: str, line: int) -> tuple[date, date]:
    m = _PERIOD.match(text.strip())
    if not m or int(m[2]) == 0:  # year 0000 matches the pattern but is no date
        raise ParseError(f"{where} line {line}: period_value {text!r} is not 'Jan-Jun YYYY' or 'Jul-Dec YYYY'")
    period = half_year(int(m[2]), 1 if m[1] == "Jan-Jun" else 2)
    return period.start, period.end


def _count(text: str, name: str, where: str, line: int):
    try:
        number = parse_count(text)
    except ValueError as exc:
        raise ParseError(f"{where} line {line}: {name}: {exc}") from exc
    if number.kind not in ("exact", "blank"):
        raise ParseError(f"{where} line {line}: {name}: unexpected cell {text!r}")
    return number


def _fraction(text: str, where: str, line: int):
    try:
        number = parse_number(text, maximum=1.0)
    except ValueError as exc:
        raise ParseError(f"{where} line {line}: Removal rate: {exc} (expected a fraction of 1)") from exc
    if number.kind not in ("exact", "blank"):
        raise ParseError(f"{where} line {line}: Removal rate: unexpected cell {text!r}")
    return number


_PARTS = {
    "content": (
        "Total content received",
        ("Content actioned due to community guidelines violations", "Content actioned due to (local) law violations",
         "Content not actioned"),
    ),
    "accounts": (
        "Total accounts received",
        ("Accounts actioned due to community guidelines violations", "Accounts actioned due to (local) law violations",
         "Accounts not actioned"),
    ),
}


def _consistency_warnings(cells, member: str) -> Iterator[Warning]:
    """Findings about the report itself; every figure stays as published."""
    for (period, place), figures in cells.items():
        for what, (total_name, part_names) in _PARTS.items():
            if total_name in figures and all(p in figures for p in part_names):
                total, line, text = figures[total_name]
                parts = sum(figures[p][0] for p in part_names)
                if parts != total:
                    yield Warning(
                        "breakdown_mismatch",
                        f"{place} {period}: {what} received is {text!r} but actioned + not actioned add up to {parts:g}",
                        member, line,
                    )
        rate = figures.get("Removal rate")
        received = [figures[n][0] for n in ("Total content received", "Total accounts received") if n in figures]
        if rate is not None and len(received) == 2 and sum(received) == 0:
            yield Warning(
                "rate_without_base",
                f"{place} {period}: removal rate published as {rate[2]!r} although no content or accounts "
                "were received (the rate is undefined, not zero)",
                member, rate[1],
            )
