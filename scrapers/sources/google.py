"""Google: government requests to remove content (2009 onwards).

One zip at one URL, overwritten every half-year. Editions differ in shape: the
2022 edition carries the historical 2009-2019 files (court-order/executive
splits, "<10" and "?" cells) and says "Requester"; the 2025 edition has only the
current files and says "Requestor". Every figure is per half-year, keyed by the
last day of the period ("Period Ending").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..formats import CsvTable, read_csv, zip_members
from ..models import OBSERVATION_SCHEMA, Document, ObservationTable, ParseError, SourceSpec, Warning
from ..normalize import half_year_ending, map_distinct, parse_number_column

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


def parse(document: Document) -> Iterator[ObservationTable | Warning]:
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
        table = read_csv(csvs[name], where, columns, optional=["reason"] if "reason" in columns else (), columnar=True)
        cells = _HANDLERS.get(dataset, _flat_cells)(table)
        yield from _observations(table, cells, dataset, name, where)


@dataclass(frozen=True)
class _Cells:
    """One column of figures: its metric and the dimensions its cells share."""

    metric: str
    texts: pa.Array
    requester: pa.Array | str = ""
    product: pa.Array | str = ""
    reason: pa.Array | str = ""
    is_total: bool = False
    total_over: str = ""


def _stripped(table: CsvTable, name: str) -> pa.Array:
    return map_distinct(table.column(name), lambda text: (text.strip(),), [pa.string()])[0]


def _flat_cells(table: CsvTable) -> list[_Cells]:
    dims = {d: _stripped(table, d) for d in ("requester", "product", "reason") if d in table.columns}
    metrics = [c for c in table.columns if c not in ("period_ending", "country", "code", "requester", "product", "reason")]
    return [_Cells(metric, table.column(metric), **dims) for metric in metrics]


def _historical_cells(table: CsvTable) -> list[_Cells]:
    return [
        _Cells(metric, table.column(f"{group}|{metric}"), requester=requester, is_total=is_total,
               total_over="requester" if is_total else "")
        for group, (requester, is_total) in _HISTORICAL_GROUPS.items()
        for metric in _HISTORICAL_FIELDS.values()
    ]  # fmt: skip


def _detailed_historical_cells(table: CsvTable) -> list[_Cells]:
    dims = {"product": _stripped(table, "product"), "reason": _stripped(table, "reason")}
    return [
        _Cells("requests", table.column("court"), requester="Court orders", **dims),
        _Cells("requests", table.column("executive"), requester="Executive, police, etc.", **dims),
        # Items are published per product and reason only, not per requester.
        _Cells("items_requested", table.column("items_requested"), **dims),
    ]


_HANDLERS = {
    "removal-requests-historical": _historical_cells,
    "requests-by-product-reason-historical": _detailed_historical_cells,
}


def _half_year(text: str) -> tuple:
    try:
        period = half_year_ending(date.fromisoformat(text.strip()))
    except ValueError as exc:
        return None, None, str(exc)
    return period.start, period.end, None


def _observations(table: CsvTable, cells: list[_Cells], dataset: str, member: str, where: str):
    """Every non-blank cell of the given columns as one ObservationTable (in
    file order: row by row, columns left to right), then a warning per banded
    or unknown cell.

    What a cell's figure is made of comes from three small tables: its row's
    (period, country, line), its column's (metric, requester, ...) and its
    text's (the number read from it, once per distinct text). The cells that
    publish something are found first; each column of the result is then
    gathered once, in file order."""
    lines = table.line_numbers()
    n = len(lines)
    period_text = table.column("period_ending")
    start, end, period_error = map_distinct(period_text, _half_year, [pa.date32(), pa.date32(), pa.string()])
    by_row = {"period_start": start, "period_end": end, "country_name": _stripped(table, "country"),
              "country_code": map_distinct(table.column("code"), lambda text: (text.strip() or None,), [pa.string()])[0],
              "row": lines}  # fmt: skip
    by_column: dict[str, pa.Array] = {
        "metric": pa.array([spec.metric for spec in cells], pa.string()),
        "is_total": pa.array([spec.is_total for spec in cells], pa.bool_()),
        "total_over": pa.array([spec.total_over for spec in cells], pa.string()),
    }
    by_cell: dict[str, pa.Array] = {}  # a dimension given per row in some columns and fixed in others
    for name in ("requester", "product", "reason"):
        values = [getattr(spec, name) for spec in cells]
        if all(isinstance(v, str) for v in values):
            by_column[name] = pa.array(values, pa.string())
        elif all(v is values[0] for v in values):
            by_row[name] = values[0]
        else:
            by_cell[name] = pa.concat_arrays([v if isinstance(v, pa.Array) else pa.repeat(pa.scalar(v), n) for v in values])
    bad_period = pc.is_valid(period_error).to_numpy(zero_copy_only=False)
    # Columns of counts and of shares are read apart (a share may carry a "%").
    found, problems, distinct = [], [], []
    for percent in (False, True):
        orders = [order for order, spec in enumerate(cells) if spec.metric.startswith("pct_") == percent]
        if orders:
            cell, problem, numbers = _published_cells([cells[o] for o in orders], orders, bad_period, percent, n)
            cell["text"] += sum(len(d) for d in distinct)  # numbered across both readings
            found.append(cell)
            distinct.append(numbers)
            problems += [problem] if problem else []
    if problems:  # the first column with a problem, its first kind of problem, its first row
        order, kind, i, errors = min(problems, key=lambda p: p[:3])
        spec, text = cells[order], cells[order].texts[i].as_py()
        if kind == 0:
            raise ParseError(f"{where} line {lines[i]}: {spec.metric}: {errors[text]}")
        if kind == 1:
            raise ParseError(f"{where} line {lines[i]}: {spec.metric}: unexpected cell {text!r}")
        raise ParseError(f"{where} line {lines[i]}: bad 'Period Ending' {period_text[i].as_py()!r}: {period_error[i]}")
    if not found:
        return
    row, order, text = (np.concatenate([cell[k] for cell in found]) for k in ("row", "order", "text"))
    in_file_order = np.argsort(row * len(cells) + order, kind="stable")
    row, order, text = row[in_file_order], order[in_file_order], text[in_file_order]
    figures = pa.concat_tables(distinct).take(text)
    columns = {
        **{name: pc.take(column, row) for name, column in by_row.items()},
        **{name: pc.take(column, order) for name, column in by_column.items()},
        **{name: pc.take(column, order * n + row) for name, column in by_cell.items()},
        **{name: figures[name] for name in ("value", "value_text", "value_low", "value_high")},
        "dataset": pa.repeat(pa.scalar(dataset), len(row)), "member": pa.repeat(pa.scalar(member), len(row)),
        "platform": pa.nulls(len(row), pa.string()),
    }  # fmt: skip
    merged = pa.table(columns)
    warnings = []
    kinds = figures["kind"]
    for i in np.flatnonzero(pc.is_in(kinds, pa.array(["banded", "unknown"])).to_numpy(zero_copy_only=False)).tolist():
        metric, text, country, line = (columns[name][i].as_py() for name in ("metric", "value_text", "country_name", "row"))
        kind = "banded_value" if kinds[i].as_py() == "banded" else "unknown_value"
        warnings.append(Warning(kind, f"{metric} published as {text!r} for {country}", member, line))
    yield ObservationTable(merged.select(OBSERVATION_SCHEMA.names).cast(OBSERVATION_SCHEMA))
    yield from warnings


def _published_cells(specs: list[_Cells], orders: list[int], bad_period: np.ndarray, percent: bool, n: int):
    """The cells of these columns that publish something (not blank), as
    positions (row, column order, distinct text); the first problem among
    them as (column order, kind, row, unreadable texts), kinds 0 unreadable,
    1 unexpected, 2 bad period; and what each distinct text reads as."""
    texts = pa.concat_arrays([spec.texts for spec in specs]).dictionary_encode()  # column after column
    numbers = parse_number_column(texts.dictionary, percent=percent, count=not percent)
    kind = numbers.kind
    codes = texts.indices.to_numpy(zero_copy_only=False)
    published = pc.not_equal(kind, "blank").to_numpy(zero_copy_only=False)[codes]
    stacked = np.flatnonzero(published)
    text, row = codes[stacked], stacked % max(n, 1)
    order = np.asarray(orders, dtype=np.int64)[stacked // max(n, 1)]
    problem = None
    checks = [
        pc.equal(kind, "error").to_numpy(zero_copy_only=False)[text],
        ~pc.is_in(kind, pa.array(["exact", "banded", "unknown"])).to_numpy(zero_copy_only=False)[text],
        bad_period[row],  # a bad period only matters on a row that publishes something
    ]
    for problem_kind, hits in enumerate(checks):
        if hits.any():
            i = int(np.argmax(hits))
            candidate = (int(order[i]), problem_kind, int(row[i]), numbers.errors)
            problem = candidate if problem is None or candidate[:3] < problem[:3] else problem
    distinct = pa.table({"kind": kind, "value": numbers.value, "value_text": texts.dictionary,
                         "value_low": numbers.low, "value_high": numbers.high})  # fmt: skip
    return {"row": row, "order": order, "text": text}, problem, distinct
