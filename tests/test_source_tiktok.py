"""TikTok government removal requests: parsing the cumulative long-format CSV,
and finding its (changing) address on the report page."""

from __future__ import annotations

import collections
import warnings
from datetime import date, datetime, timezone

import pytest

from scrapers import validate
from scrapers.models import Document, FetchError, Observation, ParseError, Warning
from scrapers.sources import tiktok
from tests.conftest import FIXTURES, document_from, mirror_document

CSV_URL = tiktok.KNOWN_CSV_URLS[0]
EXCERPT = FIXTURES / "tiktok" / "excerpt.csv"


def _split(records):
    obs = [r for r in records if isinstance(r, Observation)]
    warns = [r for r in records if isinstance(r, Warning)]
    return obs, warns


def _doc(body: bytes, url: str = CSV_URL) -> Document:
    return Document(url=url, body=body, fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc))


def _find(obs, country, start, metric, reason=""):
    found = [o for o in obs if o.country_name == country and o.period_start == start
             and o.metric == metric and o.reason == reason]
    assert len(found) == 1, (country, start, metric, reason, found)
    return found[0]


# --------------------------------------------------------------------------
# The real 2025-H2 file (../shared)
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_records():
    document = mirror_document("latest", CSV_URL)
    return _split(list(tiktok.parse(document)))


def test_real_file_vietnam_2025_h2_figures(real_records):
    obs, _ = real_records
    h2 = date(2025, 7, 1)
    # CSV lines 992-1001: Vietnam, Jul-Dec 2025.
    requests = _find(obs, "Vietnam", h2, "requests")
    assert (requests.value, requests.value_text, requests.row) == (505, "505.0", 992)
    assert requests.period_end == date(2025, 12, 31)
    assert _find(obs, "Vietnam", h2, "items_requested").value == 4553  # line 993
    assert _find(obs, "Vietnam", h2, "items_actioned", "Community guidelines").value == 311  # line 994
    assert _find(obs, "Vietnam", h2, "items_actioned", "Local law").value == 3511  # line 995
    assert _find(obs, "Vietnam", h2, "items_no_action").value == 731  # line 996
    assert _find(obs, "Vietnam", h2, "accounts_specified").value == 1425  # line 997
    assert _find(obs, "Vietnam", h2, "accounts_actioned", "Community guidelines").value == 102  # line 998
    assert _find(obs, "Vietnam", h2, "accounts_actioned", "Local law").value == 1001  # line 999
    assert _find(obs, "Vietnam", h2, "accounts_no_action").value == 322  # line 1000
    rate = _find(obs, "Vietnam", h2, "removal_rate")  # line 1001
    assert (rate.value, rate.value_text, rate.row) == (0.823854132, "0.823854132", 1001)
    # The rate is over content and accounts together: (311+3511+102+1001)/(4553+1425).
    assert abs(rate.value - (311 + 3511 + 102 + 1001) / (4553 + 1425)) < 1e-9


def test_real_file_worldwide_rows_are_totals_not_countries(real_records):
    obs, _ = real_records
    worldwide = [o for o in obs if o.country_code == "XW"]
    assert len(worldwide) == 14  # one "Total Government Requests" row per half-year, 2019-H1..2025-H2
    assert all(o.is_total and o.total_over == "country" and o.metric == "requests" for o in worldwide)
    by_start = {o.period_start: o for o in worldwide}
    assert (by_start[date(2025, 7, 1)].value, by_start[date(2025, 7, 1)].row) == (20175, 1022)  # line 1022
    assert (by_start[date(2019, 1, 1)].value, by_start[date(2019, 1, 1)].row) == (28, 5865)  # line 5865
    # Published totals equal the sum of their country rows in every half-year that has them.
    assert validate.check_totals(obs, "TikTok") == []


def test_real_file_one_observation_per_row_and_only_known_warnings(real_records):
    obs, warns = real_records
    assert len(obs) == 5864  # every data row publishes exactly one figure
    assert {o.metric for o in obs} <= set(validate.METRICS)
    kinds = collections.Counter(w.kind for w in warns)
    # 24 country-halves publish a removal rate of 0.0 with nothing received
    # (e.g. Belarus Jul-Dec 2025, lines 92-101); 7 breakdowns do not add up
    # (e.g. France Jul-Dec 2023, line 3687: 150 content received, 111+23+15 = 149).
    assert kinds == {"rate_without_base": 24, "breakdown_mismatch": 7}
    france = [w for w in warns if w.kind == "breakdown_mismatch" and w.row == 3687]
    assert france and "149" in france[0].detail


def test_real_file_countries_all_resolve(real_records):
    obs, _ = real_records
    resolved, unknown = validate.resolve_countries(obs, CSV_URL)
    assert unknown == []
    codes = {o.country_name: o.country_code for o in resolved}
    # The file spells Côte d'Ivoire two ways in different releases.
    assert codes["Cote d’Ivoire"] == codes["Ivory Coast"] == "CI"
    assert codes["Democratic Republic of Congo"] == "CD"
    assert codes["Kosovo"] == "XK"
    _, duplicates = validate.dedupe(resolved, "TikTok", CSV_URL)
    assert duplicates == []


# --------------------------------------------------------------------------
# Excerpt (tests/fixtures/tiktok/excerpt.csv)
# --------------------------------------------------------------------------


def test_excerpt_rows_and_warnings():
    obs, warns = _split(list(tiktok.parse(document_from(EXCERPT, CSV_URL))))
    assert len(obs) == 22
    assert {o.member for o in obs} == {"CLIGR_2025H2_GovernmentRemovalsRequests.csv"}
    belarus_rate = _find(obs, "Belarus", date(2025, 7, 1), "removal_rate")
    assert belarus_rate.value == 0.0  # kept as published ...
    assert [w.kind for w in warns] == ["rate_without_base"]  # ... and reported
    assert warns[0].row == belarus_rate.row == 11
    # Totals over an excerpt do not match their rows, and that is reported, not fixed.
    mismatches = validate.check_totals(obs, "TikTok")
    assert [w.kind for w in mismatches] == ["total_mismatch"]


def _excerpt_text() -> str:
    return EXCERPT.read_bytes().decode("utf-8")


def test_renamed_column_is_a_parse_error_naming_file_and_column():
    drifted = _excerpt_text().replace("metric_name", "metric", 1).encode()
    with pytest.raises(ParseError) as err:
        list(tiktok.parse(_doc(drifted)))
    assert CSV_URL in str(err.value) and "metric_name" in str(err.value)


def test_new_column_is_a_parse_error():
    lines = _excerpt_text().split("\r\n")
    lines[0] += ",country_code"
    with pytest.raises(ParseError, match="country_code"):
        list(tiktok.parse(_doc("\r\n".join(lines).encode())))


def test_unknown_metric_name_is_a_parse_error():
    drifted = _excerpt_text().replace("Content not actioned", "Content partially actioned").encode()
    with pytest.raises(ParseError, match="unknown metric_name 'Content partially actioned'"):
        list(tiktok.parse(_doc(drifted)))


def test_new_period_format_is_a_parse_error():
    drifted = _excerpt_text().replace("Jul-Dec 2025", "2025-H2").encode()
    with pytest.raises(ParseError, match="period_value '2025-H2'"):
        list(tiktok.parse(_doc(drifted)))


def test_a_policy_breakdown_is_a_parse_error():
    drifted = _excerpt_text().replace("half-year,Jul-Dec 2025,all,all", "half-year,Jul-Dec 2025,hate,all", 1).encode()
    with pytest.raises(ParseError, match="'policy'"):
        list(tiktok.parse(_doc(drifted)))


def test_country_metric_on_the_worldwide_row_is_a_parse_error():
    drifted = _excerpt_text().replace(",country_name,Vietnam,505.0", ",all,All,505.0").encode()
    with pytest.raises(ParseError, match="expected a country"):
        list(tiktok.parse(_doc(drifted)))


def test_rate_above_one_is_a_parse_error():
    drifted = _excerpt_text().replace("0.823854132", "82.3854132").encode()
    with pytest.raises(ParseError, match="fraction of 1"):
        list(tiktok.parse(_doc(drifted)))


def test_html_instead_of_csv_is_a_parse_error():
    with pytest.raises(ParseError, match="HTML page"):
        list(tiktok.parse(_doc(b"<!doctype html><html><body>Access denied</body></html>")))


# --------------------------------------------------------------------------
# Discovery of the CSV address (fetch)
# --------------------------------------------------------------------------


class FakeSession:
    """Serves given bodies by URL; everything else is a FetchError (a 404)."""

    def __init__(self, bodies: dict[str, bytes | Exception]):
        self.bodies = bodies
        self.requested: list[tuple[str, str | None]] = []

    def get(self, url, *, expect=None, conditional=True):
        self.requested.append((url, expect))
        body = self.bodies.get(url)
        if body is None:
            raise FetchError(f"{url}: HTTP 404 Not Found")
        if isinstance(body, Exception):
            raise body
        return Document(url=url, body=body, fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc))


NEXT_URL = (
    "https://sf16-va.tiktokcdn.com/obj/eden-va2/zayvwlY_fjulyhwzuhy[/ljhwZthlaukjlkulzlp/"
    "2026H1_CLIGR/data_downloads/CLIGR_2026H1_GovernmentRemovalsRequests.csv"
)


def _page(*links_json: str, hrefs: tuple[str, ...] = ()) -> bytes:
    anchors = "".join(f'<a href="{h}">Download</a>' for h in hrefs)
    data = ",".join(f'{{"label":"Download data","url":"{u}"}}' for u in links_json)
    return (
        "<!DOCTYPE html><html><head><title>Government Removal Requests Report | TikTok</title></head>"
        f"<body>{anchors}<script id=\"__NEXT_DATA__\" type=\"application/json\">{{\"links\":[{data}]}}</script>"
        "</body></html>"
    ).encode()


def _json_escaped(url: str) -> str:
    return url.replace("/", "\\u002F")


def test_discover_reads_escaped_json_and_plain_links_newest_first():
    older = CSV_URL
    page = _page(_json_escaped(older), hrefs=(NEXT_URL.replace("&", "&amp;"),))
    assert tiktok.discover_csv_urls(page) == [NEXT_URL, older]
    page = _page(older.replace("/", "\\/"))
    assert tiktok.discover_csv_urls(page) == [older]
    page = _page(older.replace("/", "\\\\/"))  # JSON inside a JS string: escaped twice
    assert tiktok.discover_csv_urls(page) == [older]
    assert tiktok.discover_csv_urls(_page()) == []


def test_fetch_follows_the_link_on_the_report_page():
    session = FakeSession({tiktok.REPORT_PAGE: _page(_json_escaped(NEXT_URL)), NEXT_URL: EXCERPT.read_bytes()})
    with warnings.catch_warnings():
        warnings.simplefilter("error", tiktok.DiscoveryWarning)
        documents = tiktok.fetch(session)
    assert [d.url for d in documents] == [NEXT_URL]
    assert session.requested == [(tiktok.REPORT_PAGE, "html"), (NEXT_URL, "csv")]


def test_fetch_follows_the_real_file_from_the_mirror():
    # The page links the real 2025-H2 address; the CSV comes from ../shared.
    real = mirror_document("latest", CSV_URL)

    class MirrorBacked(FakeSession):
        def get(self, url, *, expect=None, conditional=True):
            if url == CSV_URL:
                self.requested.append((url, expect))
                return real
            return super().get(url, expect=expect)

    session = MirrorBacked({tiktok.REPORT_PAGE: _page(_json_escaped(CSV_URL))})
    documents = tiktok.fetch(session)
    assert [d.url for d in documents] == [CSV_URL]
    obs, _ = _split(list(tiktok.parse(documents[0])))
    assert len(obs) == 5864


def test_fetch_falls_back_loudly_when_the_page_has_no_link():
    page = _page()
    session = FakeSession({tiktok.REPORT_PAGE: page, CSV_URL: EXCERPT.read_bytes()})
    with pytest.warns(tiktok.DiscoveryWarning, match="has no link"):
        documents = tiktok.fetch(session)
    # The page is returned too, so the load records the failed discovery.
    assert [d.url for d in documents] == [tiktok.REPORT_PAGE, CSV_URL]
    page_records = list(tiktok.parse(documents[0]))
    assert [r.kind for r in page_records] == ["discovery_failed"]


def test_fetch_falls_back_loudly_when_the_page_cannot_be_fetched():
    session = FakeSession({tiktok.REPORT_PAGE: FetchError("HTTP 403 Forbidden"), CSV_URL: EXCERPT.read_bytes()})
    with pytest.warns(tiktok.DiscoveryWarning, match="could not be fetched"):
        documents = tiktok.fetch(session)
    assert [d.url for d in documents] == [CSV_URL]


def test_fetch_fails_when_neither_page_nor_known_address_answers():
    session = FakeSession({})
    with pytest.warns(tiktok.DiscoveryWarning), pytest.raises(FetchError, match="no known CSV address answered"):
        tiktok.fetch(session)


def test_import_url_knows_the_known_release():
    assert tiktok.import_url("CLIGR_2025H2_GovernmentRemovalsRequests.csv") == CSV_URL
    assert tiktok.import_url("CLIGR_2024H1_GovernmentRemovalsRequests.csv") is None
    obs, _ = _split(list(tiktok.parse(document_from(EXCERPT, "file:CLIGR_2024H1_GovernmentRemovalsRequests.csv"))))
    assert {o.member for o in obs} == {"CLIGR_2024H1_GovernmentRemovalsRequests.csv"}
