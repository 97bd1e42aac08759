"""A local HTTP server on 127.0.0.1 that serves a mirror folder like the real
hosts (`/<host>/<path>`), with ETags, and plays scripted faults on demand.

Tests never touch the internet: the live code path (HttpSession with retries,
conditional GET, size limits) runs against this server through
`--mirror-url http://127.0.0.1:PORT/`.
"""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Fault:
    """One scripted response. kind: status, reset, slow, drip, html, redirect_loop, huge,
    or gate (hold the request until `gate` is set, then serve the file as usual)."""

    kind: str
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    seconds: float = 0.0
    gate: threading.Event | None = None


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "takedowns-test"

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):  # noqa: N802 - http.server's naming
        srv: LocalServer = self.server.owner  # type: ignore[attr-defined]
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        srv.requests.append((path, dict(self.headers)))
        faults = srv.faults.get(path)
        if faults:
            fault = faults.pop(0)
            if fault.kind != "gate":
                return self._play(fault, path)
            fault.gate.wait(fault.seconds or 60)
        file = (srv.root / path).resolve()
        if srv.root not in file.parents or not file.is_file():
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = file.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", "Mon, 01 Jun 2026 00:00:00 GMT")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _play(self, fault: Fault, path: str):
        if fault.kind == "reset":
            # Promise a body, send part of it, then drop the connection.
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"PK\x03\x04" + b"x" * 100)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault.kind == "slow":
            time.sleep(fault.seconds)
        if fault.kind == "redirect_loop":
            self.send_response(302)
            self.send_header("Location", "/" + path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if fault.kind == "huge":
            self.send_response(200)
            self.end_headers()  # no Content-Length: the client must count
            chunk = b"PK\x03\x04" + b"\0" * 65532
            try:
                for _ in range(int(fault.seconds) or 64):
                    self.wfile.write(chunk)
            except OSError:
                pass
            return
        self.send_response(fault.status)
        for k, v in fault.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(fault.body)))
        self.end_headers()
        if fault.kind == "drip":
            try:
                for i in range(len(fault.body)):
                    self.wfile.write(fault.body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(fault.seconds)
            except OSError:
                pass
            return
        self.wfile.write(fault.body)


class LocalServer:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.requests: list[tuple[str, dict]] = []
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def add_fault(self, relpath: str, *faults: Fault) -> None:
        self.faults[relpath].extend(faults)

    def __enter__(self) -> "LocalServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
