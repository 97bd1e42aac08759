"""The raw archive: every fetched body stored once, named by its sha256.

Paths come from the hash only (never from a URL or a zip member name), and a
file is written to a temporary name and renamed, so a crash or a full disk
never leaves a half-written file under a real name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from .models import TakedownsError


class ArchiveError(TakedownsError):
    pass


class Archive:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ArchiveError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, body: bytes) -> str:
        sha = hashlib.sha256(body).hexdigest()
        path = self.path_for(sha)
        if path.exists() and path.stat().st_size == len(body):
            return sha
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(body)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise ArchiveError(f"cannot store a {len(body)}-byte file in the archive at {self.root}: {exc.strerror or exc}") from exc
        return sha

    def discard_incomplete(self) -> int:
        """Remove temporary files a killed refresh left behind (never read, but
        they take space). Call only while holding the refresh lock."""
        stale = list(self.root.glob("*/.incoming-*")) if self.root.is_dir() else []
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def get(self, sha256: str) -> bytes:
        path = self.path_for(sha256)
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise ArchiveError(f"archived file {sha256} is missing from {self.root}") from exc
        if hashlib.sha256(body).hexdigest() != sha256:
            raise ArchiveError(f"archived file {path} is corrupt (hash mismatch)")
        return body

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()
