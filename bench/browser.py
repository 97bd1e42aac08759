"""Seconds from navigation to each page's first chart, in headless Chromium.

"Navigation" is a fresh load of the page's URL in a new tab: a new Streamlit
session, nothing of the page in the browser's memory, the clock started when
the URL is requested. The server is already listening (started with
`python -m dashboard.serve`, which imports Streamlit, Plotly and the dashboard
before it listens, so neither server start-up nor those imports are counted),
and it was started afresh for the measurement: no query result is cached, so
each page pays for its own queries (the filter catalogue, shared by all, is
paid by the first page measured).

Two browsers are measured:
- `returning` (the target): a Chromium profile that has opened every page of
  this dashboard twice before, as anyone who uses it more than once has. Its
  HTTP cache and compiled-script cache hold Streamlit's scripts and the
  dashboard's Plotly bundle (1.4 MB); on a server restart they stay valid (same files).
  Its figure per page is the median of RETURNING_RUNS rounds of visits, each
  round on a server started afresh.
- `first_visit`: a new profile with nothing cached, the very first visit (one round).

"First chart" is the page's first Plotly chart with its traces drawn (for the
world map: country shapes drawn from the locally served outlines).

`python bench/browser.py DB` prints both as one JSON line; without DB, the floor
(a page with one small chart and nothing else, measured the same way).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import serve  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
VIEWPORT = {"width": 1400, "height": 1000}

# (page, URL path, what counts as its first chart drawn)
CARTESIAN = ".js-plotly-plot .main-svg .cartesianlayer .trace"
PAGES = [
    ("world", "", ".js-plotly-plot .choroplethlayer path"),  # the default page lives at / ("/world" is "page not found")
    ("country", "country?country=VN", CARTESIAN),
    ("compare", "compare", CARTESIAN),
    ("claims", "claims", CARTESIAN),
    ("revisions", "revisions", CARTESIAN),
    ("coverage", "coverage", CARTESIAN),
]
RUN_DONE = "[data-testid=stApp][data-test-script-state=notRunning]"


def missing() -> str | None:
    """Why the browser figures cannot be measured here, or None."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright not installed (pip install playwright)"
    return None


def _visit(context, url: str, selector: str, timeout_s: float) -> float | None:
    """Open url in a new tab; seconds until selector is in the page (None: not within timeout_s)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = context.new_page()
    try:
        started = time.perf_counter()
        page.goto(url, wait_until="commit")
        try:
            page.wait_for_selector(selector, state="attached", timeout=timeout_s * 1000)
            seconds = round(time.perf_counter() - started, 2)
        except PlaywrightTimeout:
            seconds = None
        try:  # let the run finish, so it does not overlap the next page's
            page.wait_for_selector(RUN_DONE, timeout=timeout_s * 1000)
        except PlaywrightTimeout:
            pass
        return seconds
    finally:
        page.close()


# The returning browser's figure per page is the median of this many visits,
# each after a server restart: one visit on a shared machine can be off by a second.
RETURNING_RUNS = 3


def _median(seconds: list[float | None]) -> float | None:
    """The median visit; None (not drawn in time) counts as the slowest."""
    ordered = sorted(seconds, key=lambda s: float("inf") if s is None else s)
    return ordered[len(ordered) // 2]


def first_chart_seconds(db_path: str | Path | None, pages=PAGES, timeout_s: float = 60,
                        app: Path = serve.APP) -> dict[str, dict[str, float | None]]:  # fmt: skip
    """{"returning": {page: s}, "first_visit": {page: s}} for the dashboard serving db_path (see the module doc)."""
    from playwright.sync_api import sync_playwright

    port = serve.free_port()  # one port throughout: the browser's cache is kept per origin
    out: dict[str, dict[str, float | None]] = {}
    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="takedowns-chromium-") as profile:
        returning = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                         viewport=VIEWPORT)  # fmt: skip
        try:
            with serve.running(db_path, port, app=app) as url:
                for _ in range(2):  # a user who has been here before
                    for _, path, selector in pages:
                        _visit(returning, f"{url}/{path}", selector, timeout_s)
            runs = []
            for _ in range(RETURNING_RUNS):  # each on a server started afresh: no query result cached
                with serve.running(db_path, port, app=app) as url:
                    runs.append({name: _visit(returning, f"{url}/{path}", selector, timeout_s)
                                 for name, path, selector in pages})  # fmt: skip
            out["returning"] = {name: _median([run[name] for run in runs]) for name, _, _ in pages}
        finally:
            returning.close()
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            with serve.running(db_path, port, app=app) as url:
                out["first_visit"] = {}
                for name, path, selector in pages:
                    context = browser.new_context(viewport=VIEWPORT)  # nothing cached
                    out["first_visit"][name] = _visit(context, f"{url}/{path}", selector, timeout_s)
                    context.close()
        finally:
            browser.close()
    return out


# The floor: a page holding nothing but a title and a three-point chart, served
# and measured the same way: drawn as the dashboard draws its charts (ui.chart,
# the dashboard's own Plotly bundle), and with Streamlit's st.plotly_chart (its
# full 4.7 MB Plotly), which the dashboard used before. What Streamlit, Plotly
# and this machine cost before any page of ours does anything.
FLOOR_APPS = {
    "ui_chart": """import plotly.graph_objects as go
import streamlit as st

from dashboard import ui

with st.sidebar:
    ui.preload_charts()
st.title("One chart")
ui.chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])), key="one")
""",
    "st_plotly_chart": """import plotly.graph_objects as go
import streamlit as st

st.title("One chart")
st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])))
""",
}


def floor_seconds(timeout_s: float = 60) -> dict[str, dict[str, float | None]]:
    """{"ui_chart": {"returning": s, "first_visit": s}, "st_plotly_chart": {...}} for the one-chart pages."""
    out = {}
    for name, source in FLOOR_APPS.items():
        with tempfile.TemporaryDirectory(prefix="takedowns-floor-") as folder:
            app = Path(folder) / "app.py"
            app.write_text(source)
            (Path(folder) / "static").symlink_to(serve.APP.parent / "static")  # the bundle, served as for the dashboard
            seconds = first_chart_seconds(None, [("one_chart", "", CARTESIAN)], timeout_s, app=app)
        out[name] = {kind: pages["one_chart"] for kind, pages in seconds.items()}
    return out


if __name__ == "__main__":
    reason = missing()
    if reason:
        print(json.dumps({"first_chart_s": None, "message": reason}))
        sys.exit(0)
    print(json.dumps(first_chart_seconds(sys.argv[1]) if len(sys.argv) > 1 else {"floor": floor_seconds()}))
