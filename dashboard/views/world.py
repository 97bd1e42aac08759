"""World map: one metric for every country, for one period or summed over the sidebar's span."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, filters, queries, tables, ui, urlstate

SUMMED = "All periods in the span, added up"


def render() -> None:
    handle = ui.require_db()
    if handle is None:
        return
    f = filters.current()
    cat = queries.catalog(handle)
    st.title("Government removal demands, by country")
    st.caption(
        "Each country is coloured by the figure its government's demands reached in the chosen platforms' "
        "own transparency reports. Hover for the figure as published and its source; click a country for its profile."
    )

    metrics = cat["metrics"]
    metric_options = tables.headline_count_metrics(metrics, f.platforms)
    if not metric_options:
        ui.explain_empty(
            "None of the chosen platforms publishes a per-country count this map can show.",
            [f"Chosen platforms: {', '.join(f.platforms)}. Choose others in the sidebar."],
        )
        return
    descriptions = dict(zip(metrics.metric, metrics.description))
    urlstate.choice("world_metric", "metric", metric_options, "requests" if "requests" in metric_options else metric_options[0])
    top = st.columns([2, 2, 1])
    metric = top[0].selectbox(
        "Figure", metric_options, key="world_metric",
        format_func=lambda m: tables.metric_label(descriptions.get(m), m),
        help="Only counts can be mapped; shares and times are on each country's profile.",
    )  # fmt: skip
    urlstate.keep("metric", metric, "requests")

    # The periods first, then the figures of the one period shown: a page reads
    # what it draws, however many periods the database holds.
    periods = queries.headline_periods(handle, metric, f.platforms, f.start, f.end)
    if periods.empty:
        ui.explain_empty(
            f"No platform published “{tables.metric_label(descriptions.get(metric), metric)}” per country "
            f"for periods within {f.span_text}.",
            _platform_notes(cat, f, metric),
        )
        return
    period_options = periods.period_label.tolist() + [SUMMED]
    default_period = tables.default_map_period(periods, f.platforms)
    urlstate.choice("world_period", "period", period_options, default_period or period_options[0])
    period = top[1].selectbox(
        "Period", period_options, key="world_period",
        help="A half-year, a year or a quarter as the platform published it, or every period in the sidebar's span "
        "added up (a platform publishing both years and half-years is counted once, in the grain covering most of the span).",
    )  # fmt: skip
    urlstate.keep("period", period, default_period)
    summed = period == SUMMED
    if summed:
        shown = queries.requests_by_country(handle, metric, f.platforms, f.start, f.end)
    else:
        chosen = periods[periods.period_label == period].iloc[0]
        rows = queries.requests_by_country(handle, metric, f.platforms, chosen.period_start, chosen.period_end)
        shown = rows[rows.period_label == period]
    frame = tables.map_frame(shown, summed_range=summed)
    period_text = f"{f.span_text}, added up" if summed else period
    metric_title = tables.metric_label(descriptions.get(metric), metric)
    top[2].metric("Countries with a figure", f"{int(frame.is_place.sum()):,}" if not frame.empty else "0")

    clicked = ui.chart(charts.world_map(frame, metric_title, period_text), key="world_map", clickable=True)
    if clicked and clicked.get("customdata"):
        urlstate.switch_page("views/country.py", country=clicked["customdata"][0])
    st.caption(
        "Light grey: no figure for this period in the chosen platforms' reports (not listed, or no report held). "
        "Orange: published only as a band such as “<10”; the hover gives its bounds. "
        + ("The colour scale is logarithmic: each step is ten times the one before." if not frame.empty and frame.value.max() >= 100 else "")
    )  # fmt: skip

    reports, groups, opener = st.columns([2, 2, 1.4], gap="large")
    # One markdown element per list, not per line: each element costs the browser a render.
    with reports:
        st.markdown("**Reports behind this map**\n\n" + "\n".join(f"- {tables.md_escape(line)}" for line in _coverage_lines(shown, f, summed)))
    with groups:
        pseudo = frame[~frame.is_place.astype(bool)] if not frame.empty else frame
        st.markdown("**Not drawn: groups and bodies that are not places**\n\n" + "\n".join(
            f"- {tables.md_escape(tables.short_pseudo_label(r.country_code))} ({tables.md_escape(r.platforms)}): **{tables.md_escape(r.figure)}**"
            for r in pseudo.itertuples()))  # fmt: skip
        if pseudo.empty:
            st.caption("None in this view.")
    with opener:
        st.markdown("**Open a country's profile**")
        places = frame[frame.is_place.astype(bool)].sort_values("country") if not frame.empty else frame
        options = places.country_code.tolist()
        labels = dict(zip(places.country_code, places.country))
        picked = st.selectbox("Country", options, index=None, key="world_open", placeholder="Choose a country",
                              format_func=lambda c: f"{labels.get(c, c)} ({c})", label_visibility="collapsed")  # fmt: skip
        if picked:
            st.page_link("views/country.py", label=f"Open {labels.get(picked, picked)} →",
                         query_params=urlstate.link_params(country=picked))  # fmt: skip

    st.subheader(f"{metric_title}, {period_text}")
    table = frame.sort_values(["value", "value_high"], ascending=False, na_position="last") if not frame.empty else frame
    ui.source_table(
        table, ["country", "country_code", "figure", "platforms", "periods", "source_title", "fetched_at"],
        labels={"figure": "figure as published", "country_code": "code", "source_title": "report"}, key="world_table",
    )  # fmt: skip
    ui.downloads(lambda: tables.with_figure_text(shown), f"takedowns-{metric}-{period_text}", key="world", rows=len(shown))
    ui.cite(lambda: tables.citation(shown, f"{metric_title} per country, {period_text}"), key="world")


def _coverage_lines(shown, f, summed: bool) -> list[str]:
    lines = []
    for platform in f.platforms:
        mine = shown[shown.platform == platform]
        if mine.empty:
            lines.append(f"{platform}: no figure of this kind for {'this span' if summed else 'this period'}")
        else:
            labels = sorted(set(mine.period_label))
            span = labels[0] if len(labels) == 1 else f"{labels[0]}…{labels[-1]}"
            lines.append(f"{platform}: {mine.country_code.nunique()} countries or groups, {span}")
    return lines


def _platform_notes(cat, f, metric) -> list[str]:
    metrics = cat["metrics"]
    notes = []
    for platform in f.platforms:
        if not ((metrics.platform == platform) & (metrics.metric == metric)).any():
            notes.append(f"{platform} does not publish this figure.")
        else:
            p = cat["platforms"][cat["platforms"].platform == platform].iloc[0]
            notes.append(f"{platform}: reports held cover {p.first_start} to {p.last_end}.")
    return notes


render()
