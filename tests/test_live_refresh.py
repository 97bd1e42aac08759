"""Whole refreshes over real HTTP against a local server on 127.0.0.1.

The server serves ../shared/mirror/latest at /<host>/<path>, with ETags, so
the real session code (discovery, conditional GET, retries) runs end to end.
"""

from __future__ import annotations

import duckdb
import pytest
from click.testing import CliRunner

from scrapers.cli import main
from scrapers.http import mirror_relpath
from scrapers.sources import tiktok
from tests.conftest import shared_path
from tests.localserver import Fault, LocalServer

TIKTOK_PAGE = "https://www.tiktok.com/transparency/en/government-removals-report"
TIKTOK_CSV = tiktok.SPEC.urls[0]


@pytest.fixture
def server():
    with LocalServer(shared_path("mirror", "latest")) as srv:
        yield srv


def refresh(db_path, server, *slugs):
    return CliRunner().invoke(
        main, ["refresh", *slugs, "--db", str(db_path), "--mirror-url", server.base, "--host-delay", "0"]
    )


def test_tiktok_discovers_the_csv_from_the_report_page(server, db_path):
    # The report page is not in the mirror: this stand-in (typed for the test)
    # links the real CSV the way the page does.
    page = f'<!DOCTYPE html><html><body><a href="{TIKTOK_CSV}">Download</a></body></html>'.encode()
    server.add_fault(mirror_relpath(TIKTOK_PAGE), Fault("status", 200, body=page))
    res = refresh(db_path, server, "tiktok")
    assert res.exit_code == 0, res.output
    assert "falling back" not in res.output
    fetched = [p for p, _ in server.requests]
    assert fetched[0] == mirror_relpath(TIKTOK_PAGE) and mirror_relpath(TIKTOK_CSV) in fetched
    con = duckdb.connect(str(db_path), read_only=True)
    # Vietnam, Jul-Dec 2025: 505 requests received.
    assert con.execute(
        """SELECT value FROM observations WHERE source = 'tiktok' AND country_code = 'VN'
           AND period_label = '2025-H2' AND metric = 'requests'"""
    ).fetchone() == (505.0,)
    assert con.execute("SELECT url FROM documents WHERE source = 'tiktok'").fetchall() == [(TIKTOK_CSV,)]


def test_tiktok_falls_back_to_known_url_and_says_so(server, db_path):
    res = refresh(db_path, server, "tiktok")
    assert res.exit_code == 0, res.output
    assert "falling back to the known address" in res.output.replace("\n", " ")


def test_gov_takedowns_discovery_and_conditional_refetch(server, db_path):
    res = refresh(db_path, server, "github-notices")
    assert res.exit_code == 0, res.output
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("SELECT count(*) FROM notices").fetchone()[0] == 109
    assert con.execute("SELECT count(DISTINCT agency) FROM notices WHERE agency ILIKE '%roskomnadzor%'").fetchone()[0] == 1
    con.close()
    first = len(server.requests)
    res = refresh(db_path, server, "github-notices")
    assert res.exit_code == 0 and "unchanged" in res.output, res.output
    again = server.requests[first:]
    # Every notice is asked for again with its ETag, and nothing is re-downloaded.
    assert len(again) == first and all("If-None-Match" in headers for _, headers in again)


def test_a_source_failing_over_http_does_not_stop_the_others(server, db_path):
    google_rel = "storage.googleapis.com/transparencyreport/google-government-removals.zip"
    server.add_fault(google_rel, *[Fault("status", 503, headers={"Retry-After": "0"})] * 10)
    res = CliRunner().invoke(
        main, ["refresh", "google", "github-takedowns", "--db", str(db_path), "--mirror-url", server.base,
               "--host-delay", "0"],
    )  # fmt: skip
    assert res.exit_code == 1
    out = res.output.replace("\n", " ")
    assert "failed google" in out and "HTTP 503" in out and "google-government-removals.zip" in out
    assert "loaded github-takedowns" in out
