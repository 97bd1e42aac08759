"""LinkedIn's government requests report: one HTML page, one table per half-year.

Real-page tests read ../shared/mirror/latest/about.linkedin.com/transparency/
government-requests-report; the excerpt fixture (tests/fixtures/linkedin/, its
2024 tabs) runs without it. Drifted-layout tests edit the real page's HTML.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
from bs4 import BeautifulSoup

from scrapers.models import METRICS, Document, Observation, ParseError, Warning
from scrapers.sources import SOURCES, linkedin
from scrapers.validate import check_metrics, check_totals, dedupe, resolve_countries

from tests.conftest import FIXTURES, document_from, mirror_document

URL = linkedin.URL
CONTENT = "Global government requests for content removal"
MEMBER_DATA = "Requests by country"
US_BREAKDOWN = "Breakdown of U.S. government requests for data"


@pytest.fixture(scope="module")
def page() -> Document:
    return mirror_document("latest", URL)


@pytest.fixture(scope="module")
def excerpt() -> Document:
    return document_from(FIXTURES / "linkedin" / "government-requests-report-2024-excerpt.html", URL)


@pytest.fixture(scope="module")
def records(page) -> list:
    return list(linkedin.parse(page))


@pytest.fixture(scope="module")
def observations(records) -> list[Observation]:
    return [r for r in records if isinstance(r, Observation)]


def _find(observations, dataset, period_start, metric, country=None, requester=""):
    hits = [
        o
        for o in observations
        if o.dataset == dataset
        and o.period_start == period_start
        and o.metric == metric
        and (country is None or o.country_name == country)
        and o.requester == requester
    ]
    assert len(hits) == 1, hits
    return hits[0]


def _edited(page: Document, edit) -> Document:
    """The page with one change made to its parsed HTML (a drifted layout)."""
    soup = BeautifulSoup(page.body, "lxml")
    edit(soup)
    return Document(url=page.url, body=str(soup).encode(), fetched_at=page.fetched_at)


def _with_html(page: Document, html: str) -> Document:
    return Document(url=page.url, body=html.encode(), fetched_at=page.fetched_at)


def _table_span(html: str, report: str, half_year_heading: str) -> tuple[int, int]:
    """Where the table under a section heading (h2) and half-year heading (h4) is in the raw HTML."""
    section = re.search(rf"<h2[^>]*>\s*{re.escape(report)}\s*</h2>", html).end()
    heading = re.compile(rf"<h4[^>]*>\s*{re.escape(half_year_heading)}\s*</h4>").search(html, section).end()
    start = html.index("<table", heading)
    return start, html.index("</table>", start)


def _edit_table(page: Document, report: str, half_year_heading: str, old: str, new: str, count: int = 1) -> Document:
    """The real page with `old` replaced in one table's raw HTML (string edits keep this test fast)."""
    html = page.body.decode()
    start, end = _table_span(html, report, half_year_heading)
    table = html[start:end]
    assert table.count(old) >= count, (old, table[:200])
    return _with_html(page, html[:start] + table.replace(old, new, count) + html[end:])


def _table_under(soup, report_heading: str, half_year_heading: str):
    for h4 in soup.find_all("h4"):
        if h4.get_text(strip=True) == half_year_heading:
            tabs = h4.find_parent("artdeco-tabs")
            if tabs and tabs.find_previous("h2").get_text(strip=True) == report_heading:
                return h4.find_parent("section").find("table")
    raise AssertionError(f"no table {report_heading} / {half_year_heading}")


# --------------------------------------------------------------------------
# Contract
# --------------------------------------------------------------------------


def test_spec_and_registry():
    assert SOURCES["linkedin"] is linkedin
    assert linkedin.SPEC.expect == "html"
    assert linkedin.SPEC.platform == "LinkedIn"
    assert linkedin.SPEC.urls == (URL,)
    assert linkedin.SPEC.headline_datasets == ("content-removal-requests",)
    assert set(linkedin.SPEC.datasets) == {"content-removal-requests", "member-data-requests", "member-data-requests-us"}


def test_fetch_asks_for_the_page_as_html():
    calls = []

    class Session:
        def get(self, url, *, expect=None, conditional=True):
            calls.append((url, expect))
            return "doc"

    assert linkedin.fetch(Session()) == ["doc"]
    assert calls == [(URL, "html")]


# --------------------------------------------------------------------------
# The real page
# --------------------------------------------------------------------------


def test_every_table_is_placed(observations):
    members = {o.member for o in observations}
    # 56 tables: 20 member-data (2016-2025), 20 U.S. breakdown (2015-2025 but
    # no 2022), 16 content removal (2018-2025).
    assert len(members) == 56
    by_dataset = Counter(o.dataset for o in {(o.dataset, o.member): o for o in observations}.values())
    assert by_dataset == {"member-data-requests": 20, "member-data-requests-us": 20, "content-removal-requests": 16}
    periods = {o.period_start for o in observations if o.dataset == "content-removal-requests"}
    assert min(periods) == date(2018, 1, 1) and max(periods) == date(2025, 7, 1) and len(periods) == 16


def test_content_removal_figures_checked_by_hand(observations):
    ds, h2_2024, h2_2025 = "content-removal-requests", date(2024, 7, 1), date(2025, 7, 1)
    # "2024: July-December" table, row "Turkey | 22 | 22 | 100%" (16th row, the header row included).
    turkey = _find(observations, ds, h2_2024, "requests", "Turkey")
    assert (turkey.value, turkey.value_text, turkey.period_end, turkey.row) == (22, "22", date(2024, 12, 31), 16)
    assert turkey.member == f"{CONTENT} / 2024: July-December"
    assert _find(observations, ds, h2_2024, "requests_actioned", "Turkey").value == 22
    assert _find(observations, ds, h2_2024, "pct_requests_actioned", "Turkey").value_text == "100%"
    # "2025: July-December" table, row "India | 18 | 15 | 83%".
    assert _find(observations, ds, h2_2025, "requests", "India").value == 18
    assert _find(observations, ds, h2_2025, "requests_actioned", "India").value == 15
    assert _find(observations, ds, h2_2025, "pct_requests_actioned", "India").value == 83
    # "2018: January-June" table, last row "Totals | 15 | 14 | 93.33%".
    total = _find(observations, ds, date(2018, 1, 1), "pct_requests_actioned", "Totals")
    assert (total.value, total.is_total, total.country_code, total.total_over) == (93.33, True, "XW", "country")


def test_published_totals_are_flagged_never_counted(observations):
    ds, h2_2024 = "content-removal-requests", date(2024, 7, 1)
    # "2024: July-December": "Total including the US | 63 | 49 | 78%", "Total minus the US | 57 | 43 | 75%".
    including = _find(observations, ds, h2_2024, "requests", "Total including the US")
    assert (including.value, including.country_code, including.is_total, including.total_over) == (63, "XW", True, "country")
    minus = _find(observations, ds, h2_2024, "requests_actioned", "Total minus the US")
    assert (minus.value, minus.country_code, minus.is_total) == (43, "XR", True)
    assert minus.total_over == "country-except-US"
    assert all(o.is_total == (o.country_code in ("XW", "XR")) for o in observations)


def test_member_data_figures_checked_by_hand(observations):
    ds, h2_2025 = "member-data-requests", date(2025, 7, 1)
    # "2025: July-December": "France | 874 | 897 | 29% | 253".
    assert _find(observations, ds, h2_2025, "requests_for_user_data", "France").value == 874
    assert _find(observations, ds, h2_2025, "user_accounts_referenced", "France").value == 897
    assert _find(observations, ds, h2_2025, "pct_requests_data_produced", "France").value == 29
    assert _find(observations, ds, h2_2025, "accounts_data_produced", "France").value == 253
    # "2020: July-December": "United States | 364 | 1,420 | 76% | 702".
    us = _find(observations, ds, date(2020, 7, 1), "user_accounts_referenced", "United States")
    assert (us.value, us.value_text) == (1420, "1,420")
    # "2025: January-June" has a spacer column with no heading: "Argentina |  | 1 | 2 | 0% | 0".
    assert _find(observations, ds, date(2025, 1, 1), "user_accounts_referenced", "Argentina").value == 2
    # "2021: July-December": "Brazil* | 3 | 6 | 100% | 6", the mark pointing to a note under the table.
    assert _find(observations, ds, date(2021, 7, 1), "requests_for_user_data", "Brazil").value == 3


def test_us_breakdown_figures_checked_by_hand(observations):
    ds, h2_2025 = "member-data-requests-us", date(2025, 7, 1)
    # "Breakdown of U.S. government requests for data", "2025: July-December":
    # "Requests [1] | 443", "Subpoenas [2] | 66%", "National security letters received [6] | 0-499".
    assert _find(observations, ds, h2_2025, "requests_for_user_data").value == 443
    assert _find(observations, ds, h2_2025, "pct_of_requests", requester="Subpoenas").value == 66
    nsl = _find(observations, ds, h2_2025, "requests_for_user_data", requester="National security letters")
    assert (nsl.value, nsl.value_low, nsl.value_high, nsl.value_text) == (None, 0, 499, "0-499")
    # Footnote [6]: FISA figures "correspond to the previous reporting period", so
    # the FISA row of the 2025: July-December table is January-June 2025's.
    fisa = _find(observations, ds, date(2025, 1, 1), "requests_for_user_data", requester="FISA requests")
    assert fisa.member == f"{US_BREAKDOWN} / 2025: July-December"
    # "2019: July-December" leaves FISA blank: nothing is published for 2019-H1.
    assert not [o for o in observations if o.requester == "FISA requests" and o.period_start == date(2019, 1, 1)]
    # Before July 2019 the page reports "National security requests" (NSLs and FISA), e.g. "250-499" accounts in 2019-H1.
    accounts = _find(
        observations, ds, date(2019, 1, 1), "user_accounts_referenced", requester="National security requests (NSLs and FISA)"
    )
    assert (accounts.value_low, accounts.value_high) == (250, 499)


def test_check_totals_reports_the_totals_that_do_not_add_up(observations):
    resolved, _ = resolve_countries(observations, URL)
    found = {(w.member, w.detail.split(":")[0].split()[-1]) for w in check_totals(resolved, "LinkedIn")}
    assert found == {
        # 2024-H2 content removal: rows add up to 76 requests and 58 actioned; "Total including the US" says 63 and 49.
        (f"{CONTENT} / 2024: July-December", "requests"),
        (f"{CONTENT} / 2024: July-December", "requests_actioned"),
        # 2019-H1 member data: rows add up to 354 requests and 661 accounts with data; the total says 362 and 662.
        (f"{MEMBER_DATA} / 2019: January-June", "requests_for_user_data"),
        (f"{MEMBER_DATA} / 2019: January-June", "accounts_data_produced"),
        # 2022-H2 member data: rows add up to 650, 3,082 and 1,145; the total says 649, 3,081 and 1,144.
        (f"{MEMBER_DATA} / 2022: July-December", "requests_for_user_data"),
        (f"{MEMBER_DATA} / 2022: July-December", "user_accounts_referenced"),
        (f"{MEMBER_DATA} / 2022: July-December", "accounts_data_produced"),
    }
    detail = next(w.detail for w in check_totals(resolved, "LinkedIn") if "2024-07-01" in w.detail and " requests:" in w.detail)
    assert "'63'" in detail and "add up to 76" in detail
    # No finding is about a "Total minus the US" row: the generic check leaves XR alone.
    assert not [w for w in check_totals(resolved, "LinkedIn") if "minus" in w.detail]


def test_parse_reports_total_minus_the_us_that_does_not_add_up(records):
    mismatches = [r for r in records if isinstance(r, Warning) and r.kind == "total_mismatch"]
    # 2024-H2: the 17 non-US rows add up to 70 requests and 52 actioned; "Total minus the US" says 57 and 43.
    assert [(w.member, w.row) for w in mismatches] == [(f"{CONTENT} / 2024: July-December", 21)] * 2
    assert "'57'" in mismatches[0].detail and "add up to 70" in mismatches[0].detail
    assert "'43'" in mismatches[1].detail and "add up to 52" in mismatches[1].detail


def test_no_unexpected_warnings(records):
    warnings = [r for r in records if isinstance(r, Warning)]
    kinds = Counter(w.kind for w in warnings)
    # Bands ("0-499", "0-249", "250-499") are only in the U.S. national-security rows.
    assert all(w.member.startswith(US_BREAKDOWN) for w in warnings if w.kind == "banded_value")
    assert kinds == {"banded_value": 50, "total_mismatch": 2, "odd_cell": 1, "footnote": 1}
    # "2024: January-June": "Georgia | 1 | 1 | 0% | 0%" has a percentage in the accounts column.
    (odd,) = [w for w in warnings if w.kind == "odd_cell"]
    assert odd.member == f"{MEMBER_DATA} / 2024: January-June" and "Georgia" in odd.detail
    (note,) = [w for w in warnings if w.kind == "footnote"]
    assert "inadvertently omitted" in note.detail


def test_odd_cell_is_kept_as_published_without_a_value(observations):
    georgia = _find(observations, "member-data-requests", date(2024, 1, 1), "accounts_data_produced", "Georgia")
    assert (georgia.value, georgia.value_low, georgia.value_high, georgia.value_text) == (None, None, None, "0%")


def test_every_country_resolves(observations):
    resolved, warnings = resolve_countries(observations, URL)
    assert warnings == []
    assert all(o.country_code for o in resolved)
    names = {o.country_name: o.country_code for o in resolved}
    # Spellings as published: "Columbia" (2020-2024 tables), "UK"/"US" (2019), "Macedonia" (2016-H2).
    assert (names["Columbia"], names["UK"], names["US"], names["Macedonia"]) == ("CO", "GB", "US", "MK")


def test_records_pass_the_pipeline_checks(observations):
    check_metrics(observations, URL)
    assert all(o.metric in METRICS for o in observations)
    resolved, _ = resolve_countries(observations, URL)
    kept, duplicates = dedupe(resolved, "LinkedIn", URL)
    assert duplicates == [] and len(kept) == len(observations)
    assert all(o.member and o.row for o in observations)


# --------------------------------------------------------------------------
# The excerpt fixture (runs without ../shared)
# --------------------------------------------------------------------------


def test_excerpt_fixture(excerpt):
    records = list(linkedin.parse(excerpt))
    observations = [r for r in records if isinstance(r, Observation)]
    assert {o.member for o in observations} == {
        f"{report} / 2024: {half}"
        for report in (MEMBER_DATA, US_BREAKDOWN, CONTENT)
        for half in ("July-December", "January-June")
    }
    turkey = _find(observations, "content-removal-requests", date(2024, 7, 1), "requests", "Turkey")
    assert turkey.value == 22
    resolved, unknown = resolve_countries(observations, URL)
    assert unknown == []
    assert len([w for w in check_totals(resolved, "LinkedIn") if "2024-07-01" in w.detail]) == 2


# --------------------------------------------------------------------------
# Drifted layouts fail loudly
# --------------------------------------------------------------------------


def test_a_removed_tab_label_fails_loudly(page):
    html = page.body.decode()
    tab = re.compile(r'<artdeco-tab\b[^>]*for-panel="gov-req-content-removal-2024".*?</artdeco-tab>', re.S)
    assert tab.search(html)
    with pytest.raises(ParseError) as err:
        list(linkedin.parse(_with_html(page, tab.sub("", html))))
    message = str(err.value)
    assert URL in message and f"{CONTENT} / 2024: July-December" in message and "no tab" in message


def test_a_removed_tab_and_its_tables_fail_loudly(page):
    html = page.body.decode()
    for pattern in (
        r'<artdeco-tab\b[^>]*for-panel="gov-req-content-removal-2021".*?</artdeco-tab>',
        r'<artdeco-tabpanel panel-name="gov-req-content-removal-2021">.*?</artdeco-tabpanel>',
    ):
        html, removed = re.subn(pattern, "", html, flags=re.S)
        assert removed == 1
    with pytest.raises(ParseError, match=r"2021-H1, 2021-H2 are missing") as err:
        list(linkedin.parse(_with_html(page, html)))
    assert URL in str(err.value) and CONTENT in str(err.value)


def test_a_renamed_column_fails_loudly(page):
    drifted = _edit_table(page, CONTENT, "2024: July-December", ">Action taken<", ">Actions taken<")
    with pytest.raises(ParseError) as err:
        list(linkedin.parse(drifted))
    message = str(err.value)
    assert URL in message and f"{CONTENT} / 2024: July-December" in message and "'Actions taken'" in message


def test_a_renamed_report_heading_fails_loudly(excerpt):
    def rename(soup):
        heading = next(h for h in soup.find_all("h2") if h.get_text(strip=True) == CONTENT)
        heading.string = "Content removal requests by government"

    with pytest.raises(ParseError, match="not one of the known reports") as err:
        list(linkedin.parse(_edited(excerpt, rename)))
    assert "Content removal requests by government" in str(err.value)


def test_a_table_under_the_wrong_year_fails_loudly(excerpt):
    def mislabel(soup):
        table = _table_under(soup, CONTENT, "2024: July-December")
        table.find_parent("section").find("h4").string = "2023: July-December"

    with pytest.raises(ParseError, match=r"sits under the tab '2024', which is not its year"):
        list(linkedin.parse(_edited(excerpt, mislabel)))


def test_a_table_with_no_half_year_heading_fails_loudly(excerpt):
    def drop_heading(soup):
        _table_under(soup, MEMBER_DATA, "2024: January-June").find_parent("section").find("h4").decompose()

    with pytest.raises(ParseError, match=r"no half-year heading .* cannot place it") as err:
        list(linkedin.parse(_edited(excerpt, drop_heading)))
    assert "Requests for member data" in str(err.value)  # names the table by its first row


def test_an_unknown_us_row_fails_loudly(excerpt):
    def rename(soup):
        table = _table_under(soup, US_BREAKDOWN, "2024: July-December")
        table.find("td", string=lambda s: s and "Search warrants" in s).string = "Warrants"

    with pytest.raises(ParseError, match=r"unexpected row 'Warrants'"):
        list(linkedin.parse(_edited(excerpt, rename)))


def test_non_breaking_space_cells_are_blank(page, observations):
    # The spacer column of "2025: January-June" (member data) refilled with
    # non-breaking spaces, as the original page may have had them, and one
    # figure (Argentina's 1 request, the first "<td>1</td>") blanked the same way.
    html = page.body.decode()
    start, end = _table_span(html, MEMBER_DATA, "2025: January-June")
    table = html[start:end].replace("<td> </td>", "<td>&nbsp;</td>").replace("<td>1</td>", "<td>\u00a0</td>", 1)
    edited = [r for r in linkedin.parse(_with_html(page, html[:start] + table + html[end:])) if isinstance(r, Observation)]
    assert len(edited) == len(observations) - 1
    assert not [
        o for o in edited
        if o.country_name == "Argentina" and o.period_start == date(2025, 1, 1) and o.metric == "requests_for_user_data"
    ]


def test_a_page_without_tables_fails_loudly():
    doc = Document(url=URL, body=b"<!DOCTYPE html><html><body><h1>Sign in</h1></body></html>", fetched_at=None)
    with pytest.raises(ParseError, match="no tables"):
        list(linkedin.parse(doc))
