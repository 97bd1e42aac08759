"""Coverage and sources: what is held, from which file, with which gaps and warnings."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, queries, tables, ui


def render() -> None:
    handle = ui.require_db()
    if handle is None:
        return
    st.title("Coverage and sources")
    st.caption(
        "Which periods each source's files cover, where the gaps are, every original file with its hash and "
        "retrieval time, and what the loader flagged. A gap means no file held covers that period: the platform did "
        "not publish one, or it has not been collected."
    )
    published = queries.published_periods(handle)
    status = queries.source_status(handle)
    if published.empty and status.empty:
        ui.explain_empty("The database holds no source yet: run `takedowns refresh`.")
        return
    ui.chart(charts.coverage_timeline(tables.coverage_bars(published)), key="coverage-chart")
    st.markdown("**Figures per source and year** (· = nothing held for that year)")
    st.dataframe(tables.coverage_by_year(published), key="coverage-grid")

    st.subheader("Sources")
    st.dataframe(
        status[["source", "platform", "title", "homepage", "cadence", "documents", "figures", "notices",
                "first_period_start", "last_period_end", "last_checked_at", "last_run_status", "last_run_message", "notes"]],
        hide_index=True, key="sources-table",
        column_config={
            "homepage": st.column_config.LinkColumn("report page"),
            "last_checked_at": st.column_config.DatetimeColumn("last fetched", format="YYYY-MM-DD HH:mm"),
            "first_period_start": "first period from", "last_period_end": "last period to",
        },
    )  # fmt: skip

    st.subheader("Original files")
    docs = queries.documents(handle)
    st.caption("Every file fetched or imported. The SHA-256 identifies the exact bytes; the archive path is the local copy.")
    ui.source_table(docs, ["source", "source_link", "origin", "fetched_at", "published_as_of", "document_sha256", "size", "figures",
                           "members", "archive_path", "document_id"],
                    labels={"document_sha256": "SHA-256", "size": "bytes"}, key="documents-table")  # fmt: skip
    ui.downloads(docs, "takedowns-documents", key="documents")

    st.subheader("Data-quality warnings")
    warnings = queries.data_warnings(handle)
    unknown = queries.unknown_country_names(handle)
    if warnings.empty and unknown.empty:
        st.caption("No warnings were recorded.")
    else:
        counts = warnings.groupby(["source", "kind"]).size().reset_index(name="warnings") if not warnings.empty else warnings
        left, right = st.columns([1, 2])
        with left:
            st.dataframe(counts, hide_index=True, key="warning-counts")
        with right:
            kinds = sorted(warnings.kind.unique()) if not warnings.empty else []
            picked = st.multiselect("Kinds", kinds, key="warning-kinds", placeholder="All kinds")
            shown = warnings[warnings.kind.isin(picked)] if picked else warnings
            ui.source_table(shown, ["source", "kind", "detail", "member", "row_number"], key="warnings-table", height=320)
        ui.downloads(warnings, "takedowns-warnings", key="warnings")
        if not unknown.empty:
            st.markdown("**Country names kept without an ISO code**")
            ui.source_table(unknown, ["source", "country_name", "figures", "first_period", "last_period"], key="unknown-table")
    ui.cite(lambda: tables.citation(docs.assign(source_title=docs.source, period_label=None), "Files held in this database"),
            key="coverage")  # fmt: skip


render()
