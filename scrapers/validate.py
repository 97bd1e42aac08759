"""Checks every source's records go through between parsing and storing.

Country names are resolved here (centrally, through normalize), metrics are
checked against the vocabulary, duplicate rows are found, and published totals
are compared with the rows they total. Findings become Warnings; only what
would corrupt the store (a conflicting duplicate, an unknown metric) is an error.

Each check takes a list of Observations (and returns a list) or an
ObservationTable (and returns one): the work is done on columns either way, so
Google's 100,000 figures are checked without a Python object per figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .models import METRICS, Observation, ObservationTable, ParseError, Warning
from .normalize import group_ids, map_distinct, resolve_country

KEY_SEPARATOR = "\x1f"  # joins key parts; never in a published cell that reaches a key

Batch = TypeVar("Batch", list, ObservationTable)


def country_key(obs: Observation) -> str:
    """What identifies the country in a row's key: the code, else the name."""
    return obs.country_code or f"name:{(obs.country_name or '').strip()}"


def country_key_column(table: pa.Table) -> pa.Array:
    """`country_key` of every row of an OBSERVATION_SCHEMA table."""
    named = map_distinct(
        pc.fill_null(_array(table["country_name"]), ""), lambda n: (f"name:{n.strip()}",), [pa.string()]
    )[0]
    code = _array(table["country_code"])
    return pc.if_else(pc.fill_null(pc.not_equal(code, ""), False), code, named)


def _table(observations: Iterable[Observation] | ObservationTable) -> pa.Table:
    if isinstance(observations, ObservationTable):
        return observations.table
    return ObservationTable.of(observations).table


def _like(observations, table: pa.Table):
    """The checked rows in the shape they came in."""
    result = ObservationTable(table)
    return result if isinstance(observations, ObservationTable) else list(result)


def _first(mask: pa.Array) -> int | None:
    found = pc.index(pc.fill_null(mask, False), True).as_py()
    return None if found < 0 else found


def join_columns(columns: list[pa.Array]) -> pa.Array:
    """One string per row from several columns (nulls as \\x00), for grouping."""
    parts = [as_text(c) for c in columns]
    return pc.binary_join_element_wise(*parts, KEY_SEPARATOR, null_handling="replace", null_replacement="\x00")


def as_text(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column as strings, as pc.cast makes them (nulls stay null)."""
    array = _array(column)
    if pa.types.is_string(array.type):
        return array
    # Dates: a few dozen periods among many rows, so each is cast once.
    encoded = array.dictionary_encode()
    return pc.take(pc.cast(encoded.dictionary, pa.string()), encoded.indices)


def _array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def observation_key_columns(table: pa.Table, platform: str) -> list[pa.Array]:
    """What identifies a figure: dataset, platform, country, period, requester,
    product, reason, metric."""
    return [table["dataset"], pc.fill_null(table["platform"], platform), country_key_column(table), table["period_start"],
            table["period_end"], table["requester"], table["product"], table["reason"], table["metric"]]  # fmt: skip


def resolve_countries(observations: Batch, where: str) -> tuple[Batch, list[Warning]]:
    """Set each row's ISO code from its published code or name; report misses."""
    table = _table(observations)
    pairs = join_columns([table["country_name"], table["country_code"]]).dictionary_encode()
    codes: list[str | None] = []
    warnings: list[Warning] = []
    reported: set[str] = set()
    for position, pair in enumerate(pairs.dictionary.to_pylist()):
        name, code = (None if part == "\x00" else part for part in pair.split(KEY_SEPARATOR))
        if name is None and code is None:
            codes.append(None)
            continue
        match = resolve_country(name, code)
        codes.append(match.code)
        if match.code is None and name and name not in reported:
            reported.add(name)
            first = pc.index(pairs.indices, position).as_py()
            warnings.append(
                Warning(
                    f"{match.how}_country" if match.how in ("unknown", "ambiguous") else "unknown_country",
                    f"country {name!r} ({match.how}); kept with no ISO code",
                    table["member"][first].as_py(),
                    table["row"][first].as_py(),
                )
            )
    resolved = pc.take(pa.array(codes, pa.string()), pairs.indices)
    table = table.set_column(table.schema.get_field_index("country_code"), "country_code", resolved)
    return _like(observations, table), warnings


def check_metrics(observations: Iterable[Observation] | ObservationTable, where: str) -> None:
    table = _table(observations)
    if (i := _first(pc.invert(pc.is_in(table["metric"], pa.array(list(METRICS)))))) is not None:
        row = table.slice(i, 1).to_pylist()[0]
        raise ParseError(f"{where}: metric {row['metric']!r} is not in the vocabulary (member {row['member']}, row {row['row']})")
    if (i := _first(pc.less(table["period_end"], table["period_start"]))) is not None:
        row = table.slice(i, 1).to_pylist()[0]
        raise ParseError(f"{where}: period ends before it starts (member {row['member']}, row {row['row']})")


def dedupe(observations: Batch, platform: str, where: str) -> tuple[Batch, list[Warning]]:
    """Drop exact repeats (reported); a key published twice with two values is an error."""
    table = _table(observations)
    keys = group_ids(observation_key_columns(table, platform))
    _, key_index, counts = np.unique(keys, return_inverse=True, return_counts=True)
    repeated = np.flatnonzero(counts[key_index] > 1)
    if not len(repeated):
        return _like(observations, table), []
    # Few rows repeat a key: compare them one by one, in file order.
    seen: dict[int, Observation] = {}
    warnings: list[Warning] = []
    drop = np.zeros(table.num_rows, dtype=bool)
    rows = ObservationTable(table.take(pa.array(repeated)))
    for index, key, obs in zip(repeated, keys[repeated].tolist(), rows):
        prior = seen.get(key)
        if prior is None:
            seen[key] = obs
        elif (prior.value, prior.value_low, prior.value_high) == (obs.value, obs.value_low, obs.value_high):
            warnings.append(Warning("duplicate_row", f"repeats row {prior.row} of {prior.member}", obs.member, obs.row))
            drop[index] = True
        else:
            raise ParseError(
                f"{where}: {obs.member} rows {prior.row} and {obs.row} give two values "
                f"({prior.value_text!r} and {obs.value_text!r}) for the same figure "
                f"({obs.dataset}, {obs.country_name or obs.country_code}, {obs.period_start}..{obs.period_end}, {obs.metric})"
            )
    return _like(observations, table.filter(pa.array(~drop))), warnings


def check_totals(observations: Iterable[Observation] | ObservationTable, platform: str = "") -> list[Warning]:
    """Compare each published total with the sum of the rows it totals.

    A mismatch is a finding about the report, not an error: both figures stay
    as published and the warning says what they are.
    """
    table = _table(observations)
    table = table.append_column("_index", pa.array(np.arange(table.num_rows)))
    table = table.append_column("_country", country_key_column(table))
    is_total = pc.and_(table["is_total"], pc.not_equal(table["total_over"], ""))
    # Shares and medians do not add up; banded totals have no exact value.
    summable = pc.invert(pc.or_(pc.starts_with(table["metric"], "pct_"), pc.starts_with(table["metric"], "median_")))
    summable = pc.and_(summable, pc.not_equal(table["metric"], "removal_rate"))
    totals = table.filter(pc.and_(pc.and_(is_total, pc.is_valid(table["value"])), summable))
    rows = table.filter(pc.invert(table["is_total"]))
    found: list[dict] = []
    for span in pc.unique(totals["total_over"]).to_pylist():
        spanned = set(span.split(","))
        dims = ["dataset", "platform", "period_start", "period_end", "metric"] + [
            column for dim, column in _DIMENSION_COLUMNS.items() if dim not in spanned
        ]
        these = totals.filter(pc.equal(totals["total_over"], span))
        # Only rows of a dataset and metric these totals have can share a key with one.
        totalled = rows.filter(
            pc.and_(pc.is_in(rows["dataset"], pc.unique(these["dataset"])), pc.is_in(rows["metric"], pc.unique(these["metric"])))
        )
        if not totalled.num_rows:
            continue
        # Totals and rows numbered together, so equal keys get equal ids.
        ids = group_ids([pa.chunked_array(these[d].chunks + totalled[d].chunks, these[d].type) for d in dims])
        total_ids, row_ids = ids[: these.num_rows], ids[these.num_rows :]
        keys, row_key = np.unique(row_ids, return_inverse=True)
        values = _array(totalled["value"])
        sums = np.bincount(row_key, weights=pc.fill_null(values, 0.0).to_numpy(zero_copy_only=False), minlength=len(keys))
        banded = np.bincount(row_key, weights=values.is_null().to_numpy(zero_copy_only=False), minlength=len(keys))
        counts = np.bincount(row_key, minlength=len(keys))
        at = np.minimum(np.searchsorted(keys, total_ids), len(keys) - 1)  # where each total's key is, if anywhere
        has_rows = keys[at] == total_ids
        # Banded rows have no exact sum: such totals are not compared.
        total_values = these["value"].to_numpy()
        off = has_rows & (banded[at] == 0) & (np.abs(sums[at] - total_values) > 1e-9)
        for i in np.flatnonzero(off).tolist():
            found.append({**these.slice(i, 1).to_pylist()[0], "value_sum": float(sums[at[i]]), "_key_count": int(counts[at[i]])})
    warnings = []
    for t in sorted(found, key=lambda t: t["_index"]):
        warnings.append(
            Warning(
                "total_mismatch",
                f"{t['dataset']} {t['period_start']}..{t['period_end']} {t['metric']}: published total "
                f"{t['value_text']!r} ({t['country_name'] or t['requester'] or 'total'}) but its {t['_key_count']} rows "
                f"add up to {t['value_sum']:g}",
                t["member"],
                t["row"],
            )
        )
    return warnings


_DIMENSION_COLUMNS = {"country": "_country", "requester": "requester", "product": "product", "reason": "reason"}
