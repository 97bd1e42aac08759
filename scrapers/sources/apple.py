"""Apple: government requests to take down App Store apps (2018-H2 onwards).

Apple publishes one zip of CSVs (one per request type) and overwrites it every
half-year. Only the two app-takedown tables are about removing content: legal
violations and platform policy violations. The other members (device, account,
financial-identifier, emergency, preservation, restriction/deletion, digital
content provider and US national security requests) are requests for user data
or account action and are not loaded yet.

Cells are as Apple wrote them: with or without a BOM, CRLF line endings, " -"
in some cells, "China mainland" and "Türkiye" as country names, and one row
whose Country/Region is "N/A" with every figure 0.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date

from ..formats import decode_text, header_key, iter_csv_dicts, read_csv, zip_members
from ..models import Document, Observation, ParseError, SourceSpec, Warning
from ..normalize import half_year, parse_count

URL = "https://www.apple.com/legal/zip/transparency/Apple_Transparency_Report.zip"

# Members of the zip that are out of scope for now (requests for user data or
# account action, not for removing content). Listed so a new, unknown member
# is reported rather than passed over.
NOT_LOADED = (
    "account_preservation_requests.csv",
    "account_requests.csv",
    "account_restriction_deletion_requests.csv",
    "device_requests.csv",
    "digital_content_provider_requests.csv",
    "emergency_requests.csv",
    "financial_identifier_requests.csv",
    "us_national_security_requests.csv",
)

SPEC = SourceSpec(
    slug="apple",
    platform="Apple",
    title="Apple Transparency Report: government requests to take down App Store apps",
    urls=(URL,),
    cadence="half-yearly",
    homepage="https://www.apple.com/legal/transparency/",
    expect="zip",
    datasets={
        "app-takedowns-legal": (
            "Government requests to take down App Store apps for alleged legal violations, per country and "
            "half-year: requests, apps specified, requests objected to or rejected, requests where apps were "
            "removed, apps removed, appeals received and granted, apps reinstated (2018-H2 on)"
        ),
        "app-takedowns-platform-policy": (
            "Government requests to take down App Store apps for alleged App Store platform policy violations, "
            "per country and half-year, same figures (2018-H2 on)"
        ),
    },
    headline_datasets=("app-takedowns-legal", "app-takedowns-platform-policy"),
    notes=(
        "Loads the two app-takedown tables of Apple's zip (app_takedown_legal_violation_requests.csv, "
        "app_takedown_platform_policy_violation_requests.csv), found by their header. Not loaded (requests for "
        "user data or account action, out of scope for now): " + ", ".join(NOT_LOADED) + ". "
        "A cell published as ' -' is kept as published with no value: the zip has no notes saying what a dash "
        "means, and Apple uses it only in the appeals columns of the 2018-H2 and 2019-H1 rows, before it began "
        "reporting appeals (from 2019-H2 those columns hold 0 where there were none), so a dash is read as "
        "'not reported', not as zero. The 2018-H2 platform-policy row whose Country/Region is 'N/A' with every "
        "figure 0 is read as Apple's statement that no country made such requests that half-year, and is "
        "stored as a worldwide total (XW) of 0."
    ),
)

_COMMON = {
    "period": ["TR Period"],
    "start": ["TR Start Date"],
    "end": ["TR End Date"],
    "country": ["Country/Region"],
}
_MEASURES = {
    "items_requested": ["Apps Specified in Requests"],
    "requests_rejected": ["Requests Objected to in Part or Rejected in Full"],
    "requests_actioned": ["Requests where App Removed"],
    "items_actioned": ["Apps Removed"],
    "appeals_received": ["Appeals Received"],
    "appeals_granted": ["Appeals Granted"],
    "items_reinstated": ["Apps Reinstated"],
}
# dataset -> (the header that identifies the table, its columns)
_TABLES = {
    "app-takedowns-legal": (
        "Legal Violation Takedown Requests Received",
        {**_COMMON, "requests": ["Legal Violation Takedown Requests Received"], **_MEASURES},
    ),
    "app-takedowns-platform-policy": (
        "Platform Policy Violation Takedown Requests Received",
        {**_COMMON, "requests": ["Platform Policy Violation Takedown Requests Received"], **_MEASURES},
    ),
}
_METRICS = ["requests", *_MEASURES]

# The name Apple gives a row that is no country.
_NO_COUNTRY = {"n/a"}
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")


def fetch(session, spec: SourceSpec = SPEC) -> list[Document]:
    return [session.get(url, expect=spec.expect) for url in spec.urls]


def parse(document: Document) -> Iterator[Observation | Warning]:
    members = zip_members(document.body, document.url)
    csvs = {name: data for name, data in members.items() if name.lower().endswith(".csv")}
    found: dict[str, str] = {}  # dataset -> member
    for name in sorted(csvs):
        where = f"{document.url} member {name}"
        dataset = _identify(csvs[name], name, where)
        if dataset is None:
            base = name.rsplit("/", 1)[-1]
            if base not in NOT_LOADED:
                yield Warning("unknown_member", f"zip member {name!r} is not a table this source knows; not loaded", name)
            continue
        if dataset in found:
            raise ParseError(f"{document.url}: both {found[dataset]!r} and {name!r} hold the {dataset} table")
        found[dataset] = name
    if not found:
        raise ParseError(
            f"{document.url}: no app-takedown table found; expected a CSV whose header has "
            + " or ".join(repr(h) for h, _ in _TABLES.values())
            + f"; members are {sorted(csvs)!r}"
        )
    for dataset in sorted(set(_TABLES) - set(found)):
        yield Warning("missing_table", f"zip has no {dataset} table (header with {_TABLES[dataset][0]!r}); nothing loaded for it")
    for dataset, name in sorted(found.items()):
        where = f"{document.url} member {name}"
        table = read_csv(csvs[name], where, _TABLES[dataset][1])
        yield from _parse_table(table, dataset, name, where)


def _identify(data: bytes, name: str, where: str) -> str | None:
    """Which app-takedown table a CSV is, by its header (never by position)."""
    text = decode_text(data, where)
    first_line = text.split("\n", 1)[0]
    cells = next(csv.reader(io.StringIO(first_line)), [])
    header = {header_key(cell) for cell in cells}
    for dataset, (marker, _) in _TABLES.items():
        if header_key(marker) in header:
            return dataset
    if "app_takedown" in name.rsplit("/", 1)[-1].lower():
        raise ParseError(
            f"{where}: header changed: an app-takedown table without a column "
            + " or ".join(repr(m) for m, _ in _TABLES.values())
            + f"; header is {first_line!r}"
        )
    return None


def _us_date(text: str, where: str, line: int) -> date:
    m = _US_DATE.match(text.strip())
    if not m:
        raise ParseError(f"{where} line {line}: not a M/D/YY date: {text!r}")
    year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
    try:
        return date(year, int(m[1]), int(m[2]))
    except ValueError as exc:
        raise ParseError(f"{where} line {line}: bad date {text!r}: {exc}") from exc


def _period(row: dict[str, str], where: str, line: int) -> tuple[date, date]:
    """The half-year of "TR Period" ("2019 H1"), checked against the start and end dates."""
    m = re.match(r"^(\d{4})\s*H([12])$", row["period"].strip(), re.I)
    if not m or int(m[1]) == 0:  # year 0000 matches the pattern but is no date
        raise ParseError(f"{where} line {line}: 'TR Period' {row['period']!r} is not a half-year like '2019 H1'")
    period = half_year(int(m[1]), int(m[2]))
    start, end = _us_date(row["start"], where, line), _us_date(row["end"], where, line)
    if (start, end) != (period.start, period.end):
        raise ParseError(
            f"{where} line {line}: 'TR Period' {row['period']!r} disagrees with its dates {row['start']!r}..{row['end']!r}"
        )
    return period.start, period.end


def _parse_table(table, dataset: str, member: str, where: str) -> Iterator[Observation | Warning]:
    for line, row in iter_csv_dicts(table):
        start, end = _period(row, where, line)
        country = row["country"].strip()
        numbers = {}
        for metric in _METRICS:
            try:
                numbers[metric] = parse_count(row[metric])
            except ValueError as exc:
                raise ParseError(f"{where} line {line}: {metric}: {exc}") from exc
            if numbers[metric].kind not in ("exact", "dash", "blank"):
                raise ParseError(f"{where} line {line}: {metric}: unexpected cell {row[metric]!r}")

        place: dict = {"country_name": country}
        if country.casefold() in _NO_COUNTRY:
            if any(n.value for n in numbers.values()):
                raise ParseError(
                    f"{where} line {line}: a row with Country/Region {country!r} has non-zero figures; "
                    "cannot tell which country they belong to"
                )
            # Apple's way of saying no country made such requests that half-year.
            place = {"country_name": country, "country_code": "XW", "is_total": True, "total_over": "country"}
            yield Warning(
                "no_country_row",
                f"Country/Region {country!r} with every figure 0: stored as a worldwide total of 0",
                member,
                line,
            )

        dashed = []
        for metric in _METRICS:
            number = numbers[metric]
            if number.kind == "blank":
                continue  # an empty cell publishes nothing
            if number.kind == "dash":
                dashed.append(metric)
            yield Observation(
                dataset=dataset,
                period_start=start,
                period_end=end,
                metric=metric,
                value=number.value,
                value_text=row[metric],
                value_low=number.low,
                value_high=number.high,
                member=member,
                row=line,
                **place,
            )
        if dashed:
            yield Warning(
                "not_reported",
                f"{', '.join(dashed)} published as ' -' for {country} (not reported that half-year; no value)",
                member,
                line,
            )
