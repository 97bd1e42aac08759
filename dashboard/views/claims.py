"""Claims vs reports: what governments said they had removed, beside what platforms reported."""

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
    st.title("Government claims and platform reports")
    st.caption(
        "Governments sometimes announce how much they had platforms remove. Their figures count other things, over "
        "other periods, than the platforms' reports do, so each series says what it counts and over what span; "
        "claims are diamonds on solid lines, platform figures circles on dotted lines. Nothing is added across them."
    )
    all_claims = queries.government_claims(handle, None)
    if all_claims.empty:
        ui.explain_empty("No government claims are loaded (they come from the curated claims file with `takedowns refresh`).")
        return
    codes = sorted(c for c in all_claims.country_code.dropna().unique())
    default = "VN" if "VN" in codes else codes[0]
    urlstate.choice("claims_country", "country", codes, default)
    code = st.selectbox("Country", codes, key="claims_country", format_func=lambda c: f"{country_label(c)} ({c})")
    urlstate.keep("country", code, default)
    name = country_label(code)

    all_country_claims = tables.claims_for_timeline(queries.government_claims(handle, code))
    counts = all_country_claims.platform.value_counts()
    about_options = counts.index.tolist()
    urlstate.choice("claims_about", "about", about_options, about_options[0])
    controls = st.columns([3, 1])
    about = controls[0].selectbox(
        "Claims about", about_options, key="claims_about", format_func=lambda p: f"{p} ({counts[p]} claims)",
        help="Claims name a service; the chart sets beside them the figures of the platform that reports on it "
        "(YouTube is in Google's report).",
    )  # fmt: skip
    urlstate.keep("about", about, about_options[0])
    log_axis = controls[1].toggle("Logarithmic count axis", value=True, key="claims_log",
                                  help="Claims and reports differ by orders of magnitude; a log axis keeps both readable. "
                                  "Zeros cannot be drawn on it (they are in the tables).")  # fmt: skip
    claims = all_country_claims[all_country_claims.platform == about]
    reporters = tables.reporters_for_claims(about, f.platforms)
    series = tables.with_figure_text(queries.country_series(handle, code, reporters, f.start, f.end)) if reporters else None
    youtube = (queries.product_requests(handle, code, "Google", "YouTube", f.start, f.end)
               if "Google" in reporters and about.lower() in ("youtube", "all platforms", "cross border platforms") else None)  # fmt: skip
    reports = tables.reports_for_timeline(series if series is not None else pd.DataFrame(), youtube)
    ui.chart(charts.claims_timeline(claims, reports, log_counts=log_axis), key="claims-chart")
    if reports.empty:
        st.caption(f"No figure for {name} in {f.span_text} from {', '.join(reporters) or 'a chosen platform reporting on ' + about} "
                   "to set beside these claims (see Coverage for which reports are held).")
    else:
        st.caption(
            "Each segment spans the period a figure covers. Google's counts of requests naming YouTube add up "
            "requests over reasons, so one request giving two reasons counts twice."
        )

    st.subheader("Contradictions and doubts")
    contradictions = tables.claim_contradictions(all_country_claims)
    if contradictions.empty:
        st.caption("No two claims held for this country contradict each other by the rules used here.")
    else:
        st.caption(
            "Claims that cannot all be true (a shorter period claiming more than a longer one containing it, or "
            "different figures for the same period), and claims the curator marked doubtful or unsure."
        )
        st.dataframe(
            contradictions, hide_index=True, key="contradictions",
            column_config={"source_url_a": st.column_config.LinkColumn("source A"),
                           "source_url_b": st.column_config.LinkColumn("source B")},
        )  # fmt: skip

    st.subheader("Every claim, with its source")
    table = all_country_claims.assign(what=[tables.claim_unit(r) for r in all_country_claims.to_dict("records")])
    ui.source_table(
        table, ["claimant", "period_start", "period_end", "platform", "what", "value_text", "qualifier", "note", "source_title"],
        labels={"value_text": "figure as claimed", "what": "what was claimed", "source_title": "source"}, key="claims-all",
    )  # fmt: skip
    ui.downloads(table.drop(columns=["hover"], errors="ignore"), f"claims-{code}", key="claims")
    if not reports.empty:
        box = ui.folded("The platform figures in the chart", key="claims-reports-open")
        if box is not None:
            with box:
                ui.source_table(reports, ["series", "period_label", "figure", "value", "value_low", "value_high"],
                                labels={"period_label": "period"}, key="claims-reports")  # fmt: skip
                ui.downloads(reports.drop(columns=["hover"], errors="ignore"), f"reports-beside-claims-{code}", key="claims-reports")
    ui.cite(lambda: _citation(table, reports, name, f.span_text), key="claims")


def _citation(claims: pd.DataFrame, reports: pd.DataFrame, name: str, span_text: str) -> str:
    cited = claims.assign(period_label=claims.period_end.astype(str), fetched_at=None)
    text = tables.citation(cited, f"Government claims about removals in {name}")
    if not reports.empty:
        text += " " + tables.citation(reports, f"Platform figures for {name}, {span_text}")
    return text


render()
