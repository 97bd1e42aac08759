"""Fuzzing every source's parser with mutations of its real published input.

Each registered source's `parse` (and the checks every record goes through
before it is stored) gets its real input with hypothesis-drawn damage: bytes
flipped, inserted or cut off, lines dropped or repeated, cells replaced by
random text, zip members damaged inside an intact zip. It must either parse or
raise one of the documented errors (`TakedownsError`: ParseError, FetchError)
with a message naming the file; any other exception (KeyError, IndexError,
UnicodeDecodeError, zlib or pdfminer errors...) is a bug.

Short by default (a few dozen examples per input, for CI); set
TAKEDOWNS_LONG_FUZZ=1 (`make test-long`) for a long run.
"""

from __future__ import annotations

import functools
import io
import os
import re
import traceback
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrapers import pipeline
from scrapers.http import mirror_relpath
from scrapers.models import Document, TakedownsError
from scrapers.sources import SOURCES, github_notices, github_takedowns, google, linkedin, tiktok, wikimedia
from tests.conftest import shared_path

LONG = os.environ.get("TAKEDOWNS_LONG_FUZZ") == "1"
# Examples per input: short in CI (the whole file well under a minute on a
# busy 2-core machine), long on demand.
SHORT_EXAMPLES = 20
LONG_EXAMPLES = 600

FUZZ_SETTINGS = dict(
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


@dataclass(frozen=True)
class Seed:
    """One real input of one source, cut down where parsing it whole is slow."""

    slug: str
    url: str
    body: bytes
    kind: str  # text, zip, binary
    examples: int = SHORT_EXAMPLES  # short-run budget (slow parsers get fewer)


def _head(body: bytes, lines: int) -> bytes:
    return b"\n".join(body.split(b"\n")[:lines])


def _trim_zip(body: bytes, lines: int) -> bytes:
    """The same zip with each CSV member cut to its first lines (parsing all of Google's takes seconds)."""
    src = zipfile.ZipFile(io.BytesIO(body))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in src.namelist():
            data = src.read(name)
            zf.writestr(name, _head(data, lines) if name.lower().endswith(".csv") else data)
    return out.getvalue()


def _linkedin_tables_only(body: bytes) -> bytes:
    # The page's scripts, styles and icons are two thirds of its parse time and no part of its tables.
    for tag in (rb"script", rb"style", rb"svg"):
        body = re.sub(rb"<" + tag + rb"\b.*?</" + tag + rb">", b"", body, flags=re.S)
    return body


def _x_report_page() -> bytes:
    """The one page of X's report with its tables, as a one-page PDF (the whole PDF takes 3 s to read)."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(str(shared_path("archive", "x", "x-global-transparency-report-2024-H1.pdf")))
    page = pdfium.PdfDocument.new()
    page.import_pages(src, [12])  # page 13: "INFORMATION AND REMOVAL REQUESTS"
    out = io.BytesIO()
    page.save(out)
    return out.getvalue()


def _mirror(edition: str, url: str) -> bytes:
    return shared_path("mirror", edition, mirror_relpath(url)).read_bytes()


def _archived(*parts: str) -> bytes:
    return shared_path("archive", *parts).read_bytes()


SEEDS = {
    "google-latest": lambda: Seed("google", google.URL, _trim_zip(_mirror("latest", google.URL), 30), "zip"),
    "google-previous": lambda: Seed("google", google.URL, _trim_zip(_mirror("previous", google.URL), 30), "zip"),
    "apple": lambda: Seed("apple", SOURCES["apple"].URL, _mirror("previous", SOURCES["apple"].URL), "zip"),
    "tiktok": lambda: Seed("tiktok", tiktok.KNOWN_CSV_URLS[0], _head(_mirror("latest", tiktok.KNOWN_CSV_URLS[0]), 120), "text"),
    "linkedin": lambda: Seed(
        "linkedin", linkedin.URL, _linkedin_tables_only(_mirror("latest", linkedin.URL)), "text", examples=10
    ),
    "wikimedia-page": lambda: Seed("wikimedia", wikimedia.PAGE_URL, _mirror("latest", wikimedia.PAGE_URL), "text"),
    "wikimedia-page-2015H1": lambda: Seed(
        "wikimedia", wikimedia.PAGE_URL, _archived("wikimedia", "content_2015H1.html"), "text"
    ),
    "wikimedia-where-from": lambda: Seed(
        "wikimedia", wikimedia.WHERE_FROM_URL, _mirror("latest", wikimedia.WHERE_FROM_URL), "text"
    ),
    "x-global-report": lambda: Seed("x-global-report", "file:x-global-transparency-report-2024-h1.pdf", _x_report_page(), "binary"),
    "dsa-orders-tiktok": lambda: Seed(
        "dsa-orders", "file:tiktok-2025H2-3_member_states_orders.csv",
        _archived("dsa-orders", "tiktok-2025H2-3_member_states_orders.csv"), "text",
    ),  # fmt: skip
    "dsa-orders-facebook": lambda: Seed(
        "dsa-orders", "file:facebook-2025H2-3_member_states_orders.csv",
        _head(_archived("dsa-orders", "facebook-2025H2-3_member_states_orders.csv"), 400), "text",
    ),  # fmt: skip
    "twitter-removals-2016": lambda: Seed(
        "twitter-removals", "file:removal-requests-report-jul-dec-2016.csv",
        _archived("twitter-removal-requests", "removal-requests-report-jul-dec-2016.csv"), "text",
    ),  # fmt: skip
    "twitter-removals-2018": lambda: Seed(
        "twitter-removals", "file:removal-requests-report-jul-dec-2018.csv",
        _archived("twitter-removal-requests", "removal-requests-report-jul-dec-2018.csv"), "text",
    ),  # fmt: skip
    "facebook-government-report": lambda: Seed(
        "facebook-government-report", "file:Facebook-Government-Report-2014-H1.csv",
        _archived("facebook-government-report", "Facebook-Government-Report-2014-H1.csv"), "text",
    ),  # fmt: skip
    "github-takedowns-processed": lambda: Seed(
        "github-takedowns", github_takedowns.PROCESSED_BY_HALF, _mirror("latest", github_takedowns.PROCESSED_BY_HALF), "text"
    ),
    "github-takedowns-combined": lambda: Seed(
        "github-takedowns", github_takedowns.COMBINED_BY_YEAR, _mirror("previous", github_takedowns.COMBINED_BY_YEAR), "text"
    ),
    "github-notices-listing": lambda: Seed(
        "github-notices", github_notices.LISTING_URL, _mirror("latest", github_notices.LISTING_URL), "text"
    ),
    "github-notices-notice": lambda: Seed(
        "github-notices",
        github_notices.raw_url("Russia/2019/2019-06-20-roskomnadzor.md"),
        _mirror("latest", github_notices.raw_url("Russia/2019/2019-06-20-roskomnadzor.md")),
        "text",
    ),
}


def test_every_registered_source_is_fuzzed():
    assert {seed_slug(name) for name in SEEDS} == set(SOURCES)


def seed_slug(name: str) -> str:
    return next(slug for slug in sorted(SOURCES, key=len, reverse=True) if name.startswith(slug))


@functools.cache
def load_seed(name: str) -> Seed:
    return SEEDS[name]()


# --------------------------------------------------------------------------
# Mutations
# --------------------------------------------------------------------------

_RANDOM_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "-", "?", "<10", "-5", "2.5", "1e400", "9" * 40, "<" + "9" * 400, "n/a", '"', "\x00",
                     "0000", "0000-00-00", "2023-02-30", "Jan-Jun 0000", "\ufeff", "\r", "TOTAL", "KEYWORD_X"]),
)  # fmt: skip


def _index(data, length: int) -> int:
    return data.draw(st.integers(0, max(length - 1, 0)))


def mutate_bytes(data, body: bytes) -> bytes:
    """Apply 1-4 random mutations to a text or binary body."""
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "truncate", "insert", "drop_line", "dup_line", "replace_cell"]))
        if op == "flip" and body:
            i = _index(data, len(body))
            body = body[:i] + bytes([body[i] ^ (1 << data.draw(st.integers(0, 7)))]) + body[i + 1 :]
        elif op == "truncate":
            body = body[: _index(data, len(body) + 1)]
        elif op == "insert":
            i = _index(data, len(body) + 1)
            body = body[:i] + data.draw(st.binary(min_size=1, max_size=16)) + body[i:]
        elif op in ("drop_line", "dup_line", "replace_cell"):
            lines = body.split(b"\n")
            k = _index(data, len(lines))
            if op == "drop_line":
                del lines[k]
            elif op == "dup_line":
                lines.insert(_index(data, len(lines) + 1), lines[k])
            else:
                sep = data.draw(st.sampled_from([b",", b">", b" "]))
                cells = lines[k].split(sep)
                cells[_index(data, len(cells))] = data.draw(_RANDOM_TEXT).encode("utf-8")
                lines[k] = sep.join(cells)
            body = b"\n".join(lines)
    return body


def mutate_zip(data, body: bytes) -> bytes:
    """Damage one member inside an intact zip, or the zip's own bytes."""
    if data.draw(st.booleans()):
        return mutate_bytes(data, body)
    src = zipfile.ZipFile(io.BytesIO(body))
    names = src.namelist()
    target = data.draw(st.sampled_from(names))
    drop = data.draw(st.integers(0, 9)) == 0  # now and then the member goes missing altogether
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in names:
            if name == target and drop:
                continue
            member = src.read(name)
            zf.writestr(name, mutate_bytes(data, member) if name == target else member)
    return out.getvalue()


# --------------------------------------------------------------------------
# The property
# --------------------------------------------------------------------------


def parse_like_the_pipeline(slug: str, document: Document) -> int:
    """parse() and the checks pipeline.ingest runs on its records; returns the figures kept."""
    module = SOURCES[slug]
    figures, _ = pipeline.checked_figures(list(module.parse(document)), document.url, module.SPEC.platform)
    return len(figures)


def check_parses_or_fails_cleanly(slug: str, url: str, body: bytes) -> None:
    document = Document(url=url, body=body, fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    try:
        parse_like_the_pipeline(slug, document)
    except TakedownsError as exc:
        # The documented failure: a message a person can act on, naming the file.
        assert url in str(exc) or document.name.removeprefix("file:") in str(exc), f"message does not name the file: {exc}"
    except Exception as exc:  # noqa: BLE001 - exactly what this test looks for
        where = "".join(traceback.format_exception(exc)[-6:])
        pytest.fail(f"{slug}: parse let {type(exc).__name__} escape (expected ParseError/FetchError):\n{where}")


def _replace(old: bytes, new: bytes, count: int = 1):
    def mutation(body: bytes) -> bytes:
        assert old in body, old
        return body.replace(old, new, count)

    return mutation


def _flip(index: int, mask: int):
    return lambda body: body[:index] + bytes([body[index] ^ mask]) + body[index + 1 :]


# Inputs fuzzing once found to crash a parser (each fixed since), kept as fixed cases.
FOUND = {
    "github-year-0000": ("github-takedowns-processed", _replace(b"\n2023,", b"\n0000,")),
    "github-year-superscript-digit": ("github-takedowns-processed", _replace(b"\n2023,", "\n20²3,".encode())),
    "github-utf16-bom-odd-length": ("github-takedowns-processed", lambda body: b"\xfe\xff" + body + b"x" * (1 - len(body) % 2)),
    "tiktok-year-0000": ("tiktok", _replace(b"Jul-Dec 2025", b"Jul-Dec 0000")),
    "apple-year-0000": ("apple", lambda body: _rezip_member(body, "app_takedown_legal_violation_requests.csv",
                                                            lambda m: m.replace(b"2019 H1", b"0000 H1"))),
    "wikimedia-year-0000": ("wikimedia-page", _replace("<small>Jul – Dec 2018</small>".encode(), "<small>Jul 0000 – Dec 0000</small>".encode())),
    "twitter-banded-400-digits": ("twitter-removals-2016", _replace(b"Afghanistan,AF,0,", b"Afghanistan,AF,<" + b"9" * 400 + b",")),
    "linkedin-nul-bytes": ("linkedin", lambda body: b"\x00" * 4 + body[:295] + b"\x00" + body[295:]),
    "x-report-damaged-page-tree": ("x-global-report", _flip(351, 1)),
}  # fmt: skip


def _rezip_member(body: bytes, suffix: str, change) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(body))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in src.namelist():
            data = src.read(name)
            zf.writestr(name, change(data) if name.endswith(suffix) else data)
    return out.getvalue()


@pytest.mark.parametrize("case", list(FOUND))
def test_inputs_that_once_crashed_a_parser(case):
    seed_name, mutation = FOUND[case]
    seed = load_seed(seed_name)
    body = mutation(seed.body)
    assert body != seed.body
    check_parses_or_fails_cleanly(seed.slug, seed.url, body)


@pytest.mark.parametrize("seed_name", sorted(SEEDS))
def test_real_input_parses(seed_name):
    seed = load_seed(seed_name)
    check_parses_or_fails_cleanly(seed.slug, seed.url, seed.body)
    document = Document(url=seed.url, body=seed.body, fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert parse_like_the_pipeline(seed.slug, document) > 0 or seed.slug == "github-notices"


@pytest.mark.timeout(3600 if LONG else 300)
@pytest.mark.parametrize("seed_name", sorted(SEEDS))
def test_mutated_input_parses_or_fails_with_a_documented_error(seed_name):
    seed = load_seed(seed_name)
    examples = LONG_EXAMPLES if LONG else seed.examples

    @settings(max_examples=examples, **FUZZ_SETTINGS)
    @given(st.data())
    def run(data):
        body = mutate_zip(data, seed.body) if seed.kind == "zip" else mutate_bytes(data, seed.body)
        check_parses_or_fails_cleanly(seed.slug, seed.url, body)

    run()
