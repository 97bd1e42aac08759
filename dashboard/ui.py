"""Layout pieces every page uses: charts, downloads, the "cite this" block, source tables, empty states."""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from dashboard import charts
from dashboard import db as database
from dashboard import queries
from dashboard.db import Database
from dashboard.tables import md_escape
from scrapers import store


# The summaries every load rebuilds (scrapers/store.py DERIVED), which the pages read.
SUMMARIES = tuple(re.findall(r"CREATE OR REPLACE TABLE (\w+) AS", " ".join(store.DERIVED)))


def require_db() -> Database | None:
    """The database, or an explanation of how to make one (the page then shows nothing else)."""
    handle = database.current()
    if handle is None:
        st.error(
            f"No database at {database.database_path()}. Build one with `takedowns refresh` "
            "(or `takedowns refresh --mirror DIR` offline), then reload this page."
        )
        return None
    missing = queries.missing_tables(handle, SUMMARIES)
    if missing:
        st.error(
            f"The database at {database.database_path()} was built by an earlier version of takedowns and lacks "
            f"the summaries {', '.join(missing)}. Run `takedowns refresh` once (it rebuilds them; unchanged "
            "reports are not downloaded again), then reload this page."
        )
        return None
    return handle


# Figures are drawn by the dashboard's own small Plotly bundle (scatter, bar and
# choropleth: dashboard/static/plotly/build.sh) instead of st.plotly_chart, whose
# full 4.7 MB Plotly takes this machine's browser over a second to start before
# the first chart draws. Served from 127.0.0.1 like the map's outlines.
PLOTLY_BUNDLE = "/app/static/plotly/plotly-takedowns.min.js"


@functools.cache
def _chart_component():
    script = (Path(__file__).resolve().parent / "chart.js").read_text(encoding="utf-8")
    # Not style-isolated: Plotly's hover labels and toolbar are styled from the page's head.
    return st.components.v2.component("takedowns_chart", js=script, isolate_styles=False)


def preload_charts() -> None:
    """Have the browser load Plotly with the page's first elements, before any chart needs it (mount this first)."""
    _chart_component()(key="plotly-preload", data={"bundle": PLOTLY_BUNDLE, "preload": True}, height=0)


def chart(fig: go.Figure, key: str, clickable: bool = False) -> dict | None:
    """Draw a figure; when clickable, return the clicked point ({"customdata", "location"}) on the run after a click."""
    result = _chart_component()(
        key=key,
        data={
            "figure": pio.to_json(fig, validate=False),
            "config": {**charts.PLOTLY_CONFIG, "responsive": True},
            "bundle": PLOTLY_BUNDLE,
            "height": fig.layout.height,
            "clickable": clickable,
        },
        height="content",
        on_clicked_change=lambda: None,
    )
    return result.get("clicked") if clickable else None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "data"


def for_download(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists and other objects made plain so CSV and Parquet agree cell for cell."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(lambda v: " ".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
    return out


def downloads(frame: pd.DataFrame | Callable[[], pd.DataFrame], name: str, key: str, rows: int | None = None) -> None:
    """CSV and Parquet of exactly the rows behind a view, provenance columns included.

    The files are written when a button is clicked, not on every run of the
    page; `frame` may be a function making the rows then (give `rows`, their count).
    """
    if frame is None:
        return
    make = frame if callable(frame) else (lambda: frame)
    rows = len(frame) if rows is None else rows
    if not rows:
        return
    row = st.container(horizontal=True)
    row.download_button(
        f"Download CSV ({rows:,} rows)", lambda: for_download(make()).to_csv(index=False).encode("utf-8"),
        file_name=f"{_slug(name)}.csv", mime="text/csv", key=f"{key}-csv", on_click="ignore",
    )  # fmt: skip
    row.download_button(
        "Download Parquet", lambda: _parquet(make()), file_name=f"{_slug(name)}.parquet",
        mime="application/vnd.apache.parquet", key=f"{key}-parquet", on_click="ignore",
    )  # fmt: skip


def _parquet(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    for_download(frame).to_parquet(out, index=False)
    return out.getvalue()


def cite(text: Callable[[], str], key: str) -> None:
    """The "cite this" paragraph, written only when its expander is opened."""
    box = folded("Cite this", key=f"cite-{key}")
    if box is not None:
        with box:
            st.caption("Sources, periods and retrieval dates of every figure in this view, in one paragraph:")
            st.code(text(), language=None, wrap_lines=True)


def folded(label: str, key: str):
    """A collapsed expander whose contents are built only once it is open (opening it reruns the page).

    Returns the container when open, else None: closed, nothing inside is
    computed or sent to the browser (st.code, for one, loads a large script).
    """
    box = st.expander(label, key=key, on_change="rerun")
    return box if box.open else None


def first_url(value) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value.split(" ")[0]


def source_table(frame: pd.DataFrame, columns: list[str], labels: dict[str, str] | None = None,
                 key: str | None = None, height: int | str = "auto") -> None:  # fmt: skip
    """A table with a link to the source file of each figure."""
    if frame.empty:
        return
    shown = frame.copy()
    if "source_url" in shown:
        shown["source_link"] = shown.source_url.map(first_url)
    config = {
        "source_link": st.column_config.LinkColumn("source file", display_text=r"https?://[^/]+/(?:.*/)?([^/?#]+)"),
        "source_homepage": st.column_config.LinkColumn("report page"),
        "homepage": st.column_config.LinkColumn("report page"),
        "fetched_at": st.column_config.DatetimeColumn("retrieved", format="YYYY-MM-DD HH:mm"),
    }
    for column, label in (labels or {}).items():
        config.setdefault(column, st.column_config.Column(label))
    shown_columns = [c for c in columns if c in shown.columns]
    if "source_link" in shown and "source_link" not in shown_columns:
        # Right after the figure, so the link is in view without scrolling sideways.
        anchor = next((c for c in ("figure", "new_figure", "value_text", "detail") if c in shown_columns), None)
        at = shown_columns.index(anchor) + 1 if anchor else len(shown_columns)
        shown_columns.insert(at, "source_link")
    st.dataframe(shown[shown_columns], hide_index=True, column_config=config, key=key, height=height)


def explain_empty(message: str, details: list[str] | None = None) -> None:
    body = message
    if details:
        body += "\n\n" + "\n".join(f"- {md_escape(line)}" for line in details)
    st.info(body)
