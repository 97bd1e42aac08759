"""Compare: several countries and platforms on aligned periods, each cell saying if it is comparable."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, filters, queries, tables, ui, urlstate
from scrapers.models import METRICS
from scrapers.normalize import country_label, is_country

GRAINS = {"half": "Half-years", "year": "Years", "quarter": "Quarters"}


def render() -> None:
    handle = ui.require_db()
    if handle is None:
        return
    f = filters.current()
    cat = queries.catalog(handle)
    st.title("Compare countries and platforms")
    st.caption(
        "Figures line up only on periods of one length. A year is never set beside a half-year: with “Years”, a "
        "platform that publishes half-years gets its two halves added (marked derived); figures of other lengths are "
        "listed apart. Platforms count “requests” in their own ways, so compare a platform with itself first."
    )
    metric_options = tables.headline_count_metrics(cat["metrics"], f.platforms)
    if not metric_options:
        ui.explain_empty("None of the chosen platforms publishes per-country counts. Choose others in the sidebar.")
        return
    countries = cat["countries"]
    codes = [c for c in countries.country_code if c]
    labels = {c: country_label(c) for c in codes}

    controls = st.columns([3, 2, 2])
    urlstate.choice("compare_metric", "metric", metric_options, "requests" if "requests" in metric_options else metric_options[0])
    metric = controls[1].selectbox("Figure", metric_options, key="compare_metric",
                                   format_func=lambda m: tables.metric_label(METRICS.get(m), m))  # fmt: skip
    urlstate.keep("metric", metric, "requests")
    default_codes = _default_countries(handle, metric, f)
    urlstate.choices("compare_countries", "countries", codes, default_codes)
    chosen = controls[0].multiselect("Countries", codes, key="compare_countries", max_selections=8,
                                     format_func=lambda c: f"{labels.get(c, c)} ({c})")  # fmt: skip
    urlstate.keep("countries", chosen, default_codes)
    urlstate.choice("compare_grain", "grain", list(GRAINS), "half")
    grain = controls[2].radio("Period length", list(GRAINS), key="compare_grain", horizontal=True, format_func=GRAINS.get)
    urlstate.keep("grain", grain, "half")
    if not chosen:
        ui.explain_empty("Choose one or more countries to compare.")
        return

    rows = queries.compare_figures(handle, metric, chosen, f.platforms, f.start, f.end)
    cells, aside = tables.compare_cells(rows, grain)
    metric_title = tables.metric_label(METRICS.get(metric), metric)
    if cells.empty:
        published = queries.published_periods(handle)
        notes = []
        for code in chosen:
            present = set(rows[rows.country_code == code].platform)
            notes += tables.absence_notes(labels.get(code, code), f.platforms, published, f.start, f.end, present)
        if not aside.empty:
            notes.append(f"Figures of other period lengths exist ({', '.join(sorted(set(aside.period_label)))}); "
                         "switch the period length to see them.")  # fmt: skip
        ui.explain_empty(f"No {GRAINS[grain].lower()} figures of “{metric_title}” for these countries in {f.span_text}.", notes)
        return

    ui.chart(charts.compare_chart(cells, f"{metric_title} per {GRAINS[grain].lower()[:-1]}", "count per period"),
             key="compare-chart")
    st.markdown("**Side by side** — each cell: the figure, whether it was published or derived, exact or bounds only")
    grid = tables.compare_grid(cells)
    st.dataframe(grid, key="compare-grid")
    drawn = set(cells.country_code.unique())
    missing = [labels.get(c, c) for c in chosen if c not in drawn]
    if missing:
        st.caption(f"No {GRAINS[grain].lower()} figure in this span for: {', '.join(missing)}.")
    if not aside.empty:
        box = ui.folded(f"Not comparable here: {len(aside)} figure(s) for periods of another length", key="compare-aside-open")
        if box is not None:
            with box:
                aside_table = tables.with_figure_text(aside).assign(country=lambda d: d.country_code.map(country_label))
                ui.source_table(aside_table, ["country", "platform", "period_label", "period_grain", "figure", "how"],
                                labels={"period_grain": "period length"}, key="compare-aside")  # fmt: skip
    box = ui.folded("Every cell with its comparability and source", key="compare-cells-open")
    if box is not None:
        with box:
            ui.source_table(cells.sort_values(["period_start", "country", "platform"]),
                            ["period_label", "country", "platform", "figure", "comparability", "fetched_at"],
                            labels={"period_label": "period"}, key="compare-cells")  # fmt: skip
    ui.downloads(cells, f"compare-{metric}-{grain}-{f.span_text}", key="compare")
    what = f"{metric_title}, {', '.join(labels.get(c, c) for c in chosen)}, {GRAINS[grain].lower()}, {f.span_text}"
    ui.cite(lambda: tables.citation(cells, what), key="compare")


def _default_countries(handle, metric: str, f) -> list[str]:
    """The four countries with the largest figure in the latest half-year of the span."""
    halves = queries.headline_periods(handle, metric, f.platforms, f.start, f.end)
    halves = halves[halves.period_grain == "half"]
    if halves.empty:
        return []
    # The newest half-year usually lists countries; only if it lists none, read the whole span.
    newest = halves.iloc[0]
    rows = queries.requests_by_country(handle, metric, f.platforms, newest.period_start, newest.period_end)
    rows = rows[rows.country_code.map(is_country) & (rows.period_grain == "half")]
    if rows.empty:
        rows = queries.requests_by_country(handle, metric, f.platforms, f.start, f.end)
        rows = rows[rows.country_code.map(is_country) & (rows.period_grain == "half")]
        if rows.empty:
            return []
    latest = rows[rows.period_end == rows.period_end.max()]
    ranked = latest.groupby("country_code")["value_high"].sum().sort_values(ascending=False)
    return ranked.index[:4].tolist()


render()
