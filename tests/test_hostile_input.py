"""Hostile and broken inputs through the whole pipeline: nothing lost, nothing injected.

Each case goes through `pipeline.refresh` (with a mirror folder) or
`pipeline.import_file` into a copy of a database that already holds real data
(Google, TikTok, GitHub counts and notices, one DSA file). A broken input must
fail with the documented error (a message naming the file and what was
expected) and leave every figure as it was; a merely odd one (another
encoding, reordered columns, a repeated row) must give the same figures.

The damaged files are built here from the real ones in ../shared; the
made-up ones are in tests/hostile (synthetic_*).
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from scrapers import formats, pipeline
from scrapers.http import HttpConfig, HttpSession, mirror_relpath, rewrite_to_base
from scrapers.models import Document, observations_in
from scrapers.sources import github_notices, github_takedowns, google, tiktok
from tests.conftest import copy_database, shared_path
from tests.dbreader import STATE_QUERIES
from tests.hostile import build
from tests.localserver import Fault, LocalServer

HOSTILE = Path(__file__).resolve().parent / "hostile"
DETAILED = "google-government-removals/google-government-detailed-removal-requests.csv"
SUMMARY = "google-government-removals/google-government-removal-requests.csv"
TIKTOK_URL = tiktok.KNOWN_CSV_URLS[0]
TIKTOK_NAME = TIKTOK_URL.rsplit("/", 1)[-1]
DSA_NAME = "tiktok-2025H2-3_member_states_orders.csv"


# --------------------------------------------------------------------------
# A database holding real data, and ways to feed it files
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _loaded_template(google_latest_template, tmp_path_factory):
    db = copy_database(google_latest_template, tmp_path_factory.mktemp("hostile") / "data" / "takedowns.duckdb")
    for result in pipeline.refresh(db, ["tiktok", "github-takedowns", "github-notices"], mirror=shared_path("mirror", "latest")):
        assert result.status == "loaded", result.message
    # Import-only sources registered (as a refresh does), so a failed import changes no table.
    for result in pipeline.refresh(db, ["twitter-removals", "facebook-government-report", "x-global-report"]):
        assert result.status == "skipped", result.message
    result = pipeline.import_file(db, shared_path("archive", "dsa-orders", DSA_NAME), "dsa-orders")
    assert result.status == "loaded", result.message
    return db


@pytest.fixture
def db(_loaded_template, tmp_path):
    return copy_database(_loaded_template, tmp_path / "data" / "takedowns.duckdb")


def data_state(db_path: Path) -> dict:
    """Every data table's rows (as a count and a hash of all rows); the run log aside."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return {t: con.execute(sql).fetchone() for t, sql in STATE_QUERIES.items() if t != "runs"}
    finally:
        con.close()


def figures(db_path: Path, source: str) -> tuple:
    """A source's figures whatever file they came from: count, and a hash of (key, value)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(
            """SELECT count(*), sum(hash(concat_ws(chr(31), source, dataset, platform, country_key, period_start,
                                                   period_end, requester, product, reason, metric),
                                         value, value_low, value_high, value_text))
               FROM observation_rows WHERE source = ?""",
            [source],
        ).fetchone()
    finally:
        con.close()


def refresh_google(db_path: Path, tmp_path: Path, body: bytes):
    root = tmp_path / "mirror"
    target = root / mirror_relpath(google.URL)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    return pipeline.refresh(db_path, ["google"], mirror=root)[0]


def import_bytes(db_path: Path, tmp_path: Path, name: str, body: bytes, slug: str):
    path = tmp_path / "incoming" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return pipeline.import_file(db_path, path, slug)


def assert_refused(result, db_path: Path, before: dict, *expected: str) -> None:
    """The documented failure: the source fails, the message says what and where, nothing changed."""
    assert result.status == "failed", f"expected a failure, got {result.status}: {result.message}"
    message = " ".join(result.message.split())
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"
    assert "unexpected error" not in message  # a documented error, not a contained crash
    assert data_state(db_path) == before


def real(*parts: str) -> bytes:
    return shared_path(*parts).read_bytes()


def google_zip(edition: str = "latest") -> bytes:
    return real("mirror", edition, mirror_relpath(google.URL))


def rezip(body: bytes, change: dict[str, bytes | None] | None = None, rename: dict[str, str] | None = None) -> bytes:
    """The zip with some members replaced (None: removed) or renamed."""
    change, rename = change or {}, rename or {}
    src = zipfile.ZipFile(io.BytesIO(body))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            data = change.get(info.filename, src.read(info))
            if data is not None:
                # A ZipInfo, not a name: writestr("") itself trips on an empty name.
                zf.writestr(zipfile.ZipInfo(rename.get(info.filename, info.filename), info.date_time), data,
                            compress_type=zipfile.ZIP_DEFLATED)  # fmt: skip
    return out.getvalue()


def google_member(name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(google_zip())).read(name)


def csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(formats.decode_text(body, "test"))))


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


# --------------------------------------------------------------------------
# Zips: truncated, damaged, bombs, too many members, path traversal
# --------------------------------------------------------------------------


TRUNCATIONS = {
    "first-100-bytes": lambda size: 100,
    "half": lambda size: size // 2,
    "end-of-central-directory-cut": lambda size: size - 22,  # the last record, 22 bytes, cut off
}


@pytest.mark.parametrize("cut", list(TRUNCATIONS))
def test_truncated_zip(db, tmp_path, cut):
    body = google_zip()
    before = data_state(db)
    result = refresh_google(db, tmp_path, body[: TRUNCATIONS[cut](len(body))])
    assert_refused(result, db, before, google.URL, "not a readable zip file", "may be truncated")


def test_zip_member_with_damaged_compressed_data(db, tmp_path):
    body = bytearray(google_zip())
    info = zipfile.ZipFile(io.BytesIO(bytes(body))).getinfo(DETAILED)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    body[start : start + 64] = bytes(64)  # deflate data zeroed: an invalid block, or a bad CRC
    before = data_state(db)
    result = refresh_google(db, tmp_path, bytes(body))
    assert_refused(result, db, before, google.URL, f"zip member {DETAILED!r} cannot be read")


def test_zip_claiming_an_unsupported_version_is_refused(db, tmp_path):
    body = bytearray(google_zip())
    central = body.index(b"PK\x01\x02")
    body[central + 6] = 220  # "version needed to extract": 22.0 (zipfile reads up to 6.3)
    before = data_state(db)
    result = refresh_google(db, tmp_path, bytes(body))
    assert_refused(result, db, before, google.URL, "not a readable zip file (zip file version 22.0)")


def test_zip_member_with_an_empty_name_is_refused(db, tmp_path):
    body = rezip(google_zip(), rename={SUMMARY: ""})
    before = data_state(db)
    result = refresh_google(db, tmp_path, body)
    assert_refused(result, db, before, google.URL, "zip has a member with an empty name")


def test_zip_bomb_is_refused_by_its_declared_size(db, tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "MAX_MEMBER_BYTES", 1024 * 1024)  # the bomb inflates to 4 MiB
    before = data_state(db)
    result = refresh_google(db, tmp_path, (HOSTILE / "synthetic_zip_bomb.zip").read_bytes())
    assert_refused(result, db, before, google.URL, f"zip member {build.GOOGLE_MEMBER!r} would expand to {build.BOMB_BYTES} bytes, over the limit")


def test_real_zip_over_a_lowered_member_limit_is_refused(db, tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "MAX_MEMBER_BYTES", 100_000)  # Google's members are 233 kB and 1 MB
    before = data_state(db)
    # Re-zipped: new bytes, so not skipped as the edition already loaded.
    result = refresh_google(db, tmp_path, rezip(google_zip()))
    assert_refused(result, db, before, google.URL, "would expand to", "over the limit")


def test_zip_bomb_that_lies_about_its_size_never_inflates_past_the_lie(db, tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "MAX_MEMBER_BYTES", 1024 * 1024)
    before = data_state(db)
    result = refresh_google(db, tmp_path, (HOSTILE / "synthetic_zip_bomb_lying_size.zip").read_bytes())
    # zipfile stops at the declared 1,000 bytes and the checksum of those fails.
    assert_refused(result, db, before, google.URL, f"zip member {build.GOOGLE_MEMBER!r} cannot be read", "Bad CRC-32")


def test_zip_expanding_past_the_total_limit_is_refused(db, tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "MAX_TOTAL_BYTES", 1_100_000)  # each member fits, both together do not
    before = data_state(db)
    result = refresh_google(db, tmp_path, rezip(google_zip()))
    assert_refused(result, db, before, google.URL, "zip expands past the limit of 1100000 bytes")


def test_zip_with_too_many_members_is_refused(db, tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "MAX_MEMBERS", 50)
    before = data_state(db)
    result = refresh_google(db, tmp_path, (HOSTILE / "synthetic_zip_many_members.zip").read_bytes())
    assert_refused(result, db, before, google.URL, "zip holds 60 files, more than the limit of 50")


def _tree(root: Path) -> set[str]:
    return {str(p) for p in root.rglob("*")} if root.exists() else set()


def test_zip_member_names_with_traversal_are_only_labels(db, tmp_path):
    escape = f"takedowns-zip-slip-{os.getpid()}"
    hostile = {
        SUMMARY: f"../../../../../../../../tmp/{escape}/google-government-removal-requests.csv",
        DETAILED: f"/tmp/{escape}-abs/google-government-detailed-removal-requests.csv",
    }
    body = rezip(google_zip(), rename=hostile)
    assert set(hostile.values()) <= set(zipfile.ZipFile(io.BytesIO(body)).namelist())
    before_figures = figures(db, "google")
    result = refresh_google(db, tmp_path, body)
    # The names are read as labels: the figures load as from the real zip...
    assert result.status == "loaded" and result.revisions == 0, result.message
    assert figures(db, "google") == before_figures
    con = duckdb.connect(str(db), read_only=True)
    members = con.execute("SELECT members FROM documents WHERE sha256 = ?", [Document(google.URL, body, None).sha256]).fetchone()[0]
    stored = {r[0] for r in con.execute("SELECT DISTINCT member FROM observation_rows WHERE source = 'google'").fetchall()}
    con.close()
    assert set(hostile.values()) <= set(members) and set(hostile.values()) == stored
    # ...and nothing was written where a name points, whichever folder it is taken from...
    for root in (Path.cwd(), db.parent, pipeline.archive_for(db).root, tmp_path):
        for name in hostile.values():
            assert not (root / name).resolve().parent.exists(), name
    # ...nor anywhere in this test's folder but the mirror, the database and the archive (by hash).
    archive = pipeline.archive_for(db).root
    for path in tmp_path.rglob("*"):
        if path.is_dir() or path.is_relative_to(tmp_path / "mirror"):
            continue
        if path.is_relative_to(archive):
            assert re.fullmatch(r"[0-9a-f]{64}", path.name) and path.parent.name == path.name[:2], path
        else:
            assert path.parent == db.parent and path.name.startswith(db.name), path


# --------------------------------------------------------------------------
# Encodings and byte-order marks
# --------------------------------------------------------------------------


def figure_tuples(slug: str, url: str, body: bytes) -> list[tuple]:
    from scrapers.sources import SOURCES

    doc = Document(url=url, body=body, fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    return [
        (o.dataset, o.country_name, o.country_code, o.period_start, o.period_end, o.metric, o.value, o.value_low,
         o.value_high, o.value_text, o.requester, o.reason, o.is_total, o.row)
        for o in observations_in(SOURCES[slug].parse(doc))
    ]  # fmt: skip


ENCODED_SOURCES = {
    "tiktok": (TIKTOK_URL, ("mirror", "latest", mirror_relpath(TIKTOK_URL))),
    "github-takedowns": (
        github_takedowns.PROCESSED_BY_HALF,
        ("mirror", "latest", mirror_relpath(github_takedowns.PROCESSED_BY_HALF)),
    ),
    "facebook-government-report": (  # country names in Chinese: only Unicode encodings can carry them
        "file:Facebook-Government-Report-2014-H1.csv",
        ("archive", "facebook-government-report", "Facebook-Government-Report-2014-H1.csv"),
    ),
}
def _toggle_line_endings(text: str) -> bytes:
    lf = text.replace("\r\n", "\n")
    return (lf if lf != text else lf.replace("\n", "\r\n")).encode("utf-8")


# Each turns the real file's text into other bytes (the decoded text: original.decode("utf-8-sig")).
ENCODINGS = {
    "utf-8-bom-toggled": None,  # added where the file has none, removed where it has one
    "line-endings-toggled": _toggle_line_endings,  # CRLF <-> LF
    "utf-16-le-bom": lambda text: b"\xff\xfe" + text.encode("utf-16-le"),
    "utf-16-be-bom": lambda text: b"\xfe\xff" + text.encode("utf-16-be"),
    "windows-1252": lambda text: text.encode("cp1252"),  # Latin-1 as Excel writes it (TikTok has a ’)
}
ENCODING_CASES = [
    (slug, enc) for slug in ENCODED_SOURCES for enc in ENCODINGS
    # GitHub's file is plain ASCII (the same bytes in Windows-1252); Facebook's Chinese has no Windows-1252.
    if (slug, enc) not in {("github-takedowns", "windows-1252"), ("facebook-government-report", "windows-1252")}
]  # fmt: skip


@pytest.mark.parametrize("slug, encoding", ENCODING_CASES, ids=[f"{s}-{e}" for s, e in ENCODING_CASES])
def test_other_encodings_give_the_same_figures(slug, encoding):
    url, parts = ENCODED_SOURCES[slug]
    original = real(*parts)
    text = original.decode("utf-8-sig")
    if encoding == "utf-8-bom-toggled":
        converted = text.encode("utf-8") if original.startswith(b"\xef\xbb\xbf") else b"\xef\xbb\xbf" + original
    else:
        converted = ENCODINGS[encoding](text)
    assert converted != original
    expected = figure_tuples(slug, url, original)
    assert expected and figure_tuples(slug, url, converted) == expected


def test_a_utf16_file_imports_with_the_same_figures(db, tmp_path):
    before = figures(db, "tiktok")
    body = ENCODINGS["utf-16-le-bom"](real(*ENCODED_SOURCES["tiktok"][1]).decode("utf-8"))
    result = import_bytes(db, tmp_path, TIKTOK_NAME, body, "tiktok")
    assert result.status == "loaded" and result.revisions == 0, result.message
    assert figures(db, "tiktok") == before


@pytest.mark.parametrize(
    "case, expected",
    [
        ("utf-16-no-bom", "text contains NUL bytes"),
        ("utf-32-bom", "text contains NUL bytes"),
        ("utf-16-truncated", "text starts with a UTF-16 byte-order mark but is not valid UTF-16"),
    ],
)
def test_undecodable_text_is_refused(db, tmp_path, case, expected):
    text = real(*ENCODED_SOURCES["tiktok"][1]).decode("utf-8")
    body = {
        "utf-16-no-bom": lambda: text.encode("utf-16-le"),
        "utf-32-bom": lambda: text.encode("utf-32"),
        "utf-16-truncated": lambda: (HOSTILE / "synthetic_utf16_truncated.csv").read_bytes(),
    }[case]()
    before = data_state(db)
    result = import_bytes(db, tmp_path, TIKTOK_NAME, body, "tiktok")
    assert_refused(result, db, before, TIKTOK_URL, expected)


# --------------------------------------------------------------------------
# Header drift: renamed, added, removed, reordered columns
# --------------------------------------------------------------------------


def rename_column(rows, old, new):
    return [[new if c == old else c for c in rows[0]]] + rows[1:]


def remove_column(rows, name):
    i = rows[0].index(name)
    return [r[:i] + r[i + 1 :] for r in rows]


def add_column(rows, name):
    return [rows[0] + [name]] + [r + ["x"] for r in rows[1:]]


def reorder_columns(rows):
    width = len(rows[0])
    order = list(range(width))[::-1]
    return [[(r + [""] * (width - len(r)))[i] for i in order] for r in rows]


# source -> (a required column, the canonical name a missing one is reported under)
DRIFT = {
    "google": ("Product", "product"),
    "tiktok": ("metric_name", "metric_name"),
    "github-takedowns": ("count_processed", "count_processed"),
    "dsa-orders": ("Scope", "scope"),
}
DRIFT_CASES = [(slug, kind) for slug in DRIFT for kind in ("renamed", "removed", "added", "reordered")]


def drifted(slug: str, kind: str) -> tuple[str, bytes]:
    """(where the file goes, its drifted bytes), from the real file."""
    column = DRIFT[slug][0]
    original = {
        "google": lambda: google_member(DETAILED),
        "tiktok": lambda: real(*ENCODED_SOURCES["tiktok"][1]),
        "github-takedowns": lambda: real(*ENCODED_SOURCES["github-takedowns"][1]),
        "dsa-orders": lambda: real("archive", "dsa-orders", DSA_NAME),
    }[slug]()
    rows = csv_rows(original)
    rows = {
        "renamed": lambda: rename_column(rows, column, column + " (renamed)"),
        "removed": lambda: remove_column(rows, column),
        "added": lambda: add_column(rows, "Notes"),
        "reordered": lambda: reorder_columns(rows),
    }[kind]()
    return slug, csv_bytes(rows)


def load_drifted(db, tmp_path, slug, body):
    if slug == "google":
        return refresh_google(db, tmp_path, rezip(google_zip(), {DETAILED: body})), google.URL
    name = {"tiktok": TIKTOK_NAME, "github-takedowns": github_takedowns.PROCESSED_BY_HALF.rsplit("/", 1)[-1],
            "dsa-orders": DSA_NAME}[slug]  # fmt: skip
    url = {"tiktok": TIKTOK_URL, "github-takedowns": github_takedowns.PROCESSED_BY_HALF, "dsa-orders": "file:" + DSA_NAME}[slug]
    return import_bytes(db, tmp_path, name, body, slug), url


@pytest.mark.parametrize("slug, kind", DRIFT_CASES, ids=[f"{s}-{k}" for s, k in DRIFT_CASES])
def test_header_drift(db, tmp_path, slug, kind):
    _, body = drifted(slug, kind)
    column, canonical = DRIFT[slug]
    before, before_figures = data_state(db), figures(db, slug)
    result, url = load_drifted(db, tmp_path, slug, body)
    if kind == "reordered":
        # Columns are found by name: the same figures, no revision.
        assert result.status == "loaded" and result.revisions == 0, result.message
        assert figures(db, slug) == before_figures
    elif kind == "added":
        assert_refused(result, db, before, url, "header changed: unexpected column(s) ['Notes']")
    else:
        assert_refused(result, db, before, url, f"header changed: missing column {canonical} (as {column!r})")


# --------------------------------------------------------------------------
# Duplicate rows, bad counts, empty files
# --------------------------------------------------------------------------

RECEIVED = github_takedowns.RECEIVED_BY_YEAR
RECEIVED_NAME = RECEIVED.rsplit("/", 1)[-1]


def github_received() -> list[str]:
    return real("mirror", "latest", mirror_relpath(RECEIVED)).decode().rstrip("\n").split("\n")


def test_identical_duplicate_row_is_kept_once_and_reported(db, tmp_path):
    lines = github_received()
    before_figures = figures(db, "github-takedowns")
    body = ("\n".join(lines + [lines[5]]) + "\n").encode()
    result = import_bytes(db, tmp_path, RECEIVED_NAME, body, "github-takedowns")
    assert result.status == "loaded" and result.revisions == 0, result.message
    assert figures(db, "github-takedowns") == before_figures
    con = duckdb.connect(str(db), read_only=True)
    found = con.execute(
        "SELECT detail, row_number FROM warnings WHERE source = 'github-takedowns' AND kind = 'duplicate_row'"
    ).fetchall()
    con.close()
    assert found == [(f"repeats row 6 of {RECEIVED_NAME}", len(lines) + 1)]


@pytest.mark.parametrize("slug", ["github-takedowns", "tiktok"])
def test_conflicting_duplicate_row_is_refused_naming_both_rows(db, tmp_path, slug):
    if slug == "github-takedowns":
        lines, name, url = github_received(), RECEIVED_NAME, RECEIVED
        row = 6
        cells = lines[row - 1].split(",")
        cells[-1] = str(int(cells[-1]) + 1)
    else:
        lines, name, url = real(*ENCODED_SOURCES["tiktok"][1]).decode().rstrip("\n").split("\n"), TIKTOK_NAME, TIKTOK_URL
        row = 2
        cells = next(csv.reader([lines[row - 1]]))
        cells[12] = str(float(cells[12]) + 1)  # result
    conflicting = io.StringIO()
    csv.writer(conflicting, lineterminator="").writerow(cells)
    body = ("\n".join(lines + [conflicting.getvalue()]) + "\n").encode()
    before = data_state(db)
    result = import_bytes(db, tmp_path, name, body, slug)
    assert_refused(result, db, before, url, f"rows {row} and {len(lines) + 1} give two values")


BAD_COUNTS = {
    "-5": "negative value: '-5'",
    "2.5": "not a whole number: '2.5'",
    "99999999999999": "value above 1e+12",
    "1e9": "not a number: '1e9'",
    "NaN": "not a number: 'NaN'",
    "9" * 400: "not a finite number",
    "<99999999999999": "value above 1e+12",
    "12 - 3": "range runs backwards",
}


@pytest.mark.parametrize("cell", list(BAD_COUNTS), ids=lambda c: c[:20])
def test_negative_fractional_or_absurd_counts_are_refused(db, tmp_path, cell):
    processed = github_takedowns.PROCESSED_BY_HALF
    rows = csv_rows(real("mirror", "latest", mirror_relpath(processed)))
    rows[1][rows[0].index("count_processed")] = cell
    before = data_state(db)
    result = import_bytes(db, tmp_path, processed.rsplit("/", 1)[-1], csv_bytes(rows), "github-takedowns")
    assert_refused(result, db, before, processed, "line 2: count_processed:", BAD_COUNTS[cell])


@pytest.mark.parametrize(
    "column, cell, expected",
    [("% Removed-Legal", "150", "pct_items_removed_legal: value above 100"),
     ("Number of Requests", "-3", "requests: negative value")],
)  # fmt: skip
def test_absurd_google_cells_are_refused(db, tmp_path, column, cell, expected):
    rows = csv_rows(google_member(SUMMARY))
    rows[1][rows[0].index(column)] = cell
    before = data_state(db)
    # Only the summary member is kept, so the refusal comes before the large detailed table is read.
    result = refresh_google(db, tmp_path, rezip(google_zip(), {SUMMARY: csv_bytes(rows), DETAILED: None}))
    assert_refused(result, db, before, google.URL, f"member {SUMMARY} line 2: {expected}")


def test_tiktok_removal_rate_above_one_is_refused(db, tmp_path):
    rows = csv_rows(real(*ENCODED_SOURCES["tiktok"][1]))
    line = next(i for i, r in enumerate(rows) if r[3] == "Removal rate")
    rows[line][12] = "1.5"
    before = data_state(db)
    result = import_bytes(db, tmp_path, TIKTOK_NAME, csv_bytes(rows), "tiktok")
    assert_refused(result, db, before, TIKTOK_URL, f"line {line + 1}: Removal rate: value above 1")


EMPTY_IMPORTS = {
    "tiktok": TIKTOK_NAME,
    "github-takedowns": RECEIVED_NAME,
    "dsa-orders": DSA_NAME,
    "twitter-removals": "removal-requests-report-jan-jun-2016.csv",
    "facebook-government-report": "Facebook-Government-Report-2014-H1.csv",
}


@pytest.mark.parametrize("slug", list(EMPTY_IMPORTS))
def test_empty_file_is_refused(db, tmp_path, slug):
    name = EMPTY_IMPORTS[slug]
    before = data_state(db)
    result = import_bytes(db, tmp_path, name, b"", slug)
    assert_refused(result, db, before, name)
    assert "empty file" in result.message or "header changed: missing column" in result.message, result.message


def test_empty_download_is_refused(db, tmp_path):
    before = data_state(db)
    result = refresh_google(db, tmp_path, b"")
    assert_refused(result, db, before, google.URL, "empty response, expected a zip file")


@pytest.mark.parametrize("slug", ["google", "tiktok", "github-takedowns"])
def test_header_only_file_is_refused_and_loses_nothing(db, tmp_path, slug):
    before_figures = figures(db, slug)
    if slug == "google":
        header_only = {name: google_member(name).split(b"\n", 1)[0] + b"\n" for name in (SUMMARY, DETAILED)}
        result = refresh_google(db, tmp_path, rezip(google_zip(), header_only))
    elif slug == "tiktok":
        result = import_bytes(db, tmp_path, TIKTOK_NAME, real(*ENCODED_SOURCES["tiktok"][1]).split(b"\n", 1)[0] + b"\n", slug)
    else:
        result = import_bytes(db, tmp_path, RECEIVED_NAME, b"year,government,government_iso2_code,count_received\n", slug)
    assert result.status == "failed" and "holds no figures" in result.message, result.message
    assert figures(db, slug) == before_figures


# --------------------------------------------------------------------------
# GitHub notices: injection stays inert text; hostile listings
# --------------------------------------------------------------------------

INJECTED_PATH = "Russia/2030/2030-01-01-roskomnadzor.md"


def notices_mirror(tmp_path: Path, listing: bytes, notice: bytes | None = None) -> Path:
    root = tmp_path / "mirror"
    target = root / mirror_relpath(github_notices.LISTING_URL)
    target.parent.mkdir(parents=True)
    target.write_bytes(listing)
    if notice is not None:
        path = root / mirror_relpath(github_notices.raw_url(INJECTED_PATH))
        path.parent.mkdir(parents=True)
        path.write_bytes(notice)
    return root


def listing_of(*paths: str) -> bytes:
    import json

    return json.dumps({"sha": "0" * 40, "truncated": False, "tree": [{"path": p, "type": "blob"} for p in paths]}).encode()


def test_notice_with_html_and_script_is_stored_as_plain_text(db, tmp_path):
    notice = (HOSTILE / "synthetic_notice_injection.md").read_bytes()
    root = notices_mirror(tmp_path, listing_of(INJECTED_PATH), notice)
    result = pipeline.refresh(db, ["github-notices"], mirror=root)[0]
    assert result.status == "loaded", result.message
    con = duckdb.connect(str(db), read_only=True)
    text, title, urls, agency = con.execute(
        "SELECT text, title, urls, agency FROM notices WHERE notice_id = ?", [INJECTED_PATH]
    ).fetchone()
    kept = con.execute("SELECT count(*) FROM notices").fetchone()[0]
    con.close()
    # Byte for byte what was published: nothing escaped, stripped or run.
    assert text == notice.decode("utf-8")
    for attack in ("<script>alert(1)</script>", "<img src=x onerror=", "[click here](javascript:alert(1))",
                   "'; DROP TABLE notice_rows; --"):  # fmt: skip
        assert attack in text
    assert title == 'Notice <script>alert("title")</script>'
    # Only http(s) addresses are taken as URLs, as written; javascript: links are not.
    assert not any(u.startswith("javascript") for u in urls)
    assert "https://evil.example/phish" in urls and agency == "Roskomnadzor"
    assert kept == 110  # the 109 real notices are all still there


@pytest.mark.parametrize(
    "case, expected",
    [
        ("traversal", "listing has paths that leave the repository"),  # refused by the source, over HTTP too
        ("nested", "expected JSON but got invalid JSON"),
        ("not-a-tree", "no 'tree' list"),
    ],
)
def test_hostile_notice_listing_is_refused(db, tmp_path, case, expected):
    listing = {
        "traversal": lambda: listing_of("../2030/2030-01-01-roskomnadzor.md"),
        "nested": lambda: b"[" * 100_000 + b"]" * 100_000,  # deeper than Python's recursion limit
        "not-a-tree": lambda: b'{"tree": "<script>alert(1)</script>"}',
    }[case]()
    before = data_state(db)
    result = pipeline.refresh(db, ["github-notices"], mirror=notices_mirror(tmp_path, listing))[0]
    assert_refused(result, db, before, expected)
    assert "github" in result.message


# --------------------------------------------------------------------------
# Hostile server headers
# --------------------------------------------------------------------------


def test_unreadable_retry_after_falls_back_to_backoff():
    with LocalServer(shared_path("mirror", "latest")) as server:
        # "²" is a digit to str.isdigit() but not a number to float().
        server.add_fault(mirror_relpath(google.URL), Fault("status", 503, headers={"Retry-After": "²"}))
        sleeps = []
        config = HttpConfig(sleep=sleeps.append, host_delay=0, backoff=0.01, read_timeout=5, connect_timeout=5)
        doc = HttpSession(config, rewrite=rewrite_to_base(server.base)).get(google.URL, expect="zip")
    assert doc.http_status == 200 and sleeps == [0.01]


def test_unreadable_content_length_is_ignored():
    class Response:
        headers = {"Content-Length": "²"}

        def iter_content(self, size):
            yield b"PK\x03\x04"

    assert HttpSession(HttpConfig())._read_body(google.URL, Response()) == b"PK\x03\x04"


def test_committed_corpus_is_what_the_builder_makes():
    for name, make in build.CORPUS.items():
        assert (HOSTILE / name).read_bytes() == make(), f"{name}: run python -m tests.hostile.build"
