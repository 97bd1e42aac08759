"""Wikimedia content alteration & takedown: every archived edition of the page,
where_from.csv, excerpts, and drifted input."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from scrapers.models import Document, Observation, ParseError, Warning
from scrapers.sources import wikimedia
from scrapers.validate import check_metrics, dedupe, resolve_countries

from tests.conftest import FIXTURES, document_from, mirror_document, shared_path

EXCERPTS = FIXTURES / "wikimedia"
HALVES = ["2015H1", "2015H2", "2016H1", "2016H2", "2017H1", "2017H2", "2018H1", "2018H2"]


def _doc(body: bytes, url: str) -> Document:
    return Document(url=url, body=body, fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc))


def _split(records):
    records = list(records)
    return [r for r in records if isinstance(r, Observation)], [r for r in records if isinstance(r, Warning)]


def _archived(half: str):
    path = shared_path("archive", "wikimedia", f"content_{half}.html")
    return document_from(path, wikimedia.import_url(path.name), origin="import")


def _row(obs, country, requester):
    found = [o for o in obs if o.country_name == country and o.requester == requester]
    assert len(found) == 1, (country, requester, found)
    return found[0]


@pytest.mark.parametrize("half", HALVES)
def test_every_archived_page_gives_its_own_half_year(half):
    obs, warnings = _split(wikimedia.parse(_archived(half)))
    year, h = int(half[:4]), int(half[-1])
    assert {(o.period_start, o.period_end) for o in obs} == {
        (date(year, 1, 1), date(year, 6, 30)) if h == 1 else (date(year, 7, 1), date(year, 12, 31))
    }
    assert obs and all(o.dataset == "government-requests" and o.metric == "requests" for o in obs)
    assert warnings == []
    resolved, misses = resolve_countries(obs, half)
    # 2015-H1 lists one request from a politician of "Unknown" country: kept as published.
    assert [w.detail for w in misses] == (["country 'Unknown' (unknown); kept with no ISO code"] if half == "2015H1" else [])
    check_metrics(resolved, half)
    dedupe(resolved, "Wikimedia", half)


def test_unminified_layout_continues_the_country_figures_by_hand():
    # content_2015H1.html rows 6-7: "United States | Politicians, Candidates, & Political Parties | 2"
    # then "(empty) | Federal Agency | 1" -- the empty cell continues United States.
    obs, _ = _split(wikimedia.parse(_archived("2015H1")))
    assert _row(obs, "United States", "Politicians, Candidates, & Political Parties").value == 2
    federal = _row(obs, "United States", "Federal Agency")
    assert (federal.value, federal.row, federal.member) == (1, 7, "Government requests breakdown")
    assert _row(obs, "Sri Lanka", "Military").value == 1  # row 3
    assert sum(o.value for o in obs) == 9
    # content_2016H1.html rows 2-3: India, Consulate or embassy 1; (empty) Military 1.
    obs, _ = _split(wikimedia.parse(_archived("2016H1")))
    assert _row(obs, "India", "Military").row == 3
    assert _row(obs, "United Kingdom", "Politicians, candidates, & political parties").row == 7


def test_minified_layout_figures_by_hand():
    # content_2018H2.html (= the live content.html): row 4 "Italy | Postal Police | 1".
    obs, _ = _split(wikimedia.parse(_archived("2018H2")))
    italy = _row(obs, "Italy", "Postal Police")
    assert (italy.value, italy.value_text, italy.row) == (1, "1", 4)
    assert italy.member == "Government Requests Breakdown"
    live, _ = _split(wikimedia.parse(mirror_document("latest", wikimedia.PAGE_URL)))
    assert live == obs


def test_where_from_real_file():
    doc = mirror_document("latest", wikimedia.WHERE_FROM_URL)
    obs, warnings = _split(wikimedia.parse(doc))
    assert {o.dataset for o in obs} == {"requests-by-country-all-requesters"}
    # Line 2: USA,54,0,jul12jun13 -- the first period runs a full year, Jul 2012 - Jun 2013.
    usa = [o for o in obs if o.row == 2]
    assert {(o.metric, o.value) for o in usa} == {("requests", 54), ("requests_actioned", 0)}
    assert {(o.period_start, o.period_end) for o in usa} == {(date(2012, 7, 1), date(2013, 6, 30))}
    # Line 98: Ukraine,1,1,juldec14 -- the one granted request of that half-year.
    ukraine = [o for o in obs if o.row == 98 and o.metric == "requests_actioned"]
    assert ukraine[0].value == 1 and ukraine[0].period_start == date(2014, 7, 1)
    # The rows of Jul-Dec 2018 add up to the page's "Total Alteration & Takedown Requests: 492".
    assert sum(o.value for o in obs if o.metric == "requests" and o.period_start == date(2018, 7, 1)) == 492
    # Only the six published tooltips are reported.
    assert {w.kind for w in warnings} == {"published_note"} and len(warnings) == 6
    assert "One case was American-Brazilian" in next(w.detail for w in warnings if w.row == 2)
    resolved, misses = resolve_countries(obs, doc.url)
    assert [w.detail for w in misses] == ["country 'Unknown' (unknown); kept with no ISO code"]
    codes = {o.country_name: o.country_code for o in resolved}
    assert codes["USA"] == "US" and codes["Korea"] == "KR" and codes["Kosovo"] == "XK"
    check_metrics(resolved, doc.url)
    dedupe(resolved, "Wikimedia", doc.url)


def test_targeted_takedown_is_refused_with_a_reason():
    doc = mirror_document("latest", wikimedia.TARGETED_URL)
    with pytest.raises(ParseError, match=r"targeted_takedown\.csv.*not loaded.*governments"):
        list(wikimedia.parse(doc))


def test_excerpts_both_layouts():
    unminified = _doc((EXCERPTS / "content_2016H1_excerpt.html").read_bytes(), wikimedia.PAGE_URL)
    obs, _ = _split(wikimedia.parse(unminified))
    assert _row(obs, "India", "Military").period_start == date(2016, 1, 1)
    assert len(obs) == 8
    minified = _doc((EXCERPTS / "content_2017H2_excerpt.html").read_bytes(), wikimedia.PAGE_URL)
    obs, _ = _split(wikimedia.parse(minified))
    assert _row(obs, "Philippines", "Executive office").period_end == date(2017, 12, 31)
    assert len(obs) == 7


def test_where_from_excerpt_with_short_rows():
    doc = _doc((EXCERPTS / "where_from_excerpt.csv").read_bytes(), wikimedia.WHERE_FROM_URL)
    obs, warnings = _split(wikimedia.parse(doc))
    unknown = [o for o in obs if o.country_name == "Unknown" and o.metric == "requests"]
    assert unknown[0].value == 247 and unknown[0].period_start == date(2018, 7, 1)
    assert len(warnings) == 2


def test_first_period_spanning_two_years():
    where = "test"
    period = wikimedia._page_period("Jul 2012 – Jun 2013", where)
    assert (period.start, period.end) == (date(2012, 7, 1), date(2013, 6, 30))
    assert wikimedia._page_period("Jan – Jun 2015", where).end == date(2015, 6, 30)
    with pytest.raises(ParseError, match="cannot read the period"):
        wikimedia._page_period("Spring 2015", where)


def test_drifted_where_from_header_names_file_and_column():
    body = (EXCERPTS / "where_from_excerpt.csv").read_bytes().replace(b"key,", b"country,", 1)
    with pytest.raises(ParseError) as err:
        list(wikimedia.parse(_doc(body, wikimedia.WHERE_FROM_URL)))
    assert "where_from.csv" in str(err.value) and "'key'" in str(err.value)


def test_page_without_the_heading_is_an_error():
    body = (EXCERPTS / "content_2017H2_excerpt.html").read_bytes().replace(b"Government Requests Breakdown", b"Requests")
    with pytest.raises(ParseError, match=r"content\.html: no 'Government Requests Breakdown' heading"):
        list(wikimedia.parse(_doc(body, wikimedia.PAGE_URL)))


def test_drifted_table_layout_is_an_error():
    body = (EXCERPTS / "content_2017H2_excerpt.html").read_bytes().replace(b"<td>Local police</td>", b"", 1)
    with pytest.raises(ParseError, match=r"content\.html table 'Government Requests Breakdown' row 3: expected 3 cells"):
        list(wikimedia.parse(_doc(body, wikimedia.PAGE_URL)))


def test_first_row_without_country_is_an_error():
    body = (EXCERPTS / "content_2017H2_excerpt.html").read_bytes().replace(b"<td>France</td>", b"<td></td>", 1)
    with pytest.raises(ParseError, match=r"row 1: the first row has no country"):
        list(wikimedia.parse(_doc(body, wikimedia.PAGE_URL)))


def test_import_url():
    assert wikimedia.import_url("content_2015H1.html") == wikimedia.PAGE_URL
    assert wikimedia.import_url("content.html") == wikimedia.PAGE_URL
    assert wikimedia.import_url("where_from.csv") == wikimedia.WHERE_FROM_URL
    assert wikimedia.import_url("something_else.csv") is None


def test_fetch_gets_the_page_and_the_country_file():
    calls = []

    class Session:
        def get(self, url, *, expect=None):
            calls.append((url, expect))
            return _doc(b"", url)

    wikimedia.fetch(Session())
    assert calls == [(wikimedia.PAGE_URL, "html"), (wikimedia.WHERE_FROM_URL, "csv")]
