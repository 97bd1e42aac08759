"""Loading: idempotence, one transaction per source, failures that lose nothing."""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
import types
from datetime import date

import duckdb
import pytest
from click.testing import CliRunner

from scrapers import pipeline, store
from scrapers.cli import main
from scrapers.http import mirror_relpath
from scrapers.models import Document, Observation, ParseError, SourceSpec
from scrapers.sources import google
from tests.conftest import shared_path

DATA_TABLES = ("observation_rows", "revisions", "warnings", "notice_rows", "claims", "datasets")


def snapshot(db_path) -> dict:
    """Every data table's rows, in a stable order (the run log aside)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        snap = {t: sorted(map(repr, con.execute(f"SELECT * EXCLUDE (loaded_at) FROM {t}" if t == "observation_rows" else f"SELECT * FROM {t}").fetchall())) for t in DATA_TABLES}  # noqa: E501 - table names are constants
        snap["documents"] = sorted(con.execute("SELECT document_id, sha256 FROM documents").fetchall())
    finally:
        con.close()
    return snap


@pytest.fixture(scope="module")
def _google_db_template(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("template") / "data" / "takedowns.duckdb"
    result = pipeline.refresh(db_path, ["google"], mirror=shared_path("mirror", "latest"))[0]
    assert result.status == "loaded", result.message
    return db_path


@pytest.fixture
def loaded_db(_google_db_template, db_path):
    """A database with Google's latest edition loaded (a private copy per test)."""
    shutil.copytree(_google_db_template.parent, db_path.parent)
    return db_path


def test_refreshing_twice_changes_nothing(loaded_db):
    before = snapshot(loaded_db)
    result = pipeline.refresh(loaded_db, ["google"], mirror=shared_path("mirror", "latest"))[0]
    assert result.status == "unchanged"
    assert snapshot(loaded_db) == before
    # Even a forced re-parse of the same edition records no revision.
    result = pipeline.refresh(loaded_db, ["google"], mirror=shared_path("mirror", "latest"), force=True)[0]
    assert result.status == "loaded" and result.revisions == 0
    assert snapshot(loaded_db) == before


def test_raw_file_is_archived_by_hash(loaded_db):
    con = duckdb.connect(str(loaded_db), read_only=True)
    sha, path, members, url = con.execute("SELECT sha256, archive_path, members, url FROM documents").fetchone()
    assert url == google.URL and path.endswith(f"/archive/{sha[:2]}/{sha}")
    assert "google-government-removals/google-government-removal-requests.csv" in members
    archived = pipeline.archive_for(loaded_db).get(sha)
    assert archived == shared_path("mirror", "latest", mirror_relpath(google.URL)).read_bytes()


def _broken_module(slug="broken", error=ParseError("broken.csv: header changed: missing column 'x'")):
    spec = SourceSpec(slug=slug, platform="Nowhere", title="t", urls=("https://example.org/broken.csv",),
                      cadence="never", homepage="", datasets={"d": "d"})  # fmt: skip

    def fetch(session, spec=spec):
        return [Document(url=spec.urls[0], body=b"a,b\n1,2\n", fetched_at=__import__("datetime").datetime(2026, 1, 1))]

    def parse(document):
        yield Observation("d", date(2020, 1, 1), date(2020, 6, 30), "requests", 1, "1", 1, 1, country_name="Chile")
        raise error

    return types.SimpleNamespace(SPEC=spec, fetch=fetch, parse=parse, __name__="broken")


def test_a_failing_source_loads_nothing_and_others_still_load(db_path, monkeypatch):
    monkeypatch.setitem(pipeline.SOURCES, "broken", _broken_module())
    results = pipeline.refresh(db_path, ["broken", "google"], mirror=shared_path("mirror", "latest"))
    by_slug = {r.slug: r for r in results}
    assert by_slug["broken"].status == "failed" and "header changed" in by_slug["broken"].message
    assert by_slug["google"].status == "loaded"
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("SELECT count(*) FROM observation_rows WHERE source = 'broken'").fetchone()[0] == 0
    assert con.execute("SELECT status, message FROM runs WHERE source = 'broken'").fetchone()[0] == "failed"


def test_a_crashing_parser_is_contained(db_path, monkeypatch):
    monkeypatch.setitem(pipeline.SOURCES, "broken", _broken_module(error=ZeroDivisionError("boom")))
    result = pipeline.refresh(db_path, ["broken"])[0]
    assert result.status == "failed" and "unexpected error while parsing https://example.org/broken.csv" in result.message


def _mirror_with(tmp_path, body: bytes):
    root = tmp_path / "mirror"
    target = root / mirror_relpath(google.URL)
    target.parent.mkdir(parents=True)
    target.write_bytes(body)
    return root


def _changed_header_zip():
    import io
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(shared_path("mirror", "latest", mirror_relpath(google.URL)).read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith("google-government-removal-requests.csv"):
                data = data.replace(b"Country/Region", b"Country", 1)
            zf.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "case, expected",
    [
        ("truncated", "not a readable zip file"),
        ("html", "expected a zip file but got an HTML page"),
        ("header", "google-government-removal-requests.csv: header changed: missing column country"),
    ],
)
def test_bad_input_fails_clearly_and_keeps_the_database(loaded_db, tmp_path, case, expected):
    good = shared_path("mirror", "latest", mirror_relpath(google.URL)).read_bytes()
    body = {
        "truncated": good[: len(good) // 3],
        "html": b"<!DOCTYPE html><html><head><title>Error 502</title></head><body>Server Error</body></html>",
        "header": _changed_header_zip(),
    }[case]
    before = snapshot(loaded_db)
    runner = CliRunner()
    res = runner.invoke(main, ["refresh", "google", "--db", str(loaded_db), "--mirror", str(_mirror_with(tmp_path, body))])
    assert res.exit_code == 1, res.output
    assert expected in res.output.replace("\n", "")
    assert google.URL in res.output.replace("\n", "")
    assert snapshot(loaded_db) == before


def test_disk_full_in_archive_fails_the_source_cleanly(loaded_db, monkeypatch, tmp_path):
    before = snapshot(loaded_db)
    changed = _mirror_with(tmp_path, _changed_header_zip())  # a new file, so it must be archived

    real_fsync = os.fsync

    def full_in_archive(fd):  # the disk fills up while a raw file is written
        if "/archive/" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_in_archive)
    result = pipeline.refresh(loaded_db, ["google"], mirror=changed)[0]
    assert result.status == "failed" and "No space left on device" in result.message
    monkeypatch.undo()
    assert snapshot(loaded_db) == before
    archive_root = pipeline.archive_for(loaded_db).root
    assert not list(archive_root.rglob(".incoming-*"))  # nothing half-written


def test_summaries_are_rebuilt_when_figures_change_and_only_then(loaded_db, monkeypatch):
    rebuilt = []
    real = store.refresh_derived
    monkeypatch.setattr(store, "refresh_derived", lambda con, *inputs: rebuilt.append(1) or real(con, *inputs))
    assert pipeline.refresh(loaded_db, ["google"], mirror=shared_path("mirror", "latest"))[0].status == "unchanged"
    assert rebuilt == []  # nothing new: the summaries still describe the figures
    result = pipeline.refresh(loaded_db, ["google"], mirror=shared_path("mirror", "previous"))[0]
    assert result.status == "loaded" and rebuilt == [1]
    con = duckdb.connect(str(loaded_db), read_only=True)
    try:
        # The cached headline equals the live view it caches, after the older edition was added.
        stale = con.execute("SELECT count(*) FROM (SELECT * FROM headline EXCEPT ALL SELECT * FROM headline_live)").fetchone()
        periods = con.execute("SELECT min(period_start) FROM headline").fetchone()
    finally:
        con.close()
    assert stale == (0,) and periods[0].year == 2009


def test_specs_and_claims_are_rewritten_only_when_they_change(loaded_db, monkeypatch):
    writes = []
    real = store.insert_rows
    monkeypatch.setattr(store, "insert_rows", lambda con, table, rows: writes.append(table) or real(con, table, rows))
    assert pipeline.refresh(loaded_db, ["google"], mirror=shared_path("mirror", "latest"))[0].status == "unchanged"
    assert writes == []  # the same spec and the same claims: nothing rewritten
    # A spec that says something new is written again, datasets and all.
    reworded = dataclasses.replace(google.SPEC, datasets={**google.SPEC.datasets, "removal-requests": "Requests, reworded"})
    monkeypatch.setitem(pipeline.SOURCES, "google", types.SimpleNamespace(**{**vars(google), "SPEC": reworded}))
    pipeline.refresh(loaded_db, ["google"], mirror=shared_path("mirror", "latest"))
    assert writes[0] == "datasets" and "claims" not in writes
    with duckdb.connect(str(loaded_db), read_only=True) as con:
        assert con.execute("SELECT description FROM datasets WHERE dataset = 'removal-requests'").fetchone() == (
            "Requests, reworded",
        )


def test_a_new_schema_rebuilds_the_summaries_even_when_nothing_is_loaded(loaded_db):
    con = duckdb.connect(str(loaded_db))
    try:  # as a database an earlier version made, before it had summary_headline
        con.execute("UPDATE meta SET value = 'an earlier version' WHERE key = 'schema_fingerprint'")
        con.execute("DROP TABLE summary_headline")
    finally:
        con.close()
    assert pipeline.refresh(loaded_db, ["google"], mirror=shared_path("mirror", "latest"))[0].status == "unchanged"
    con = duckdb.connect(str(loaded_db), read_only=True)
    try:
        rows = con.execute("SELECT count(*) FROM summary_headline").fetchone()[0]
        stale = con.execute("SELECT count(*) FROM (SELECT * FROM headline EXCEPT ALL SELECT * FROM headline_live)").fetchone()
    finally:
        con.close()
    assert rows > 0 and stale == (0,)


def test_a_refresh_removes_what_a_killed_one_left_half_written(loaded_db, shared_dir):
    # SIGKILL between writing a raw file and renaming it leaves `.incoming-*`.
    archive_root = pipeline.archive_for(loaded_db).root
    left = archive_root / "ab" / ".incoming-kill9"
    left.parent.mkdir(parents=True, exist_ok=True)
    left.write_bytes(b"half a zip")
    kept = next(p for p in archive_root.rglob("*") if p.is_file() and not p.name.startswith("."))
    result = pipeline.refresh(loaded_db, ["google"], mirror=shared_dir / "mirror" / "latest")[0]
    assert result.status == "unchanged"
    assert not left.exists() and kept.exists()


def test_disk_full_while_copying_database_leaves_it_intact(loaded_db, monkeypatch):
    before = snapshot(loaded_db)

    def full(src, dst, **kw):
        with open(dst, "wb") as fh:
            fh.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", full)
    res = CliRunner().invoke(main, ["refresh", "google", "--db", str(loaded_db), "--mirror", str(shared_path("mirror", "latest"))])
    assert res.exit_code != 0 and "No space left on device" in res.output and "database unchanged" in res.output
    monkeypatch.undo()
    assert snapshot(loaded_db) == before
    assert not list(loaded_db.parent.glob(".*refreshing*"))


def test_reader_keeps_working_while_a_refresh_swaps_the_file(loaded_db):
    reader = store.connect_readonly(loaded_db)
    count = reader.execute("SELECT count(*) FROM observations").fetchone()[0]
    result = pipeline.refresh(loaded_db, ["google"], mirror=shared_path("mirror", "previous"))[0]
    assert result.status == "loaded"
    # The old connection still reads the old file; once closed and reopened
    # (DuckDB shares one instance per path in a process) it sees the new data.
    assert reader.execute("SELECT count(*) FROM observations").fetchone()[0] == count
    reader.close()
    fresh = store.connect_readonly(loaded_db)
    assert fresh.execute("SELECT count(*) FROM observations").fetchone()[0] > count
    fresh.close()


def test_disk_full_while_saving_the_new_database_leaves_it_intact(loaded_db, monkeypatch, tmp_path):
    before = snapshot(loaded_db)
    real_fsync = os.fsync

    def full_in_copy(fd):
        if "refreshing" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_in_copy)
    with pytest.raises(OSError, match="No space left"):
        pipeline.refresh(loaded_db, ["google"], mirror=shared_path("mirror", "previous"))
    monkeypatch.undo()
    assert snapshot(loaded_db) == before
    assert not list(loaded_db.parent.glob(".*refreshing*"))


def test_one_refresh_at_a_time(loaded_db):
    with store.writable_copy(loaded_db):
        with pytest.raises(store.RefreshLocked):
            with store.writable_copy(loaded_db):
                pass


def test_cli_status_export_and_sources(loaded_db, tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["status", "--db", str(loaded_db), "--json"])
    assert res.exit_code == 0, res.output
    import json

    status = json.loads(res.output)
    g = next(s for s in status if s["slug"] == "google")
    assert g["rows"] == 39067 and g["documents"] == 1 and g["last_period"] == "2025-06-30"
    assert any(c["period_label"] == "2023-H1" for c in g["coverage"])
    out = tmp_path / "vn.csv"
    res = runner.invoke(main, ["export", "--db", str(loaded_db), "--format", "csv", "--out", str(out),
                               "--country", "vn", "--metric", "requests", "--from", "2023-01-01", "--to", "2023-06-30",
                               "--source", "google"])  # fmt: skip
    assert res.exit_code == 0, res.output
    import pandas as pd

    frame = pd.read_csv(out)
    summary = frame[frame.dataset == "removal-requests"]
    assert summary.value.sum() == 370 and set(summary.source_url) == {google.URL}
    assert {"document_sha256", "member", "row_number", "fetched_at"} <= set(frame.columns)
    pq = tmp_path / "vn.parquet"
    res = runner.invoke(main, ["export", "--db", str(loaded_db), "--format", "parquet", "--out", str(pq), "--country", "VN"])
    assert res.exit_code == 0 and len(pd.read_parquet(pq)) > len(frame)
    res = runner.invoke(main, ["status", "--db", str(loaded_db)])
    assert res.exit_code == 0 and "google" in res.output
    res = runner.invoke(main, ["sources", "--db", str(loaded_db)])
    assert res.exit_code == 0 and "storage.googleapis.com" in res.output


def test_default_db_from_environment(monkeypatch, tmp_path):
    from scrapers.cli import default_db

    monkeypatch.setenv("TAKEDOWNS_DB", str(tmp_path / "x.duckdb"))
    assert default_db() == tmp_path / "x.duckdb"
    monkeypatch.delenv("TAKEDOWNS_DB")
    assert str(default_db()) == "data/takedowns.duckdb"
