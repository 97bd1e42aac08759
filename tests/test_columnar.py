"""The columnar path (pyarrow) gives exactly what a loop over cells or rows gives.

Google's 100,000 figures travel from parse to store as an ObservationTable;
these tests hold each columnar step equal to its per-cell or per-row meaning,
and every Google figure traceable to the cell it was read from.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapers import store
from scrapers.formats import _csv_records, read_csv, zip_members
from scrapers.models import ObservationTable, Observation, ParseError, observations_in
from scrapers.normalize import map_distinct, map_distinct_rows, parse_count, parse_number, parse_number_column
from scrapers.pipeline import checked_figures
from scrapers.sources import google
from scrapers.validate import check_totals, country_key, country_key_column, dedupe, group_ids, resolve_countries
from tests.conftest import copy_database, mirror_document

# Cells as reports publish them: numbers, grouped numbers, bands, marks, junk.
cells = st.one_of(
    st.integers(0, 10**7).map(str),
    st.integers(1000, 10**7).map(lambda n: f"{n:,}"),
    st.integers(1, 1000).map(lambda n: f"<{n}"),
    st.sampled_from(["", " ", "?", "-", "n/a", "12.5", "12.5%", "-3", "1e3", "10 - 20", "x", "158*"]),
    st.text(max_size=6),
)


@given(st.lists(cells, max_size=40), st.booleans(), st.booleans())
@settings(max_examples=200, deadline=None)
def test_number_column_reads_every_cell_as_the_cell_reader_does(texts, percent, count):
    column = parse_number_column(pa.array(texts, pa.string()), percent=percent, count=count)
    for i, text in enumerate(texts):
        try:
            n = parse_count(text) if count else parse_number(text, percent=percent)
        except ValueError as exc:
            assert column.kind[i].as_py() == "error" and column.errors[text] == str(exc)
            continue
        assert (column.kind[i].as_py(), column.value[i].as_py(), column.low[i].as_py(), column.high[i].as_py()) == (
            n.kind, n.value, n.low, n.high
        )


@given(st.lists(st.text(max_size=5), max_size=30))
def test_map_distinct_is_a_map(values):
    upper, length = map_distinct(pa.array(values, pa.string()), lambda v: (v.upper(), len(v)), [pa.string(), pa.int64()])
    assert upper.to_pylist() == [v.upper() for v in values]
    assert length.to_pylist() == [len(v) for v in values]


# Key parts as they come: text with nulls and empty strings, dates with nulls.
key_texts = st.one_of(st.none(), st.sampled_from(["", "a", "\x00", "\x1f", "a\x1fb"]), st.text(max_size=3))
key_dates = st.one_of(st.none(), st.dates(date(2009, 1, 1), date(2009, 1, 5)))


@given(st.lists(st.tuples(key_texts, key_dates, key_texts), max_size=30))
@settings(max_examples=200, deadline=None)
def test_group_ids_are_equal_exactly_when_rows_are(rows):
    columns = [pa.array([r[0] for r in rows], pa.string()), pa.array([r[1] for r in rows], pa.date32()),
               pa.array([r[2] for r in rows], pa.string())]  # fmt: skip
    ids = group_ids(columns)
    for i, a in enumerate(rows):
        for j, b in enumerate(rows):
            assert (ids[i] == ids[j]) == (a == b), (a, b)


def test_group_ids_renumber_before_they_could_overflow():
    # Nine columns of a thousand distinct values each: 1000**9 ids would not fit in 64 bits.
    size = 1000
    columns = [pa.array([str((i * (k + 1)) % size) for i in range(size)] + ["0"], pa.string()) for k in range(9)]
    ids = group_ids(columns)
    assert len(set(ids[:size].tolist())) == size and ids[size] == ids[0]


@given(st.lists(st.tuples(key_texts, key_dates), max_size=30))
def test_map_distinct_rows_is_a_map(rows):
    columns = [pa.array([r[0] for r in rows], pa.string()), pa.array([r[1] for r in rows], pa.date32())]
    joined, = map_distinct_rows(columns, lambda text, day: (f"{text}|{day}",), [pa.string()])
    assert joined.to_pylist() == [f"{text}|{day}" for text, day in rows]


def _observation(name, code, **kw) -> Observation:
    fields = dict(dataset="d", period_start=date(2020, 1, 1), period_end=date(2020, 6, 30), metric="requests",
                  value=1.0, value_text="1", value_low=1.0, value_high=1.0)  # fmt: skip
    fields.update(kw)
    return Observation(country_name=name, country_code=code, **fields)


names = st.one_of(st.none(), st.sampled_from(["Europol", "Interpol", " Viet Nam ", "Türkiye", ""]), st.text(max_size=4))
codes = st.one_of(st.none(), st.sampled_from(["", "VN", "TR", "ZZ"]))


@given(st.lists(st.tuples(names, codes), max_size=20))
def test_country_key_column_is_country_key_per_row(pairs):
    # A regression: rows with no code once all shared one key (Europol's
    # requests were added to Interpol's), because NULL AND x is NULL.
    observations = [_observation(n, c) for n, c in pairs]
    table = ObservationTable.of(observations).table
    assert country_key_column(table).to_pylist() == [country_key(o) for o in observations]


def test_totals_are_compared_per_country_when_rows_have_no_code():
    rows = [
        _observation("Europol", None, requester="All", is_total=True, total_over="requester", value=1.0, row=1),
        _observation("Europol", None, requester="Police", value=1.0, row=1),
        _observation("Interpol", None, requester="All", is_total=True, total_over="requester", value=2.0, row=2),
        _observation("Interpol", None, requester="Police", value=2.0, row=2),
    ]
    assert check_totals(rows) == []
    assert check_totals(ObservationTable.of(rows)) == []


def test_checks_give_the_same_on_lists_and_tables():
    rows = [
        _observation("Viet Nam", None, row=1),
        _observation("Viet Nam", None, row=2),  # an exact repeat
        _observation("Narnia", None, row=3),
        _observation("Türkiye", "TR", requester="All", is_total=True, total_over="requester", value=5.0, row=4),
        _observation("Türkiye", "TR", requester="Court", value=2.0, row=4),
    ]
    listed, list_warnings = resolve_countries(rows, "here")
    tabled, table_warnings = resolve_countries(ObservationTable.of(rows), "here")
    assert isinstance(tabled, ObservationTable) and list(tabled) == listed and table_warnings == list_warnings
    assert [o.country_code for o in listed] == ["VN", "VN", None, "TR", "TR"]
    kept, repeats = dedupe(listed, "P", "here")
    kept_table, repeats_table = dedupe(tabled, "P", "here")
    assert list(kept_table) == kept and repeats == repeats_table and len(kept) == 4
    assert [w.kind for w in repeats] == ["duplicate_row"]
    assert check_totals(kept) == check_totals(kept_table)
    assert [w.kind for w in check_totals(kept)] == ["total_mismatch"]
    with pytest.raises(ParseError, match="two values"):
        dedupe(rows + [_observation("Viet Nam", None, value=2.0, value_text="2", value_low=2.0, value_high=2.0, row=9)], "P", "here")


csv_cells = st.text(alphabet=st.sampled_from(list('ab ,"\n\t1')), max_size=6)


@given(st.lists(st.lists(csv_cells, min_size=1, max_size=4), min_size=1, max_size=8))
@settings(max_examples=200)
def test_csv_records_carry_the_line_each_record_ends_on(rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    text = out.getvalue()
    reader = csv.reader(io.StringIO(text))
    expected = [(reader.line_num, cells) for cells in reader]
    assert _csv_records(text, "x.csv") == expected


@pytest.mark.parametrize("edition", ["previous", "latest"])
def test_every_google_figure_is_the_cell_at_its_member_and_line(edition):
    """Provenance: (member, row) leads back to the row the value was read from."""
    document = mirror_document(edition, google.URL)
    members = zip_members(document.body, document.url)
    lines = {}
    for name, data in members.items():
        reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
        lines[name] = {reader.line_num: cells for cells in reader}
    figures = list(observations_in(google.parse(document)))
    assert figures
    for o in figures:
        cells = lines[o.member][o.row]
        assert o.value_text in cells and cells[0].strip() == o.period_end.isoformat(), (o, cells)
        assert o.country_name in (c.strip() for c in cells)


def test_staged_keys_are_what_concat_ws_makes_of_the_stored_columns(google_latest_template, tmp_path):
    # A load builds the keys of new figures in pyarrow and those of stored ones in SQL, from the stored columns.
    document = mirror_document("latest", google.URL)
    figures, _ = checked_figures(list(google.parse(document)), document.url, google.SPEC.platform)
    staged = store._observation_rows(
        google.SPEC.slug, google.SPEC.platform, [(figures, document.document_id)], datetime.now(timezone.utc),
        with_keys=True,
    )
    db = copy_database(google_latest_template, tmp_path / "data" / "takedowns.duckdb")
    with duckdb.connect(str(db), read_only=True) as con:
        con.register("staged", staged)
        only_staged, only_stored, keys, distinct = con.execute(
            """WITH stored AS (SELECT concat_ws(chr(31), source, dataset, platform, country_key, period_start,
                                                period_end, requester, product, reason, metric) AS obs_key
                               FROM observation_rows)
               SELECT (SELECT count(*) FROM (SELECT obs_key FROM staged EXCEPT ALL SELECT obs_key FROM stored)),
                      (SELECT count(*) FROM (SELECT obs_key FROM stored EXCEPT ALL SELECT obs_key FROM staged)),
                      (SELECT count(*) FROM staged), (SELECT count(DISTINCT obs_key) FROM staged)"""
        ).fetchone()
    # The database holds exactly the staged figures: each key is one figure's, made the same on both sides.
    assert keys > 30_000 and distinct == keys and only_staged == only_stored == 0


def test_read_csv_still_reads_columns_by_name():
    table = read_csv("b,a\n2,1\n,\n4,3\n", "x.csv", {"a": ["a"], "b": ["b"]})
    assert table.column("a").to_pylist() == ["1", "3"] and table.line_numbers().to_pylist() == [2, 4]


csv_texts = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t1\u3000\x1f')), max_size=40)


def _read_both(text: str):
    spec = {"a": ["a"], "b": ["b"]}
    outcomes = []
    for columnar in (False, True):
        try:
            table = read_csv(text, "x.csv", spec, optional=["b"], allow_extra=True, columnar=columnar)
        except ParseError as exc:
            outcomes.append(("error", str(exc)))
            continue
        outcomes.append(
            (table.header, table.columns, table.line_numbers().to_pylist(),
             [table.column(name).to_pylist() for name in ("a", "b")])  # fmt: skip
        )
    return outcomes


@given(csv_texts.map(lambda body: "a,b\n" + body), st.booleans())
@settings(max_examples=400)
def test_reading_column_wise_gives_what_reading_row_by_row_gives(text, ragged_header):
    if ragged_header:
        text = "x," + text
    row_wise, column_wise = _read_both(text)
    assert column_wise == row_wise


@pytest.mark.parametrize("edition", ["previous", "latest"])
def test_google_members_read_column_wise_as_row_by_row(edition):
    document = mirror_document(edition, google.URL)
    for name, data in zip_members(document.body, document.url).items():
        dataset, columns = google._MEMBERS[name.rsplit("/", 1)[-1]]
        optional = ["reason"] if "reason" in columns else ()
        fast = read_csv(data, name, columns, optional=optional, columnar=True)
        slow = read_csv(data, name, columns, optional=optional)
        assert fast.rows is None, "the real files take the column-wise path"
        assert fast.line_numbers().to_pylist() == slow.line_numbers().to_pylist()
        for column in columns:
            assert fast.column(column).to_pylist() == slow.column(column).to_pylist(), (name, column)
