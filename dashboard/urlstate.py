"""Filters kept in the URL, so a copied link reopens the same view.

Each run: `begin()` notes whether the URL changed since we last wrote it (a
fresh load, a pasted link, a page link carrying ?country=VN). Only then are
widget values seeded from it, and only with values found in the known sets
passed in (taken from the database): anything else in the URL is ignored and
disappears at the end of the run, when `commit()` writes back exactly the
filters in force. URL values are compared with the known sets and never
reach SQL themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

_WRITTEN = "_url_written"  # the parameters this session last put in the URL
_CHANGED = "_url_changed"  # this run: the URL differs from what we wrote
_NEXT = "_url_next"  # this run: the parameters to write back
_GLOBAL = "_url_global"  # this run: the sidebar's parameters (kept across pages)


def _current() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params.keys()}


def begin() -> None:
    st.session_state[_CHANGED] = _current() != st.session_state.get(_WRITTEN)
    st.session_state[_NEXT] = {}
    st.session_state[_GLOBAL] = {}


def choice(key: str, param: str, options: Sequence, default) -> None:
    """Set st.session_state[key] for a single-choice widget: URL value if known, else kept, else default."""
    options = list(options)
    if st.session_state.get(_CHANGED) and param in st.query_params:
        raw = st.query_params.get(param)
        if raw in options:
            st.session_state[key] = raw
    if key not in st.session_state or st.session_state[key] not in options:
        st.session_state[key] = default


def choices(key: str, param: str, options: Sequence, default: Sequence) -> None:
    """The same for a multi-choice widget: the known values among the URL's, in option order."""
    options = list(options)
    if st.session_state.get(_CHANGED) and param in st.query_params:
        wanted = set(st.query_params.get_all(param))
        valid = [o for o in options if o in wanted]
        if valid:
            st.session_state[key] = valid
    current = st.session_state.get(key)
    if not isinstance(current, list) or any(v not in options for v in current):
        st.session_state[key] = [v for v in default if v in options]


def span(key: str, params: tuple[str, str], options: Sequence, default: tuple) -> tuple[str, tuple]:
    """(widget key, initial value) for a (from, to) range slider seeded from two URL parameters.

    A range slider's value cannot be set through Session State without being
    read back as a single value, so a new URL gives the slider a fresh key
    and its value as the initial one; otherwise the slider keeps its state.
    """
    options = list(options)
    seed_key = f"_seed_{key}"
    counter, value = st.session_state.get(seed_key, (0, tuple(default)))
    seeding = st.session_state.get(_CHANGED) and any(p in st.query_params for p in params)
    if seeding:
        picked = list(value if all(v in options for v in value) else default)
        for index, param in enumerate(params):
            raw = st.query_params.get(param)
            if raw in options:
                picked[index] = raw
        if options.index(picked[0]) > options.index(picked[1]):
            picked.reverse()
        if tuple(picked) != value:
            counter, value = counter + 1, tuple(picked)
    if not all(v in options for v in value):  # the database changed under us
        counter, value = counter + 1, tuple(default)
    st.session_state[seed_key] = (counter, value)
    return f"{key}-{counter}", value


def keep(param: str, value, default=None, *, sidebar: bool = False) -> None:
    """Put param=value in the URL at the end of the run (left out when it equals the default)."""
    if value is None or value == default or value == [] or value == "":
        return
    if isinstance(value, tuple):
        value = list(value)
    st.session_state[_NEXT][param] = value
    if sidebar:
        st.session_state[_GLOBAL][param] = value


def link_params(**page_params) -> dict:
    """Query parameters for a link to another page: the sidebar's, plus the page's own."""
    params = dict(st.session_state.get(_GLOBAL, {}))
    params.update({k: v for k, v in page_params.items() if v is not None})
    return params


def commit() -> None:
    wanted = {k: (list(v) if isinstance(v, list) else [str(v)]) for k, v in st.session_state.get(_NEXT, {}).items()}
    if _current() != wanted:
        st.query_params.from_dict(wanted)
    st.session_state[_WRITTEN] = wanted


def switch_page(page: str, **page_params) -> None:
    """Open another page with the sidebar's filters and the page's own parameters."""
    st.session_state[_WRITTEN] = None  # the next run must read the new URL
    st.switch_page(page, query_params=link_params(**page_params))
