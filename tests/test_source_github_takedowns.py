"""GitHub government takedown counts: the current received/processed files and
the withdrawn combined files of the older edition."""

from __future__ import annotations

import collections
from datetime import date, datetime, timezone

import pytest

from scrapers import validate
from scrapers.http import MirrorSession
from scrapers.models import Document, FetchError, Observation, ParseError, Warning
from scrapers.sources import github_takedowns as gt
from tests.conftest import FIXTURES, document_from, mirror_document, shared_path

FIX = FIXTURES / "github-takedowns"
FETCHED = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _split(records):
    records = list(records)
    return (
        [r for r in records if isinstance(r, Observation)],
        [r for r in records if isinstance(r, Warning)],
    )


def _one(obs, **where):
    found = [o for o in obs if all(getattr(o, k) == v for k, v in where.items())]
    assert len(found) == 1, (where, found)
    return found[0]


def _parse_all(edition):
    documents = gt.fetch(MirrorSession(shared_path("mirror", edition)))
    return documents, _split([r for d in documents for r in gt.parse(d)])


# --------------------------------------------------------------------------
# Real files (../shared)
# --------------------------------------------------------------------------


def test_latest_edition_figures():
    documents, (obs, warns) = _parse_all("latest")
    assert [d.name for d in documents] == [
        "government_takedowns_received.csv",
        "government_takedowns_processed.csv",
        "government_takedowns_received_by_calendar_year_half.csv",
        "government_takedowns_processed_by_calendar_year_half.csv",
        "README.md",
    ]
    assert warns == []
    year_2024 = dict(period_start=date(2024, 1, 1), period_end=date(2024, 12, 31), dataset=gt.BY_YEAR)
    # government_takedowns_received.csv line 16: 2024,Russia,RU,42
    russia = _one(obs, metric="requests", country_name="Russia", **year_2024)
    assert (russia.value, russia.row, russia.country_code, russia.reason) == (42, 16, "RU", "")
    # government_takedowns_processed.csv line 19: 2024,Russia,RU,Terms of service,13,74,72,73
    tos = dict(country_name="Russia", reason="Terms of service", **year_2024)
    assert _one(obs, metric="requests_processed", **tos).value == 13
    assert _one(obs, metric="items_actioned", **tos).value == 74
    assert _one(obs, metric="pages_actioned", **tos).value == 72
    assert _one(obs, metric="accounts_actioned", **tos).value == 73
    assert _one(obs, metric="requests_processed", **tos).row == 19
    # line 20: 2024,Russia,RU,Local law,0,0,0,0 -- none processed under local law
    assert _one(obs, metric="requests_processed", country_name="Russia", reason="Local law", **year_2024).value == 0
    # ..._received_by_calendar_year_half.csv line 8: 2025,1,Russia,RU,70
    h1 = _one(obs, dataset=gt.BY_HALF, metric="requests", country_name="Russia", period_start=date(2025, 1, 1))
    assert (h1.value, h1.period_end, h1.row) == (70, date(2025, 6, 30), 8)
    counts = collections.Counter((o.dataset, o.metric) for o in obs)
    assert counts[(gt.BY_YEAR, "requests")] == 17 and counts[(gt.BY_YEAR, "requests_processed")] == 22
    assert counts[(gt.BY_HALF, "requests")] == 8 and counts[(gt.BY_HALF, "requests_processed")] == 11


def test_previous_edition_combined_files():
    documents, (obs, warns) = _parse_all("previous")
    # Only the combined files existed then; fetch tolerates the missing current ones.
    assert [d.name for d in documents] == ["government_takedowns.csv", "government_takedowns_by_calendar_year_half.csv"]
    assert warns == []
    # government_takedowns.csv line 19: 2024,Russia,RU,Local law,28,0,0,0,0 -- received split by type
    local = _one(obs, dataset=gt.BY_YEAR_COMBINED, metric="requests", country_name="Russia",
                 reason="Local law", period_start=date(2024, 1, 1))
    assert (local.value, local.row) == (28, 19)
    # by_calendar_year_half line 10: 2024,2,Russia,RU,Terms of service,9,8,8,8,8
    h2 = dict(dataset=gt.BY_HALF_COMBINED, country_name="Russia", reason="Terms of service",
              period_start=date(2024, 7, 1))
    assert _one(obs, metric="requests", **h2).value == 9
    assert _one(obs, metric="requests_processed", **h2).value == 8
    assert len(obs) == 140  # 18 + 10 rows, five figures each


def test_real_files_resolve_and_have_no_duplicates():
    for edition in ("latest", "previous"):
        _, (obs, _) = _parse_all(edition)
        resolved, unknown = validate.resolve_countries(obs, edition)
        assert unknown == []
        validate.check_metrics(resolved, edition)
        _, duplicates = validate.dedupe(resolved, "GitHub", edition)
        assert duplicates == []
        # The older file spells the United Kingdom's code "UK"; it resolves to GB.
        assert {o.country_code for o in resolved if o.country_name == "United Kingdom"} == {"GB"}


def test_received_is_not_summed_across_editions():
    # Received counts per type (old) and in total (new) live in different datasets.
    _, (latest, _) = _parse_all("latest")
    _, (previous, _) = _parse_all("previous")
    assert {o.dataset for o in latest} == {gt.BY_YEAR, gt.BY_HALF}
    assert {o.dataset for o in previous} == {gt.BY_YEAR_COMBINED, gt.BY_HALF_COMBINED}
    assert set(gt.SPEC.datasets) == {gt.BY_YEAR, gt.BY_HALF, gt.BY_YEAR_COMBINED, gt.BY_HALF_COMBINED}


def test_readme_says_no_more_than_we_claim():
    # The README explains the checks on a request but does not define "processed".
    readme = mirror_document("latest", gt.README)
    text = readme.body.decode()
    assert "we block the content in the narrowest way" in text
    assert "processed" not in text.lower()
    assert list(gt.parse(readme)) == []


# --------------------------------------------------------------------------
# Excerpts (tests/fixtures/github-takedowns)
# --------------------------------------------------------------------------


def _fixture(name: str, url: str, **kw) -> Document:
    return document_from(FIX / name, url, **kw)


def test_excerpt_received_and_processed():
    received, _ = _split(gt.parse(_fixture("government_takedowns_received.csv", gt.RECEIVED_BY_YEAR)))
    assert [(o.country_name, o.period_start.year, o.value) for o in received] == [
        ("Russia", 2021, 19), ("United Kingdom", 2021, 1), ("United States", 2021, 9),
        ("Russia", 2024, 42), ("Russia", 2025, 97), ("Sri Lanka", 2025, 1),
    ]
    processed, _ = _split(gt.parse(_fixture("government_takedowns_processed.csv", gt.PROCESSED_BY_YEAR)))
    assert len(processed) == 16
    assert {o.reason for o in processed} == {"Local law", "Terms of service"}
    half, _ = _split(gt.parse(_fixture(
        "government_takedowns_processed_by_calendar_year_half.csv", gt.PROCESSED_BY_HALF)))
    assert {(o.period_start, o.period_end) for o in half} == {(date(2023, 1, 1), date(2023, 6, 30))}


def test_a_year_not_over_when_fetched_is_reported_as_partial():
    doc = _fixture("government_takedowns_received.csv", gt.RECEIVED_BY_YEAR)
    doc = Document(url=doc.url, body=doc.body, fetched_at=datetime(2025, 10, 1, tzinfo=timezone.utc))
    obs, warns = _split(gt.parse(doc))
    assert [(w.kind, w.row) for w in warns] == [("partial_period", 6)]  # 2025 first appears on line 6
    assert "2025-01-01..2025-12-31" in warns[0].detail
    assert len(obs) == 6  # the figures stay, as published


def test_renamed_column_is_a_parse_error_naming_file_and_column():
    body = (FIX / "government_takedowns_received.csv").read_bytes().replace(b"count_received", b"received", 1)
    doc = Document(url=gt.RECEIVED_BY_YEAR, body=body, fetched_at=FETCHED)
    with pytest.raises(ParseError) as err:
        list(gt.parse(doc))
    assert gt.RECEIVED_BY_YEAR in str(err.value) and "count_received" in str(err.value)


def test_unknown_file_is_a_parse_error():
    doc = Document(url=gt.BASE + "government_takedowns_new.csv", body=b"year\n2025\n", fetched_at=FETCHED)
    with pytest.raises(ParseError, match="not a known GitHub government-takedowns file"):
        list(gt.parse(doc))


def test_bad_half_is_a_parse_error():
    body = (FIX / "government_takedowns_received_by_calendar_year_half.csv").read_bytes().replace(b"2023,1,", b"2023,H1,", 1)
    doc = Document(url=gt.RECEIVED_BY_HALF, body=body, fetched_at=FETCHED)
    with pytest.raises(ParseError, match="'half' is 'H1'"):
        list(gt.parse(doc))


# --------------------------------------------------------------------------
# fetch: withdrawn files may be gone, current ones may not
# --------------------------------------------------------------------------


class FakeSession:
    def __init__(self, bodies: dict[str, bytes]):
        self.bodies = bodies
        self.requested: list[tuple[str, str | None]] = []

    def get(self, url, *, expect=None, conditional=True):
        self.requested.append((url, expect))
        if url not in self.bodies:
            raise FetchError(f"{url}: HTTP 404 Not Found")
        return Document(url=url, body=self.bodies[url], fetched_at=FETCHED)


CURRENT_BODIES = {
    gt.RECEIVED_BY_YEAR: (FIX / "government_takedowns_received.csv").read_bytes(),
    gt.PROCESSED_BY_YEAR: (FIX / "government_takedowns_processed.csv").read_bytes(),
    gt.RECEIVED_BY_HALF: (FIX / "government_takedowns_received_by_calendar_year_half.csv").read_bytes(),
    gt.PROCESSED_BY_HALF: (FIX / "government_takedowns_processed_by_calendar_year_half.csv").read_bytes(),
}


def test_spec_lists_every_file_of_both_editions():
    assert set(gt.SPEC.urls) == set(gt.CURRENT_URLS) | set(gt.OPTIONAL_URLS)
    assert gt.COMBINED_BY_YEAR in gt.SPEC.urls and gt.COMBINED_BY_HALF in gt.SPEC.urls


def test_fetch_skips_withdrawn_files_that_answer_404():
    session = FakeSession(CURRENT_BODIES)
    documents = gt.fetch(session)
    assert [d.url for d in documents] == list(gt.CURRENT_URLS)
    assert [u for u, _ in session.requested] == list(gt.SPEC.urls)  # every URL was tried
    assert dict(session.requested)[gt.README] == "markdown"


def test_fetch_fails_when_a_current_file_is_missing():
    bodies = {k: v for k, v in CURRENT_BODIES.items() if k != gt.PROCESSED_BY_HALF}
    with pytest.raises(FetchError, match="processed_by_calendar_year_half"):
        gt.fetch(FakeSession(bodies))


def test_fetch_fails_when_nothing_is_there():
    with pytest.raises(FetchError):
        gt.fetch(FakeSession({}))


def test_fetch_accepts_an_older_edition_with_only_the_combined_files():
    combined = (FIX / "government_takedowns.csv").read_bytes()
    session = FakeSession({gt.COMBINED_BY_YEAR: combined, gt.COMBINED_BY_HALF: combined})
    assert [d.url for d in gt.fetch(session)] == [gt.COMBINED_BY_YEAR, gt.COMBINED_BY_HALF]


def test_known_gap_latest_half_year_file_lacks_russia_second_halves():
    # Documented in SPEC.notes: the current half-year file has no Russia row for
    # 2023-H2 or 2024-H2, though the yearly file counts them (2023: 11 received,
    # of which 6 in H1; 2024: 42, of which 17 in H1). The withdrawn combined
    # file had them (2024-H2: 9 Terms of service + 16 Local law = 25 = 42 - 17).
    _, (latest, _) = _parse_all("latest")
    _, (previous, _) = _parse_all("previous")

    def received(obs, dataset, start):
        return sum(o.value for o in obs if o.dataset == dataset and o.metric == "requests"
                   and o.country_name == "Russia" and o.period_start == start)

    assert received(latest, gt.BY_HALF, date(2024, 7, 1)) == 0
    assert received(latest, gt.BY_YEAR, date(2024, 1, 1)) - received(latest, gt.BY_HALF, date(2024, 1, 1)) == 25
    assert received(previous, gt.BY_HALF_COMBINED, date(2024, 7, 1)) == 25
    assert received(previous, gt.BY_HALF_COMBINED, date(2023, 7, 1)) == 5


def test_import_of_a_downloaded_file_finds_its_url_and_parses():
    assert gt.import_url("government_takedowns.csv") == gt.COMBINED_BY_YEAR
    assert gt.import_url("government_takedowns_received.csv") == gt.RECEIVED_BY_YEAR
    assert gt.import_url("other.csv") is None
    # Without a known URL the pipeline names the document "file:<name>".
    doc = _fixture("government_takedowns.csv", "file:government_takedowns.csv")
    obs, _ = _split(gt.parse(doc))
    assert {o.dataset for o in obs} == {gt.BY_YEAR_COMBINED}
    assert {o.member for o in obs} == {"government_takedowns.csv"}
