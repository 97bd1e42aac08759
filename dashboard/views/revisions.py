"""Revisions: figures a platform changed, or left out, in a later edition of the same file."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, filters, queries, tables, ui, urlstate
from scrapers.normalize import country_label


def render() -> None:
    handle = ui.require_db()
    if handle is None:
        return
    f = filters.current()
    cat = queries.catalog(handle)
    st.title("Revisions between editions")
    st.caption(
        "When a platform republishes a file, some figures for past periods change, and some are no longer published. "
        "Each row gives the old and the new figure as published, both files and when each was retrieved, so either "
        "edition can be cited."
    )
    sources = cat["sources"]
    source_options = sources[sources.platform.isin(f.platforms)].source.tolist()
    urlstate.choices("revision_sources", "source", source_options, source_options)
    controls = st.columns([3, 2])
    chosen = controls[0].multiselect("Sources", source_options, key="revision_sources", placeholder="All sources")
    urlstate.keep("source", chosen, source_options)
    countries = cat["countries"].country_code.tolist()
    urlstate.choice("revision_country", "country", countries, None)
    code = controls[1].selectbox("Country", countries, key="revision_country", index=None, placeholder="All countries",
                                 format_func=lambda c: f"{country_label(c)} ({c})")  # fmt: skip
    urlstate.keep("country", code)

    rows = queries.revisions(handle, chosen or source_options, code)
    rows = rows[(rows.period_start >= f.start) & (rows.period_end <= f.end)] if not rows.empty else rows
    if rows.empty:
        ui.explain_empty(
            "No revision recorded for this choice.",
            ["Revisions are found when a refresh loads a new edition of a file already held (for example Google's "
             "2025 file after its 2023 file). A database built from one edition has none.",
             f"Span: {f.span_text}; sources: {', '.join(chosen or source_options) or 'none'}."],
        )  # fmt: skip
        return
    rows = rows.assign(
        country=rows.country_code.map(lambda c: country_label(c) if isinstance(c, str) else None),
        period_label=[tables.label_for_period(s, e, "half") if (e - s).days < 190 else f"{s}..{e}" for s, e in zip(rows.period_start, rows.period_end)],
        old_figure=[tables.figure_text(r.old_value, r.old_value_low, r.old_value_high, r.old_value_text if pd.isna(r.old_value) else None)
                    for r in rows.itertuples()],
        new_figure=[("not republished" if r.kind == "not_republished" else
                     tables.figure_text(r.new_value, r.new_value_low, r.new_value_high, r.new_value_text if pd.isna(r.new_value) else None))
                    for r in rows.itertuples()],
        change=[(tables.number_text(r.new_value - r.old_value) if r.new_value < r.old_value else "+" + tables.number_text(r.new_value - r.old_value))
                if pd.notna(r.old_value) and pd.notna(r.new_value) else "" for r in rows.itertuples()],
    )  # fmt: skip
    changed = int((rows.kind == "changed").sum())
    dropped = int((rows.kind == "not_republished").sum())
    top = st.columns(4)
    top[0].metric("Figures changed", f"{changed:,}")
    top[1].metric("Figures not republished", f"{dropped:,}")
    top[2].metric("Countries affected", f"{rows.country_code.nunique():,}")
    top[3].metric("Periods affected", f"{rows.period_label.nunique():,}")

    left, right = st.columns([3, 2])
    with left:
        ui.chart(charts.revisions_scatter(rows), key="revisions-chart")
    with right:
        st.markdown("**Editions compared**")
        pairs = rows.groupby(["source", "old_source_url", "old_fetched_at", "new_fetched_at"], dropna=False).size().reset_index(name="figures")
        for r in pairs.itertuples():
            st.markdown(
                f"- {tables.md_escape(r.source)}: {r.figures:,} figures; earlier file retrieved "
                f"{tables.md_escape(str(r.old_fetched_at)[:16])}, later file {tables.md_escape(str(r.new_fetched_at)[:16])}"
            )
        per_period = rows.groupby("period_label").size().rename("figures revised").reset_index().rename(columns={"period_label": "period"})
        st.dataframe(per_period, hide_index=True, key="revisions-per-period", height=240)

    st.subheader("Every revised figure")
    table = rows.assign(old_link=rows.old_source_url, new_link=rows.new_source_url)
    st.dataframe(
        table[["country", "period_label", "metric", "requester", "product", "reason", "old_figure", "new_figure", "change",
               "kind", "old_link", "old_fetched_at", "old_document_sha256", "new_link", "new_fetched_at",
               "new_document_sha256", "dataset"]],
        hide_index=True, key="revisions-table",
        column_config={
            "old_link": st.column_config.LinkColumn("earlier file", display_text=r".*/([^/?#]+)$"),
            "new_link": st.column_config.LinkColumn("later file", display_text=r".*/([^/?#]+)$"),
            "old_fetched_at": st.column_config.DatetimeColumn("earlier retrieved", format="YYYY-MM-DD HH:mm"),
            "new_fetched_at": st.column_config.DatetimeColumn("later retrieved", format="YYYY-MM-DD HH:mm"),
            "period_label": "period", "old_figure": "earlier figure", "new_figure": "later figure",
        },
    )  # fmt: skip
    ui.downloads(rows, f"revisions-{f.span_text}", key="revisions")
    ui.cite(lambda: _citation(rows), key="revisions")


def _citation(rows: pd.DataFrame) -> str:
    old = rows.rename(columns={"old_source_url": "source_url", "old_fetched_at": "fetched_at", "old_document_sha256": "document_sha256"})
    new = rows.rename(columns={"new_source_url": "source_url", "new_fetched_at": "fetched_at", "new_document_sha256": "document_sha256"})
    both = pd.concat([old[["source", "period_label", "source_url", "fetched_at", "document_sha256"]],
                      new[["source", "period_label", "source_url", "fetched_at", "document_sha256"]]])  # fmt: skip
    return tables.citation(both, "Figures revised between editions (earlier and later files)")


render()
