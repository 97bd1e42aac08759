"""GitHub: government takedown requests received and processed (counts).

GitHub publishes its transparency data as CSVs in the github/transparency
repository. Since 2025-09 government takedowns come as four files: requests
received, and requests processed (with the repositories, Pages sites and
accounts affected), each by year and by half-year. Before that, one combined
file per grain held both; those two URLs now answer 404 and are fetched only
when still there (an older mirror, an archive).

GitHub's README for this data does not define "processed". It says that on a
request GitHub checks that it came from an official government agency,
identifies the content and names the source of illegality, and "If we
determine the answer is 'yes' to all three, we block the content in the
narrowest way we see possible". In the files, `type` says on which ground a
request was processed: "Local law" (blocked where illegal) or "Terms of
service" (GitHub found its own terms broken); a processed count of 0 under
"Local law" means none were. `type` is stored as the row's `reason`.

The older combined files also split requests *received* by `type`; the current
received files do not. They are kept in their own datasets so received counts
of the two editions are never added together.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from ..formats import iter_csv_dicts, read_csv
from ..models import Document, FetchError, Observation, ParseError, SourceSpec, Warning
from ..normalize import full_year, half_year, parse_count

BASE = "https://raw.githubusercontent.com/github/transparency/main/data/government_takedowns/"

RECEIVED_BY_YEAR = BASE + "government_takedowns_received.csv"
PROCESSED_BY_YEAR = BASE + "government_takedowns_processed.csv"
RECEIVED_BY_HALF = BASE + "by_calendar_year_half/government_takedowns_received_by_calendar_year_half.csv"
PROCESSED_BY_HALF = BASE + "by_calendar_year_half/government_takedowns_processed_by_calendar_year_half.csv"
README = BASE + "README.md"
# Removed upstream in 2025-09 (last seen at github/transparency 1d292481).
COMBINED_BY_YEAR = BASE + "government_takedowns.csv"
COMBINED_BY_HALF = BASE + "by_calendar_year_half/government_takedowns_by_calendar_year_half.csv"

CURRENT_URLS = (RECEIVED_BY_YEAR, PROCESSED_BY_YEAR, RECEIVED_BY_HALF, PROCESSED_BY_HALF)
# A failed fetch of one of these does not fail the source.
OPTIONAL_URLS = (README, COMBINED_BY_YEAR, COMBINED_BY_HALF)

BY_YEAR = "takedowns-by-year"
BY_HALF = "takedowns-by-half-year"
BY_YEAR_COMBINED = "takedowns-by-year-and-type"
BY_HALF_COMBINED = "takedowns-by-half-year-and-type"

SPEC = SourceSpec(
    slug="github-takedowns",
    platform="GitHub",
    title="GitHub Transparency Report: government takedown requests",
    urls=CURRENT_URLS + OPTIONAL_URLS,
    cadence="half-yearly",
    homepage="https://github.com/github/transparency/tree/main/data/government_takedowns",
    expect="csv",
    datasets={
        BY_YEAR: (
            "Requests received per government and year (2021 on); requests processed, with repositories "
            "(items), Pages sites and accounts affected, per government, year and type (reason: Local law / "
            "Terms of service)"
        ),
        BY_HALF: "The same per half-year (2023-H1 on)",
        BY_YEAR_COMBINED: (
            "Older combined file (2021-2024, withdrawn upstream 2025-09): requests received and processed, "
            "and what was affected, per government, year and type"
        ),
        BY_HALF_COMBINED: "Older combined file by half-year (2023-H1..2024-H2, withdrawn upstream 2025-09)",
    },
    headline_datasets=(BY_HALF, BY_YEAR, BY_HALF_COMBINED, BY_YEAR_COMBINED),
    notes=(
        "'requests' counts requests received; 'requests_processed' those GitHub processed (acted on), by type: "
        "'Local law' (content blocked where illegal) or 'Terms of service'. GitHub's README does not define "
        "'processed' further. Repositories affected are 'items_actioned', GitHub Pages sites 'pages_actioned' "
        "(often the Pages of the same repositories), accounts 'accounts_actioned'. The current year in the "
        "yearly files is year-to-date (a 'partial_period' warning says so when the file was fetched before "
        "the year ended). The current half-year files lack some half-years the yearly files count (e.g. "
        "Russia 2023-H2 and 2024-H2); the withdrawn combined files have them."
    ),
)

_YEAR = {"year": ["year"]}
_HALF = {"year": ["year"], "half": ["half"]}
_GOVERNMENT = {"government": ["government"], "code": ["government_iso2_code"]}
_RECEIVED = {"count_received": ["count_received"]}
_PROCESSED = {
    "type": ["type"],
    "count_processed": ["count_processed"],
    "count_repos_affected": ["count_repos_affected"],
    "count_pages_affected": ["count_pages_affected"],
    "count_accounts_affected": ["count_accounts_affected"],
}
# Published column -> metric
_METRICS = {
    "count_received": "requests",
    "count_processed": "requests_processed",
    "count_repos_affected": "items_actioned",
    "count_pages_affected": "pages_actioned",
    "count_accounts_affected": "accounts_actioned",
}

# File name -> (dataset, columns)
_FILES: dict[str, tuple[str, dict[str, list[str]]]] = {
    "government_takedowns_received.csv": (BY_YEAR, {**_YEAR, **_GOVERNMENT, **_RECEIVED}),
    "government_takedowns_processed.csv": (BY_YEAR, {**_YEAR, **_GOVERNMENT, **_PROCESSED}),
    "government_takedowns_received_by_calendar_year_half.csv": (BY_HALF, {**_HALF, **_GOVERNMENT, **_RECEIVED}),
    "government_takedowns_processed_by_calendar_year_half.csv": (BY_HALF, {**_HALF, **_GOVERNMENT, **_PROCESSED}),
    "government_takedowns.csv": (BY_YEAR_COMBINED, {**_YEAR, **_GOVERNMENT, **_RECEIVED, **_PROCESSED}),
    "government_takedowns_by_calendar_year_half.csv": (
        BY_HALF_COMBINED,
        {**_HALF, **_GOVERNMENT, **_RECEIVED, **_PROCESSED},
    ),
}


def fetch(session, spec: SourceSpec = SPEC) -> list[Document]:
    documents = []
    failed: dict[str, FetchError] = {}
    for url in spec.urls:
        expect = "markdown" if url.endswith(".md") else spec.expect
        try:
            documents.append(session.get(url, expect=expect))
        except FetchError as exc:
            if url not in CURRENT_URLS and url not in OPTIONAL_URLS:
                raise
            # The withdrawn combined files (and the README, which has no
            # figures) may be gone: the current files hold the data.
            failed[url] = exc
    missing_current = [u for u in CURRENT_URLS if u in failed]
    older_edition_only = len(missing_current) == len(CURRENT_URLS) and not any(
        u in failed for u in (COMBINED_BY_YEAR, COMBINED_BY_HALF)
    )
    # A current file that fails is an error, unless none of them exist and
    # the older combined files do (an edition from before 2025-09, e.g. a
    # mirror): a renamed or half-published current layout must fail loudly.
    if missing_current and not older_edition_only:
        raise failed[missing_current[0]]
    return documents


def import_url(filename: str) -> str | None:
    """The published URL of a downloaded copy of one of the files, by its name."""
    return {url.rsplit("/", 1)[-1]: url for url in SPEC.urls}.get(filename)


def parse(document: Document) -> Iterator[Observation | Warning]:
    name = document.name.removeprefix("file:")  # an import without a known URL is "file:<name>"
    if name == "README.md":
        return  # GitHub's notes on the data: archived for reference, no figures
    if name not in _FILES:
        raise ParseError(f"{document.url}: not a known GitHub government-takedowns file; expected one of {', '.join(_FILES)}")
    dataset, columns = _FILES[name]
    where = document.url
    table = read_csv(document.body, where, columns)
    as_of = document.published_as_of or document.fetched_at.date()
    partial_reported: set[tuple[date, date]] = set()
    metrics = [c for c in columns if c in _METRICS]
    for line, row in iter_csv_dicts(table):
        start, end = _period(row, where, line)
        government = row["government"].strip()
        if not government:
            raise ParseError(f"{where} line {line}: empty 'government'")
        reason = ""
        if "type" in columns:
            reason = row["type"].strip()
            if not reason:
                raise ParseError(f"{where} line {line}: empty 'type'")
        for column in metrics:
            text = row[column]
            try:
                number = parse_count(text)
            except ValueError as exc:
                raise ParseError(f"{where} line {line}: {column}: {exc}") from exc
            if number.kind == "blank":
                continue  # an empty cell publishes nothing
            if number.kind != "exact":
                raise ParseError(f"{where} line {line}: {column}: unexpected cell {text!r}")
            yield Observation(
                dataset=dataset, period_start=start, period_end=end, metric=_METRICS[column],
                value=number.value, value_text=text, value_low=number.low, value_high=number.high,
                country_name=government, country_code=row["code"].strip() or None,
                reason=reason, member=name, row=line,
            )
        if end > as_of and (start, end) not in partial_reported:
            partial_reported.add((start, end))
            yield Warning(
                "partial_period",
                f"{start.isoformat()}..{end.isoformat()} had not ended when this file was fetched "
                f"({as_of.isoformat()}): its figures are to date, not for the whole period",
                name, line,
            )


def _period(row: dict[str, str], where: str, line: int) -> tuple[date, date]:
    year_text = row["year"].strip()
    if not (year_text.isdecimal() and len(year_text) == 4):  # isdigit() admits "²", which int() refuses
        raise ParseError(f"{where} line {line}: 'year' is {row['year']!r}, expected a year like 2024")
    year = int(year_text)
    if not 1 <= year <= 9999:  # "0000" is four digits but no year a date can hold
        raise ParseError(f"{where} line {line}: 'year' is {row['year']!r}, expected a year like 2024")
    if "half" not in row:
        period = full_year(year)
    else:
        half_text = row["half"].strip()
        if half_text not in ("1", "2"):
            raise ParseError(f"{where} line {line}: 'half' is {row['half']!r}, expected 1 or 2")
        period = half_year(year, int(half_text))
    return period.start, period.end
