"""Google's government-removals zip: both real editions, parsed and loaded."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import duckdb
import pytest

from scrapers import formats, pipeline
from scrapers.models import Observation, ParseError, Warning, observations_in
from scrapers.sources import google
from tests.conftest import document_from, mirror_document, shared_path


def parse_edition(edition: str) -> tuple[list[Observation], list[Warning]]:
    records = list(google.parse(mirror_document(edition, google.URL)))
    return list(observations_in(records)), [r for r in records if isinstance(r, Warning)]


def find(obs, **kw):
    return [o for o in obs if all(getattr(o, k) == v for k, v in kw.items())]


def test_latest_edition_figures_checked_by_hand():
    obs, warnings = parse_edition("latest")
    assert warnings == []
    # google-government-removal-requests.csv, 2023-12-31, Russia: seven requester rows
    # (16+290+1+8+25419+188+3 = 25,925 requests; 21+492+1+7+25864+272626+3 = 299,014 items).
    ru = find(obs, dataset="removal-requests", country_code="RU", period_end=date(2023, 12, 31))
    assert sum(o.value for o in ru if o.metric == "requests") == 25925
    assert sum(o.value for o in ru if o.metric == "items_requested") == 299014
    # Vietnam, 2023-06-30: Government Officials 28 + Information and Communications Authority 342.
    vn = find(obs, dataset="removal-requests", country_code="VN", period_end=date(2023, 6, 30), metric="requests")
    assert sorted((o.requester, o.value) for o in vn) == [
        ("Government Officials", 28), ("Information and Communications Authority", 342)
    ]  # fmt: skip
    assert vn[0].period_start == date(2023, 1, 1)
    # Percentages keep their base: share of items, as published (89 for the first row).
    pct = find(obs, country_code="VN", period_end=date(2023, 6, 30), requester="Government Officials",
               metric="pct_items_removed_legal")  # fmt: skip
    assert pct[0].value == 89 and pct[0].value_text == "89"
    # The 2025 edition says "Requestor"; the header is found by name.
    assert {o.dataset for o in obs} == {"removal-requests", "requests-by-product-reason"}
    assert max(o.period_end for o in obs) == date(2025, 6, 30)


def test_by_product_reason_adds_up_to_summary():
    obs, _ = parse_edition("latest")
    detailed = find(obs, dataset="requests-by-product-reason", country_code="VN", period_end=date(2023, 6, 30))
    assert sum(o.value for o in detailed) == 370


def test_previous_edition_historical_bands_and_unknowns():
    obs, warnings = parse_edition("previous")
    # Armenia, 2009-12-31: All Requests "<10" -> banded 0..9, never 0 or 10.
    am = find(obs, dataset="removal-requests-historical", country_code="AM", period_end=date(2009, 12, 31),
              metric="requests", requester="All requests")  # fmt: skip
    assert len(am) == 1 and am[0].value is None and (am[0].value_low, am[0].value_high) == (0, 9)
    assert am[0].value_text == "<10" and am[0].is_total
    # China, 2009-12-31: "?" is unknown, kept as such.
    cn = find(obs, dataset="removal-requests-historical", country_code="CN", period_end=date(2009, 12, 31),
              metric="requests", requester="All requests")  # fmt: skip
    assert cn[0].value is None and cn[0].value_low is None and cn[0].value_text == "?"
    kinds = {w.kind for w in warnings}
    assert kinds == {"banded_value", "unknown_value"}
    # Turkey 2012-H2: 157 requests of which 87 court orders (historical summary row).
    tr = find(obs, dataset="removal-requests-historical", country_code="TR", period_end=date(2012, 12, 31),
              metric="requests")  # fmt: skip
    assert {o.requester: o.value for o in tr}["All requests"] == 157
    assert {o.requester: o.value for o in tr}["Court orders"] == 87
    assert min(o.period_start for o in obs) == date(2009, 7, 1)


def test_provenance_on_every_row():
    obs, _ = parse_edition("latest")
    assert all(o.member.startswith("google-government-removals/") and o.row and o.row >= 2 for o in obs)
    first = obs[0]
    assert first.member.endswith("google-government-detailed-removal-requests.csv") and first.row == 2


def _zip_with(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _real_members(edition="latest") -> dict[str, bytes]:
    body = mirror_document(edition, google.URL).body
    zf = zipfile.ZipFile(io.BytesIO(body))
    return {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}


def test_changed_header_fails_naming_member_and_column(tmp_path):
    members = _real_members()
    name = "google-government-removals/google-government-removal-requests.csv"
    members[name] = members[name].replace(b"Number of Requests", b"Requests (count)", 1)
    doc = document_from(_write(tmp_path, _zip_with(members)), google.URL)
    with pytest.raises(ParseError) as err:
        list(google.parse(doc))
    msg = str(err.value)
    assert name in msg and "Number of Requests" in msg and "Requests (count)" in msg


def test_reordered_columns_are_found_by_name(tmp_path):
    name = "google-government-removals/google-government-detailed-removal-requests.csv"
    text = _real_members()[name].decode().splitlines()[:3]
    swapped = [",".join([r.split(",")[i] for i in (5, 0, 1, 2, 3, 4)]) for r in text]  # Total first
    doc = document_from(_write(tmp_path, _zip_with({name: "\n".join(swapped).encode()})), google.URL)
    obs = list(observations_in(google.parse(doc)))
    assert [(o.country_code, o.product, o.reason, o.value) for o in obs] == [
        ("AR", "Blogger", "Defamation", 4), ("AR", "Blogger", "Privacy and Security", 1)
    ]  # fmt: skip


def test_bad_cells_fail_naming_line_and_column_first_column_first(tmp_path):
    name = "google-government-removals/google-government-removal-requests.csv"
    header, *rows = _real_members()[name].decode().splitlines()[:4]
    columns = header.split(",")

    def with_cell(row: str, column: str, text: str) -> str:
        cells = row.split(",")
        cells[columns.index(column)] = text
        return ",".join(cells)

    def refused(lines: list[str]) -> str:
        doc = document_from(_write(tmp_path, _zip_with({name: "\n".join(lines).encode()})), google.URL)
        with pytest.raises(ParseError) as err:
            list(google.parse(doc))
        return str(err.value)

    # A share column's bad cell comes first in the file, but the count column
    # is read first: its problem is the one named.
    bad_share = with_cell(rows[0], "% Removed-Legal", "abc")
    bad_count = with_cell(rows[1], "Number of Requests", "12 apples")
    assert "line 3: requests:" in refused([header, bad_share, bad_count, rows[2]])
    assert "line 2: pct_items_removed_legal:" in refused([header, bad_share, rows[1], rows[2]])
    bad_period = with_cell(rows[2], "Period Ending", "2023-02-30")
    assert "line 4: bad 'Period Ending' '2023-02-30'" in refused([header, rows[0], rows[1], bad_period])


def test_a_dimension_per_row_in_one_column_and_fixed_in_another_is_kept_per_cell():
    # No Google table mixes them today; a column reader that did must still place every figure.
    text = "Period Ending,Country/Region,CLDR Territory Code,Requester,Court,Other\n2023-06-30,Viet Nam,VN,Ministry,3,\n2023-06-30,Viet Nam,VN,Police,,<10\n"
    table = formats.read_csv(text, "t.csv", {"period_ending": ["Period Ending"], "country": ["Country/Region"],
                             "code": ["CLDR Territory Code"], "requester": ["Requester"], "court": ["Court"],
                             "other": ["Other"]}, columnar=True)  # fmt: skip
    cells = [google._Cells("requests", table.column("court"), requester=table.column("requester")),
             google._Cells("requests", table.column("other"), requester="Executive, police, etc.")]  # fmt: skip
    records = list(google._observations(table, cells, "d", "t.csv", "t.csv"))
    obs = list(observations_in(records))
    assert [(o.requester, o.value, o.value_high, o.row) for o in obs] == [("Ministry", 3, 3, 2), ("Executive, police, etc.", None, 9, 3)]
    assert [w.kind for w in records if isinstance(w, Warning)] == ["banded_value"]


def test_unknown_member_and_truncated_zip_fail_clearly(tmp_path):
    doc = document_from(_write(tmp_path, _zip_with({"google-government-removals/new-table.csv": b"a,b\n"})), google.URL)
    with pytest.raises(ParseError, match="new-table.csv' is not a known table"):
        list(google.parse(doc))
    body = mirror_document("latest", google.URL).body
    truncated = document_from(_write(tmp_path, body[: len(body) // 2]), google.URL)
    with pytest.raises(ParseError, match="truncated"):
        list(google.parse(truncated))


def _write(tmp_path, body: bytes):
    path = tmp_path / "google.zip"
    path.write_bytes(body)
    return path


def test_two_editions_give_every_period_and_record_revisions(db_path):
    results = pipeline.refresh(db_path, ["google"], mirror=shared_path("mirror", "previous"))
    assert results[0].status == "loaded", results[0].message
    results = pipeline.refresh(db_path, ["google"], mirror=shared_path("mirror", "latest"))
    assert results[0].status == "loaded" and results[0].revisions > 0
    con = duckdb.connect(str(db_path), read_only=True)
    ends = [r[0] for r in con.execute("SELECT DISTINCT period_end FROM observations ORDER BY 1").fetchall()]
    assert ends[0] == date(2009, 12, 31) and ends[-1] == date(2025, 6, 30) and len(ends) == 32
    # Albania 2019-H1, court orders to 3rd parties: 3 requests in the 2022 edition, 2 in the 2025 one.
    rev = con.execute(
        """SELECT old_value, new_value, old_document_id <> new_document_id FROM revisions
           WHERE kind = 'changed' AND country_code = 'AL' AND period_end = DATE '2019-06-30'
             AND requester = 'Court Order Directed at 3rd Party' AND metric = 'requests'"""
    ).fetchall()
    assert rev == [(3.0, 2.0, True)]
    current = con.execute(
        """SELECT value FROM observations WHERE country_code = 'AL' AND period_end = DATE '2019-06-30'
           AND dataset = 'removal-requests' AND requester = 'Court Order Directed at 3rd Party' AND metric = 'requests'"""
    ).fetchall()
    assert current == [(2.0,)]
    # The headline counts 2019-H1 once, from the current table, not also from the historical one.
    vn = con.execute(
        """SELECT period_label, value, dataset FROM headline WHERE source = 'google' AND country_code = 'VN'
           AND metric = 'requests' AND period_label IN ('2019-H1', '2022-H1', '2023-H1') ORDER BY 1"""
    ).fetchall()
    assert [(p, v) for p, v, _ in vn] == [("2019-H1", vn[0][1]), ("2022-H1", 122.0), ("2023-H1", 370.0)]
    assert vn[0][2] == "removal-requests"
    # Europol is a requester, not a country: a documented pseudo code.
    assert con.execute("SELECT count(*) FROM observations WHERE country_name = 'Europol' AND country_code = 'XE'").fetchone()[0] > 0


def test_an_older_edition_loaded_later_never_overrides_the_newer(db_path):
    for edition in ("latest", "previous"):
        result = pipeline.refresh(db_path, ["google"], mirror=shared_path("mirror", edition))[0]
        assert result.status == "loaded", result.message
    assert result.revisions == 710  # the same revisions as loading the editions in order
    con = duckdb.connect(str(db_path), read_only=True)
    key = ["AL", date(2019, 6, 30), "Court Order Directed at 3rd Party", "requests"]
    assert con.execute(
        """SELECT value FROM observations WHERE dataset = 'removal-requests' AND country_code = ? AND period_end = ?
           AND requester = ? AND metric = ?""", key
    ).fetchall() == [(2.0,)]
    assert con.execute(
        "SELECT old_value, new_value FROM revisions WHERE country_code = ? AND period_end = ? AND requester = ? AND metric = ?",
        key,
    ).fetchall() == [(3.0, 2.0)]
    # The historical tables only the older edition has are still loaded.
    assert con.execute("SELECT min(period_end) FROM observations").fetchone() == (date(2009, 12, 31),)
