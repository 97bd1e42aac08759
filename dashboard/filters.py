"""The sidebar's filters, shared by every page: platforms and a span of half-years."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from dashboard import queries, tables, urlstate
from dashboard.db import Database

_STATE = "_filters"


@dataclass(frozen=True)
class Filters:
    platforms: list[str]  # chosen platforms (never empty: empty means all)
    all_platforms: list[str]
    first_label: str  # e.g. "2019-H1"
    last_label: str
    start: date  # first day of first_label
    end: date  # last day of last_label

    @property
    def span_text(self) -> str:
        return self.first_label if self.first_label == self.last_label else f"{self.first_label} to {self.last_label}"


def sidebar(db: Database) -> Filters:
    cat = queries.catalog(db)
    held = cat["platforms"]
    platforms = held.platform.tolist()
    if held.empty:
        options = [tables.half_year_label(date.today())]
    else:
        options = tables.half_year_options(min(held.first_start), max(held.last_end))
    # An empty choice means every platform (and keeps the box short).
    urlstate.choices("platforms", "platform", platforms, [])
    span_key, span_value = urlstate.span("span", ("from", "to"), options, (options[0], options[-1]))
    with st.sidebar:
        st.markdown("### Filters")
        chosen = st.multiselect(
            "Platforms", platforms, key="platforms", placeholder="All platforms",
            help="Platforms whose reports are held in this database. None chosen means all.",
        )  # fmt: skip
        if len(options) > 1:
            first, last = st.select_slider(
                "Periods", options=options, key=span_key, value=span_value,
                help="Only figures for periods lying wholly inside this span are shown: a yearly figure "
                "counts only when its whole year is inside.",
            )  # fmt: skip
        else:
            first = last = options[0]
        st.caption(f"Showing periods from the start of {first} to the end of {last}.")
    urlstate.keep("platform", chosen, [], sidebar=True)
    chosen = chosen or platforms
    urlstate.keep("from", first, options[0], sidebar=True)
    urlstate.keep("to", last, options[-1], sidebar=True)
    start, end = tables.range_bounds(first, last)
    filters = Filters(chosen, platforms, first, last, start, end)
    st.session_state[_STATE] = filters
    return filters


def current() -> Filters:
    """The filters app.py set up this run (built here if a page runs on its own)."""
    if _STATE not in st.session_state:
        from dashboard import db

        handle = db.current()
        if handle is None:
            raise RuntimeError("no database")
        urlstate.begin()
        return sidebar(handle)
    return st.session_state[_STATE]
