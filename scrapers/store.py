"""The DuckDB database: schema, transactional loads, revisions, public views.

A refresh never writes the live database file in place. It copies it, loads
into the copy (each source in its own transaction) and swaps the copy in with
an atomic rename, so a dashboard reading the old file keeps working, a killed
refresh leaves the last good database untouched, and a failed source rolls back
without touching the others.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .models import METRIC_UNITS, METRICS, Document, Notice, ObservationTable, SourceSpec, Warning
from .normalize import map_distinct_rows, period_grain, period_label
from .validate import as_text, country_key_column

SCHEMA_VERSION = "1"


SCHEMA = [
    """CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS sources (
        slug VARCHAR PRIMARY KEY, platform VARCHAR, title VARCHAR, cadence VARCHAR,
        homepage VARCHAR, urls VARCHAR[], notes VARCHAR, import_only BOOLEAN,
        parser_hash VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS datasets (
        source VARCHAR, dataset VARCHAR, description VARCHAR, headline_rank INTEGER,
        PRIMARY KEY (source, dataset))""",
    """CREATE TABLE IF NOT EXISTS metrics (metric VARCHAR PRIMARY KEY, description VARCHAR, unit VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS documents (
        document_id VARCHAR PRIMARY KEY, source VARCHAR, url VARCHAR, origin VARCHAR,
        fetched_at TIMESTAMPTZ, last_checked_at TIMESTAMPTZ, published_as_of DATE,
        http_status INTEGER, etag VARCHAR, last_modified VARCHAR, content_type VARCHAR,
        sha256 VARCHAR, size BIGINT, members VARCHAR[], archive_path VARCHAR, loaded BOOLEAN,
        edition_date DATE)""",
    # Which edition a file is: when it was published if known, else the end
    # of the latest period it reports. A file of an older edition loaded after
    # a newer one never overrides the newer figures.
    """ALTER TABLE documents ADD COLUMN IF NOT EXISTS edition_date DATE""",
    """CREATE TABLE IF NOT EXISTS observation_rows (
        source VARCHAR, dataset VARCHAR, platform VARCHAR, product VARCHAR,
        country_key VARCHAR, country_code VARCHAR, country_name VARCHAR,
        period_start DATE, period_end DATE, period_label VARCHAR, period_grain VARCHAR,
        requester VARCHAR, reason VARCHAR, metric VARCHAR,
        value DOUBLE, value_low DOUBLE, value_high DOUBLE, value_text VARCHAR,
        is_total BOOLEAN, total_over VARCHAR,
        document_id VARCHAR, member VARCHAR, row_number INTEGER, loaded_at TIMESTAMPTZ)""",
    # A figure's key (obs_key) is not stored with it: a load computes it from
    # the columns (see load_source). Stored, it was half the table's size on
    # disk and a quarter of the time to commit a first load.
    """ALTER TABLE observation_rows DROP COLUMN IF EXISTS obs_key""",
    """CREATE TABLE IF NOT EXISTS revisions (
        obs_key VARCHAR, source VARCHAR, dataset VARCHAR, platform VARCHAR, country_key VARCHAR, country_code VARCHAR,
        country_name VARCHAR, period_start DATE, period_end DATE, requester VARCHAR, product VARCHAR,
        reason VARCHAR, metric VARCHAR, kind VARCHAR,
        old_value DOUBLE, old_value_low DOUBLE, old_value_high DOUBLE, old_value_text VARCHAR, old_document_id VARCHAR,
        new_value DOUBLE, new_value_low DOUBLE, new_value_high DOUBLE, new_value_text VARCHAR, new_document_id VARCHAR,
        detected_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS warnings (
        source VARCHAR, document_id VARCHAR, kind VARCHAR, detail VARCHAR, member VARCHAR, row_number INTEGER)""",
    """CREATE TABLE IF NOT EXISTS notice_rows (
        notice_id VARCHAR, source VARCHAR, platform VARCHAR, country_code VARCHAR, country_name VARCHAR,
        notice_date DATE, agency VARCHAR, agency_as_published VARCHAR, title VARCHAR, urls VARCHAR[],
        text VARCHAR, source_url VARCHAR, document_id VARCHAR, member VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS claims (
        claim_id INTEGER, claimant VARCHAR, country_code VARCHAR, country_name VARCHAR,
        period_start DATE, period_end DATE, platform VARCHAR, claimed_metric VARCHAR,
        value DOUBLE, value_low DOUBLE, value_high DOUBLE, value_text VARCHAR, qualifier VARCHAR,
        per_week BOOLEAN, note VARCHAR, source_title VARCHAR, source_url VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS runs (
        source VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, status VARCHAR, message VARCHAR,
        documents INTEGER, observations INTEGER, revisions INTEGER, warnings INTEGER)""",
]

VIEWS = [
    # The public, documented view: one row per published figure, with provenance.
    """CREATE OR REPLACE VIEW observations AS
    SELECT o.source, o.dataset, o.platform, NULLIF(o.product, '') AS product,
           o.country_code, o.country_name, o.period_start, o.period_end, o.period_label, o.period_grain,
           NULLIF(o.requester, '') AS requester, NULLIF(o.reason, '') AS reason,
           o.metric, m.unit, o.value, o.value_low, o.value_high, o.value_text, o.is_total,
           o.document_id, o.member, o.row_number,
           d.url AS source_url, d.fetched_at, d.sha256 AS document_sha256, d.published_as_of
    FROM observation_rows o
    JOIN documents d USING (document_id)
    LEFT JOIN metrics m USING (metric)""",
    # Per dataset, country and period: the published total where there is one,
    # else the sum of the finest rows (bounds summed for banded values).
    """CREATE OR REPLACE VIEW dataset_totals AS
    SELECT source, dataset, platform, country_key, any_value(country_code) AS country_code,
           any_value(country_name) AS country_name, period_start, period_end,
           any_value(period_label) AS period_label, any_value(period_grain) AS period_grain, metric,
           CASE WHEN count(*) FILTER (WHERE is_total) > 0
                THEN max(value) FILTER (WHERE is_total)
                WHEN count(value) = count(*) THEN sum(value) END AS value,
           CASE WHEN count(*) FILTER (WHERE is_total) > 0
                THEN max(value_low) FILTER (WHERE is_total) ELSE sum(value_low) END AS value_low,
           CASE WHEN count(*) FILTER (WHERE is_total) > 0
                THEN max(value_high) FILTER (WHERE is_total)
                WHEN count(value_high) = count(*) THEN sum(value_high) END AS value_high,
           count(*) FILTER (WHERE value IS NULL) AS banded_rows,
           count(*) AS rows, list_sort(list(DISTINCT document_id)) AS document_ids, headline_rank,
           coalesce(bool_or(is_total), false) AS has_published_total,
           -- the bands as published ('<10, ?'), NULL when no row is banded
           NULLIF(array_to_string(list_sort(list_distinct(list(value_text) FILTER (WHERE value IS NULL))), ', '), '')
               AS banded_as_published
    FROM observation_rows LEFT JOIN datasets USING (source, dataset)
    WHERE metric IN (SELECT metric FROM metrics WHERE unit = 'count')
    -- headline_rank is one per dataset; grouped by, so a filter on it is applied before the aggregation
    GROUP BY source, dataset, platform, country_key, period_start, period_end, metric, headline_rank""",
    # The headline per platform, country and period: from the source's
    # preferred dataset for that period (Google's historical and current
    # tables overlap in 2019-H1; only one is counted). Materialised into
    # `summary_headline` after every load (see refresh_derived), which the view
    # `headline` reads, so the most common question does not re-aggregate
    # every figure.
    """CREATE OR REPLACE VIEW headline_live AS
    SELECT t.*, s.title AS source_title, s.homepage AS source_homepage
    FROM dataset_totals t JOIN sources s ON s.slug = t.source
    WHERE t.headline_rank IS NOT NULL
    QUALIFY rank() OVER (PARTITION BY t.source, t.platform, t.country_key, t.period_start, t.period_end, t.metric
                         ORDER BY t.headline_rank) = 1""",
    """CREATE OR REPLACE VIEW notices AS
    SELECT n.*, d.url AS fetched_url, d.fetched_at, d.sha256 AS document_sha256
    FROM notice_rows n JOIN documents d USING (document_id)""",
]


# --------------------------------------------------------------------------
# Opening
# --------------------------------------------------------------------------


# One statement per table (never a table name pasted into SQL): each takes the
# rows registered as `incoming_rows`, in the table's column order.
_INSERT_ROWS = {
    "metrics": "INSERT INTO metrics SELECT * FROM incoming_rows",
    "datasets": "INSERT INTO datasets SELECT * FROM incoming_rows",
    "claims": "INSERT INTO claims SELECT * FROM incoming_rows",
    "warnings": "INSERT INTO warnings SELECT * FROM incoming_rows",
    "notice_rows": "INSERT INTO notice_rows SELECT * FROM incoming_rows",
}


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[Sequence]) -> int:
    """Insert many rows in one statement (executemany pays a round trip per row)."""
    rows = list(rows)
    if rows:
        columns = {f"c{i}": [row[i] for row in rows] for i in range(len(rows[0]))}
        con.register("incoming_rows", pa.table(columns))
        try:
            con.execute(_INSERT_ROWS[table])
        finally:
            con.unregister("incoming_rows")
    return len(rows)


def _schema_fingerprint() -> str:
    text = "\n".join([*SCHEMA, *VIEWS, *DERIVED, HEADLINE_VIEW, repr(sorted(METRICS.items())),
                      repr(sorted(METRIC_UNITS.items()))])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ensure_schema(con: duckdb.DuckDBPyConnection, *, summaries: bool = True) -> None:
    """Create or update tables and views; nothing to do when this version made them.

    The summaries are rebuilt too (their definitions may be new), or with
    summaries=False only marked stale, for a caller that rebuilds them once
    it has loaded (writable_copy: a new file would otherwise build them twice).
    """
    fingerprint = _schema_fingerprint()
    with contextlib.suppress(duckdb.CatalogException):  # a new file has no meta table yet
        made_by = con.execute("SELECT value FROM meta WHERE key = 'schema_fingerprint'").fetchone()
        if made_by is not None and made_by[0] == fingerprint:
            return
    # One transaction: one commit instead of one per statement (a new file
    # has some forty to make).
    con.execute("BEGIN TRANSACTION")
    try:
        for statement in SCHEMA:
            con.execute(statement)
        for statement in VIEWS:
            con.execute(statement)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
        con.execute("DELETE FROM metrics")
        insert_rows(con, "metrics", [(m, d, METRIC_UNITS[m]) for m, d in METRICS.items()])
        if summaries:
            _rebuild_derived(con)
        else:
            con.execute("DELETE FROM meta WHERE key = 'summaries_of'")
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_fingerprint', ?)", [fingerprint])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# The private copy of a refresh: nobody else reads it, and it is fsynced
# whole before it is swapped in (writable_copy), so DuckDB need not sync it
# at every commit. One thread writes it faster than two (measured on the
# two-core machine of `make bench`). A commit of more than 1 MB is written
# straight into the file (a checkpoint) rather than to the log first and into
# the file again at the end (a Google edition loads 5% faster).
_PRIVATE_CONFIG = {"threads": 1, "fsync_mode": "none", "checkpoint_threshold": "1MB"}


def _connect_private(path: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), config=_PRIVATE_CONFIG)
    except duckdb.InvalidInputException:  # an older DuckDB has no fsync_mode: it syncs as usual
        return duckdb.connect(str(path), config={"threads": 1})


class RefreshLocked(Exception):
    pass


@contextlib.contextmanager
def writable_copy(db_path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open a private copy of the database for a refresh; swap it in at the end.

    One refresh at a time (a lock file beside the database). Readers of the
    old file are never blocked; they see the new file once they reopen.
    """
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    lock_fh = open(db_path.with_name(db_path.name + ".lock"), "w")
    try:
        try:
            fcntl.flock(lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RefreshLocked(f"another refresh of {db_path} is running") from None
        tmp = db_path.with_name(f".{db_path.name}.refreshing-{os.getpid()}")
        for stale in db_path.parent.glob(f".{db_path.name}.refreshing-*"):
            stale.unlink(missing_ok=True)  # left by a killed refresh
        con = None
        try:
            if db_path.exists():
                shutil.copyfile(db_path, tmp)
            con = _connect_private(tmp)
            ensure_schema(con, summaries=False)
            yield con
            inputs = summary_inputs(con)
            if inputs != _meta(con, "summaries_of"):
                refresh_derived(con, inputs)
            con.execute("CHECKPOINT")
            con.close()
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, db_path)
            _fsync_dir(db_path.parent)
        except BaseException:
            if con is not None:
                con.close()
            tmp.unlink(missing_ok=True)
            Path(str(tmp) + ".wal").unlink(missing_ok=True)
            raise
    finally:
        lock_fh.close()


# Summaries the dashboard asks for on every page. Each is a cache of a query
# over the published figures, rebuilt whole after every load and never edited,
# so a page does not re-aggregate every figure (the 100x benchmark needs it).
DERIVED: tuple[str, ...] = (
    # The headline (see headline_live) with what the dashboard shows beside each
    # figure (files and hashes), so a page reads rows instead of joining every
    # published figure; the view `headline` reads it too. Sorted so that a
    # question naming a metric or a country reads few stretches of the table.
    """CREATE OR REPLACE TABLE summary_headline AS
        WITH h AS MATERIALIZED (SELECT * FROM headline_live),
        files AS (  -- per distinct set of documents (a few dozen), not per figure
          SELECT ids, string_agg(DISTINCT d.url, ' ' ORDER BY d.url) AS source_url,
                 max(d.fetched_at) AS fetched_at,
                 string_agg(DISTINCT d.sha256, ' ' ORDER BY d.sha256) AS document_sha256
          FROM (SELECT ids, unnest(ids) AS document_id FROM (SELECT DISTINCT document_ids AS ids FROM h))
          JOIN documents d USING (document_id)
          GROUP BY ids
        )
        SELECT h.platform, h.country_code, h.country_name, h.period_label, h.period_grain,
               h.period_start, h.period_end, h.metric, m.unit, m.description AS metric_description,
               h.value, h.value_low, h.value_high, h.banded_rows, h.rows AS published_rows,
               h.has_published_total, h.banded_as_published,
               h.source, h.source_title, h.source_homepage, h.dataset,
               f.source_url, array_to_string(h.document_ids, ' ') AS document_ids,
               f.document_sha256, f.fetched_at, h.country_key, h.headline_rank
        FROM h
        JOIN files f ON f.ids = h.document_ids
        LEFT JOIN metrics m USING (metric)
        ORDER BY h.metric, h.country_code, h.period_start, h.platform, h.period_end""",
    """CREATE OR REPLACE TABLE summary_platforms AS
        SELECT platform, string_agg(DISTINCT source, ', ' ORDER BY source) AS sources,
               min(period_start) AS first_start, max(period_end) AS last_end, count(*) AS figures
        FROM observation_rows GROUP BY platform ORDER BY platform""",
    """CREATE OR REPLACE TABLE summary_metrics AS
        SELECT o.metric, m.unit, m.description, o.platform, sum(o.figures) AS figures,
               bool_or(h.metric IS NOT NULL) AS in_headline
        FROM (SELECT metric, platform, count(*) AS figures FROM observation_rows GROUP BY ALL) o
        LEFT JOIN metrics m USING (metric)
        LEFT JOIN (SELECT DISTINCT platform, metric FROM summary_headline) h USING (platform, metric)
        GROUP BY o.metric, m.unit, m.description, o.platform ORDER BY o.metric, o.platform""",
    """CREATE OR REPLACE TABLE summary_countries AS
        SELECT country_code, any_value(country_name) AS name_as_published, sum(figures) AS figures,
               sum(claims) AS claims, sum(notices) AS notices
        FROM (
          SELECT country_code, any_value(country_name) AS country_name, count(*) AS figures, 0 AS claims, 0 AS notices
          FROM observation_rows WHERE country_code IS NOT NULL GROUP BY country_code
          UNION ALL
          SELECT country_code, any_value(country_name), 0, count(*), 0
          FROM claims WHERE country_code IS NOT NULL GROUP BY country_code
          UNION ALL
          SELECT country_code, any_value(country_name), 0, 0, count(*)
          FROM notice_rows WHERE country_code IS NOT NULL GROUP BY country_code
        ) GROUP BY country_code ORDER BY country_code""",
    """CREATE OR REPLACE TABLE summary_periods AS
        SELECT source, platform, period_label, period_grain, period_start, period_end,
               count(*) AS figures, count(DISTINCT country_code) AS countries,
               string_agg(DISTINCT dataset, ', ') AS datasets
        FROM observation_rows GROUP BY ALL ORDER BY source, period_start, period_end""",
    # Platforms as one ", "-joined string: a list column is slow to hand to pandas and to cache.
    """CREATE OR REPLACE TABLE summary_period_platforms AS
        SELECT period_label, period_start, period_end, period_grain,
               string_agg(DISTINCT platform, ', ' ORDER BY platform) AS platforms
        FROM summary_periods GROUP BY ALL ORDER BY period_start, period_end""",
    # Per metric and platform, the periods it has headline figures for (the map's period choices).
    """CREATE OR REPLACE TABLE summary_headline_periods AS
        SELECT DISTINCT metric, platform, period_label, period_grain, period_start, period_end
        FROM summary_headline ORDER BY metric, period_start, period_end, platform""",
    """CREATE OR REPLACE TABLE summary_documents AS
        SELECT document_id, count(*) AS figures FROM observation_rows GROUP BY document_id""",
    """CREATE OR REPLACE TABLE summary_sources AS
        SELECT source, count(*) AS figures, min(period_start) AS first_period_start,
               max(period_end) AS last_period_end
        FROM observation_rows GROUP BY source""",
    """CREATE OR REPLACE TABLE summary_unknown_countries AS
        SELECT o.source, o.country_name, count(*) AS figures, min(o.period_label) AS first_period,
               max(o.period_label) AS last_period, any_value(d.url) AS source_url
        FROM observation_rows o JOIN documents d USING (document_id)
        WHERE o.country_code IS NULL AND o.country_name IS NOT NULL
        GROUP BY ALL ORDER BY o.source, o.country_name""",
)


def refresh_derived(con: duckdb.DuckDBPyConnection, inputs: str | None = None) -> None:
    """Rebuild the cached summaries, all in one transaction (one commit instead
    of one per table). `inputs`: summary_inputs(con), if the caller has it."""
    con.execute("BEGIN TRANSACTION")
    try:
        _rebuild_derived(con, inputs)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


# The headline as headline_live gives it, read from its cache (a view, made
# once summary_headline exists: a view is checked against its tables).
HEADLINE_VIEW = """CREATE OR REPLACE VIEW headline AS
    SELECT source, dataset, platform, country_key, country_code, country_name, period_start, period_end,
           period_label, period_grain, metric, value, value_low, value_high, banded_rows, published_rows AS rows,
           string_split(document_ids, ' ') AS document_ids, headline_rank, has_published_total, banded_as_published,
           source_title, source_homepage
    FROM summary_headline"""


def _rebuild_derived(con: duckdb.DuckDBPyConnection, inputs: str | None = None) -> None:
    """The statements of refresh_derived, in the caller's transaction (`summary_headline` first: others read it)."""
    for statement in DERIVED:
        con.execute(statement)
    kind = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'headline'").fetchall()
    if kind and kind[0][0] == "BASE TABLE":
        con.execute("DROP TABLE headline")  # a cache of its own in earlier versions
    con.execute(HEADLINE_VIEW)
    # The summaries read only what summary_inputs hashes, never change it.
    con.execute("INSERT OR REPLACE INTO meta VALUES ('summaries_of', ?)", [inputs or summary_inputs(con)])


# What the summaries are computed from, in one string: a refresh in which
# nothing was loaded (every report unchanged) need not rebuild them. A load
# always sets a new `loaded_at`; the small tables are hashed whole.
_SUMMARY_INPUTS = """SELECT concat_ws('/',
    (SELECT count(*) || ':' || coalesce(CAST(max(loaded_at) AS VARCHAR), '') FROM observation_rows),
    (SELECT sum(hash(t)) FROM claims t), (SELECT sum(hash(t)) FROM datasets t), (SELECT sum(hash(t)) FROM metrics t),
    (SELECT sum(hash(slug, platform, title, homepage)) FROM sources),
    (SELECT sum(hash(document_id, url, sha256)) FROM documents),
    (SELECT sum(hash(notice_id, source, platform, country_code, country_name, document_id)) FROM notice_rows))"""


def summary_inputs(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute(_SUMMARY_INPUTS).fetchone()[0]


def _meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def replace_unless_same(con: duckdb.DuckDBPyConnection, key: str, rows: object, write) -> bool:
    """Call write() unless the rows it writes are those written last time
    under key (a digest in `meta`): most refreshes find the source specs
    and the curated claims unchanged, and rewriting them costs commits."""
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()
    if _meta(con, key) == digest:
        return False
    write()
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, digest])
    return True


def connect_readonly(db_path: str | Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(db_path), read_only=True)


# --------------------------------------------------------------------------
# Sources and documents
# --------------------------------------------------------------------------


def register_source(con: duckdb.DuckDBPyConnection, spec: SourceSpec) -> None:
    """Record a source and its datasets as its spec says; its parser_hash is
    kept (set_parser_hash sets it once its files are loaded)."""
    source = [spec.slug, spec.platform, spec.title, spec.cadence, spec.homepage, list(spec.urls), spec.notes,
              spec.import_only]  # fmt: skip
    ranks = {name: i for i, name in enumerate(spec.headline_datasets)}
    datasets = [(spec.slug, name, desc, ranks.get(name)) for name, desc in spec.datasets.items()]

    def write() -> None:
        con.execute(
            """INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)
               ON CONFLICT (slug) DO UPDATE SET platform = excluded.platform, title = excluded.title,
                 cadence = excluded.cadence, homepage = excluded.homepage, urls = excluded.urls,
                 notes = excluded.notes, import_only = excluded.import_only""",
            source,
        )
        con.execute("DELETE FROM datasets WHERE source = ?", [spec.slug])
        insert_rows(con, "datasets", datasets)

    replace_unless_same(con, f"registered:{spec.slug}", (source, datasets), write)


def set_parser_hash(con: duckdb.DuckDBPyConnection, slug: str, parser_hash: str) -> None:
    """Record the code that parsed a registered source's files."""
    con.execute("UPDATE sources SET parser_hash = ? WHERE slug = ?", [parser_hash, slug])


def parser_hash_of(con: duckdb.DuckDBPyConnection, slug: str) -> str | None:
    row = con.execute("SELECT parser_hash FROM sources WHERE slug = ?", [slug]).fetchone()
    return row[0] if row else None


def known_documents(con: duckdb.DuckDBPyConnection, slug: str) -> dict[str, tuple[str | None, str | None, str]]:
    """url -> (etag, last_modified, sha256) of the newest loaded document."""
    rows = con.execute(
        """SELECT url, etag, last_modified, sha256 FROM documents
           WHERE source = ? AND loaded
           QUALIFY row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC) = 1""",
        [slug],
    ).fetchall()
    return {url: (etag, lm, sha) for url, etag, lm, sha in rows}


def loaded_document_ids(con: duckdb.DuckDBPyConnection, slug: str) -> set[str]:
    rows = con.execute("SELECT document_id FROM documents WHERE source = ? AND loaded", [slug]).fetchall()
    return {r[0] for r in rows}


def document_row(doc: Document, slug: str, archive_path: str, members: list[str] | None, edition_date) -> list:
    return [
        doc.document_id, slug, doc.url, doc.origin, doc.fetched_at, doc.fetched_at, doc.published_as_of,
        doc.http_status, doc.etag, doc.last_modified, doc.content_type, doc.sha256, len(doc.body),
        members, archive_path, True, edition_date,
    ]  # fmt: skip


def touch_documents(con: duckdb.DuckDBPyConnection, docs: Iterable[Document]) -> None:
    """Record that unchanged documents were checked again."""
    for doc in docs:
        con.execute(
            "UPDATE documents SET last_checked_at = ? WHERE document_id = ?", [doc.fetched_at, doc.document_id]
        )


def record_run(con: duckdb.DuckDBPyConnection, slug: str, started: datetime, result) -> None:
    con.execute(
        "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [slug, started, datetime.now(timezone.utc), result.status, result.message, result.documents,
         result.observations, result.revisions, result.warnings],
    )  # fmt: skip


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def _observation_rows(
    slug: str, platform: str, observations: list[tuple[ObservationTable, str]], loaded_at, *, with_keys: bool
) -> pa.Table:
    """Parsed figures (one table per document) in the column order of
    `observation_rows`, after each figure's key (`obs_key`) when with_keys
    (a load over held figures matches them by key; a first load need not)."""
    parts = [
        batch.table.append_column("document_id", pa.repeat(pa.scalar(doc_id), len(batch)))
        for batch, doc_id in observations
    ]
    table = pa.concat_tables(parts)
    # Each distinct period labelled once (a few dozen among many rows).
    label, grain = map_distinct_rows([table["period_start"], table["period_end"]], _span_label, [pa.string(), pa.string()])
    n = table.num_rows
    source = pa.repeat(pa.scalar(slug), n)
    platform_column = pc.fill_null(table["platform"], platform)
    country = country_key_column(table)
    columns = {}
    if with_keys:
        # A figure's identity as one comparable string, NULL parts skipped (as
        # DuckDB's concat_ws(chr(31), ...) makes it; tests hold them equal).
        key_parts = [source, table["dataset"], platform_column, country, table["period_start"], table["period_end"],
                     table["requester"], table["product"], table["reason"], table["metric"]]  # fmt: skip
        columns["obs_key"] = pc.binary_join_element_wise(*(as_text(p) for p in key_parts), "\x1f", null_handling="skip")
    columns.update(
        {
            "source": source,
            "dataset": table["dataset"],
            "platform": platform_column,
            "product": table["product"],
            "country_key": country,
            "country_code": table["country_code"],
            "country_name": table["country_name"],
            "period_start": table["period_start"],
            "period_end": table["period_end"],
            "period_label": label,
            "period_grain": grain,
            "requester": table["requester"],
            "reason": table["reason"],
            "metric": table["metric"],
            "value": table["value"],
            "value_low": table["value_low"],
            "value_high": table["value_high"],
            "value_text": table["value_text"],
            "is_total": table["is_total"],
            "total_over": table["total_over"],
            "document_id": table["document_id"],
            "member": table["member"],
            "row_number": table["row"],
            "loaded_at": pa.repeat(pa.scalar(loaded_at, pa.timestamp("us", tz="UTC")), n),
        }
    )
    return pa.table(columns)


def _register_staged(con: duckdb.DuckDBPyConnection, name: str, staged: pa.Table, parse_orders_sql: str) -> None:
    """Register as `name` the staged rows whose parse_order the query gives, in its order."""
    con.register(name, staged.take(con.execute(parse_orders_sql).fetchnumpy()["parse_order"]))


def _span_label(start: date, end: date) -> tuple[str, str]:
    return period_label(start, end), period_grain(start, end)


def load_source(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    documents: list[Document],
    document_meta: dict[str, tuple[str, list[str] | None]],
    observations: list[tuple[ObservationTable, str]],
    notices: list[tuple[Notice, str]],
    warnings: list[tuple[Warning, str]],
) -> tuple[int, int]:
    """Load one source's parse in one transaction. Returns (rows, revisions).

    Figures whose key is already stored are replaced; the old value goes to
    `revisions` when it differs. Figures an earlier edition published that the
    new edition of the same file leaves out stay current, and are noted as
    `not_republished` revisions.
    """
    now = datetime.now(timezone.utc)
    latest_period = {doc_id: pc.max(batch.table["period_end"]).as_py() for batch, doc_id in observations if len(batch)}
    figures = sum(len(batch) for batch, _ in observations)
    con.execute("BEGIN TRANSACTION")
    try:
        for doc in documents:
            archive_path, members = document_meta[doc.document_id]
            edition = doc.published_as_of or latest_period.get(doc.document_id)
            con.execute(
                """INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (document_id) DO UPDATE SET last_checked_at = excluded.last_checked_at,
                     etag = excluded.etag, last_modified = excluded.last_modified, loaded = true,
                     published_as_of = COALESCE(excluded.published_as_of, documents.published_as_of),
                     edition_date = COALESCE(documents.edition_date, excluded.edition_date)""",
                document_row(doc, spec.slug, archive_path, members, edition),
            )
        revisions, held = 0, 0
        if figures:  # a notices-only source has no figures to stage
            held = con.execute("SELECT count(*) FROM observation_rows WHERE source = ?", [spec.slug]).fetchall()[0][0]
            staged = _observation_rows(spec.slug, spec.platform, observations, now, with_keys=held > 0)
            # Each figure's place in the parse: how `pairs` below names a staged
            # figure, and the order new rows are stored in (as into an empty
            # table) whatever order a join gives them in.
            staged = staged.append_column("parse_order", pa.array(np.arange(len(staged))))
            con.register("staged", staged)
        if figures and held:
            # Each staged figure (its parse_order, document and values) with the
            # held row of the same key, if any: its rowid (stable until the
            # commit: a delete only marks rows), document and values; and what
            # the staged figure is to it: from an older edition (superseded:
            # recorded as a revision of it, never made current again), or the
            # same figure (unchanged: all but its provenance). The one join on
            # the long keys, held ones computed as the stored obs_key was made
            # (tests hold the two equal): the steps below read `pairs`, and
            # `staged` by parse_order.
            con.execute(
                """CREATE OR REPLACE TEMP TABLE pairs AS
                   SELECT * EXCLUDE (staged_figure, held_figure),
                          held.rowid IS NOT NULL AND staged_figure IS NOT DISTINCT FROM held_figure AS unchanged
                   FROM (SELECT s.parse_order, s.document_id, s.value, s.value_low, s.value_high,
                                struct_pack(rowid := o.rowid, document_id := o.document_id, value := o.value,
                                            value_low := o.value_low, value_high := o.value_high,
                                            value_text := o.value_text) AS held,
                                coalesce(sd.edition_date < od.edition_date, false) AS superseded,
                                row(*COLUMNS(s.* EXCLUDE (obs_key, document_id, member, row_number, loaded_at,
                                                          parse_order)))
                                    AS staged_figure,
                                row(*COLUMNS(o.* EXCLUDE (rowid, obs_key, document_id, member, row_number, loaded_at)))
                                    AS held_figure
                         FROM staged s
                         LEFT JOIN (SELECT rowid, *,
                                           concat_ws(chr(31), source, dataset, platform, country_key, period_start,
                                                     period_end, requester, product, reason, metric) AS obs_key
                                    FROM observation_rows
                                    -- only rows that can share a key: same dataset and period
                                    WHERE source = ? AND (dataset, period_start, period_end) IN
                                          (SELECT DISTINCT dataset, period_start, period_end FROM staged)) o
                              ON o.obs_key = s.obs_key
                         LEFT JOIN documents sd ON sd.document_id = s.document_id
                         LEFT JOIN documents od ON od.document_id = o.document_id)""",
                [spec.slug],
            )
            # The few staged figures whose values differ from the held ones, taken
            # from pyarrow by parse_order: the revision steps read them, not all.
            _register_staged(
                con, "differing", staged,
                """SELECT parse_order FROM pairs
                   WHERE held.rowid IS NOT NULL
                     AND (held.value IS DISTINCT FROM value OR held.value_low IS DISTINCT FROM value_low
                          OR held.value_high IS DISTINCT FROM value_high)
                   ORDER BY parse_order""",
            )  # fmt: skip
            before = con.execute("SELECT count(*) FROM revisions").fetchone()[0]
            con.execute(
                """INSERT INTO revisions
                SELECT s.obs_key, s.source, s.dataset, s.platform, s.country_key, s.country_code, s.country_name,
                       s.period_start, s.period_end, s.requester, s.product, s.reason, s.metric, 'changed',
                       s.value, s.value_low, s.value_high, s.value_text, s.document_id,
                       p.held.value, p.held.value_low, p.held.value_high, p.held.value_text, p.held.document_id, ?
                FROM pairs p JOIN differing s USING (parse_order)
                WHERE p.superseded
                  AND (p.held.value IS DISTINCT FROM p.value OR p.held.value_low IS DISTINCT FROM p.value_low
                       OR p.held.value_high IS DISTINCT FROM p.value_high)
                  AND NOT EXISTS (SELECT 1 FROM revisions r WHERE r.obs_key = s.obs_key
                                  AND r.old_document_id = s.document_id AND r.new_document_id = p.held.document_id)""",
                [now],
            )
            con.execute(
                """INSERT INTO revisions
                SELECT s.obs_key, s.source, s.dataset, s.platform, s.country_key, s.country_code, s.country_name,
                       s.period_start, s.period_end, s.requester, s.product, s.reason, s.metric, 'changed',
                       p.held.value, p.held.value_low, p.held.value_high, p.held.value_text, p.held.document_id,
                       s.value, s.value_low, s.value_high, s.value_text, s.document_id, ?
                FROM pairs p JOIN differing s USING (parse_order)
                WHERE p.held.document_id <> p.document_id
                  AND NOT p.superseded
                  AND (p.held.value IS DISTINCT FROM p.value OR p.held.value_low IS DISTINCT FROM p.value_low
                       OR p.held.value_high IS DISTINCT FROM p.value_high)""",
                [now],
            )
            # Rows an earlier edition of the same URL published, for a dataset and
            # period the new edition covers, that the new edition leaves out
            # (no staged figure has their key). Before any held row is replaced;
            # not looked for when every held row of those datasets and periods
            # has a staged figure (an edition that republishes all it covers).
            covered, paired = con.execute(
                """SELECT (SELECT count(*) FROM observation_rows
                           WHERE source = ? AND (dataset, period_start, period_end) IN
                                 (SELECT DISTINCT dataset, period_start, period_end FROM staged)),
                          (SELECT count(held.rowid) FROM pairs)""",
                [spec.slug],
            ).fetchall()[0]
            if covered > paired:
                con.execute(
                    """INSERT INTO revisions
                    SELECT o.obs_key, o.source, o.dataset, o.platform, o.country_key, o.country_code, o.country_name,
                           o.period_start, o.period_end, o.requester, o.product, o.reason, o.metric, 'not_republished',
                           o.value, o.value_low, o.value_high, o.value_text, o.document_id,
                           NULL, NULL, NULL, NULL, NULL, ?
                    FROM (SELECT *,
                                 concat_ws(chr(31), source, dataset, platform, country_key, period_start, period_end,
                                           requester, product, reason, metric) AS obs_key
                          -- these filters here, not below: the few rows left get a key
                          FROM observation_rows
                          WHERE source = ?
                            AND document_id NOT IN (SELECT DISTINCT document_id FROM staged)
                            AND (dataset, period_start, period_end) IN (SELECT DISTINCT dataset, period_start, period_end
                                                                        FROM staged)
                            AND rowid NOT IN (SELECT p.held.rowid FROM pairs p WHERE p.held.rowid IS NOT NULL)) o
                    JOIN documents od ON od.document_id = o.document_id
                    WHERE od.edition_date <= (SELECT min(sd.edition_date) FROM documents sd
                                              WHERE sd.document_id IN (SELECT DISTINCT document_id FROM staged))
                      AND od.url IN (SELECT d.url FROM documents d WHERE d.document_id IN (SELECT DISTINCT document_id FROM staged))
                      AND NOT EXISTS (SELECT 1 FROM revisions r WHERE r.kind = 'not_republished'
                                      AND r.old_document_id = o.document_id AND r.obs_key = o.obs_key)""",
                    [now, spec.slug],
                )
            revisions = con.execute("SELECT count(*) FROM revisions").fetchone()[0] - before
            # A figure republished unchanged only gets the new provenance:
            # updating those columns in place leaves DuckDB far less to rewrite
            # at the checkpoint than deleting and inserting the whole row.
            con.execute(
                """UPDATE observation_rows SET document_id = u.document_id, member = u.member,
                     row_number = u.row_number, loaded_at = u.loaded_at
                   FROM (SELECT p.held.rowid AS held_rowid, s.document_id, s.member, s.row_number, s.loaded_at
                         FROM pairs p JOIN staged s USING (parse_order) WHERE p.unchanged AND NOT p.superseded) u
                   WHERE observation_rows.rowid = u.held_rowid"""
            )
            # Every other figure of the new edition replaces the held row whole.
            con.execute(
                """DELETE FROM observation_rows
                   WHERE rowid IN (SELECT p.held.rowid FROM pairs p
                                   WHERE p.held.rowid IS NOT NULL AND NOT (p.superseded OR p.unchanged))"""
            )
            _register_staged(
                con, "replacing", staged,
                "SELECT parse_order FROM pairs WHERE NOT (superseded OR unchanged) ORDER BY parse_order",
            )  # fmt: skip
            con.execute("INSERT INTO observation_rows SELECT * EXCLUDE (obs_key, parse_order) FROM replacing")
            con.unregister("differing")
            con.unregister("replacing")
            con.execute("DROP TABLE pairs")
        elif figures:  # nothing of this source held yet: no revisions possible
            con.execute("INSERT INTO observation_rows SELECT * EXCLUDE (parse_order) FROM staged")
        if figures:
            con.unregister("staged")

        if notices:
            con.execute(
                "DELETE FROM notice_rows WHERE source = ? AND list_contains(?, notice_id)",
                [spec.slug, [n.notice_id for n, _ in notices]],
            )
            insert_rows(
                con,
                "notice_rows",
                [
                    (n.notice_id, spec.slug, n.platform, n.country_code, n.country_name, n.notice_date, n.agency,
                     n.agency_as_published, n.title, list(n.urls), n.text, n.source_url, doc_id, n.member)
                    for n, doc_id in notices
                ],
            )  # fmt: skip
        doc_ids = sorted({doc.document_id for doc in documents})
        con.execute("DELETE FROM warnings WHERE list_contains(?, document_id)", [doc_ids])
        insert_rows(con, "warnings", [(spec.slug, doc_id, w.kind, w.detail, w.member, w.row) for w, doc_id in warnings])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return figures, revisions


# --------------------------------------------------------------------------
# Reading back (CLI status / export)
# --------------------------------------------------------------------------


def status(con: duckdb.DuckDBPyConnection) -> list[dict]:
    rows = con.execute(
        """SELECT s.slug, s.platform, s.title, s.import_only,
                  (SELECT count(*) FROM documents d WHERE d.source = s.slug) AS documents,
                  (SELECT count(*) FROM observation_rows o WHERE o.source = s.slug) AS rows,
                  (SELECT count(*) FROM notice_rows n WHERE n.source = s.slug) AS notices,
                  (SELECT min(period_start) FROM observation_rows o WHERE o.source = s.slug) AS first_period,
                  (SELECT max(period_end) FROM observation_rows o WHERE o.source = s.slug) AS last_period,
                  (SELECT count(DISTINCT (period_start, period_end)) FROM observation_rows o WHERE o.source = s.slug) AS periods,
                  (SELECT count(*) FROM revisions r WHERE r.source = s.slug AND r.kind = 'changed') AS revisions,
                  (SELECT count(*) FROM revisions r WHERE r.source = s.slug AND r.kind = 'not_republished') AS not_republished,
                  (SELECT max(last_checked_at) FROM documents d WHERE d.source = s.slug) AS last_fetch,
                  (SELECT status || coalesce(': ' || message, '') FROM runs r WHERE r.source = s.slug
                   ORDER BY finished_at DESC LIMIT 1) AS last_run
           FROM sources s ORDER BY s.slug"""
    ).fetchall()
    cols = [d[0] for d in con.description]
    out = []
    for row in rows:
        item = dict(zip(cols, row))
        item["warnings"] = dict(
            con.execute(
                "SELECT kind, count(*) FROM warnings WHERE source = ? GROUP BY kind ORDER BY kind", [item["slug"]]
            ).fetchall()
        )
        item["unknown_countries"] = [
            r[0]
            for r in con.execute(
                """SELECT DISTINCT country_name FROM observation_rows
                   WHERE source = ? AND country_code IS NULL AND country_name IS NOT NULL ORDER BY 1""",
                [item["slug"]],
            ).fetchall()
        ]
        item["banded_values"] = con.execute(
            "SELECT count(*) FROM observation_rows WHERE source = ? AND value IS NULL", [item["slug"]]
        ).fetchone()[0]
        out.append(item)
    return out


def coverage(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Source x period matrix of row counts (0 = a gap in publication or collection)."""
    return con.execute(
        """WITH periods AS (SELECT DISTINCT source, period_label, period_start, period_end FROM observation_rows)
           SELECT p.source, p.period_label, p.period_start, p.period_end, count(o.source) AS rows
           FROM periods p LEFT JOIN observation_rows o USING (source, period_start, period_end)
           GROUP BY ALL ORDER BY p.source, p.period_start, p.period_end"""
    ).df()


def export_filtered(
    con: duckdb.DuckDBPyConnection,
    *,
    sources: list[str] | None = None,
    platforms: list[str] | None = None,
    countries: list[str] | None = None,
    metrics: list[str] | None = None,
    period_from=None,
    period_to=None,
) -> pd.DataFrame:
    """The observations view, filtered like the dashboard, with provenance columns."""
    return con.execute(
        """SELECT * FROM observations
           WHERE (? IS NULL OR list_contains(?, source))
             AND (? IS NULL OR list_contains(?, platform))
             AND (? IS NULL OR list_contains(?, country_code))
             AND (? IS NULL OR list_contains(?, metric))
             AND (? IS NULL OR period_end >= ?)
             AND (? IS NULL OR period_start <= ?)
           ORDER BY source, dataset, country_code, period_start, metric""",
        [sources, sources, platforms, platforms, countries, countries, metrics, metrics,
         period_from, period_from, period_to, period_to],
    ).df()  # fmt: skip
