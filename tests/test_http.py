"""The live fetching path against a local server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import pytest

from scrapers.http import HttpConfig, HttpSession, Known, MirrorSession, check_body, mirror_relpath, rewrite_to_base
from scrapers.models import FetchError
from scrapers.sources import google
from tests.conftest import shared_path
from tests.localserver import Fault, LocalServer

GOOGLE_REL = mirror_relpath(google.URL)


@pytest.fixture
def server():
    with LocalServer(shared_path("mirror", "latest")) as srv:
        yield srv


def session_for(srv, known=None, archive=None, **cfg):
    sleeps = []
    settings = {"host_delay": 0, "backoff": 0.01, "read_timeout": 2, "connect_timeout": 2, **cfg}
    config = HttpConfig(sleep=sleeps.append, **settings)
    s = HttpSession(config, known=known, load_archived=archive, rewrite=rewrite_to_base(srv.base))
    s.sleeps = sleeps
    return s


def test_mirror_relpath_ignores_query_and_unquotes():
    assert mirror_relpath("https://h.example/a%5Bb/c.csv?x=1") == "h.example/a[b/c.csv"
    with pytest.raises(FetchError):
        mirror_relpath("https://h.example/../etc/passwd")


def test_fetch_names_project_and_records_validators(server):
    doc = session_for(server).get(google.URL, expect="zip")
    assert doc.http_status == 200 and doc.etag and doc.body.startswith(b"PK")
    assert doc.url == google.URL  # provenance keeps the real URL, not the test server's
    _, headers = server.requests[-1]
    assert headers["User-Agent"].startswith("takedowns/")


def test_unchanged_file_is_not_downloaded_again(server):
    first = session_for(server).get(google.URL, expect="zip")
    known = {google.URL: Known(first.etag, first.last_modified, first.sha256)}
    second = session_for(server, known=known, archive=lambda sha: first.body).get(google.URL, expect="zip")
    assert second.not_modified and second.http_status == 304
    assert second.sha256 == first.sha256
    assert server.requests[-1][1]["If-None-Match"] == first.etag


def test_503_then_success_is_retried(server):
    server.add_fault(GOOGLE_REL, Fault("status", 503), Fault("status", 503))
    s = session_for(server)
    doc = s.get(google.URL, expect="zip")
    assert doc.http_status == 200
    assert len(s.sleeps) == 2


def test_429_honours_retry_after(server):
    server.add_fault(GOOGLE_REL, Fault("status", 429, headers={"Retry-After": "7"}))
    s = session_for(server)
    s.get(google.URL, expect="zip")
    assert s.sleeps == [7.0]


def test_retry_after_too_long_fails_clearly(server):
    server.add_fault(GOOGLE_REL, Fault("status", 429, headers={"Retry-After": "86400"}))
    with pytest.raises(FetchError, match="wait 86400s"):
        session_for(server).get(google.URL, expect="zip")


def test_persistent_500_gives_up_naming_the_url(server):
    server.add_fault(GOOGLE_REL, *[Fault("status", 500)] * 5)
    with pytest.raises(FetchError, match=r"google-government-removals\.zip: gave up after 4 attempts: HTTP 500"):
        session_for(server).get(google.URL, expect="zip")


def test_read_timeout_is_retried_then_reported(server):
    server.add_fault(GOOGLE_REL, *[Fault("slow", seconds=1.5)] * 2)
    with pytest.raises(FetchError, match="gave up after 2 attempts"):
        session_for(server, retries=1, read_timeout=0.5).get(google.URL, expect="zip")


def test_timeout_then_success(server):
    server.add_fault(GOOGLE_REL, Fault("slow", seconds=1.5))
    doc = session_for(server, read_timeout=0.5).get(google.URL, expect="zip")
    assert doc.http_status == 200


def test_connection_reset_mid_body_is_retried(server):
    server.add_fault(GOOGLE_REL, Fault("reset"))
    doc = session_for(server).get(google.URL, expect="zip")
    assert doc.body.startswith(b"PK") and len(doc.body) > 100000


def test_slow_drip_hits_deadline(server):
    server.add_fault(GOOGLE_REL, *[Fault("drip", body=b"PK\x03\x04" + b"x" * 200, seconds=0.05)] * 3)
    with pytest.raises(FetchError, match="gave up"):
        session_for(server, retries=0, read_timeout=0.02).get(google.URL, expect="zip")


def test_html_error_page_with_status_200_is_refused(server):
    server.add_fault(GOOGLE_REL, Fault("status", 200, body=b"<!DOCTYPE html><html><body>Sign in</body></html>"))
    with pytest.raises(FetchError, match="expected a zip file but got an HTML page"):
        session_for(server).get(google.URL, expect="zip")


def test_redirect_loop_fails_clearly(server):
    server.add_fault(GOOGLE_REL, *[Fault("redirect_loop")] * 20)
    with pytest.raises(FetchError, match="too many redirects"):
        session_for(server).get(google.URL, expect="zip")


def test_body_over_size_limit_is_stopped(server):
    server.add_fault(GOOGLE_REL, Fault("huge", seconds=64))
    with pytest.raises(FetchError, match="size limit"):
        session_for(server, max_bytes=1_000_000, retries=0).get(google.URL, expect="zip")


def test_declared_length_over_limit_is_refused_before_download(server):
    with pytest.raises(FetchError, match="over the size limit"):
        session_for(server, max_bytes=1000).get(google.URL, expect="zip")


def test_404_is_not_retried(server):
    s = session_for(server)
    with pytest.raises(FetchError, match="HTTP 404"):
        s.get("https://storage.googleapis.com/nothing-here.zip", expect="zip")
    assert s.sleeps == []


def test_connection_refused_is_reported():
    config = HttpConfig(host_delay=0, backoff=0.01, retries=1, sleep=lambda s: None)
    s = HttpSession(config, rewrite=rewrite_to_base("http://127.0.0.1:9/"))
    with pytest.raises(FetchError, match="gave up after 2 attempts: ConnectionError"):
        s.get(google.URL, expect="zip")


def test_host_delay_spaces_requests(server):
    s = session_for(server)
    s.config.host_delay = 5.0
    s.get(google.URL, expect="zip")
    s.get(google.URL, expect="zip")
    assert len(s.sleeps) == 1 and 4.0 < s.sleeps[0] <= 5.0


def test_check_body_kinds():
    check_body("u", b"PK\x03\x04rest", "zip")
    check_body("u", b"a,b\n1,2\n", "csv")
    check_body("u", b'{"tree": []}', "json")
    for body, kind in [(b"<html>", "csv"), (b"not json", "json"), (b"", "csv"), (b"%PDF", "zip"), (b"abc", "pdf")]:
        with pytest.raises(FetchError, match="u: "):
            check_body("u", body, kind)


def test_mirror_session_reads_host_path_layout():
    s = MirrorSession(shared_path("mirror", "latest"))
    doc = s.get(google.URL + "?v=2", expect="zip")
    assert doc.origin == "mirror" and doc.body.startswith(b"PK")
    with pytest.raises(FetchError, match="not in the mirror"):
        s.get("https://example.org/missing.csv")
