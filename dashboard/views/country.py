"""Country profile: everything held about one country, each figure with its source."""

from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

from dashboard import charts, filters, queries, tables, ui, urlstate
from scrapers.models import METRICS
from scrapers.normalize import country_label

# Charted first; the rest of a country's count metrics sit in an expander.
MAIN_METRICS = ("requests", "orders", "content_restrictions",
                "items_requested", "items_actioned", "items_withheld", "accounts_specified", "accounts_actioned")  # fmt: skip
DSA_METRICS = ("orders", "orders_to_provide_information", "median_hours_to_inform", "median_hours_to_effect")
BREAKDOWN_NOTES = {
    "requester": "Who sent the requests, as each platform names them. Requester types do not overlap, so the bars stack to the total.",
    "reason": "Reasons as published. One request can give several reasons, so categories can overlap and are not added to each other; "
    "within a category, rows split by product or requester are added up (hover says how many).",
    "product": "Products or services named. One request can name several products, so categories can overlap and are not added up.",
}


def render() -> None:
    handle = ui.require_db()
    if handle is None:
        return
    f = filters.current()
    cat = queries.catalog(handle)
    countries = cat["countries"]
    codes = countries.country_code.tolist()
    labels = {c: country_label(c) for c in codes}
    urlstate.choice("country_code", "country", codes, None)
    pick, _ = st.columns([2, 3])
    code = pick.selectbox(
        "Country", codes, key="country_code", index=None, placeholder="Choose a country",
        format_func=lambda c: f"{labels.get(c, c)} ({c})",
    )  # fmt: skip
    urlstate.keep("country", code)
    if code is None:
        st.title("Country profile")
        ui.explain_empty("Choose a country above, or click one on the world map.")
        return
    name = labels.get(code, code)
    info = countries[countries.country_code == code].iloc[0]
    st.title(name)

    series = tables.with_figure_text(queries.country_series(handle, code, f.platforms, f.start, f.end))
    held = queries.country_figure_counts(handle, code, f.platforms, f.start, f.end)
    notices = queries.country_notices(handle, code)
    claims = queries.government_claims(handle, code)
    published = queries.published_periods(handle)
    st.caption(
        f"Code {code} · {f.span_text} · platforms chosen: {', '.join(f.platforms)} · "
        f"{int(held.figures.sum()):,} published figures in this span · {len(claims)} government claims · {len(notices)} notices held"
    )
    absent = tables.absence_notes(name, f.platforms, published, f.start, f.end, set(series.platform) | set(held.platform))
    if series.empty and held.empty and notices.empty and claims.empty:
        held_elsewhere = int(info.figures or 0)
        ui.explain_empty(
            f"No figure for {name} in the chosen platforms' reports for {f.span_text}."
            + (f" The database holds {held_elsewhere:,} figures for it outside this span or platform choice: "
               "widen the span or the platforms in the sidebar." if held_elsewhere else ""),  # fmt: skip
            absent,
        )
        return

    st.subheader("At a glance")
    lines = tables.summary_lines(series, name)
    if lines:
        st.markdown("\n".join(line["markdown"] for line in lines))
    if absent:
        with st.expander(f"Platforms without a figure for {name} in this span ({len(absent)})"):
            for note in absent:
                st.markdown(f"- {tables.md_escape(note)}")

    @functools.cache
    def obs() -> pd.DataFrame:  # every published figure in the span, read only when a tab shows them
        return queries.country_observations(handle, code, f.platforms, f.start, f.end)

    sections = {
        "Over time": lambda: _over_time(series, published),
        "Who asked": lambda: _breakdown(obs(), "requester", "Requests by requester type"),
        "Reasons and products": lambda: (_breakdown(obs(), "reason", "Requests by reason"),
                                         _breakdown(obs(), "product", "Requests by product")),
        "Outcomes": lambda: _outcomes(obs()),
        "Notices and orders": lambda: _notices_and_orders(notices, obs(), name),
        "Government claims": lambda: _claims(claims, name, code),
        "All figures": lambda: _all_figures(obs(), code, f),
    }  # fmt: skip
    # Only the open tab runs (opening another reruns the page), so hidden tabs'
    # tables and charts are neither built nor sent to the browser.
    for tab, draw in zip(st.tabs(list(sections), key="country_tab", on_change="rerun"), sections.values()):
        if tab.open:
            with tab:
                draw()

    st.divider()
    st.markdown("**The data behind the charts** (one headline figure per platform, period and metric)")
    ui.downloads(series, f"takedowns-{code}-headline-{f.span_text}", key="country_headline")
    ui.cite(lambda: tables.citation(series if not series.empty else obs(), f"Figures for {name} ({code}), {f.span_text}"),
            key="country")  # fmt: skip


def _all_figures(obs: pd.DataFrame, code: str, f) -> None:
    st.caption("Every figure held for this country in the span, exactly as published (finest rows, totals marked).")
    table = obs.assign(figure=[tables.figure_text(r.value, r.value_low, r.value_high, r.value_text if pd.isna(r.value) else None, r.unit)
                               for r in obs.itertuples()])  # fmt: skip
    ui.source_table(
        table,
        ["platform", "period_label", "metric", "requester", "product", "reason", "figure", "value_text", "is_total",
         "dataset", "member", "row_number", "fetched_at"],
        labels={"value_text": "as published", "period_label": "period", "is_total": "published total"},
        key="country_all",
    )  # fmt: skip
    ui.downloads(obs, f"takedowns-{code}-all-figures-{f.span_text}", key="country_all")


def _over_time(series: pd.DataFrame, published: pd.DataFrame) -> None:
    if series.empty:
        ui.explain_empty("No headline counts for this country in the span (see the other tabs for notices or claims).")
        return
    st.caption(
        "One chart per figure: requests, items and accounts are never drawn on one axis. A gap in a line is a period "
        "with no figure (not a zero); hover over a point for the figure as published and its report."
    )
    # One set, not one per metric: a column of thousands of figures is slow to iterate.
    held = set(series.metric.unique())
    present = [m for m in METRICS if m in held]
    main = [m for m in present if m in MAIN_METRICS]
    rest = [m for m in present if m not in MAIN_METRICS]
    _chart_grid(series, published, main)
    if rest:
        box = ui.folded(f"More figures ({len(rest)})", key="country-more-open")
        if box is not None:
            with box:
                _chart_grid(series, published, rest)


def _chart_grid(series: pd.DataFrame, published: pd.DataFrame, metrics: list[str]) -> None:
    columns = st.columns(2)
    for index, metric in enumerate(metrics):
        rows = series[series.metric == metric]
        gaps = tables.series_with_gaps(rows, published)
        title = tables.metric_label(rows.metric_description.iloc[0], metric)
        unit = rows.unit.iloc[0]
        grains = rows.period_grain.unique()
        unit_title = f"{unit} per {tables.GRAIN_NOUN.get(grains[0], 'period')}" if len(grains) == 1 else f"{unit} per period"
        with columns[index % 2]:
            ui.chart(charts.metric_series(gaps, title, unit_title), key=f"series-{metric}")
            notes = tables.gap_notes(gaps)
            if notes:
                st.caption("Gaps — " + "; ".join(tables.md_escape(n) for n in notes) + ".")


def _breakdown(obs: pd.DataFrame, dimension: str, title: str) -> None:
    rows = tables.breakdown_rows(obs, dimension)
    if rows.empty:
        st.caption(f"No {dimension} breakdown is published for this country in the span.")
        return
    st.markdown(f"**{title}**")
    st.caption(BREAKDOWN_NOTES[dimension])
    choices = rows[["platform", "dataset", "metric"]].drop_duplicates().sort_values(["platform", "metric", "dataset"])
    options = [tuple(r) for r in choices.itertuples(index=False)]
    chosen = st.selectbox(
        "Breakdown", options, key=f"breakdown-{dimension}", label_visibility="collapsed",
        format_func=lambda o: f"{o[0]} · {tables.metric_label(METRICS.get(o[2]), o[2])} · {o[1]}",
    )  # fmt: skip
    picked = rows[(rows.platform == chosen[0]) & (rows.dataset == chosen[1]) & (rows.metric == chosen[2])]
    aggregated = tables.breakdown_series(picked, dimension)
    fig = charts.breakdown_chart(aggregated, dimension, f"{chosen[0]}: {tables.metric_label(METRICS.get(chosen[2]), chosen[2])} by {dimension}",
                                 stacked=dimension == "requester")  # fmt: skip
    ui.chart(fig, key=f"breakdown-chart-{dimension}")
    box = ui.folded(f"Table: {len(aggregated):,} figures by {dimension}", key=f"breakdown-table-open-{dimension}")
    if box is not None:
        with box:
            ui.source_table(aggregated, ["period_label", dimension, "figure", "published_rows", "dataset"],
                            labels={"period_label": "period", "published_rows": "rows added"}, key=f"breakdown-table-{dimension}")  # fmt: skip
            ui.downloads(picked, f"breakdown-{dimension}-{chosen[0]}-{chosen[2]}", key=f"breakdown-{dimension}")


def _outcomes(obs: pd.DataFrame) -> None:
    rows = tables.share_rows(obs)
    if rows.empty:
        st.caption("No compliance or removal shares are published for this country in the span.")
        return
    st.caption(
        "Shares as the platforms published them (percent of requests or items, or TikTok's removal rate as a fraction "
        "of 1). Each line is one platform and requester type; shares are never added or averaged here."
    )
    held = set(rows.metric.unique())
    options = [m for m in METRICS if m in held]
    metric = st.selectbox("Share", options, key="outcome-metric",
                          format_func=lambda m: METRICS.get(m, m))  # fmt: skip
    picked = rows[rows.metric == metric]
    ui.chart(charts.shares_chart(picked, METRICS.get(metric, metric), picked.unit.iloc[0]), key="outcome-chart")
    box = ui.folded(f"Table: {len(picked):,} figures", key="outcome-table-open")
    if box is not None:
        with box:
            ui.source_table(picked, ["platform", "period_label", "requester", "figure", "value_text", "dataset"],
                            labels={"value_text": "as published", "period_label": "period"}, key="outcome-table")  # fmt: skip
            ui.downloads(picked, f"shares-{metric}", key="outcomes")


def _notices_and_orders(notices: pd.DataFrame, obs: pd.DataFrame, name: str) -> None:
    orders = obs[obs.metric.isin(DSA_METRICS)]
    st.markdown("**Takedown notices published in full**")
    if notices.empty:
        st.caption(f"No published notice from {name} is held (GitHub posts the notices it acts on under local law).")
    else:
        st.caption(
            "The notices' own words, shown as plain text exactly as posted. They are untrusted input: "
            "links in them are not made clickable."
        )
        table = notices.assign(source_link=notices.source_url)
        st.dataframe(
            table[["notice_date", "platform", "agency", "agency_as_published", "title", "urls", "source_link"]],
            hide_index=True, key="notices-table",
            column_config={"source_link": st.column_config.LinkColumn("notice", display_text=r".*/([^/]+)$"),
                           "urls": "addresses named (as written)", "notice_date": "date"},
        )  # fmt: skip
        ids = notices.notice_id.tolist()
        titles = dict(zip(notices.notice_id, notices.notice_date.astype(str) + " · " + notices.agency.fillna("")))
        chosen = st.selectbox("Read a notice", ids, key="notice-pick", format_func=lambda i: titles.get(i, i))
        text = notices.loc[notices.notice_id == chosen, "text"].iloc[0]
        st.code(text or "(no text)", language=None, wrap_lines=True)
        ui.downloads(notices, f"notices-{name}", key="notices")
    st.markdown("**Orders under the EU Digital Services Act**")
    if orders.empty:
        st.caption(f"No DSA order figures for {name} in the span (platforms report orders from EU member states' authorities).")
    else:
        table = orders.assign(figure=[tables.figure_text(r.value, r.value_low, r.value_high, r.value_text if pd.isna(r.value) else None, r.unit)
                                      for r in orders.itertuples()])  # fmt: skip
        ui.source_table(table, ["platform", "period_label", "metric", "reason", "figure", "value_text"],
                        labels={"value_text": "as published"}, key="orders-table")  # fmt: skip


def _claims(claims: pd.DataFrame, name: str, code: str) -> None:
    if claims.empty:
        st.caption(f"No government claim about removals is held for {name}.")
        return
    st.caption(
        "What the government itself said it had removed, with each claim's source. Claims are shown beside the "
        "platforms' figures, never added to them."
    )
    table = claims.assign(what=[tables.claim_unit(r) for r in claims.to_dict("records")])
    ui.source_table(table, ["claimant", "period_start", "period_end", "platform", "what", "value_text", "qualifier", "note", "source_title"],
                    labels={"value_text": "figure as claimed", "what": "what was claimed"}, key="claims-table")  # fmt: skip
    st.page_link("views/claims.py", label="Set these claims against the platforms' figures on one time axis →",
                 query_params=urlstate.link_params(country=code))  # fmt: skip


render()
