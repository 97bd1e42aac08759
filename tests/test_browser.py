"""The dashboard in a real browser (Debian's chromium via Playwright), on 127.0.0.1 only.

Checks that the map draws from the locally served outlines, that no request
leaves the machine, and a user's journey: a country's profile from a link,
a change of period, a CSV download. Screenshots of every page (1400 px wide)
go to screenshots/ for a person to look at.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from tests.test_dashboard import google_db  # noqa: F401  (the session's test database, built once)

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "screenshots"
LOCAL = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "ws://localhost", "data:", "blob:", "about:")


@pytest.fixture(scope="module")
def server(google_db):  # noqa: F811
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    from dashboard import serve

    with serve.running(google_db) as url:  # as `takedowns dashboard` starts it, on a free port
        yield url


@pytest.fixture(scope="module")
def browser_page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.requests_seen = []
        page.on("request", lambda request: page.requests_seen.append(request.url))
        page.on("websocket", lambda ws: page.requests_seen.append(ws.url))
        yield page
        browser.close()


def _open(page, url: str) -> float:
    started = time.time()
    page.goto(url)
    _settle(page)
    return time.time() - started


def _settle(page) -> None:
    page.wait_for_selector("[data-testid=stApp]", timeout=30_000)
    time.sleep(0.5)
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=60_000)
    time.sleep(0.5)


def _screenshot(page, name: str) -> None:
    """The whole page at 1400 px wide (the viewport grows to the content, then shrinks back)."""
    SHOTS.mkdir(exist_ok=True)
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=stMainBlockContainer]'); return m ? m.scrollHeight + 160 : 1000 }"
    )
    page.set_viewport_size({"width": 1400, "height": max(1000, min(int(height), 8000))})
    time.sleep(1.5)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})


def _assert_local(page) -> None:
    outside = [u for u in page.requests_seen if not u.startswith(LOCAL)]
    assert not outside, f"requests left 127.0.0.1: {outside}"


def test_world_map_draws_offline(server, browser_page):
    page = browser_page
    seconds = _open(page, server + "/")
    page.wait_for_function("() => document.querySelectorAll('.choroplethlayer path').length > 80", timeout=30_000)
    drawn = page.evaluate("() => document.querySelectorAll('.choroplethlayer path').length")
    assert drawn > 80
    assert any("/app/static/topojson/world_110m.json" in u for u in page.requests_seen)
    assert page.locator("[data-testid=stException]").count() == 0
    _screenshot(page, "world")
    _assert_local(page)
    print(f"world page ready in {seconds:.1f}s, {drawn} country paths")


# The centre of a country's outline on screen (plotly.js binds each path's location code to it as __data__.loc).
_COUNTRY_CENTRE = """(alpha3) => {
  const path = [...document.querySelectorAll('.choroplethlayer path')].find(p => p.__data__ && p.__data__.loc === alpha3);
  const box = path.getBoundingClientRect();
  return {x: box.x + box.width / 2, y: box.y + box.height / 2};
}"""


def test_clicking_a_country_on_the_map_opens_its_profile(server, browser_page):
    page = browser_page
    _open(page, server + "/?period=2023-H1")
    page.wait_for_function("() => document.querySelectorAll('.choroplethlayer path').length > 80", timeout=30_000)
    centre = page.evaluate(_COUNTRY_CENTRE, "BRA")  # a compact shape: the middle of its box is inside it
    page.mouse.click(centre["x"], centre["y"])
    page.wait_for_url("**/country?country=BR*", timeout=30_000)
    _settle(page)
    assert page.get_by_test_id("stHeading").filter(has_text="Brazil").count() >= 1
    _assert_local(page)


def test_every_page_renders_locally(server, browser_page):
    page = browser_page
    for path, name in [("compare?countries=VN&countries=RU&countries=TR", "compare"), ("claims", "claims"),
                       ("revisions", "revisions"), ("coverage", "coverage")]:  # fmt: skip
        seconds = _open(page, f"{server}/{path}")
        assert page.locator("[data-testid=stException]").count() == 0, path
        _screenshot(page, name)
        print(f"{name} ready in {seconds:.1f}s")
    _assert_local(page)


# The y values plotly.js drew (the figure sends them as a typed array; _fullData holds them decoded).
_DRAWN_Y = "(i) => Array.from(document.querySelectorAll('.js-plotly-plot')[i]._fullData[0].y)"


def _chart_y(page, index: int = 0) -> list:
    return page.evaluate(_DRAWN_Y, index)


def test_country_journey(server, browser_page, tmp_path):
    page = browser_page
    seconds = _open(page, f"{server}/country?country=VN&from=2022-H1&to=2023-H1")
    print(f"country page ready in {seconds:.1f}s")
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    summary = page.get_by_test_id("stMarkdownContainer").filter(has_text="removal requests").first.inner_text()
    assert "370" in summary and "2023-H1" in summary
    before = _chart_y(page)
    assert 370 in before

    # Move the end of the period one half-year on with the keyboard, as a user would.
    page.locator('[data-testid=stSidebar] input[type=range][aria-label="Periods — end"]').focus()
    page.keyboard.press("ArrowRight")
    _settle(page)
    assert "to=2023-H2" in page.url
    page.wait_for_function(f"() => ({_DRAWN_Y})(0).includes(417)", timeout=30_000)
    after = _chart_y(page)
    assert after != before and 417 in after
    summary = page.get_by_test_id("stMarkdownContainer").filter(has_text="removal requests").first.inner_text()
    assert "417" in summary and "2023-H2" in summary
    _screenshot(page, "country")

    # The data behind the charts, as CSV.
    button = page.locator("[data-testid=stDownloadButton] button", has_text="Download CSV").last
    with page.expect_download() as info:
        button.click()
    target = tmp_path / "vn.csv"
    info.value.save_as(target)
    rows = pd.read_csv(target)
    assert {"source_url", "document_ids", "document_sha256", "fetched_at", "figure"} <= set(rows.columns)
    requests = rows[(rows.metric == "requests") & (rows.platform == "Google")].set_index("period_label").value
    assert requests["2023-H1"] == 370 and requests["2023-H2"] == 417
    assert set(rows.country_code) == {"VN"}
    _assert_local(page)
