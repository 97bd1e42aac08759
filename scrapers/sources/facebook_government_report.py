"""Facebook: Government Requests Report, 2013-H1 to 2015-H1 (import only).

One CSV per half-year, named Facebook-Government-Report-<yyyy>-H<n>.csv; the
file itself does not say its period, so the name must. Per country: requests
for user data, user accounts referenced, the share of requests where some data
was produced and, from 2013-H2, content restrictions (pieces of content
restricted under local law), the figure this source is here for.

The archived copies were exported from the report's Traditional-Chinese page,
so country names are in Chinese (丹麥, 亞美尼亞, …); they are kept as published
and resolved centrally (normalize.resolve_country: every CLDR locale plus
aliases). Counts are quoted with thousands separators; the United States'
figures are published as ranges ("11,000 - 12,000") and kept as bounds. There
is no total row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote

from ..formats import iter_csv_dicts, read_csv
from ..models import Document, Observation, ParseError, SourceSpec, Warning
from ..normalize import Period, half_year, parse_count, parse_number

USER_DATA = "user-data-requests"
CONTENT = "content-restrictions"

SPEC = SourceSpec(
    slug="facebook-government-report",
    platform="Facebook",
    title="Facebook Government Requests Report (2013-2015)",
    urls=(),
    cadence="archived",
    homepage="https://transparency.meta.com/reports/government-data-requests/",
    expect="csv",
    datasets={
        CONTENT: "Pieces of content restricted under local law, per country and half-year (2013-H2 to 2015-H1)",
        USER_DATA: (
            "Government requests for user data, user accounts referenced and share of requests where some data "
            "was produced, per country and half-year (2013-H1 to 2015-H1)"
        ),
    },
    headline_datasets=(CONTENT,),
    notes=(
        "Import only: load each Facebook-Government-Report-<yyyy>-H<n>.csv with `takedowns import` (the name gives "
        "the period). The archived copies name countries in Traditional Chinese. United States figures are "
        "published as ranges and stored as bounds."
    ),
    import_only=True,
)

COLUMNS: dict[str, list[str]] = {
    "country": ["Country"],
    "requests_for_user_data": ["Requests for User Data"],
    "user_accounts_referenced": ["User Accounts Referenced"],
    "pct_requests_data_produced": ["Percentage of requests where some data produced"],
    "content_restrictions": ["Content Restrictions"],
}
METRIC_DATASETS = {
    "requests_for_user_data": USER_DATA,
    "user_accounts_referenced": USER_DATA,
    "pct_requests_data_produced": USER_DATA,
    "content_restrictions": CONTENT,
}
# Content restrictions were first published for the second half of 2013.
FIRST_CONTENT_PERIOD = half_year(2013, 2)

_FILE_NAME = re.compile(r"^Facebook-Government-Report-(\d{4})-H([12])(?:\s*\(\d+\))?\.csv$", re.I)


def fetch(session, spec: SourceSpec = SPEC) -> list[Document]:
    # Facebook's old download links are gone: files come in by import.
    return [session.get(url, expect=spec.expect) for url in spec.urls]


def import_url(filename: str) -> str | None:
    # The address these Traditional-Chinese exports were downloaded from is not
    # established, so an import records the file name only.
    return None


def file_name(url: str) -> str:
    name = unquote(url.rstrip("/").rsplit("/", 1)[-1])
    return name.removeprefix("file:")


def period_from_name(name: str) -> Period | None:
    m = _FILE_NAME.match(name.strip())
    return half_year(int(m[1]), int(m[2])) if m else None


def parse(document: Document) -> Iterator[Observation | Warning]:
    member = file_name(document.url)
    where = document.url
    period = period_from_name(member)
    if period is None:
        raise ParseError(
            f"{where}: the file does not say its period and its name {member!r} does not either; "
            "expected a name like Facebook-Government-Report-2015-H1.csv"
        )
    optional = ("content_restrictions",) if period < FIRST_CONTENT_PERIOD else ()
    table = read_csv(document.body, where, COLUMNS, optional=optional)
    for line, row in iter_csv_dicts(table):
        country = row["country"].strip()
        if not country:
            raise ParseError(f"{where} line {line}: figures with no Country")
        for metric, dataset in METRIC_DATASETS.items():
            if metric in table.columns:
                yield from _cell(row[metric], metric, dataset, country, period, member, line, where)


def _cell(text, metric, dataset, country, period, member, line, where) -> Iterator[Observation | Warning]:
    raw = text
    try:
        number = parse_number(raw, percent=True) if metric.startswith("pct_") else parse_count(raw)
    except ValueError as exc:
        raise ParseError(f"{where} line {line}: {metric} for {country}: {exc}") from exc
    if number.kind == "blank":
        return  # a blank cell publishes nothing
    if number.kind not in ("exact", "range"):
        raise ParseError(f"{where} line {line}: {metric} for {country}: unexpected cell {raw!r}")
    yield Observation(
        dataset=dataset,
        period_start=period.start,
        period_end=period.end,
        metric=metric,
        value=number.value,
        value_text=raw,
        value_low=number.low,
        value_high=number.high,
        country_name=country,
        member=member,
        row=line,
    )
    if number.kind == "range":
        yield Warning("range_value", f"{metric} published as the range {raw!r} for {country}", member, line)
