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


def _platform_filter(db: Database, platforms) -> list[str] | None:
    """The chosen platforms as a filter; None (no filter to test on every row) when they are all held."""
    if platforms is None:
        return None
    chosen = _as_list(platforms)
    held = set(catalog(db)["platforms"].platform)
    return None if held <= set(chosen) else chosen


# --------------------------------------------------------------------------
# What is in the database (the known sets that URL parameters are checked against)
# --------------------------------------------------------------------------


@st.cache_data(**_CACHE)
def missing_tables(db: Database, names: tuple[str, ...]) -> list[str]:
    """Which of the named tables the database lacks (one built by an earlier version)."""
    have = set(db.frame("SELECT table_name FROM information_schema.tables").table_name)
    return [name for name in names if name not in have]


@st.cache_data(**_CACHE)
def catalog(db: Database) -> dict[str, pd.DataFrame]:
    """Platforms, metrics, countries and sources present, for filters and validation.

    Small whatever the database's size (one row per platform, metric or
    country), because every run of every page reads it.
    """
    return {
        # The summary_* tables are rebuilt by every load (scrapers/store.py DERIVED).
        "platforms": db.frame("SELECT * FROM summary_platforms ORDER BY platform"),
        "metrics": db.frame("SELECT * FROM summary_metrics ORDER BY metric, platform"),
        "countries": db.frame("SELECT * FROM summary_countries ORDER BY country_code"),
        "sources": db.frame(
            """SELECT slug AS source, platform, title, homepage, cadence, notes, import_only
               FROM sources ORDER BY slug"""
        ),
    }


@st.cache_data(**_CACHE)
def headline_periods(db: Database, metric: str, platforms: list[str], period_start: date, period_end: date) -> pd.DataFrame:
    """Periods within the span with headline figures of `metric` from the platforms, newest first.

    `platforms` in the result: every platform with any figure for that period
    (", "-joined), which decides the map's default period.
    """
    platforms = _platform_filter(db, platforms)
    return db.frame(
        """SELECT DISTINCT h.period_label, h.period_grain, h.period_start, h.period_end, p.platforms
           FROM summary_headline_periods h
           JOIN summary_period_platforms p USING (period_label, period_grain, period_start, period_end)
           WHERE h.metric = ? AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], h.platform))
             AND h.period_start >= ? AND h.period_end <= ?
           ORDER BY h.period_end DESC, h.period_start DESC""",
        [metric, platforms, platforms, period_start, period_end],
    )


# --------------------------------------------------------------------------
# Headline figures (per platform, country, period and metric) with provenance
# --------------------------------------------------------------------------

# summary_headline is the store's `headline` (one figure per platform, country,
# period and metric: a published total, or the sum of the finest rows of the
# preferred dataset) with, beside each figure, the document URLs and hashes
# behind it, whether it was published as a total or summed from rows, and how
# banded rows were published ("<10").
_HEADLINE_SQL = """
SELECT platform, country_code, country_name, period_label, period_grain,
       period_start, period_end, metric, unit, metric_description,
       value, value_low, value_high, banded_rows, published_rows,
       has_published_total, banded_as_published,
       source, source_title, source_homepage, dataset,
       source_url, document_ids, document_sha256, fetched_at
FROM summary_headline
WHERE (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], metric))
  AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], platform))
  AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], country_code))
  AND period_start >= ? AND period_end <= ?
ORDER BY platform, country_code, period_start, period_end, metric
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
    metrics, platforms, country_codes = _as_list(metrics), _platform_filter(db, platforms), _as_list(country_codes)
    return db.frame(
        _HEADLINE_SQL,
        [metrics, metrics, platforms, platforms, country_codes, country_codes, period_start, period_end],
    )


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
    platforms = _platform_filter(db, platforms)
    return db.frame(
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


@st.cache_data(**_CACHE)
def country_figure_counts(db: Database, country_code: str, platforms: list[str] | None,
                          period_start: date, period_end: date) -> pd.DataFrame:  # fmt: skip
    """How many figures each platform published for one country in the span (the rows country_observations returns)."""
    platforms = _platform_filter(db, platforms)
    return db.frame(
        """SELECT platform, count(*) AS figures FROM observation_rows
           WHERE country_code = ?
             AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], platform))
             AND period_start >= ? AND period_end <= ?
           GROUP BY platform ORDER BY platform""",
        [country_code, platforms, platforms, period_start, period_end],
    )


@st.cache_data(**_CACHE)
def published_periods(db: Database) -> pd.DataFrame:
    """Per source, platform and period: how many figures were published, and for how many countries."""
    return db.frame(
        """SELECT source, platform, period_label, period_grain, period_start, period_end, figures, countries
           FROM summary_periods ORDER BY source, period_start, period_end"""
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
    return db.frame(
        """SELECT claim_id, claimant, country_code, country_name, period_start, period_end, platform,
                  claimed_metric, value, value_low, value_high, value_text, qualifier, per_week, note,
                  source_title, source_url
           FROM claims WHERE (?::VARCHAR IS NULL OR country_code = ?)
           ORDER BY country_code, coalesce(period_start, period_end), period_end, platform, claimed_metric""",
        [country_code, country_code],
    )


@st.cache_data(**_CACHE)
def product_requests(db: Database, country_code: str, platform: str, product: str,
                     period_start: date, period_end: date) -> pd.DataFrame:  # fmt: skip
    """Requests naming one product (e.g. YouTube), summed over reasons within each published period.

    A request can give several reasons, so this sum can count one request more
    than once; pages say so wherever it is shown.
    """
    return db.frame(
        """WITH per_file AS (  -- added up per file first, so each file's URL is looked up once
             SELECT platform, product, country_code, period_label, period_grain, period_start, period_end, metric,
                    document_id, sum(value) AS value, sum(value_low) AS value_low, sum(value_high) AS value_high,
                    count(value_high) AS with_high, count(*) FILTER (WHERE value IS NULL) AS banded_rows,
                    count(*) AS published_rows, list(DISTINCT dataset) AS datasets
             FROM observation_rows
             WHERE country_code = ? AND platform = ? AND product = ? AND metric IN ('requests', 'items_requested')
               AND NOT is_total AND period_start >= ? AND period_end <= ?
             GROUP BY ALL
           )
           SELECT p.platform, p.product, p.country_code, p.period_label, p.period_grain, p.period_start,
                  p.period_end, p.metric, sum(p.value) AS value, sum(p.value_low) AS value_low,
                  CASE WHEN sum(p.with_high) = sum(p.published_rows) THEN sum(p.value_high) END AS value_high,
                  sum(p.banded_rows) AS banded_rows, sum(p.published_rows) AS published_rows,
                  array_to_string(list_sort(list_distinct(list(d.url))), ' ') AS source_url,
                  array_to_string(list_sort(list(p.document_id)), ' ') AS document_ids, max(d.fetched_at) AS fetched_at,
                  array_to_string(list_sort(list_distinct(flatten(list(p.datasets)))), ', ') AS dataset
           FROM per_file p JOIN documents d USING (document_id)
           GROUP BY ALL ORDER BY p.period_start, p.metric""",
        [country_code, platform, product, period_start, period_end],
    )


# --------------------------------------------------------------------------
# Revisions, documents, warnings, sources
# --------------------------------------------------------------------------


@st.cache_data(**_CACHE)
def revisions(db: Database, sources: list[str] | None, country_code: str | None) -> pd.DataFrame:
    """Figures a platform changed (or dropped) between editions, with both documents."""
    sources = _as_list(sources)
    return db.frame(
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
        """WITH d AS (SELECT source, count(*) AS documents, max(last_checked_at) AS last_checked_at
                      FROM documents GROUP BY source),
                n AS (SELECT source, count(*) AS notices FROM notice_rows GROUP BY source),
                r AS (SELECT source, arg_max(status, finished_at) AS last_run_status,
                             arg_max(message, finished_at) AS last_run_message, max(finished_at) AS last_run_at
                      FROM runs GROUP BY source)
           SELECT s.slug AS source, s.platform, s.title, s.homepage, s.cadence,
                  array_to_string(s.urls, ' ') AS urls, s.notes, s.import_only,
                  coalesce(d.documents, 0) AS documents, coalesce(f.figures, 0) AS figures,
                  coalesce(n.notices, 0) AS notices, f.first_period_start, f.last_period_end,
                  d.last_checked_at, r.last_run_status, r.last_run_message, r.last_run_at
           FROM sources s
           LEFT JOIN summary_sources f ON f.source = s.slug
           LEFT JOIN d ON d.source = s.slug
           LEFT JOIN n ON n.source = s.slug
           LEFT JOIN r ON r.source = s.slug
           ORDER BY s.slug"""
    )
