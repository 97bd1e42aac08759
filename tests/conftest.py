"""Shared test fixtures: paths to ../shared (real published files), documents
built from them, a temporary database, and a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from scrapers.models import Document

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or skip the test with a clear message."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real published data not found at {path} (clone the project beside its shared/ folder)")
    return path


def document_from(path: Path, url: str, **kw) -> Document:
    return Document(url=url, body=Path(path).read_bytes(), fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc), **kw)


def mirror_document(edition: str, url: str, **kw) -> Document:
    """The Document a fetch of `url` would give from ../shared/mirror/<edition>."""
    from scrapers.http import mirror_relpath

    return document_from(shared_path("mirror", edition, mirror_relpath(url)), url, **kw)


def copy_database(template: Path, db_path: Path) -> Path:
    """A private copy of a database built once (its folder: the file and its archive)."""
    shutil.copytree(template.parent, db_path.parent)
    return db_path


@pytest.fixture(scope="session")
def google_latest_template(tmp_path_factory) -> Path:
    """A database holding Google's latest edition, built once per session; copy it with copy_database."""
    from scrapers import pipeline

    db_path = tmp_path_factory.mktemp("google-latest") / "data" / "takedowns.duckdb"
    result = pipeline.refresh(db_path, ["google"], mirror=shared_path("mirror", "latest"))[0]
    assert result.status == "loaded", result.message
    return db_path


@pytest.fixture
def shared_dir() -> Path:
    return shared_path()


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "data" / "takedowns.duckdb"
