"""Refreshes killed mid-way, run beside readers, and run twice at once.

Real command-line refreshes (subprocesses) of Google's real files from
../shared/mirror, against a database that already holds an edition: whatever
happens to a refresh, the database file is always a complete, consistent
state, and nothing it held is lost.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from scrapers import pipeline
from scrapers.http import mirror_relpath
from scrapers.models import Document
from scrapers.sources import google
from tests.conftest import ROOT, copy_database, shared_path
from tests.dbreader import fingerprint_file, read_until
from tests.localserver import Fault, LocalServer

KILLS = 4
MAX_KILLS = 12


def loaded_midway(log: list[str]) -> int:
    """How many kills landed while the working copy was being loaded."""
    return sum(entry == "killed while loading: database as before" for entry in log)


def edition_document(edition: str) -> Document:
    body = shared_path("mirror", edition, mirror_relpath(google.URL)).read_bytes()
    return Document(url=google.URL, body=body, fetched_at=datetime.now(timezone.utc))


def cli_refresh(db_path: Path, *source_args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "scrapers.cli", "refresh", "google", "--db", str(db_path), "--host-delay", "0",
         *source_args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip


def mirror_args(edition: str) -> list[str]:
    return ["--mirror", str(shared_path("mirror", edition))]


def forced_mirror_args(edition: str) -> list[str]:
    # --force: an edition loaded before is parsed and loaded again rather than
    # skipped as already loaded, so every refresh here rewrites the data.
    return [*mirror_args(edition), "--force"]


def working_copies(db_path: Path) -> list[Path]:
    return sorted(db_path.parent.glob(f".{db_path.name}.refreshing-*"))


def assert_lock_is_free(db_path: Path) -> None:
    """A killed refresh must not leave a lock that blocks the next one."""
    with open(db_path.with_name(db_path.name + ".lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises BlockingIOError if still held
        fcntl.flock(fh, fcntl.LOCK_UN)


def edition_loaded(db_path: Path, edition: str) -> tuple[str, int]:
    """The Google file loaded last, and how many figures the edition's file holds in the database."""
    doc = edition_document(edition)
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        newest = con.execute(
            "SELECT sha256 FROM documents WHERE url = ? ORDER BY last_checked_at DESC LIMIT 1", [google.URL]
        ).fetchone()[0]
        figures = con.execute("SELECT count(*) FROM observation_rows WHERE document_id = ?", [doc.document_id]).fetchone()[0]
    finally:
        con.close()
    return newest, figures


def test_sigkill_at_random_points_leaves_the_last_good_database(google_latest_template, tmp_path):
    db = copy_database(google_latest_template, tmp_path / "data" / "takedowns.duckdb")
    # One uninterrupted refresh on a scratch copy: how long a refresh takes
    # here, and how many figures the previous edition gives.
    scratch = copy_database(google_latest_template, tmp_path / "scratch" / "takedowns.duckdb")
    started = time.monotonic()
    proc = cli_refresh(scratch, *mirror_args("previous"))
    out, err = proc.communicate(timeout=120)
    typical = time.monotonic() - started
    assert proc.returncode == 0, err
    figures = {"latest": edition_loaded(google_latest_template, "latest")[1], "previous": edition_loaded(scratch, "previous")[1]}
    assert figures["previous"] > 0 and figures["latest"] > 0

    seed = int(os.environ.get("TAKEDOWNS_KILL_SEED", time.time_ns() % 2**32))
    rng = random.Random(seed)
    current = "latest"
    log = []
    # A faster refresh leaves a shorter window to kill it in, so the test
    # goes on (up to MAX_KILLS) until enough kills have landed mid-load,
    # rather than counting on random timing to hit that window.
    while len(log) < MAX_KILLS and (len(log) < KILLS or loaded_midway(log) < KILLS // 2):
        target = "previous" if current == "latest" else "latest"
        before = fingerprint_file(db)
        proc = cli_refresh(db, *forced_mirror_args(target))
        if len(log) % 2 == 0:
            # Aimed: the kill lands while the working copy is being loaded.
            while not working_copies(db) and proc.poll() is None:
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.1))
        else:  # anywhere: starting, loading, swapping or finishing
            time.sleep(rng.uniform(0.2, typical))
        stage = "loading" if working_copies(db) else "starting"
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
            if fingerprint_file(db) == before:
                # The database opens read-only and holds exactly what it held.
                log.append(f"killed while {stage}: database as before")
            else:
                # Killed after the swap, while the command was finishing: the
                # new database must then be the whole refresh, not a part of it.
                assert edition_loaded(db, target) == (edition_document(target).sha256, figures[target]), seed
                current = target
                log.append("killed after the swap: refresh complete")
        else:  # it finished before the kill: a complete refresh, so the other edition is now in
            out, err = proc.communicate()
            assert proc.returncode == 0, err
            current = target
            log.append("completed before the kill")
        assert_lock_is_free(db)
    assert loaded_midway(log) >= KILLS // 2, (seed, log)

    # The next refresh runs to the end: no stale lock or working copy is in its way.
    target = "previous" if current == "latest" else "latest"
    proc = cli_refresh(db, *forced_mirror_args(target))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert edition_loaded(db, target) == (edition_document(target).sha256, figures[target])
    assert not working_copies(db), "a killed refresh's working copy was not cleaned up"
    print(f"SIGKILL seed {seed}, refresh {typical:.1f}s: {log}")


def test_readers_see_a_consistent_database_while_refreshes_swap_it(google_latest_template, tmp_path):
    db = copy_database(google_latest_template, tmp_path / "data" / "takedowns.duckdb")
    committed = [fingerprint_file(db)]
    stop = tmp_path / "stop"
    report_file = tmp_path / "reader.json"
    # A reader in its own process, as the dashboard is...
    reader = subprocess.Popen(
        [sys.executable, "-m", "tests.dbreader", str(db), str(stop), str(report_file), "120"], cwd=ROOT
    )
    # ...and one in this process, beside the refreshes (DuckDB shares one
    # instance per path within a process: the reader closes before reopening).
    in_process: dict = {}
    thread = threading.Thread(target=lambda: in_process.update(read_until(str(db), stop, 120)))
    thread.start()
    try:
        time.sleep(0.5)
        editions = ["previous", "latest", "previous", "latest"]
        for i, edition in enumerate(editions):
            # force: editions loaded before are loaded again, not skipped.
            result = pipeline.refresh(db, ["google"], mirror=shared_path("mirror", edition), force=True)[0]
            assert result.status == "loaded", result.message
            # This process may hold the old file open through the reader
            # thread: a copy under another path gives the state just committed.
            copy = tmp_path / f"state-{i}.duckdb"
            copy.write_bytes(db.read_bytes())
            committed.append(fingerprint_file(copy))
            time.sleep(0.3)
    finally:
        stop.touch()
        thread.join(60)
        reader.wait(60)
    report = json.loads(report_file.read_text())
    for name, seen in (("reader process", report), ("reader thread", in_process)):
        assert seen["error"] is None, f"{name} failed: {seen['error']}"
        assert seen["reads"] >= 10, f"{name} read only {seen['reads']} times"
        unknown = [s for s in seen["states"] if s not in committed]
        assert not unknown, f"{name} saw a state no refresh committed: {unknown[0]}"
        assert len(seen["states"]) >= 2, f"{name} never saw a swapped file"
    assert reader.returncode == 0
    print(f"readers: process {report['reads']} reads / {len(report['states'])} states, "
          f"thread {in_process['reads']} reads / {len(in_process['states'])} states, {len(editions)} refreshes")  # fmt: skip


def test_a_second_refresh_at_the_same_time_is_refused(db_path):
    gate = threading.Event()
    with LocalServer(shared_path("mirror", "latest")) as server:
        # The first refresh's download is held open until the second has run.
        server.add_fault(mirror_relpath(google.URL), Fault("gate", gate=gate, seconds=90))
        first = cli_refresh(db_path, "--mirror-url", server.base)
        try:
            deadline = time.monotonic() + 60
            while not any(p == mirror_relpath(google.URL) for p, _ in server.requests):
                assert first.poll() is None and time.monotonic() < deadline, first.communicate()
                time.sleep(0.02)
            second = cli_refresh(db_path, *mirror_args("latest"))
            out, err = second.communicate(timeout=60)
            assert first.poll() is None  # the first was running all along
        finally:
            gate.set()
        first_out, first_err = first.communicate(timeout=120)
    assert second.returncode != 0
    assert f"another refresh of {db_path} is running" in " ".join(err.split()), err
    assert first.returncode == 0, first_err
    assert edition_loaded(db_path, "latest")[0] == edition_document("latest").sha256
    assert not working_copies(db_path)
    # The lock went with the first refresh: a third runs (and finds nothing new).
    third = cli_refresh(db_path, *mirror_args("latest"))
    out, err = third.communicate(timeout=120)
    assert third.returncode == 0 and "unchanged" in err, err
