"""The one place that talks to the network (or stands in for it).

`HttpSession` is polite by default: it names the project in its User-Agent,
waits between requests to one host, retries transient failures with backoff
(honouring Retry-After), asks for an unchanged file with ETag/Last-Modified
so it is not downloaded again, and refuses bodies over a size limit.
`MirrorSession` reads `DIR/<host>/<path>` instead, for offline runs and tests.
Both return `Document`s and check that the body is the kind of file expected,
so an HTML error page served with status 200 never reaches a parser.
"""

from __future__ import annotations

import email.utils
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests

from . import PROJECT_URL, __version__
from .formats import looks_like_html
from .models import Document, FetchError

USER_AGENT = f"takedowns/{__version__} (+{PROJECT_URL}; transparency-report research)"


@dataclass(frozen=True)
class Known:
    """What we hold of a URL from an earlier fetch (for conditional GET)."""

    etag: str | None
    last_modified: str | None
    sha256: str


@dataclass
class HttpConfig:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 3
    backoff: float = 2.0  # seconds, doubled each retry
    max_retry_after: float = 300.0  # longer waits fail rather than stall a refresh
    host_delay: float = 1.0  # seconds between requests to one host
    max_bytes: int = 200 * 1024 * 1024
    max_redirects: int = 10
    total_deadline: float = 600.0  # one URL, all retries included
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


def mirror_relpath(url: str) -> str:
    """`https://host/a/b?q=1` -> `host/a/b` (the query is ignored)."""
    parts = urllib.parse.urlsplit(url)
    path = urllib.parse.unquote(parts.path).lstrip("/")
    if not parts.hostname:
        raise FetchError(f"{url}: not an absolute URL")
    rel = f"{parts.hostname}/{path}" if path else parts.hostname
    if ".." in rel.split("/"):
        raise FetchError(f"{url}: path cannot be mapped into a mirror")
    return rel


def check_body(url: str, body: bytes, expect: str | None, content_type: str | None = None) -> None:
    """Refuse a body that is not the kind of file the source expects."""
    if expect is None:
        return
    if not body:
        raise FetchError(f"{url}: empty response, expected a {expect} file")
    if expect == "zip":
        if not body.startswith(b"PK\x03\x04") and not body.startswith(b"PK\x05\x06"):
            got = "an HTML page" if looks_like_html(body) else f"{body[:16]!r}…"
            raise FetchError(f"{url}: expected a zip file but got {got}")
    elif expect == "pdf":
        if not body.lstrip()[:5] == b"%PDF-":
            raise FetchError(f"{url}: expected a PDF but got {body[:16]!r}…")
    elif expect == "html":
        if not looks_like_html(body) and b"<table" not in body[:200000].lower():
            raise FetchError(f"{url}: expected an HTML page but got {body[:16]!r}…")
    elif expect in ("csv", "markdown", "text"):
        if looks_like_html(body):
            raise FetchError(f"{url}: expected a {expect} file but got an HTML page (an error or login page?)")
    elif expect == "json":
        try:
            json.loads(body)
        except (ValueError, RecursionError) as exc:  # RecursionError: arrays nested thousands deep
            got = "an HTML page" if looks_like_html(body) else "invalid JSON"
            raise FetchError(f"{url}: expected JSON but got {got}") from exc
    else:
        raise ValueError(f"unknown expected kind {expect!r}")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdecimal():  # isdigit() admits "²", which float() refuses
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class HttpSession:
    """Polite HTTP GETs returning Documents."""

    def __init__(
        self,
        config: HttpConfig | None = None,
        *,
        known: dict[str, Known] | None = None,
        load_archived: Callable[[str], bytes] | None = None,
        rewrite: Callable[[str], str] | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.config = config or HttpConfig()
        self.known = known or {}
        self.load_archived = load_archived
        self.rewrite = rewrite
        self._last_request: dict[str, float] = {}
        self._session = requests.Session()
        self._session.max_redirects = self.config.max_redirects
        self._session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"})
        # Extra headers (e.g. a future API token) are sent but never recorded.
        self._session.headers.update(headers or {})

    def close(self) -> None:
        self._session.close()

    def _wait_for_host(self, host: str) -> None:
        last = self._last_request.get(host)
        if last is not None:
            gap = self.config.host_delay - (time.monotonic() - last)
            if gap > 0:
                self.config.sleep(gap)
        self._last_request[host] = time.monotonic()

    def get(self, url: str, *, expect: str | None = None, conditional: bool = True) -> Document:
        target = self.rewrite(url) if self.rewrite else url
        host = urllib.parse.urlsplit(target).netloc
        known = self.known.get(url) if conditional and self.load_archived else None
        headers = {}
        if known and known.etag:
            headers["If-None-Match"] = known.etag
        if known and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        cfg = self.config
        deadline = time.monotonic() + cfg.total_deadline
        attempt = 0
        while True:
            attempt += 1
            self._wait_for_host(host)
            problem, wait = None, None
            try:
                resp = self._session.get(
                    target, headers=headers, timeout=(cfg.connect_timeout, cfg.read_timeout), stream=True
                )
            except requests.TooManyRedirects as exc:
                raise FetchError(f"{url}: too many redirects ({exc})") from exc
            except (requests.ConnectionError, requests.Timeout) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                try:
                    if resp.status_code == 304 and known:
                        return Document(
                            url=url,
                            body=self.load_archived(known.sha256),
                            fetched_at=datetime.now(timezone.utc),
                            http_status=304,
                            etag=resp.headers.get("ETag", known.etag),
                            last_modified=resp.headers.get("Last-Modified", known.last_modified),
                            content_type=resp.headers.get("Content-Type"),
                            not_modified=True,
                        )
                    if resp.status_code == 429 or resp.status_code >= 500:
                        problem = f"HTTP {resp.status_code}"
                        wait = _retry_after(resp.headers.get("Retry-After"))
                        if wait is not None and wait > cfg.max_retry_after:
                            raise FetchError(f"{url}: HTTP {resp.status_code}, server asks to wait {wait:.0f}s (over {cfg.max_retry_after:.0f}s)")
                    elif resp.status_code != 200:
                        raise FetchError(f"{url}: HTTP {resp.status_code} {resp.reason or ''}".rstrip())
                    else:
                        body = self._read_body(url, resp)
                        check_body(url, body, expect, resp.headers.get("Content-Type"))
                        return Document(
                            url=url,
                            body=body,
                            fetched_at=datetime.now(timezone.utc),
                            http_status=200,
                            etag=resp.headers.get("ETag"),
                            last_modified=resp.headers.get("Last-Modified"),
                            content_type=resp.headers.get("Content-Type"),
                        )
                except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                    problem = f"connection broke while reading: {type(exc).__name__}"
                finally:
                    resp.close()
            if attempt > cfg.retries:
                raise FetchError(f"{url}: gave up after {attempt} attempts: {problem}")
            delay = wait if wait is not None else cfg.backoff * (2 ** (attempt - 1))
            if time.monotonic() + delay > deadline:
                raise FetchError(f"{url}: gave up (deadline) after {attempt} attempts: {problem}")
            cfg.sleep(delay)

    def _read_body(self, url: str, resp: requests.Response) -> bytes:
        limit = self.config.max_bytes
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdecimal() and int(declared) > limit:
            raise FetchError(f"{url}: file is {int(declared)} bytes, over the size limit of {limit}")
        chunks, size = [], 0
        for chunk in resp.iter_content(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise FetchError(f"{url}: body passed the size limit of {limit} bytes; download stopped")
            chunks.append(chunk)
        return b"".join(chunks)


class MirrorSession:
    """Reads `root/<host>/<path>` in place of `https://<host>/<path>`."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FetchError(f"mirror folder {root} does not exist")

    def close(self) -> None:
        pass

    def get(self, url: str, *, expect: str | None = None, conditional: bool = True) -> Document:
        path = (self.root / mirror_relpath(url)).resolve()
        if self.root not in path.parents:
            raise FetchError(f"{url}: maps outside the mirror folder")
        if not path.is_file():
            raise FetchError(f"{url}: not in the mirror (looked for {path})")
        body = path.read_bytes()
        check_body(url, body, expect)
        return Document(url=url, body=body, fetched_at=datetime.now(timezone.utc), http_status=None, origin="mirror")


def rewrite_to_base(base: str) -> Callable[[str], str]:
    """For `--mirror-url BASE`: fetch `BASE/<host>/<path>` over real HTTP."""
    base = base.rstrip("/") + "/"

    def rewrite(url: str) -> str:
        return base + urllib.parse.quote(mirror_relpath(url))

    return rewrite
