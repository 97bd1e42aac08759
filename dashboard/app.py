"""The takedowns dashboard: a router over the pages and the shared sidebar.

Run with `takedowns dashboard` (binds 127.0.0.1, no usage statistics). The
database path comes from $TAKEDOWNS_DB; it is opened read-only, and reopened
when a refresh swaps a new file in.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path; the pages
# import the `dashboard` package, so its parent must be importable too.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from dashboard import filters, ui, urlstate  # noqa: E402

st.set_page_config(page_title="takedowns: government removal demands", layout="wide")

PAGES = [
    st.Page("views/world.py", title="World map", url_path="world", default=True),
    st.Page("views/country.py", title="Country profile", url_path="country"),
    st.Page("views/compare.py", title="Compare", url_path="compare"),
    st.Page("views/claims.py", title="Claims vs reports", url_path="claims"),
    st.Page("views/revisions.py", title="Revisions", url_path="revisions"),
    st.Page("views/coverage.py", title="Coverage and sources", url_path="coverage"),
]

urlstate.begin()
page = st.navigation(PAGES)
with st.sidebar:
    ui.preload_charts()
handle = ui.require_db()
if handle is not None:
    filters.sidebar(handle)
    with st.sidebar:
        st.caption(
            f"Database: {Path(handle.path).name}, file of "
            f"{datetime.fromtimestamp(handle.token[1] / 1e9):%Y-%m-%d %H:%M}. "
            "Every figure is as the platform published it; nothing here leaves this computer."
        )
    page.run()
    urlstate.commit()
