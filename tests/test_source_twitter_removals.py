"""Twitter removal-requests reports (2012-H1..2019-H1): excerpts, the real files, drifted input."""

from __future__ import annotations

from datetime import date

import pytest

from scrapers.models import METRICS, Document, Observation, ParseError, Warning
from scrapers.normalize import half_year
from scrapers.sources import SOURCES, twitter_removals as tw
from scrapers.validate import check_metrics, check_totals, dedupe, resolve_countries

from tests.conftest import FIXTURES, document_from, shared_path

EXCERPTS = FIXTURES / "twitter-removals"
ARCHIVE = ("archive", "twitter-removal-requests")
HALVES = [(year, half) for year in range(2012, 2020) for half in (1, 2)][:-1]  # 2012-H1 .. 2019-H1


def _name(year: int, half: int) -> str:
    return f"removal-requests-report-{'jan-jun' if half == 1 else 'jul-dec'}-{year}.csv"


def _excerpt(tag: str, url_name: str | None = None) -> Document:
    """An excerpt, as if imported from the URL the real file was published at."""
    url = tw.import_url(url_name or f"removal-requests-report-{tag}.csv")
    return document_from(EXCERPTS / f"excerpt-{tag}.csv", url)


def _split(records):
    records = list(records)
    return [r for r in records if isinstance(r, Observation)], [r for r in records if isinstance(r, Warning)]


def _one(obs, country, metric):
    found = [o for o in obs if o.country_name == country and tw.column_of(o) == metric]
    assert len(found) == 1, (country, metric, found)
    return found[0]


def _validated(obs, where="test"):
    check_metrics(obs, where)
    obs, unresolved = resolve_countries(obs, where)
    obs, duplicates = dedupe(obs, tw.SPEC.platform, where)
    return obs, unresolved + duplicates


# --------------------------------------------------------------------------
# The contract
# --------------------------------------------------------------------------


def test_spec_is_import_only_and_registered():
    assert SOURCES["twitter-removals"] is tw
    assert tw.SPEC.import_only and tw.SPEC.urls == ()
    assert tw.SPEC.platform == "X (Twitter)"
    assert tw.SPEC.headline_datasets == ("removal-requests",)

    class NoNetwork:
        def get(self, url, expect):
            raise AssertionError("an import-only source must not fetch")

    assert tw.fetch(NoNetwork()) == []


def test_import_url_gives_the_published_address():
    assert tw.import_url("removal-requests-report-jul-dec-2017.csv") == (
        "https://transparency.twitter.com/content/dam/transparency-twitter/data/download-removal-requests/"
        "removal-requests-report-jul-dec-2017.csv"
    )
    # The name a browser gives a second download of the same file.
    assert tw.import_url("removal-requests-report-jan-jun-2018(1).csv").endswith("removal-requests-report-jan-jun-2018.csv")
    assert tw.import_url("information-requests-report-jan-jun-2018.csv") is None
    assert tw.import_url("Facebook-Government-Report-2015-H1.csv") is None


def test_metrics_are_in_the_vocabulary():
    for column in tw.METRIC_COLUMNS:
        assert tw.COLUMN_FIGURE.get(column, (column, ""))[0] in METRICS


# --------------------------------------------------------------------------
# Excerpts: each layout and each oddity
# --------------------------------------------------------------------------


def test_bracketed_tweets_withheld_keep_the_first_figure_and_warn():
    obs, warnings = _split(tw.parse(_excerpt("jul-dec-2015")))
    turkey = _one(obs, "Turkey", "items_withheld")
    assert (turkey.value, turkey.value_low, turkey.value_high) == (3003, 3003, 3003)
    assert turkey.value_text == "3,003 (2,156)"
    brackets = [w for w in warnings if w.kind == "unexplained_bracket"]
    assert len(brackets) == 4  # Brazil, Turkey, United Kingdom, TOTALS
    turkey_warning = next(w for w in brackets if "Turkey" in w.detail)
    assert "2,156" in turkey_warning.detail and turkey_warning.row == turkey.row == 4
    assert turkey_warning.member == "removal-requests-report-jul-dec-2015.csv"
    # "(NO ACTION)" was published for this half-year only.
    assert _one(obs, "Turkey", "accounts_no_action").value == 4992


def test_dash_is_none_and_a_dashed_percentage_is_no_figure():
    obs, warnings = _split(tw.parse(_excerpt("jul-dec-2015")))
    hong_kong = [o for o in obs if o.country_name == "Hong Kong"]
    assert {tw.column_of(o) for o in hong_kong} == set(tw.METRIC_COLUMNS) - {"pct_requests_content_withheld"}
    assert all((o.value, o.value_low, o.value_high, o.value_text) == (0, 0, 0, "-") for o in hong_kong)
    assert not [w for w in warnings if w.kind == "dash_percentage"]


def test_total_row_is_a_worldwide_total_with_the_period_of_the_file():
    obs, _ = _split(tw.parse(_excerpt("jul-dec-2015")))
    totals = [o for o in obs if o.country_name == "TOTALS"]
    assert totals and all(o.is_total and o.total_over == "country" and o.country_code == "XW" for o in totals)
    # The TOTALS row has no TIME PERIOD: it takes the file's.
    assert {(o.period_start, o.period_end) for o in totals} == {(date(2015, 7, 1), date(2015, 12, 31))}
    assert _one(obs, "TOTALS", "requests_other_than_court").value == 4131


def test_published_uk_code_resolves_to_gb():
    obs, _ = _split(tw.parse(_excerpt("jul-dec-2015")))
    uk = _one(obs, "United Kingdom", "requests_other_than_court")
    assert uk.country_code == "UK"  # as published
    resolved, found = _validated(obs)
    assert not found
    assert {o.country_code for o in resolved if o.country_name == "United Kingdom"} == {"GB"}


def test_bom_cr_only_trailing_comma_rows_and_trailing_space_in_header():
    obs, warnings = _split(tw.parse(_excerpt("jan-jun-2017")))
    assert not warnings
    assert {o.country_name for o in obs} == {"Afghanistan", "Crotia", "Turkey", "TOTAL"}
    turkey = _one(obs, "Turkey", "requests_other_than_court")
    assert (turkey.value, turkey.row) == (1995, 4)
    assert _one(obs, "TOTAL", "accounts_actioned_tos").value == 3023
    resolved, found = _validated(obs)
    assert not found  # "Crotia" (sic) resolves through its published code HR
    assert {o.country_code for o in resolved if o.country_name == "Crotia"} == {"HR"}


@pytest.mark.parametrize("tag", ["jul-dec-2016", "jan-jun-2018"])
def test_mangled_govt_headers_are_read(tag):
    # jul-dec-2016: invalid UTF-8 (read as Windows-1252); jan-jun-2018: U+FFFD.
    obs, warnings = _split(tw.parse(_excerpt(tag)))
    assert not warnings
    assert _one(obs, "Turkey", "requests_other_than_court").value == {"jul-dec-2016": 2232, "jan-jun-2018": 8480}[tag]


def test_nine_column_layout():
    obs, warnings = _split(tw.parse(_excerpt("jul-dec-2018")))
    assert not warnings
    assert {tw.column_of(o) for o in obs} == set(tw.METRIC_COLUMNS) - {"accounts_no_action"}
    assert _one(obs, "Turkey", "requests_court_orders").country_code is None  # no ISO CODE column
    total = _one(obs, "Total", "requests_other_than_court")
    assert (total.value, total.is_total, total.country_code) == (10082, True, "XW")
    resolved, found = _validated(obs)
    assert not found  # "Tunisla" (sic) is in the alias table
    assert {o.country_code for o in resolved if o.country_name == "Tunisla"} == {"TN"}


def test_footnote_marks_are_dropped_from_the_value_and_reported():
    obs, warnings = _split(tw.parse(_excerpt("jan-jun-2014")))
    withheld = _one(obs, "Turkey", "accounts_withheld")
    assert (withheld.value, withheld.value_text) == (17, "17*")
    assert _one(obs, "Pakistan", "pct_requests_content_withheld").value == 0
    marks = [w for w in warnings if w.kind == "footnote_mark"]
    assert len(marks) == 6  # 0%*, 0*, 0* (Pakistan) and 30%*, 17*, 183* (Turkey)
    assert all(w.row in (2, 3) for w in marks)


def test_blank_cells_publish_nothing():
    obs, _ = _split(tw.parse(_excerpt("jan-jun-2012")))
    # 2012-H1 published no withheld or TOS figures: blank cells, no rows.
    assert {tw.column_of(o) for o in obs} == {
        "requests_court_orders", "requests_other_than_court", "pct_requests_content_withheld", "accounts_specified",
    }
    assert _one(obs, "TOTAL", "accounts_specified").value == 18


# --------------------------------------------------------------------------
# Bad input fails loudly, naming the file and what was expected
# --------------------------------------------------------------------------


def test_drifted_header_names_file_and_column():
    doc = _excerpt("jul-dec-2018")  # the 9-column layout
    body = doc.body.replace(b"TWEETS WITHHELD", b"POSTS WITHHELD")
    with pytest.raises(ParseError) as err:
        list(tw.parse(Document(url=doc.url, body=body, fetched_at=doc.fetched_at)))
    message = str(err.value)
    assert "removal-requests-report-jul-dec-2018.csv" in message and "TWEETS WITHHELD" in message


def test_unknown_govt_spelling_fails():
    doc = _excerpt("jul-dec-2018")
    body = doc.body.replace(b"(GOVT AGENCY", b"(STATE AGENCY")
    with pytest.raises(ParseError, match="STATE AGENCY"):
        list(tw.parse(Document(url=doc.url, body=body, fetched_at=doc.fetched_at)))


def test_file_and_name_disagreeing_on_the_period_fails():
    doc = _excerpt("jul-dec-2015", url_name="removal-requests-report-jan-jun-2015.csv")
    with pytest.raises(ParseError, match="says 2015-H2 but its name"):
        list(tw.parse(doc))


def test_no_period_in_file_or_name_fails():
    doc = _excerpt("jan-jun-2012")
    lines = doc.body.split(b"\r\n")
    body = b"\r\n".join([lines[0], lines[2]])  # only the TOTAL row, which has no TIME PERIOD
    with pytest.raises(ParseError, match="does not say the period"):
        list(tw.parse(Document(url="file:twitter.csv", body=body, fetched_at=doc.fetched_at)))


def test_a_word_in_a_count_cell_fails():
    doc = _excerpt("jul-dec-2018")
    body = doc.body.replace(b'"1,139"', b"n/k")
    with pytest.raises(ParseError, match="line 5"):
        list(tw.parse(Document(url=doc.url, body=body, fetched_at=doc.fetched_at)))


# --------------------------------------------------------------------------
# The fifteen real files
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    out = {}
    for year, half in HALVES:
        name = _name(year, half)
        doc = document_from(shared_path(*ARCHIVE, name), tw.import_url(name))
        out[(year, half)] = _split(tw.parse(doc))
    return out


# Findings in the files as published, each checked by hand against the file.
EXPECTED_WARNINGS = {
    (2013, 1): {"footnote_mark": 1},  # Russia, ACCOUNTS WITHHELD "4*" (line 14)
    (2014, 1): {"footnote_mark": 6},  # Pakistan and Turkey (lines 21, 25)
    (2014, 2): {"footnote_mark": 8},  # Brazil, Turkey and TOTAL (lines 4, 28, 33)
    (2015, 1): {"footnote_mark": 7},  # Brazil, Turkey and TOTAL (lines 4, 31, 36)
    (2015, 2): {"unexplained_bracket": 7},  # TWEETS WITHHELD of 6 countries and TOTALS
}
# Published totals that differ from the sum of their rows (Twitter's own arithmetic).
EXPECTED_TOTAL_MISMATCHES = {
    (2013, 1): {"accounts_specified", "accounts_withheld"},  # 104 vs 106; 4 vs 8
    (2017, 2): {"accounts_actioned_tos"},  # 3,683 vs 3,583
    (2018, 2): {"requests", "accounts_actioned_tos"},  # government agency requests 10,082 vs 10,081; 8,720 vs 8,721
}


def test_every_real_file_parses_with_only_the_known_findings(real):
    for (year, half), (obs, warnings) in real.items():
        kinds: dict[str, int] = {}
        for w in warnings:
            kinds[w.kind] = kinds.get(w.kind, 0) + 1
        assert kinds == EXPECTED_WARNINGS.get((year, half), {}), (year, half)
        period = half_year(year, half)
        assert {(o.period_start, o.period_end) for o in obs} == {(period.start, period.end)}
        assert len({o.row for o in obs if o.is_total}) == 1, (year, half)


def test_every_country_resolves_and_totals_are_as_published(real):
    everything = []
    for key, (obs, _) in real.items():
        resolved, found = _validated(obs, str(key))
        assert not found, (key, [w.detail for w in found])
        assert all(o.country_code for o in resolved)
        mismatches = {w.detail.split()[2].rstrip(":") for w in check_totals(resolved, tw.SPEC.platform)}
        assert mismatches == EXPECTED_TOTAL_MISMATCHES.get(key, set()), key
        everything += resolved
    dedupe(everything, tw.SPEC.platform, "all files")  # no figure published twice with two values


def test_hand_checked_figures(real):
    obs, _ = real[(2017, 2)]
    # removal-requests-report-jul-dec-2017.csv line 66: Turkey, 466 court orders, 3,828 agency/police/other.
    assert _one(obs, "Turkey", "requests_court_orders").value == 466
    assert _one(obs, "Turkey", "requests_other_than_court").value == 3828
    assert _one(obs, "Turkey", "accounts_actioned_tos").value == 2157
    assert _one(obs, "Turkey", "requests_court_orders").row == 66

    obs, _ = real[(2019, 1)]
    # removal-requests-report-jan-jun-2019.csv line 85: Total 1,243 / 17,510 / 9% / 50,757 / 354 / 2,103 / 16,893.
    assert [_one(obs, "Total", m).value for m in tw.METRIC_COLUMNS[:7]] == [1243, 17510, 9, 50757, 354, 2103, 16893]
    # line 39: Japan, "0.20%".
    assert _one(obs, "Japan", "pct_requests_content_withheld").value == pytest.approx(0.2)

    obs, _ = real[(2016, 1)]
    # removal-requests-report-jan-jun-2016.csv line 42: Russia 2 / 1,599 / 12% / 1,698 / 10 / 182 / 1,272.
    assert [_one(obs, "Russia", m).value for m in tw.METRIC_COLUMNS[:7]] == [2, 1599, 12, 1698, 10, 182, 1272]

    obs, _ = real[(2012, 1)]
    # removal-requests-report-jan-jun-2012.csv line 7: TOTAL 3 / 3 / 0% / 18.
    assert [_one(obs, "TOTAL", m).value for m in tw.METRIC_COLUMNS[:4]] == [3, 3, 0, 18]
