"""All SQL the dashboard runs: one function per question, parameterised only.

Every function takes a `Database` handle first. Results are cached with
st.cache_data keyed by the handle's file token, so a refresh that swaps the
database file in makes every cached answer miss instead of serving stale
figures. Figures come back with their provenance columns (source_url,
document ids, fetched_at, document hashes) so every view can be cited and
downloaded as it is shown.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboard.db import Database, hash_database

_CACHE = dict(show_spinner=False, max_entries=256, hash_funcs={Database: hash_database})


def _as_list(values) -> list[str] | None:
    """None (no filter) or a plain list of strings for a VARCHAR[] parameter."""
    if values is None:
        return None
    return [str(v) for v in values]


# --------------------------------------------------------------------------
# What is in the database (the known sets that URL parameters are checked against)
# --------------------------------------------------------------------------


@st.cache_data(**_CACHE)
def catalog(db: Database) -> dict[str, pd.DataFrame]:
    """Platforms, metrics, countries and periods present, for filters and validation."""
    return {
        # The summary_* tables are rebuilt by every load (scrapers/store.py DERIVED).
        "platforms": db.frame("SELECT * FROM summary_platforms ORDER BY platform"),
        "metrics": db.frame("SELECT * FROM summary_metrics ORDER BY metric, platform"),
        "countries": db.frame("SELECT * FROM summary_countries ORDER BY country_code"),
        "periods": db.frame("SELECT * FROM summary_period_platforms ORDER BY period_start, period_end"),
        "sources": db.frame(
            """SELECT slug AS source, platform, title, homepage, cadence, notes, import_only
               FROM sources ORDER BY slug"""
        ),
    }


# --------------------------------------------------------------------------
# Headline figures (per platform, country, period and metric) with provenance
# --------------------------------------------------------------------------

# `headline` is the store's view of one figure per platform, country, period
# and metric (a published total, or the sum of the finest rows of the
# preferred dataset). Added here: the document URLs and hashes behind each
# figure, whether it was published as a total or summed from rows, and how
# banded rows were published ("<10").
_HEADLINE_SQL = """
WITH h AS MATERIALIZED (
  SELECT * FROM headline
  WHERE (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], metric))
    AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], platform))
    AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], country_code))
    AND period_start >= ? AND period_end <= ?
),
docs AS (
  SELECT h.source, h.dataset, h.platform, h.country_key, h.period_start, h.period_end, h.metric,
         string_agg(DISTINCT d.url, ' ') AS source_url,
         max(d.fetched_at) AS fetched_at,
         string_agg(DISTINCT d.sha256, ' ') AS document_sha256
  FROM (SELECT *, unnest(document_ids) AS document_id FROM h) h
  JOIN documents d USING (document_id)
  GROUP BY ALL
),
obs AS (
  SELECT o.source, o.dataset, o.platform, o.country_key, o.period_start, o.period_end, o.metric,
         bool_or(o.is_total) AS has_published_total,
         string_agg(DISTINCT o.value_text, ', ') FILTER (WHERE o.value IS NULL) AS banded_as_published
  FROM observation_rows o
  SEMI JOIN h USING (source, dataset, platform, country_key, period_start, period_end, metric)
  GROUP BY ALL
)
SELECT h.platform, h.country_code, h.country_name, h.period_label, h.period_grain,
       h.period_start, h.period_end, h.metric, m.unit, m.description AS metric_description,
       h.value, h.value_low, h.value_high, h.banded_rows, h.rows AS published_rows,
       obs.has_published_total, obs.banded_as_published,
       h.source, h.source_title, h.source_homepage, h.dataset,
       docs.source_url, array_to_string(h.document_ids, ' ') AS document_ids,
       docs.document_sha256, docs.fetched_at
FROM h
JOIN docs USING (source, dataset, platform, country_key, period_start, period_end, metric)
JOIN obs USING (source, dataset, platform, country_key, period_start, period_end, metric)
LEFT JOIN metrics m USING (metric)
ORDER BY h.platform, h.country_code, h.period_start, h.period_end, h.metric
"""


@st.cache_data(**_CACHE)
def headline_figures(
    db: Database,
    metrics: list[str] | None,
    platforms: list[str] | None,
    country_codes: list[str] | None,
    period_start: date,
    period_end: date,
) -> pd.DataFrame:
    """Headline figures for periods lying wholly within [period_start, period_end]."""
    metrics, platforms, country_codes = _as_list(metrics), _as_list(platforms), _as_list(country_codes)
    frame = db.frame(
        _HEADLINE_SQL,
        [metrics, metrics, platforms, platforms, country_codes, country_codes, period_start, period_end],
    )
    return _dates(frame)


def requests_by_country(db: Database, metric: str, platforms: list[str], period_start: date, period_end: date) -> pd.DataFrame:
    """One metric for every country (and pseudo code) the platforms list."""
    return headline_figures(db, [metric], platforms, None, period_start, period_end)


def country_series(db: Database, country_code: str, platforms: list[str], period_start: date, period_end: date) -> pd.DataFrame:
    """Every headline metric for one country, per platform and period."""
    return headline_figures(db, None, platforms, [country_code], period_start, period_end)


def compare_figures(db: Database, metric: str, country_codes: list[str], platforms: list[str],
                    period_start: date, period_end: date) -> pd.DataFrame:  # fmt: skip
    return headline_figures(db, [metric], platforms, country_codes, period_start, period_end)


# --------------------------------------------------------------------------
# Finest published rows (breakdowns, shares)
# --------------------------------------------------------------------------


@st.cache_data(**_CACHE)
def country_observations(db: Database, country_code: str, platforms: list[str] | None,
                         period_start: date, period_end: date) -> pd.DataFrame:  # fmt: skip
    """Every published figure for one country, as published, with provenance."""
    platforms = _as_list(platforms)
    frame = db.frame(
        """SELECT platform, country_code, country_name, period_label, period_grain, period_start, period_end,
                  dataset, requester, product, reason, metric, unit, value, value_low, value_high, value_text,
                  is_total, source, source_url, document_id, member, row_number, document_sha256, fetched_at
           FROM observations
           WHERE country_code = ?
             AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], platform))
             AND period_start >= ? AND period_end <= ?
           ORDER BY platform, period_start, period_end, dataset, metric, requester, product, reason""",
        [country_code, platforms, platforms, period_start, period_end],
    )
    return _dates(frame)


@st.cache_data(**_CACHE)
def published_periods(db: Database) -> pd.DataFrame:
    """Per source, platform and period: how many figures were published, and for how many countries."""
    return _dates(
        db.frame(
            "SELECT * FROM summary_periods ORDER BY source, period_start, period_end"
        )
    )


# --------------------------------------------------------------------------
# Notices, claims
# --------------------------------------------------------------------------


@st.cache_data(**_CACHE)
def country_notices(db: Database, country_code: str) -> pd.DataFrame:
    """Published takedown notices from one country. `text` and `title` are untrusted."""
    return db.frame(
        """SELECT notice_date, platform, agency, agency_as_published, title, array_to_string(urls, ' ') AS urls,
                  text, source_url, notice_id, source, document_id, fetched_url, fetched_at, document_sha256
           FROM notices WHERE country_code = ?
           ORDER BY notice_date DESC NULLS LAST, notice_id""",
        [country_code],
    )


@st.cache_data(**_CACHE)
def government_claims(db: Database, country_code: str | None) -> pd.DataFrame:
    """Governments' own statements (not platform figures), with their sources."""
    frame = db.frame(
        """SELECT claim_id, claimant, country_code, country_name, period_start, period_end, platform,
                  claimed_metric, value, value_low, value_high, value_text, qualifier, per_week, note,
                  source_title, source_url
           FROM claims WHERE (?::VARCHAR IS NULL OR country_code = ?)
           ORDER BY country_code, coalesce(period_start, period_end), period_end, platform, claimed_metric""",
        [country_code, country_code],
    )
    return _dates(frame)


@st.cache_data(**_CACHE)
def product_requests(db: Database, country_code: str, platform: str, product: str,
                     period_start: date, period_end: date) -> pd.DataFrame:  # fmt: skip
    """Requests naming one product (e.g. YouTube), summed over reasons within each published period.

    A request can give several reasons, so this sum can count one request more
    than once; pages say so wherever it is shown.
    """
    return _dates(
        db.frame(
            """SELECT platform, product, country_code, period_label, period_grain, period_start, period_end, metric,
                      sum(value) AS value, sum(value_low) AS value_low,
                      CASE WHEN count(value_high) = count(*) THEN sum(value_high) END AS value_high,
                      count(*) FILTER (WHERE value IS NULL) AS banded_rows, count(*) AS published_rows,
                      string_agg(DISTINCT source_url, ' ') AS source_url,
                      string_agg(DISTINCT document_id, ' ') AS document_ids, max(fetched_at) AS fetched_at,
                      string_agg(DISTINCT dataset, ', ') AS dataset
               FROM observations
               WHERE country_code = ? AND platform = ? AND product = ? AND metric IN ('requests', 'items_requested')
                 AND NOT is_total AND period_start >= ? AND period_end <= ?
               GROUP BY ALL ORDER BY period_start, metric""",
            [country_code, platform, product, period_start, period_end],
        )
    )


# --------------------------------------------------------------------------
# Revisions, documents, warnings, sources
# --------------------------------------------------------------------------


@st.cache_data(**_CACHE)
def revisions(db: Database, sources: list[str] | None, country_code: str | None) -> pd.DataFrame:
    """Figures a platform changed (or dropped) between editions, with both documents."""
    sources = _as_list(sources)
    frame = db.frame(
        """SELECT r.source, r.platform, r.country_code, r.country_name, r.period_start, r.period_end,
                  r.dataset, r.requester, r.product, r.reason, r.metric, r.kind,
                  r.old_value_text, r.old_value, r.old_value_low, r.old_value_high,
                  r.new_value_text, r.new_value, r.new_value_low, r.new_value_high,
                  od.url AS old_source_url, od.fetched_at AS old_fetched_at, od.sha256 AS old_document_sha256,
                  r.old_document_id,
                  nd.url AS new_source_url, nd.fetched_at AS new_fetched_at, nd.sha256 AS new_document_sha256,
                  r.new_document_id, r.detected_at
           FROM revisions r
           LEFT JOIN documents od ON od.document_id = r.old_document_id
           LEFT JOIN documents nd ON nd.document_id = r.new_document_id
           WHERE (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], r.source))
             AND (?::VARCHAR IS NULL OR r.country_code = ?)
           ORDER BY r.source, r.period_start, r.country_code, r.metric, r.requester, r.product, r.reason""",
        [sources, sources, country_code, country_code],
    )
    return _dates(frame)


@st.cache_data(**_CACHE)
def documents(db: Database) -> pd.DataFrame:
    """Every fetched or imported file: where from, when, its hash, where archived."""
    return db.frame(
        """SELECT d.source, d.url AS source_url, d.origin, d.fetched_at, d.last_checked_at, d.published_as_of,
                  d.sha256 AS document_sha256, d.size, array_to_string(d.members, ' ') AS members,
                  d.document_id, d.archive_path, d.loaded,
                  coalesce(f.figures, 0) AS figures
           FROM documents d LEFT JOIN summary_documents f USING (document_id)
           ORDER BY d.source, d.url, d.fetched_at"""
    )


@st.cache_data(**_CACHE)
def data_warnings(db: Database) -> pd.DataFrame:
    """Data-quality findings recorded while loading (unknown names, bands, total mismatches)."""
    return db.frame(
        """SELECT w.source, w.kind, w.detail, w.member, w.row_number, w.document_id,
                  d.url AS source_url, d.fetched_at
           FROM warnings w LEFT JOIN documents d USING (document_id)
           ORDER BY w.source, w.kind, w.member, w.row_number"""
    )


@st.cache_data(**_CACHE)
def unknown_country_names(db: Database) -> pd.DataFrame:
    """Country names kept without an ISO code (the parser could not place them)."""
    return db.frame(
        "SELECT * FROM summary_unknown_countries ORDER BY source, country_name"
    )


@st.cache_data(**_CACHE)
def source_status(db: Database) -> pd.DataFrame:
    """Per source: title, links, last fetch and the last run's outcome."""
    return db.frame(
        """SELECT s.slug AS source, s.platform, s.title, s.homepage, s.cadence,
                  array_to_string(s.urls, ' ') AS urls, s.notes, s.import_only,
                  (SELECT count(*) FROM documents d WHERE d.source = s.slug) AS documents,
                  coalesce(f.figures, 0) AS figures,
                  (SELECT count(*) FROM notice_rows n WHERE n.source = s.slug) AS notices,
                  f.first_period_start, f.last_period_end,
                  (SELECT max(last_checked_at) FROM documents d WHERE d.source = s.slug) AS last_checked_at,
                  (SELECT status FROM runs r WHERE r.source = s.slug ORDER BY finished_at DESC LIMIT 1) AS last_run_status,
                  (SELECT message FROM runs r WHERE r.source = s.slug ORDER BY finished_at DESC LIMIT 1) AS last_run_message,
                  (SELECT max(finished_at) FROM runs r WHERE r.source = s.slug) AS last_run_at
           FROM sources s LEFT JOIN summary_sources f ON f.source = s.slug ORDER BY s.slug"""
    )


def _dates(frame: pd.DataFrame) -> pd.DataFrame:
    """DATE columns as datetime.date (DuckDB hands them to pandas as timestamps)."""
    for column in ("period_start", "period_end", "notice_date"):
        if column in frame.columns:
            frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame
