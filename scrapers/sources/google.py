"""Google: government requests to remove content (2009 onwards).

One zip at one URL, overwritten every half-year. Editions differ in shape: the
2022 edition carries the historical 2009-2019 files (court-order/executive
splits, "<10" and "?" cells) and says "Requester"; the 2025 edition has only the
current files and says "Requestor". Every figure is per half-year, keyed by the
last day of the period ("Period Ending").
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date

from ..formats import iter_csv_dicts, read_csv, zip_members
from ..models import Document, Observation, ParseError, SourceSpec, Warning
from ..normalize import half_year_ending, parse_count, parse_number

URL = "https://storage.googleapis.com/transparencyreport/google-government-removals.zip"

SPEC = SourceSpec(
    slug="google",
    platform="Google",
    title="Google Transparency Report: government requests to remove content",
    urls=(URL,),
    cadence="half-yearly",
    homepage="https://transparencyreport.google.com/government-removals/overview",
    expect="zip",
    datasets={
        "removal-requests": "Requests and items per country, half-year and requester type, with outcome shares of items (2019-H1 on)",
        "removal-requests-historical": "Requests and items per country and half-year, all / court orders / executive-police-other, with compliance share (2009-H2 to 2019-H1)",
        "requests-by-product-reason": "Requests per country, half-year, product and reason (2011-H1 on)",
        "requests-by-product-reason-historical": "Requests by court orders and executive-police-other, and items, per product and reason (2009-H2 to 2019-H1)",
    },
    headline_datasets=("removal-requests", "removal-requests-historical"),
)

_COMMON = {
    "period_ending": ["Period Ending"],
    "country": ["Country/Region"],
    "code": ["CLDR Territory Code"],
}
_SUMMARY = {
    **_COMMON,
    "requester": ["Requester", "Requestor"],
    "requests": ["Number of Requests"],
    "items_requested": ["Items Requested To Be Removed"],
    "pct_items_removed_legal": ["% Removed-Legal"],
    "pct_items_removed_policy": ["% Removed-Policy"],
    "pct_items_not_found": ["% Content Not Found"],
    "pct_items_not_enough_info": ["% Not Enough Information"],
    "pct_items_no_action": ["% No Action Taken"],
    "pct_items_already_removed": ["% Content Already Removed"],
}
_DETAILED = {**_COMMON, "product": ["Product"], "reason": ["Reason"], "requests": ["Total"]}
_HISTORICAL_GROUPS = {
    "All Requests": ("All requests", True),  # the total of the two rows below
    "Court Orders": ("Court orders", False),
    "Other Requests (Executive, Police, etc.)": ("Executive, police, etc.", False),
}
_HISTORICAL_FIELDS = {
    "Number of Requests": "requests",
    "% Fully Or Partially Complied With": "pct_requests_complied",
    "Items Requested To Be Removed": "items_requested",
}
_HISTORICAL = {
    **_COMMON,
    **{
        f"{group}|{metric}": [f"{group}: {field}"]
        for group in _HISTORICAL_GROUPS
        for field, metric in _HISTORICAL_FIELDS.items()
    },
}
_DETAILED_HISTORICAL = {
    **_COMMON,
    "product": ["Product"],
    "reason": ["Reason"],
    "court": ["Court Orders"],
    "executive": ["Executive, Police, etc."],
    "items_requested": ["Items Requested To Be Removed"],
}

# Member file name -> (dataset, columns)
_MEMBERS = {
    "google-government-removal-requests.csv": ("removal-requests", _SUMMARY),
    "google-government-detailed-removal-requests.csv": ("requests-by-product-reason", _DETAILED),
    "google-government-removal-requests-historical.csv": ("removal-requests-historical", _HISTORICAL),
    "google-government-detailed-removal-requests-historical.csv": (
        "requests-by-product-reason-historical",
        _DETAILED_HISTORICAL,
    ),
}


def fetch(session, spec: SourceSpec = SPEC) -> list[Document]:
    return [session.get(url, expect=spec.expect) for url in spec.urls]


def parse(document: Document) -> Iterator[Observation | Warning]:
    members = zip_members(document.body, document.url)
    csvs = {name: data for name, data in members.items() if name.lower().endswith(".csv")}
    if not csvs:
        raise ParseError(f"{document.url}: zip holds no CSV file; expected {', '.join(_MEMBERS)}")
    for name in sorted(csvs):
        base = name.rsplit("/", 1)[-1]
        if base not in _MEMBERS:
            raise ParseError(
                f"{document.url}: zip member {name!r} is not a known table; expected one of {', '.join(_MEMBERS)}"
            )
        dataset, columns = _MEMBERS[base]
        where = f"{document.url} member {name}"
        table = read_csv(csvs[name], where, columns, optional=["reason"] if "reason" in columns else ())
        handler = _HISTORICAL_HANDLERS.get(dataset, _parse_flat)
        yield from handler(table, dataset, name, where)


def _period(text: str, where: str, line: int) -> tuple[date, date]:
    try:
        period = _half_year_ending_text(text)
    except ValueError as exc:
        raise ParseError(f"{where} line {line}: bad 'Period Ending' {text!r}: {exc}") from exc
    return period.start, period.end


@functools.lru_cache(maxsize=1024)
def _half_year_ending_text(text: str):
    return half_year_ending(date.fromisoformat(text.strip()))


def _number(text: str, metric: str, where: str, line: int):
    try:
        if metric.startswith("pct_"):
            return parse_number(text, percent=True)
        return parse_count(text)
    except ValueError as exc:
        raise ParseError(f"{where} line {line}: {metric}: {exc}") from exc


def _observation(row, dataset, member, line, metric, text, where, **dims) -> Iterator[Observation | Warning]:
    number = _number(text, metric, where, line)
    if number.kind == "blank":
        return  # an empty cell publishes nothing
    if number.kind not in ("exact", "banded", "unknown"):
        raise ParseError(f"{where} line {line}: {metric}: unexpected cell {text!r}")
    start, end = _period(row["period_ending"], where, line)
    yield Observation(
        dataset=dataset,
        period_start=start,
        period_end=end,
        metric=metric,
        value=number.value,
        value_text=text,
        value_low=number.low,
        value_high=number.high,
        country_name=row["country"].strip(),
        country_code=row["code"].strip() or None,
        member=member,
        row=line,
        **dims,
    )
    if number.kind == "banded":
        yield Warning("banded_value", f"{metric} published as {text!r} for {row['country']}", member, line)
    elif number.kind == "unknown":
        yield Warning("unknown_value", f"{metric} published as {text!r} for {row['country']}", member, line)


def _parse_flat(table, dataset, member, where) -> Iterator[Observation | Warning]:
    metrics = [c for c in table.columns if c not in ("period_ending", "country", "code", "requester", "product", "reason")]
    for line, row in iter_csv_dicts(table):
        dims = {
            "requester": row.get("requester", "").strip(),
            "product": row.get("product", "").strip(),
            "reason": row.get("reason", "").strip(),
        }
        for metric in metrics:
            yield from _observation(row, dataset, member, line, metric, row[metric], where, **dims)


def _parse_historical(table, dataset, member, where) -> Iterator[Observation | Warning]:
    for line, row in iter_csv_dicts(table):
        for group, (requester, is_total) in _HISTORICAL_GROUPS.items():
            for metric in _HISTORICAL_FIELDS.values():
                yield from _observation(
                    row, dataset, member, line, metric, row[f"{group}|{metric}"], where,
                    requester=requester, is_total=is_total, total_over="requester" if is_total else "",
                )


def _parse_detailed_historical(table, dataset, member, where) -> Iterator[Observation | Warning]:
    for line, row in iter_csv_dicts(table):
        dims = {"product": row["product"].strip(), "reason": row.get("reason", "").strip()}
        yield from _observation(row, dataset, member, line, "requests", row["court"], where, requester="Court orders", **dims)
        yield from _observation(
            row, dataset, member, line, "requests", row["executive"], where, requester="Executive, police, etc.", **dims
        )
        # Items are published per product and reason only, not per requester.
        yield from _observation(row, dataset, member, line, "items_requested", row["items_requested"], where, **dims)


_HISTORICAL_HANDLERS = {
    "removal-requests-historical": _parse_historical,
    "requests-by-product-reason-historical": _parse_detailed_historical,
}
