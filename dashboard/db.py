"""The one place that opens the database: read-only, reopened when swapped.

A refresh replaces the database file with an atomic rename, so the path keeps
pointing at the newest file while an open connection still reads the old
inode. Every run asks `current()` for a handle; the handle carries a token
(inode, mtime, size) that changes with each swap, so the connection is
reopened and cached query results keyed by the token are never stale.
"""

from __future__ import annotations

import os
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd
import pyarrow as pa
import streamlit as st

DEFAULT_DB = Path("data") / "takedowns.duckdb"
_ARROW_TYPES = {pa.date32(): pd.ArrowDtype(pa.date32())}

# duckdb's DataFrame export trips pandas 3's inplace deprecation; it is noise
# in the dashboard's log, not something a user can act on.
warnings.filterwarnings("ignore", message=".*inplace keyword.*")


def database_path() -> Path:
    return Path(os.environ.get("TAKEDOWNS_DB") or DEFAULT_DB)


def file_token(path: Path) -> tuple[int, int, int] | None:
    """Identity of the file now at `path`: changes when a refresh swaps it in."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


class _Reader:
    """The read-only connection to one path, swapped when the file at the path changes.

    DuckDB keeps one database instance per path in a process: a second
    connect() to the same path while the old connection is open returns the
    old (unlinked) file. So a swap waits for queries in flight, closes the old
    connection, and only then opens the new file.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.token: tuple[int, int, int] | None = None
        self.con: duckdb.DuckDBPyConnection | None = None
        self.active = 0
        self.changed = threading.Condition()

    def cursor(self, token: tuple[int, int, int]) -> duckdb.DuckDBPyConnection:
        with self.changed:
            if token != self.token or self.con is None:
                while self.active:
                    self.changed.wait()
                if self.con is not None:
                    self.con.close()
                self.con = duckdb.connect(self.path, read_only=True)
                # Never step back to an older file: record what is there now.
                self.token = file_token(Path(self.path)) or token
            self.active += 1
            # One cursor per query: Streamlit serves sessions from several
            # threads and a DuckDB connection must not be shared between them.
            return self.con.cursor()

    def done(self, cur: duckdb.DuckDBPyConnection) -> None:
        try:
            cur.close()
        finally:
            with self.changed:
                self.active -= 1
                self.changed.notify_all()


@st.cache_resource(show_spinner=False)
def _reader(path: str) -> _Reader:
    return _Reader(path)


@dataclass(frozen=True)
class Database:
    """A read-only database handle; `token` identifies the file's version."""

    path: str
    token: tuple[int, int, int]
    reader: _Reader = field(repr=False, compare=False)

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self.reader.cursor(self.token)
        try:
            yield cur
        finally:
            self.reader.done(cur)

    def frame(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """The result as a DataFrame; DATE columns hold datetime.date values.

        Through Arrow: faster than DuckDB's own DataFrame export, and dates stay
        one Arrow column (st.cache_data pickles a column of Python dates one
        object at a time).
        """
        with self.cursor() as cur:
            table = cur.sql(sql, params=params or None).to_arrow_table()
        return table.to_pandas(types_mapper=_ARROW_TYPES.get)


def current() -> Database | None:
    """The database as it is now, or None when there is no file yet."""
    path = database_path().resolve()
    token = file_token(path)
    if token is None:
        return None
    return Database(str(path), token, _reader(str(path)))


def hash_database(db: Database) -> tuple:
    """Cache key of a handle for st.cache_data: its path and file version."""
    return (db.path, db.token)
