"""A stand-in for the dashboard: opens the database read-only over and over.

`python -m tests.dbreader DB STOP_FILE OUT_FILE [SECONDS]` connects read-only,
runs a few queries, closes (DuckDB keeps one database instance per path in a
process, so a reader must close before reopening to see a swapped file), and
repeats until STOP_FILE exists or SECONDS pass. It writes to OUT_FILE, as
JSON, how many reads it made, every distinct database state it saw (see
`fingerprint`) and the first error, if any.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

import duckdb

# Every table whose rows a refresh writes, with one query each (table names
# cannot be SQL parameters, so each query is written out).
STATE_QUERIES = {
    "observation_rows": "SELECT count(*), sum(hash(t)) FROM observation_rows t",
    "documents": "SELECT count(*), sum(hash(t)) FROM documents t",
    "revisions": "SELECT count(*), sum(hash(t)) FROM revisions t",
    "warnings": "SELECT count(*), sum(hash(t)) FROM warnings t",
    "notice_rows": "SELECT count(*), sum(hash(t)) FROM notice_rows t",
    "claims": "SELECT count(*), sum(hash(t)) FROM claims t",
    "datasets": "SELECT count(*), sum(hash(t)) FROM datasets t",
    "sources": "SELECT count(*), sum(hash(t)) FROM sources t",
    "runs": "SELECT count(*), sum(hash(t)) FROM runs t",
}


def fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Every written table's row count and a hash of all its rows: equal fingerprints, equal data."""
    return json.dumps({table: [str(v) for v in con.execute(sql).fetchone()] for table, sql in STATE_QUERIES.items()})


def fingerprint_file(path: str | Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return fingerprint(con)
    finally:
        con.close()


def read_once(path: str) -> str:
    """One dashboard-like visit: open read-only, query, check the views agree, close."""
    con = duckdb.connect(path, read_only=True)
    try:
        state = fingerprint(con)
        rows = con.execute("SELECT count(*) FROM observation_rows").fetchone()[0]
        # The public view joins every row to its document: a half-written
        # state would lose rows here.
        visible = con.execute("SELECT count(*) FROM observations").fetchone()[0]
        if visible != rows:
            raise AssertionError(f"observations view shows {visible} rows of {rows}")
        con.execute(
            """SELECT country_code, sum(value) FROM headline WHERE metric = 'requests'
               GROUP BY ALL ORDER BY 2 DESC LIMIT 10"""
        ).fetchall()
        return state
    finally:
        con.close()


def read_until(path: str, stop: Path, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    reads, states, error = 0, [], None
    while not stop.exists() and time.monotonic() < deadline:
        try:
            state = read_once(path)
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            error = "".join(traceback.format_exception(exc))
            break
        reads += 1
        if state not in states:
            states.append(state)
        time.sleep(0.01)  # a busy dashboard, not a spin loop starving the refresh of CPU
    return {"reads": reads, "states": states, "error": error}


if __name__ == "__main__":
    db, stop_file, out_file = sys.argv[1:4]
    limit = float(sys.argv[4]) if len(sys.argv) > 4 else 120.0
    report = read_until(db, Path(stop_file), limit)
    Path(out_file).write_text(json.dumps(report))
    sys.exit(1 if report["error"] else 0)
