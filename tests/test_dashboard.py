"""The dashboard against a real database: queries, pure shaping, charts, and every page via AppTest.

The database is built by the real pipeline from Google's published zip in
../shared (the previous edition first, then the latest, so revisions exist);
the tests skip with a clear message when ../shared is absent.
"""

from __future__ import annotations

import io
import math
import os
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import shared_path

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
ALL = (date(2000, 1, 1), date(2100, 12, 31))


@pytest.fixture(scope="session")
def google_db(tmp_path_factory) -> Path:
    from scrapers import pipeline

    previous = shared_path("mirror", "previous")
    latest = shared_path("mirror", "latest")
    db_path = tmp_path_factory.mktemp("dashboard") / "takedowns.duckdb"
    for mirror in (previous, latest):
        results = pipeline.refresh(db_path, ["google"], mirror=mirror, http_config=None)
        assert all(r.status != "failed" for r in results), [r.message for r in results]
    return db_path


@pytest.fixture
def handle(google_db, monkeypatch):
    monkeypatch.setenv("TAKEDOWNS_DB", str(google_db))
    from dashboard import db

    return db.current()


@pytest.fixture
def app(google_db, monkeypatch):
    """An AppTest on the dashboard; call app(page, **query_params)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("TAKEDOWNS_DB", str(google_db))

    def run(page: str | None = None, **params) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        if page:
            at.switch_page(page)
        for key, value in params.items():
            at.query_params[key] = value
        if page or params:
            at.run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    return run


def _frame(at, column: str) -> pd.DataFrame:
    """The first st.dataframe on the page that has `column`."""
    for element in at.dataframe:
        frame = element.value
        if column in frame.columns or column == frame.index.name:
            return frame
    raise AssertionError(f"no table with a {column!r} column")


def _charts(at) -> list[dict]:
    """The figures the page drew (ui.chart: Plotly JSON handed to the browser), in page order."""
    import json

    figures = []
    for element in at.get("bidi_component"):
        data = json.loads(element.proto.json)
        if not data.get("preload"):
            figures.append(json.loads(data["figure"]) | {"clickable": data["clickable"]})
    return figures


def _texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    parts += [t.value for t in at.title] + [s.value for s in at.subheader]
    return "\n".join(parts)


# --------------------------------------------------------------------------
# queries.py: the figures a user would cite
# --------------------------------------------------------------------------


def test_vietnam_h1_2023_is_370_google_requests(handle):
    from dashboard import queries

    rows = queries.country_series(handle, "VN", ["Google"], date(2023, 1, 1), date(2023, 6, 30))
    requests = rows[rows.metric == "requests"]
    assert len(requests) == 1
    row = requests.iloc[0]
    assert row.value == 370 and row.period_label == "2023-H1"
    assert row.source_url.endswith("google-government-removals.zip")
    assert row.document_ids and len(row.document_sha256) == 64 and pd.notna(row.fetched_at)
    assert row.published_rows == 2 and not row.has_published_total  # 28 + 342 by requester type


def test_russia_h2_2023_is_25925(handle):
    from dashboard import queries

    rows = queries.requests_by_country(handle, "requests", ["Google"], date(2023, 7, 1), date(2023, 12, 31))
    russia = rows[rows.country_code == "RU"]
    assert russia.value.tolist() == [25925]


def test_range_keeps_only_periods_wholly_inside(handle):
    from dashboard import queries

    rows = queries.country_series(handle, "VN", None, date(2022, 1, 1), date(2023, 6, 30))
    assert set(rows.period_label) == {"2022-H1", "2022-H2", "2023-H1"}


def test_banded_values_stay_bounds(handle):
    from dashboard import queries, tables

    rows = queries.requests_by_country(handle, "requests", ["Google"], *ALL)
    banded = rows[rows.value.isna() & rows.value_low.notna()]
    assert not banded.empty
    row = tables.with_figure_text(banded.head(1)).iloc[0]
    assert row.value_low == 0 and row.value_high == 9
    assert row.figure == "0–9 (published as <10)"


def test_catalog_and_unknown_country_have_no_rows(handle):
    from dashboard import queries

    cat = queries.catalog(handle)
    assert cat["platforms"].platform.tolist() == ["Google"]
    assert "VN" in set(cat["countries"].country_code)
    assert queries.country_series(handle, "AQ", None, *ALL).empty


def test_revisions_name_both_documents(handle):
    from dashboard import queries

    rows = queries.revisions(handle, ["google"], None)
    assert not rows.empty
    changed = rows[rows.kind == "changed"].iloc[0]
    assert changed.old_source_url and changed.new_source_url
    assert changed.old_document_sha256 != changed.new_document_sha256
    assert changed.old_value != changed.new_value


# What summary_headline caches, computed from the published figures on every read (as the
# dashboard did before the cache): each headline figure with its files, hashes, whether it
# was published as a total, and how banded rows were published.
LIVE_HEADLINE = """
WITH docs AS (
  SELECT h.source, h.dataset, h.platform, h.country_key, h.period_start, h.period_end, h.metric,
         string_agg(DISTINCT d.url, ' ' ORDER BY d.url) AS source_url, max(d.fetched_at) AS fetched_at,
         string_agg(DISTINCT d.sha256, ' ' ORDER BY d.sha256) AS document_sha256
  FROM (SELECT *, unnest(document_ids) AS document_id FROM headline_live) h JOIN documents d USING (document_id)
  GROUP BY ALL
),
obs AS (
  SELECT o.source, o.dataset, o.platform, o.country_key, o.period_start, o.period_end, o.metric,
         bool_or(o.is_total) AS has_published_total,
         string_agg(DISTINCT o.value_text, ', ' ORDER BY o.value_text) FILTER (WHERE o.value IS NULL) AS banded_as_published
  FROM observation_rows o SEMI JOIN headline_live h USING (source, dataset, platform, country_key, period_start, period_end, metric)
  GROUP BY ALL
)
SELECT h.platform, h.country_code, h.country_name, h.period_label, h.period_grain, h.period_start, h.period_end, h.metric,
       m.unit, m.description AS metric_description, h.value, h.value_low, h.value_high, h.banded_rows,
       h.rows AS published_rows, obs.has_published_total, obs.banded_as_published, h.source, h.source_title,
       h.source_homepage, h.dataset, docs.source_url, array_to_string(list_sort(h.document_ids), ' ') AS document_ids,
       docs.document_sha256, docs.fetched_at, h.country_key, h.headline_rank
FROM headline_live h
JOIN docs USING (source, dataset, platform, country_key, period_start, period_end, metric)
JOIN obs USING (source, dataset, platform, country_key, period_start, period_end, metric)
LEFT JOIN metrics m USING (metric)
"""


def test_summary_headline_is_the_live_aggregate(google_db):
    import duckdb

    with duckdb.connect(str(google_db), read_only=True) as con:
        cached = con.execute("SELECT count(*) FROM summary_headline").fetchone()[0]
        assert cached == con.execute("SELECT count(*) FROM headline").fetchone()[0] > 1000
        for a, b in (("summary_headline", f"({LIVE_HEADLINE})"), (f"({LIVE_HEADLINE})", "summary_headline")):
            assert con.execute(f"SELECT count(*) FROM (FROM {a} EXCEPT ALL FROM {b})").fetchone()[0] == 0
        banded = con.execute("SELECT count(*) FROM summary_headline WHERE banded_as_published = '<10'").fetchone()[0]
        assert banded > 0


def test_summary_periods_for_the_map_and_filters(google_db, handle):
    import duckdb

    from dashboard import queries

    with duckdb.connect(str(google_db), read_only=True) as con:
        kind = con.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'summary_period_platforms' AND column_name = 'platforms'"
        ).fetchone()[0]
        assert kind == "VARCHAR"  # a joined string, not a list: lists are slow to hand to pandas and to cache
        live = con.execute(
            "SELECT DISTINCT period_label FROM headline WHERE metric = 'requests' AND platform = 'Google'"
        ).fetchall()
    periods = queries.headline_periods(handle, "requests", ["Google"], *ALL)
    assert list(periods.columns) == ["period_label", "period_grain", "period_start", "period_end", "platforms"]
    assert sorted(periods.period_label) == sorted(label for (label,) in live)
    assert periods.period_end.tolist() == sorted(periods.period_end, reverse=True)  # newest first
    assert set(periods.platforms) == {"Google"}
    assert queries.headline_periods(handle, "requests", ["TikTok"], *ALL).empty


def test_query_results_hold_dates_in_one_arrow_column(handle):
    """Dates read back as datetime.date, and are cached as one Arrow buffer rather than objects."""
    from dashboard import queries

    rows = queries.country_series(handle, "VN", ["Google"], *ALL)
    assert isinstance(rows.period_start.iloc[0], date) and str(rows.period_start.dtype) == "date32[day][pyarrow]"
    assert (rows.period_start >= date(2009, 1, 1)).all()
    span = queries.catalog(handle)["platforms"]
    assert span.first_start.iloc[0] <= date(2011, 7, 1) and span.last_end.iloc[0] >= date(2025, 6, 30)


def test_country_counts_are_the_rows_a_tab_would_read(handle):
    from dashboard import queries

    counts = queries.country_figure_counts(handle, "VN", ["Google"], date(2022, 1, 1), date(2023, 12, 31))
    rows = queries.country_observations(handle, "VN", ["Google"], date(2022, 1, 1), date(2023, 12, 31))
    assert counts.platform.tolist() == ["Google"] and int(counts.figures.sum()) == len(rows) > 0


def test_product_requests_add_up_reasons(handle):
    from dashboard import queries

    rows = queries.product_requests(handle, "VN", "Google", "YouTube", *ALL)
    assert not rows.empty and set(rows["product"]) == {"YouTube"}
    one = rows[(rows.period_label == "2023-H1") & (rows.metric == "requests")].iloc[0]
    parts = queries.country_observations(handle, "VN", ["Google"], date(2023, 1, 1), date(2023, 6, 30))
    parts = parts[(parts["product"] == "YouTube") & (parts.metric == "requests") & ~parts.is_total]
    assert one.published_rows == len(parts) and one.value == parts.value.sum()
    assert one.source_url.endswith("google-government-removals.zip")


def test_query_cache_follows_a_swapped_file(google_db, tmp_path, monkeypatch):
    """A refresh replaces the file with os.replace: the handle's token changes and queries see the new file."""
    from dashboard import db, queries

    copy = tmp_path / "swap.duckdb"
    shutil.copyfile(google_db, copy)
    monkeypatch.setenv("TAKEDOWNS_DB", str(copy))
    before = db.current()
    assert not queries.catalog(before)["platforms"].empty
    empty = tmp_path / "empty.duckdb"
    import duckdb

    from scrapers import store

    with duckdb.connect(str(empty)) as con:
        store.ensure_schema(con)
    os.replace(empty, copy)
    after = db.current()
    assert after.token != before.token
    assert queries.catalog(after)["platforms"].empty


# --------------------------------------------------------------------------
# tables.py: pure rules
# --------------------------------------------------------------------------


def test_figure_text_never_guesses():
    from dashboard.tables import figure_text

    assert figure_text(25925.0, 25925.0, 25925.0) == "25,925"
    assert figure_text(math.nan, 0.0, 9.0, "<10") == "0–9 (published as <10)"
    assert figure_text(math.nan, math.nan, math.nan, "?") == "unknown (published as ?)"
    assert figure_text(89.0, unit="percent") == "89%"
    assert figure_text(0.873483536, unit="fraction") == "0.873483536"


def test_half_year_helpers():
    from dashboard import tables

    assert tables.half_year_options(date(2022, 7, 1), date(2023, 12, 31)) == ["2022-H2", "2023-H1", "2023-H2"]
    assert tables.range_bounds("2023-H2", "2023-H1") == (date(2023, 1, 1), date(2023, 12, 31))
    assert tables.previous_period(date(2023, 1, 1), date(2023, 6, 30), "half") == (date(2022, 7, 1), date(2022, 12, 31))
    assert tables.periods_between(date(2019, 7, 1), date(2020, 12, 31), "half") == [
        (date(2019, 7, 1), date(2019, 12, 31)), (date(2020, 1, 1), date(2020, 6, 30)), (date(2020, 7, 1), date(2020, 12, 31))]  # fmt: skip


def _headline(**overrides) -> dict:
    row = dict(platform="Google", country_code="VN", country_name="Vietnam", period_label="2023-H1", period_grain="half",
               period_start=date(2023, 1, 1), period_end=date(2023, 6, 30), metric="requests", unit="count",
               metric_description="Removal requests (count)", value=370.0, value_low=370.0, value_high=370.0,
               banded_rows=0, published_rows=2, has_published_total=False, banded_as_published=None, source="google",
               source_title="Google report", source_homepage="https://example.org", dataset="removal-requests",
               source_url="https://example.org/a.zip", document_ids="d1", document_sha256="a" * 64,
               fetched_at=pd.Timestamp("2026-01-01", tz="UTC"))  # fmt: skip
    row.update(overrides)
    return row


def test_figure_text_column_wise_equals_row_by_row():
    from dashboard import tables

    rows = pd.DataFrame([
        _headline(),
        _headline(value=25925.5, published_rows=1, has_published_total=True),
        _headline(value=93.0, unit="percent", published_rows=1),
        _headline(value=math.nan, value_low=0.0, value_high=9.0, banded_rows=1, published_rows=1, banded_as_published="<10"),
        _headline(value=math.nan, value_low=10.0, value_high=math.nan, banded_rows=2, published_rows=3),
        _headline(value=math.nan, value_low=math.nan, value_high=math.nan, published_rows=0),
    ])  # fmt: skip
    shown = tables.with_figure_text(rows)
    expected = [tables.figure_text(r.value, r.value_low, r.value_high, r.banded_as_published, r.unit, r.banded_rows,
                                   r.published_rows) for r in rows.itertuples()]  # fmt: skip
    assert shown.figure.tolist() == expected
    assert shown.how.tolist() == [tables.how_published(r) for r in rows.to_dict("records")]
    assert shown.figure.tolist()[:3] == ["370", "25,925.5", "93%"]


def test_summary_line_gives_change_and_link():
    from dashboard import tables

    rows = pd.DataFrame([
        _headline(period_label="2022-H1", period_start=date(2022, 1, 1), period_end=date(2022, 6, 30), value=122.0,
                  value_low=122.0, value_high=122.0),
        _headline(),
    ])  # fmt: skip
    line = tables.summary_lines(rows, "Vietnam")[0]
    assert "370" in line["text"] and "no figure for the half-year before" in line["text"]
    rows.loc[0, ["period_label", "period_start", "period_end"]] = ["2022-H2", date(2022, 7, 1), date(2022, 12, 31)]
    line = tables.summary_lines(rows, "Vietnam")[0]
    assert "up 203%, 3.0 times as many from 122 in 2022-H2" in line["text"]
    assert "(https://example.org/a.zip)" in line["markdown"]


def test_map_frame_sums_platforms_and_keeps_bounds():
    from dashboard import tables

    rows = pd.DataFrame([
        _headline(),
        _headline(platform="TikTok", value=math.nan, value_low=0.0, value_high=9.0, banded_rows=1, published_rows=1,
                  banded_as_published="<10", source="tiktok"),
        _headline(country_code="XW", value=1000.0, value_low=1000.0, value_high=1000.0),
    ])  # fmt: skip
    frame = tables.map_frame(rows, summed_range=False).set_index("country_code")
    vn = frame.loc["VN"]
    assert math.isnan(vn.value) and (vn.value_low, vn.value_high) == (370, 379)
    assert "370–379" in vn.figure and vn.alpha3 == "VNM" and vn.is_place
    assert not frame.loc["XW"].is_place and pd.isna(frame.loc["XW"].alpha3)


def test_grain_choice_avoids_double_counting():
    from dashboard import tables

    rows = pd.DataFrame([
        _headline(source="github", period_label="2023", period_grain="year", period_start=date(2023, 1, 1), period_end=date(2023, 12, 31), value=10.0),
        _headline(source="github", period_label="2023-H1", value=4.0),
    ])  # fmt: skip
    kept = tables.pick_grain_per_source(rows)
    assert kept.period_label.tolist() == ["2023"]


def test_series_gaps_are_not_zeros():
    from dashboard import tables

    rows = pd.DataFrame([
        _headline(period_label="2019-H1", period_start=date(2019, 1, 1), period_end=date(2019, 6, 30)),
        _headline(period_label="2020-H2", period_start=date(2020, 7, 1), period_end=date(2020, 12, 31)),
    ])  # fmt: skip
    published = pd.DataFrame([{"platform": "Google", "period_grain": "half", "period_start": date(2019, 7, 1), "period_end": date(2019, 12, 31)}])
    gaps = tables.series_with_gaps(rows, published)
    missing = gaps[gaps.status != "published"]
    assert missing.period_label.tolist() == ["2019-H2", "2020-H1"]
    assert missing.value.isna().all()
    assert missing.status.tolist() == ["not listed in that report", "no report collected"]
    assert tables.gap_notes(gaps) == ["Google: no report collected for 2020-H1", "Google: not listed in that report for 2019-H2"]


def test_gap_notes_stop_listing_after_a_dozen():
    from dashboard import tables

    years = [y for y in range(1900, 2000, 2)]  # every other year: 49 separate gaps
    rows = tables.with_figure_text(pd.DataFrame([
        _headline(period_label=f"{y}-H1", period_start=date(y, 1, 1), period_end=date(y, 6, 30)) for y in years
    ]))  # fmt: skip
    gaps = tables.series_with_gaps(rows, pd.DataFrame(columns=["platform", "period_grain", "period_start", "period_end"]))
    (note,) = tables.gap_notes(gaps)
    assert note.startswith("Google: no report collected for 1900-H2–1901-H2, 1902-H2–1903-H2")
    assert note.endswith(f"and {len(years) - 1 - tables.GAP_RUNS_SHOWN} more")


def test_compare_marks_derived_years_and_sets_other_grains_aside():
    from dashboard import tables

    rows = pd.DataFrame([
        _headline(),
        _headline(period_label="2023-H2", period_start=date(2023, 7, 1), period_end=date(2023, 12, 31), value=417.0, value_low=417.0, value_high=417.0),
        _headline(platform="GitHub", source="github", period_label="2023", period_grain="year", period_start=date(2023, 1, 1), period_end=date(2023, 12, 31), value=5.0),
    ])  # fmt: skip
    cells, aside = tables.compare_cells(rows, "half")
    assert set(cells.period_label) == {"2023-H1", "2023-H2"} and aside.period_label.tolist() == ["2023"]
    assert cells.comparability.tolist() == ["comparable: half-year, count, exact"] * 2
    assert cells.country.tolist() == ["Vietnam"] * 2 and cells.exact.tolist() == [True, True]
    banded = rows.assign(value=math.nan, value_low=0.0, value_high=9.0)
    assert tables.compare_cells(banded, "half")[0].comparability.tolist() == ["comparable: half-year, count, bounds only (banded)"] * 2
    cells, aside = tables.compare_cells(rows, "year")
    derived = cells[cells.derived]
    assert derived.value.tolist() == [787] and "H1+H2" in derived.figure.iloc[0]
    assert cells[~cells.derived].platform.tolist() == ["GitHub"] and aside.empty
    grid = tables.compare_grid(cells)
    assert "787 (H1+H2)  [derived; exact]" in grid.to_string()


def test_claim_contradictions_found():
    from dashboard import tables

    claim = dict(claimant="MCST", country_code="VN", platform="Facebook", claimed_metric="posts_removed", per_week=False,
                 qualifier="", note="", source_title="t", source_url="https://example.org/c", value_high=None)  # fmt: skip
    claims = pd.DataFrame([
        claim | dict(period_start=date(2025, 7, 1), period_end=date(2025, 9, 30), value=10713.0, value_low=10713.0, value_high=10713.0, value_text="10713"),
        claim | dict(period_start=date(2025, 1, 1), period_end=date(2025, 12, 31), value=6479.0, value_low=6479.0, value_high=6479.0, value_text="6479", qualifier="unsure"),
    ])  # fmt: skip
    found = tables.claim_contradictions(claims)
    assert set(found.kind) == {"shorter period claims more", "marked unsure by the curator"}
    assert tables.claim_unit({"claimed_metric": "links_removed_per_week", "per_week": True, "period_start": date(2020, 1, 1),
                              "period_end": date(2024, 6, 26)}) == "links removed per week, as claimed"  # fmt: skip


def test_citation_names_file_hash_and_date():
    from dashboard import tables

    text = tables.citation(pd.DataFrame([_headline()]), "Removal requests, Vietnam")
    assert "Google report, periods 2023-H1" in text and "https://example.org/a.zip" in text
    assert "SHA-256 aaaaaaaaaaaaaaaa…" in text and "retrieved 2026-01-01" in text


def test_md_escape_and_links_are_inert():
    from dashboard.tables import md_escape, md_link

    assert md_escape("[x](javascript:alert(1)) <b>") == r"\[x\]\(javascript:alert\(1\)\) \<b\>"
    assert md_link("source", "javascript:alert(1)") == "source"
    assert md_link("source", "https://a.example/x y)") == "[source](https://a.example/x%20y%29)"


# --------------------------------------------------------------------------
# charts.py: pure builders
# --------------------------------------------------------------------------


def test_world_map_uses_local_topojson_and_separates_bands():
    from dashboard import charts, tables

    rows = pd.DataFrame([
        _headline(value=25925.0, value_low=25925.0, value_high=25925.0, country_code="RU"),
        _headline(country_code="FR", value=math.nan, value_low=0.0, value_high=9.0, banded_rows=1, published_rows=1, banded_as_published="<10"),
    ])  # fmt: skip
    fig = charts.world_map(tables.map_frame(rows, False), "Removal requests", "2023-H1")
    assert charts.PLOTLY_CONFIG["topojsonURL"] == "/app/static/topojson/"
    assert (Path(APP).parent / "static" / "topojson" / "world_110m.json").exists()
    exact, banded = fig.data
    assert list(exact.locations) == ["RUS"] and list(banded.locations) == ["FRA"]
    assert "0–9 (published as &lt;10)" in banded.hovertext[0]
    assert fig.layout.geo.projection.type == "natural earth"


def test_series_chart_draws_gaps_and_band_spans():
    from dashboard import charts, tables

    rows = tables.with_figure_text(pd.DataFrame([
        _headline(period_label="2019-H1", period_start=date(2019, 1, 1), period_end=date(2019, 6, 30)),
        _headline(period_label="2020-H1", period_start=date(2020, 1, 1), period_end=date(2020, 6, 30), value=math.nan,
                  value_low=0.0, value_high=9.0, banded_rows=1, published_rows=1, banded_as_published="<10"),
    ]))  # fmt: skip
    gaps = tables.series_with_gaps(rows, pd.DataFrame(columns=["platform", "period_grain", "period_start", "period_end"]))
    fig = charts.metric_series(gaps, "Removal requests", "count per half-year")
    line, band = fig.data
    drawn = [None if math.isnan(y) else y for y in line.y]
    assert drawn == [370.0, None, None]  # 2019-H2 missing, 2020-H1 banded: neither drawn as a number (a gap)
    assert [y for y in band.y if not math.isnan(y)] == [0.0, 9.0]
    assert fig.layout.yaxis.title.text == "count per half-year"


def test_claims_timeline_one_panel_per_unit():
    from dashboard import charts

    claims = pd.DataFrame([
        dict(kind="count", series="YouTube: videos removed, as claimed", platform="YouTube", period_start=date(2023, 1, 1),
             period_end=date(2023, 6, 30), value=6101.0, value_low=6101.0, hover="CLAIM"),
        dict(kind="per week", series="links removed per week, as claimed", platform="all", period_start=date(2020, 1, 1),
             period_end=date(2024, 6, 26), value=700.0, value_low=700.0, hover="CLAIM"),
    ])  # fmt: skip
    fig = charts.claims_timeline(claims, pd.DataFrame(), log_counts=True)
    assert [a.text for a in fig.layout.annotations] == ["Counts, each over the period it covers", "Counts per week, as claimed"]
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type != "log"


def test_reports_for_claims_are_named_for_what_they_count():
    from dashboard import tables

    series = pd.DataFrame([
        _headline(),
        _headline(metric="items_requested", metric_description="Items (URLs, posts, videos…) requested to be removed",
                  value=math.nan, value_low=0.0, value_high=9.0, banded_rows=1, published_rows=1, banded_as_published="<10"),
        _headline(metric="pct_items_removed_legal", unit="percent", value=50.0),  # not a count a claim is set beside
    ])  # fmt: skip
    products = pd.DataFrame([dict(platform="Google", product="YouTube", metric="requests", period_label="2023-H1",
                                  period_grain="half", period_start=date(2023, 1, 1), period_end=date(2023, 6, 30),
                                  value=120.0, value_low=120.0, value_high=120.0, banded_rows=0, published_rows=4)])  # fmt: skip
    reports = tables.reports_for_timeline(series, products)
    assert reports.series.tolist() == [
        "Google: removal requests per half-year, as reported by Google",
        "Google: items (urls, posts, videos…) requested to be removed per half-year, as reported by Google",
        "Google: requests naming YouTube per half-year, as reported by Google",
    ]
    assert reports.hover.tolist() == [
        "REPORT: 370 removal requests\n2023-H1 (Google)\nGoogle report",
        "REPORT: 0–9 (published as <10) items (urls, posts, videos…) requested to be removed\n2023-H1 (Google)\nGoogle report",
        "REPORT: 120 requests naming YouTube (summed over reasons)\n2023-H1 (Google)",
    ]
    assert set(reports.kind) == {"count"} and reports.value.tolist()[0] == 370
    assert tables.reports_for_timeline(pd.DataFrame()).empty


def test_coverage_bars_merge_only_when_too_many_to_draw():
    from dashboard import tables

    def half(year, h, figures=10):
        start, end = tables.half_year_bounds(f"{year}-H{h}")
        return dict(source="s", platform="P", period_grain="half", period_label=f"{year}-H{h}", period_start=start,
                    period_end=end, figures=figures, countries=3)  # fmt: skip

    published = pd.DataFrame([half(2019, 1), half(2019, 2), half(2020, 1), half(2021, 2)])  # 2020-H2 missing
    assert len(tables.coverage_bars(published)) == 4  # few: one bar per period, as published
    bars = tables.coverage_bars(published, limit=2)
    assert bars.period_label.tolist() == ["2019-H1…2020-H1", "2021-H2"]  # the gap stays a gap
    assert bars.periods.tolist() == [3, 1] and bars.figures.tolist() == [30, 10]
    assert bars.period_end.tolist() == [date(2020, 6, 30), date(2021, 12, 31)]


def test_long_series_are_drawn_without_markers():
    from dashboard import charts, tables

    rows = tables.with_figure_text(pd.DataFrame([
        _headline(period_label=f"{y}-H1", period_start=date(y, 1, 1), period_end=date(y, 6, 30), value=float(y))
        for y in range(1500, 1500 + charts.MARKER_LIMIT + 1)
    ]))  # fmt: skip
    long = charts.metric_series(rows, "Removal requests", "count").data[0]
    short = charts.metric_series(rows.head(10), "Removal requests", "count").data[0]
    assert long.mode == "lines" and short.mode == "lines+markers"
    assert len(long.y) == charts.MARKER_LIMIT + 1 and long.y[0] == 1500.0


# --------------------------------------------------------------------------
# Pages (AppTest)
# --------------------------------------------------------------------------


def test_world_page_default(app):
    at = app()
    assert at.title[0].value == "Government removal demands, by country"
    assert [s.label for s in at.selectbox][:2] == ["Figure", "Period"]
    assert at.selectbox(key="world_period").value == "2025-H1"
    assert at.metric[0].value != "0"
    assert "Google:" in _texts(at)
    assert len(at.get("download_button")) == 2
    assert not at.code  # the citation is written when "Cite this" is opened
    at.session_state["cite-world"] = True
    at.run()
    assert "Sources: Google Transparency Report" in at.code[0].value


def test_charts_are_drawn_by_the_local_plotly_bundle(app):
    import json

    import plotly.offline

    at = app()
    first = at.sidebar.get("bidi_component")[0]
    assert json.loads(first.proto.json)["preload"]  # the browser starts loading Plotly before the page's code runs
    (world_map,) = _charts(at)
    assert world_map["clickable"] and {t["type"] for t in world_map["data"]} == {"choropleth"}
    assert len(json.dumps(world_map["layout"]["template"])) < 400  # a few axis settings, not a 6 kB template per chart
    bundle = (Path(APP).parent / "static" / "plotly" / "plotly-takedowns.min.js").read_text(encoding="utf-8")
    version = bundle[:200].split("plotly.js v", 1)[1].split(" ", 1)[0]
    # Figures are written by Python's plotly for its own plotly.js; the bundle must be that major version.
    assert version.split(".")[0] == plotly.offline.get_plotlyjs_version().split(".")[0]
    for trace in ("scatter", "bar", "choropleth"):  # every trace type dashboard/charts.py draws
        assert f'name:"{trace}"' in bundle


def test_world_page_period_and_summed_range(app):
    at = app(period="2023-H1")
    assert at.selectbox(key="world_period").value == "2023-H1"
    at.selectbox(key="world_period").select("All periods in the span, added up").run()
    assert not at.exception
    assert "added up" in at.subheader[0].value


def test_world_page_ignores_bad_query_params(app):
    at = app(metric="drop table", period="1999-H9", platform="Nope", **{"from": "1800-H1", "to": "x';--"})
    assert not at.exception
    assert at.selectbox(key="world_metric").value == "requests"
    assert at.multiselect(key="platforms").value == []  # empty = every platform
    assert dict(at.query_params) == {}  # unknown values are dropped from the URL


def test_country_with_data(app):
    at = app("views/country.py", country="VN", **{"from": "2022-H1", "to": "2023-H1"})
    assert at.title[0].value == "Vietnam"
    text = _texts(at)
    assert "**370** removal requests" in text and "up 164%, 2\\.6 times as many from 140 in 2022\\-H2" in text
    assert len(at.tabs) == 7
    assert dict(at.query_params) == {"country": "VN", "from": "2022-H1", "to": "2023-H1"}
    at.session_state["cite-country"] = True
    at.run()
    assert "Figures for Vietnam (VN), 2022-H1 to 2023-H1" in at.code[-1].value


def test_country_period_change_changes_summary(app):
    at = app("views/country.py", country="RU")
    assert "2025-H1" in _texts(at)
    at.select_slider[0].set_range("2023-H1", "2023-H2").run()
    assert dict(at.query_params) == {"country": "RU", "from": "2023-H1", "to": "2023-H2"}
    text = _texts(at)
    assert "**25,925** removal requests" in text and "2023-H2" in text


def test_country_without_data_explains_why(app):
    at = app("views/country.py", country="AQ")  # not in the database: ignored
    assert "Choose a country" in _texts(at)
    at = app("views/country.py", country="VN", **{"from": "2011-H1", "to": "2013-H2"})
    text = _texts(at)
    assert "Vietnam is not listed in any of them" in text  # Google published those half-years, without Vietnam


def test_country_tabs_breakdowns(app):
    at = app("views/country.py", country="RU", **{"from": "2023-H1", "to": "2023-H2"})
    # Only the open tab is built: the first one, with its charts.
    assert [s.label for s in at.selectbox] == ["Country"]
    assert len(_charts(at)) >= 1
    at.session_state["country_tab"] = "Who asked"
    at.run()
    assert "Breakdown" in [s.label for s in at.selectbox] and not at.exception
    at.session_state["country_tab"] = "Outcomes"
    at.run()
    assert "Share" in [s.label for s in at.selectbox]
    at.selectbox(key="outcome-metric").select("pct_items_no_action").run()
    assert not at.exception
    at.session_state["country_tab"] = "All figures"
    at.run()
    figures = _frame(at, "value_text")
    assert len(figures) > 100 and set(figures.platform) == {"Google"}
    assert f"{len(figures):,} published figures in this span" in _texts(at)


def test_compare_page(app):
    at = app("views/compare.py", countries="VN", **{"from": "2022-H1", "to": "2023-H2"})
    assert at.multiselect(key="compare_countries").value == ["VN"]
    grid = _frame(at, "period")
    assert grid.loc["2023-H1"].iloc[0].startswith("370  [published; exact]")
    at.radio(key="compare_grain").set_value("year").run()
    grid = _frame(at, "period")
    assert grid.loc["2023"].iloc[0].startswith("787 (H1+H2)")
    at.radio(key="compare_grain").set_value("quarter").run()
    assert "No quarters figures" in _texts(at)


def test_claims_page(app):
    at = app("views/claims.py")
    assert at.selectbox(key="claims_country").value == "VN"
    assert not _frame(at, "explanation").empty
    at.selectbox(key="claims_about").select("TikTok").run()
    assert not at.exception
    at = app("views/claims.py", country="IL")
    assert at.selectbox(key="claims_country").value == "IL"


def test_revisions_page(app):
    at = app("views/revisions.py")
    assert int(at.metric[0].value.replace(",", "")) > 0
    table = _frame(at, "old_figure")
    assert {"old_figure", "new_figure", "old_link", "new_link"} <= set(table.columns)
    at = app("views/revisions.py", country="VN", **{"from": "2009-H2", "to": "2009-H2"})
    assert "No revision recorded" in _texts(at)


def test_coverage_page(app):
    at = app("views/coverage.py")
    assert at.title[0].value == "Coverage and sources"
    docs = _frame(at, "document_sha256")
    assert len(docs) == 2
    assert not _frame(at, "detail").empty


def test_downloads_carry_provenance(app):
    at = app("views/country.py", country="VN", **{"from": "2023-H1", "to": "2023-H1"})
    from dashboard import ui

    frame = pd.DataFrame([_headline()])
    plain = ui.for_download(frame)
    csv = pd.read_csv(io.StringIO(plain.to_csv(index=False)))
    assert {"source_url", "document_ids", "document_sha256", "fetched_at"} <= set(csv.columns)
    assert len(at.get("download_button")) >= 2


def test_database_of_an_earlier_version_explains(google_db, monkeypatch, tmp_path):
    """A database whose summaries predate this dashboard: say how to rebuild them, do not crash."""
    import duckdb
    from streamlit.testing.v1 import AppTest

    old = tmp_path / "old.duckdb"
    shutil.copyfile(google_db, old)
    with duckdb.connect(str(old)) as con:
        con.execute("DROP TABLE summary_headline")
    monkeypatch.setenv("TAKEDOWNS_DB", str(old))
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception
    assert "summary_headline" in at.error[0].value and "takedowns refresh" in at.error[0].value


def test_no_database_explains(monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("TAKEDOWNS_DB", str(tmp_path / "missing.duckdb"))
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception
    assert "takedowns refresh" in at.error[0].value
