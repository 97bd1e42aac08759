"""Apple app-takedown requests: the real 2023-09 zip, excerpts, and drifted input."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from scrapers.models import METRICS, Document, Observation, ParseError, Warning
from scrapers.sources import apple
from scrapers.validate import check_metrics, check_totals, dedupe, resolve_countries

from tests.conftest import FIXTURES, mirror_document

EXCERPTS = FIXTURES / "apple"


def _zip(members: dict[str, bytes], *, macosx: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
            if macosx:  # the published zip carries AppleDouble twins of each member
                zf.writestr(f"__MACOSX/._{name}", b"\x00\x05\x16\x07junk")
    return buf.getvalue()


def _excerpt(name: str) -> bytes:
    return (EXCERPTS / name).read_bytes()


def _doc(body: bytes) -> Document:
    from datetime import datetime, timezone

    return Document(url=apple.URL, body=body, fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc))


def _split(records):
    records = list(records)
    obs = [r for r in records if isinstance(r, Observation)]
    warnings = [r for r in records if isinstance(r, Warning)]
    return obs, warnings


def _find(obs, dataset, country, start, metric):
    found = [
        o for o in obs
        if o.dataset == dataset and o.country_name == country and o.period_start == start and o.metric == metric
    ]
    assert len(found) == 1, (dataset, country, start, metric, found)
    return found[0]


@pytest.fixture(scope="module")
def real():
    doc = mirror_document("previous", apple.URL)
    obs, warnings = _split(apple.parse(doc))
    return doc, obs, warnings


def test_real_zip_figures_checked_by_hand(real):
    doc, obs, _ = real
    legal = "app-takedowns-legal"
    # app_takedown_legal_violation_requests.csv line 2:
    # 2018 H2,7/1/18,12/31/18,China mainland,56,626,2,55,517, -, -, -
    h2_2018 = date(2018, 7, 1)
    expected = {"requests": 56, "items_requested": 626, "requests_rejected": 2, "requests_actioned": 55, "items_actioned": 517}
    for metric, value in expected.items():
        o = _find(obs, legal, "China mainland", h2_2018, metric)
        assert o.value == value and o.period_end == date(2018, 12, 31)
        assert (o.member, o.row) == ("app_takedown_legal_violation_requests.csv", 2)
    # The appeals columns of that row are " -": kept as published, no value.
    dash = _find(obs, legal, "China mainland", h2_2018, "appeals_received")
    assert (dash.value, dash.value_low, dash.value_high, dash.value_text) == (None, None, None, " -")
    # Line 51: 2021 H2,7/1/21,12/31/21,China mainland,55,296,2,55,293,0,0,0 (appeals now 0, not dashes)
    h2_2021 = date(2021, 7, 1)
    assert _find(obs, legal, "China mainland", h2_2021, "items_requested").value == 296
    assert _find(obs, legal, "China mainland", h2_2021, "items_actioned").value == 293
    assert _find(obs, legal, "China mainland", h2_2021, "appeals_received").value == 0
    # Line 12: 2018 H2 ... Türkiye,3,3,1,2,2
    assert _find(obs, legal, "Türkiye", h2_2018, "requests_actioned").value == 2
    # app_takedown_platform_policy_violation_requests.csv line 3: 2019 H1 China mainland 22 requests, 94 apps
    policy = "app-takedowns-platform-policy"
    assert _find(obs, policy, "China mainland", date(2019, 1, 1), "requests").value == 22
    assert _find(obs, policy, "China mainland", date(2019, 1, 1), "items_requested").value == 94
    # 2018-H2 legal totals over all its rows (lines 2-12): 80 requests naming 770 apps, 634 removed,
    # the totals Apple gave for that half-year.
    rows = [o for o in obs if o.dataset == legal and o.period_start == h2_2018]
    assert sum(o.value for o in rows if o.metric == "requests") == 80
    assert sum(o.value for o in rows if o.metric == "items_requested") == 770
    assert sum(o.value for o in rows if o.metric == "items_actioned") == 634


def test_real_zip_only_expected_warnings(real):
    _, obs, warnings = real
    kinds = {}
    for w in warnings:
        kinds[w.kind] = kinds.get(w.kind, 0) + 1
    # 20 rows of 2018-H2 and 2019-H1 with ' -' appeals (lines 2-21), and the one N/A row.
    assert kinds == {"not_reported": 20, "no_country_row": 1}
    assert {w.row for w in warnings if w.kind == "not_reported"} == set(range(2, 22))


def test_real_zip_countries_resolve_and_pass_validation(real):
    doc, obs, _ = real
    resolved, misses = resolve_countries(obs, doc.url)
    assert misses == []
    codes = {o.country_name: o.country_code for o in resolved}
    assert codes["China mainland"] == "CN" and codes["Türkiye"] == "TR" and codes["N/A"] == "XW"
    check_metrics(resolved, doc.url)
    assert all(o.metric in METRICS for o in resolved)
    deduped, duplicates = dedupe(resolved, "Apple", doc.url)
    assert duplicates == [] and len(deduped) == len(resolved)
    assert check_totals(resolved, "Apple") == []


def test_no_country_row_is_a_worldwide_zero_total(real):
    _, obs, _ = real
    na = [o for o in obs if o.country_name == "N/A"]
    assert len(na) == 8
    assert all(o.is_total and o.total_over == "country" and o.country_code == "XW" and o.value == 0 for o in na)
    assert {o.dataset for o in na} == {"app-takedowns-platform-policy"}


def test_excerpt_with_bom_crlf_and_macosx():
    body = _zip(
        {
            "app_takedown_legal_violation_requests.csv": b"\xef\xbb\xbf" + _excerpt("app_takedown_legal_violation_requests.csv"),
            "app_takedown_platform_policy_violation_requests.csv": _excerpt("app_takedown_platform_policy_violation_requests.csv"),
            "device_requests.csv": _excerpt("device_requests.csv"),
        }
    )
    obs, warnings = _split(apple.parse(_doc(body)))
    assert {w.kind for w in warnings} == {"not_reported", "no_country_row"}
    assert _find(obs, "app-takedowns-legal", "Vietnam", date(2018, 7, 1), "items_requested").value == 29
    assert _find(obs, "app-takedowns-legal", "China mainland", date(2019, 7, 1), "requests_actioned").value == 45
    # device_requests.csv is out of scope: nothing from it, and no error.
    assert {o.member for o in obs} == {
        "app_takedown_legal_violation_requests.csv",
        "app_takedown_platform_policy_violation_requests.csv",
    }


def test_tables_found_by_header_not_by_name():
    body = _zip({"renamed/legal.csv": _excerpt("app_takedown_legal_violation_requests.csv")})
    obs, warnings = _split(apple.parse(_doc(body)))
    assert {o.dataset for o in obs} == {"app-takedowns-legal"}
    assert {o.member for o in obs} == {"renamed/legal.csv"}
    # The other table's absence is reported, not silent.
    assert [w.detail for w in warnings if w.kind == "missing_table"] == [
        "zip has no app-takedowns-platform-policy table (header with "
        "'Platform Policy Violation Takedown Requests Received'); nothing loaded for it"
    ]


def test_unknown_member_is_reported_not_fatal():
    body = _zip(
        {
            "app_takedown_legal_violation_requests.csv": _excerpt("app_takedown_legal_violation_requests.csv"),
            "brand_new_requests.csv": b"TR Period,Country/Region,Something\r\n2024 H1,France,1\r\n",
        }
    )
    _, warnings = _split(apple.parse(_doc(body)))
    assert [w.member for w in warnings if w.kind == "unknown_member"] == ["brand_new_requests.csv"]
    assert {w.kind for w in warnings} == {"unknown_member", "missing_table", "not_reported"}


def test_no_takedown_table_is_an_error():
    body = _zip({"device_requests.csv": _excerpt("device_requests.csv")})
    with pytest.raises(ParseError, match=r"Apple_Transparency_Report\.zip.*no app-takedown table.*device_requests\.csv"):
        list(apple.parse(_doc(body)))


def test_drifted_header_names_file_and_column():
    original = _excerpt("app_takedown_legal_violation_requests.csv")
    drifted = original.replace(b"Apps Removed,", b"Apps Taken Down,", 1)
    body = _zip({"app_takedown_legal_violation_requests.csv": drifted})
    with pytest.raises(ParseError) as err:
        list(apple.parse(_doc(body)))
    message = str(err.value)
    assert "app_takedown_legal_violation_requests.csv" in message and apple.URL in message
    assert "Apps Removed" in message


def test_takedown_member_without_its_identifying_column_is_an_error():
    original = _excerpt("app_takedown_legal_violation_requests.csv")
    drifted = original.replace(b"Legal Violation Takedown Requests Received", b"Takedown Requests", 1)
    body = _zip({"app_takedown_legal_violation_requests.csv": drifted})
    with pytest.raises(ParseError, match=r"app_takedown_legal_violation_requests\.csv.*header changed"):
        list(apple.parse(_doc(body)))


def test_period_that_disagrees_with_its_dates_is_an_error():
    original = _excerpt("app_takedown_legal_violation_requests.csv")
    body = _zip({"app_takedown_legal_violation_requests.csv": original.replace(b"2018 H2,7/1/18", b"2018 H1,7/1/18", 1)})
    with pytest.raises(ParseError, match=r"line 2: 'TR Period' '2018 H1' disagrees"):
        list(apple.parse(_doc(body)))


def test_no_country_row_with_figures_is_an_error():
    original = _excerpt("app_takedown_platform_policy_violation_requests.csv")
    body = _zip({"p.csv": original.replace(b"N/A,0,0", b"N/A,4,0", 1)})
    with pytest.raises(ParseError, match=r"line 2: a row with Country/Region 'N/A' has non-zero figures"):
        list(apple.parse(_doc(body)))


def test_fetch_asks_for_the_zip():
    calls = []

    class Session:
        def get(self, url, *, expect=None):
            calls.append((url, expect))
            return _doc(b"")

    apple.fetch(Session())
    assert calls == [(apple.URL, "zip")]
