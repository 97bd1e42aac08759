"""Facebook Government Requests Report (2013-H1..2015-H1): excerpts, the real files, drifted input.

The archived files name countries in Traditional Chinese; every one of them
must resolve to the ISO code in ALL_NAMES (each mapping checked by hand).
"""

from __future__ import annotations

from datetime import date

import pytest

from scrapers.models import METRICS, Document, Observation, ParseError, Warning
from scrapers.normalize import half_year, resolve_country
from scrapers.sources import SOURCES, facebook_government_report as fb
from scrapers.validate import check_metrics, check_totals, dedupe, resolve_countries

from tests.conftest import FIXTURES, document_from, shared_path

EXCERPTS = FIXTURES / "facebook-government-report"
ARCHIVE = ("archive", "facebook-government-report")
HALVES = [(2013, 1), (2013, 2), (2014, 1), (2014, 2), (2015, 1)]

# Every country name in the five files, with its ISO code (checked by hand).
ALL_NAMES = {
    "安道爾": "AD",  # Andorra
    "阿拉伯聯合大公國": "AE",  # United Arab Emirates
    "阿富汗": "AF",  # Afghanistan
    "阿爾巴尼亞": "AL",  # Albania
    "亞美尼亞": "AM",  # Armenia
    "阿根廷": "AR",  # Argentina
    "奧地利": "AT",  # Austria
    "澳大利亞": "AU",  # Australia
    "波士尼亞與赫塞哥維納": "BA",  # Bosnia and Herzegovina
    "巴貝多": "BB",  # Barbados
    "孟加拉": "BD",  # Bangladesh
    "比利時": "BE",  # Belgium
    "保加利亞": "BG",  # Bulgaria
    "巴林": "BH",  # Bahrain
    "汶萊": "BN",  # Brunei Darussalam
    "巴西": "BR",  # Brazil
    "不丹": "BT",  # Bhutan
    "波札那": "BW",  # Botswana
    "加拿大": "CA",  # Canada
    "瑞士": "CH",  # Switzerland
    "Ivory Coast": "CI",  # Côte d'Ivoire
    "智利": "CL",  # Chile
    "中國": "CN",  # China
    "哥倫比亞": "CO",  # Colombia
    "哥斯大黎加": "CR",  # Costa Rica
    "賽普勒斯": "CY",  # Cyprus
    "捷克共和國": "CZ",  # Czechia
    "德國": "DE",  # Germany
    "丹麥": "DK",  # Denmark
    "多明尼加共和國": "DO",  # Dominican Republic
    "阿爾及利亞": "DZ",  # Algeria
    "厄瓜多": "EC",  # Ecuador
    "愛沙尼亞": "EE",  # Estonia
    "埃及": "EG",  # Egypt
    "西班牙": "ES",  # Spain
    "芬蘭": "FI",  # Finland
    "法國": "FR",  # France
    "英國": "GB",  # United Kingdom
    "喬治亞": "GE",  # Georgia
    "格陵蘭": "GL",  # Greenland
    "希臘": "GR",  # Greece
    "瓜地馬拉": "GT",  # Guatemala
    "香港": "HK",  # Hong Kong
    "克羅埃西亞": "HR",  # Croatia
    "匈牙利": "HU",  # Hungary
    "印尼": "ID",  # Indonesia
    "愛爾蘭": "IE",  # Ireland
    "以色列": "IL",  # Israel
    "印度": "IN",  # India
    "伊拉克": "IQ",  # Iraq
    "冰島": "IS",  # Iceland
    "意大利": "IT",  # Italy
    "約旦": "JO",  # Jordan
    "日本": "JP",  # Japan
    "肯亞": "KE",  # Kenya
    "柬埔寨": "KH",  # Cambodia
    "南韓": "KR",  # South Korea
    "科威特": "KW",  # Kuwait
    "哈薩克": "KZ",  # Kazakhstan
    "黎巴嫩": "LB",  # Lebanon
    "列支敦斯登": "LI",  # Liechtenstein
    "斯里蘭卡": "LK",  # Sri Lanka
    "立陶宛": "LT",  # Lithuania
    "盧森堡": "LU",  # Luxembourg
    "摩納哥": "MC",  # Monaco
    "摩爾多瓦": "MD",  # Moldova
    "蒙特內哥羅": "ME",  # Montenegro
    "馬其頓": "MK",  # North Macedonia
    "緬甸": "MM",  # Myanmar
    "蒙古": "MN",  # Mongolia
    "澳門": "MO",  # Macao
    "馬爾他": "MT",  # Malta
    "馬爾地夫": "MV",  # Maldives
    "墨西哥": "MX",  # Mexico
    "馬來西亞": "MY",  # Malaysia
    "荷蘭": "NL",  # Netherlands
    "挪威": "NO",  # Norway
    "尼泊爾": "NP",  # Nepal
    "諾魯": "NR",  # Nauru
    "紐西蘭": "NZ",  # New Zealand
    "阿曼": "OM",  # Oman
    "巴拿馬": "PA",  # Panama
    "秘魯": "PE",  # Peru
    "菲律賓": "PH",  # Philippines
    "巴基斯坦": "PK",  # Pakistan
    "波蘭": "PL",  # Poland
    "巴勒斯坦": "PS",  # Palestine, State of
    "葡萄牙": "PT",  # Portugal
    "巴拉圭": "PY",  # Paraguay
    "卡達": "QA",  # Qatar
    "羅馬尼亞": "RO",  # Romania
    "塞爾維亞": "RS",  # Serbia
    "俄羅斯": "RU",  # Russian Federation
    "沙烏地阿拉伯": "SA",  # Saudi Arabia
    "蘇丹": "SD",  # Sudan
    "瑞典": "SE",  # Sweden
    "新加坡": "SG",  # Singapore
    "斯洛維尼亞": "SI",  # Slovenia
    "斯洛伐克": "SK",  # Slovakia
    "塞內加爾": "SN",  # Senegal
    "薩爾瓦多": "SV",  # El Salvador
    "泰國": "TH",  # Thailand
    "突尼西亞": "TN",  # Tunisia
    "土耳其": "TR",  # Türkiye
    "台灣": "TW",  # Taiwan
    "烏克蘭": "UA",  # Ukraine
    "烏干達": "UG",  # Uganda
    "美國": "US",  # United States
    "烏拉圭": "UY",  # Uruguay
    "科索沃": "XK",  # Kosovo
    "南非": "ZA",  # South Africa
}


def _name(year: int, half: int) -> str:
    return f"Facebook-Government-Report-{year}-H{half}.csv"


def _excerpt(tag: str, url: str | None = None) -> Document:
    # Imported without a known URL, as `takedowns import` records it.
    return document_from(EXCERPTS / f"excerpt-{tag}.csv", url or f"file:Facebook-Government-Report-{tag}.csv")


def _split(records):
    records = list(records)
    return [r for r in records if isinstance(r, Observation)], [r for r in records if isinstance(r, Warning)]


def _one(obs, country, metric):
    found = [o for o in obs if o.country_name == country and o.metric == metric]
    assert len(found) == 1, (country, metric, found)
    return found[0]


def _validated(obs, where="test"):
    check_metrics(obs, where)
    obs, unresolved = resolve_countries(obs, where)
    obs, duplicates = dedupe(obs, fb.SPEC.platform, where)
    return obs, unresolved + duplicates


# --------------------------------------------------------------------------
# The contract
# --------------------------------------------------------------------------


def test_spec_is_import_only_with_content_restrictions_as_headline():
    assert SOURCES["facebook-government-report"] is fb
    assert fb.SPEC.import_only and fb.SPEC.urls == ()
    assert fb.SPEC.headline_datasets == ("content-restrictions",)
    assert set(fb.METRIC_DATASETS) <= set(METRICS)

    class NoNetwork:
        def get(self, url, expect):
            raise AssertionError("an import-only source must not fetch")

    assert fb.fetch(NoNetwork()) == []


def test_import_url_is_not_guessed():
    # Where these Traditional-Chinese exports were downloaded from is not established.
    assert fb.import_url("Facebook-Government-Report-2015-H1.csv") is None


# --------------------------------------------------------------------------
# Excerpts
# --------------------------------------------------------------------------


def test_first_layout_quoted_thousands_and_ranges():
    obs, warnings = _split(fb.parse(_excerpt("2013-H1")))
    assert {o.metric for o in obs} == {"requests_for_user_data", "user_accounts_referenced", "pct_requests_data_produced"}
    india = _one(obs, "印度", "requests_for_user_data")
    assert (india.value, india.value_text, india.row, india.dataset) == (3245, "3,245", 3, "user-data-requests")
    us = _one(obs, "美國", "requests_for_user_data")
    assert (us.value, us.value_low, us.value_high, us.value_text) == (None, 11000, 12000, "11,000 - 12,000")
    accounts = _one(obs, "美國", "user_accounts_referenced")
    assert (accounts.value, accounts.value_low, accounts.value_high) == (None, 20000, 21000)
    assert [(w.kind, w.row) for w in warnings] == [("range_value", 4), ("range_value", 4)]
    assert _one(obs, "Ivory Coast", "pct_requests_data_produced").value == 0


def test_blank_user_data_cells_publish_nothing():
    obs, warnings = _split(fb.parse(_excerpt("2013-H2")))
    assert not warnings
    bangladesh = [o for o in obs if o.country_name == "孟加拉"]
    assert [(o.dataset, o.metric, o.value) for o in bangladesh] == [("content-restrictions", "content_restrictions", 3)]


def test_content_restrictions_and_names_cldr_lacks():
    obs, warnings = _split(fb.parse(_excerpt("2015-H1")))
    assert not warnings
    india = _one(obs, "印度", "content_restrictions")
    assert (india.value, india.dataset, india.period_start, india.period_end) == (
        15155, "content-restrictions", date(2015, 1, 1), date(2015, 6, 30),
    )
    resolved, found = _validated(obs)
    assert not found
    codes = {o.country_name: o.country_code for o in resolved}
    assert codes == {"中國": "CN", "印度": "IN", "澳大利亞": "AU", "捷克共和國": "CZ", "馬其頓": "MK", "土耳其": "TR"}


def test_names_cldr_lacks_in_2013_h2():
    obs, _ = _split(fb.parse(_excerpt("2013-H2")))
    resolved, found = _validated(obs)
    assert not found
    assert {o.country_name: o.country_code for o in resolved} == {"孟加拉": "BD", "巴勒斯坦": "PS", "澳門": "MO", "香港": "HK"}


# --------------------------------------------------------------------------
# Bad input fails loudly
# --------------------------------------------------------------------------


def test_drifted_header_names_file_and_column():
    doc = _excerpt("2015-H1")
    body = doc.body.replace(b'"User Accounts Referenced"', b'"Accounts"')
    with pytest.raises(ParseError) as err:
        list(fb.parse(Document(url=doc.url, body=body, fetched_at=doc.fetched_at)))
    message = str(err.value)
    assert "Facebook-Government-Report-2015-H1.csv" in message and "User Accounts Referenced" in message


def test_content_restrictions_missing_after_2013_h1_fails():
    # The 4-column layout is only right for 2013-H1.
    doc = _excerpt("2013-H1", url="file:Facebook-Government-Report-2014-H1.csv")
    with pytest.raises(ParseError, match="Content Restrictions"):
        list(fb.parse(doc))


def test_a_name_without_the_period_fails():
    doc = _excerpt("2015-H1", url="file:government-report.csv")
    with pytest.raises(ParseError, match="Facebook-Government-Report-2015-H1.csv"):
        list(fb.parse(doc))


def test_a_word_in_a_count_cell_fails():
    doc = _excerpt("2015-H1")
    body = doc.body.replace(b"15155", b"many")
    with pytest.raises(ParseError, match="line 3"):
        list(fb.parse(Document(url=doc.url, body=body, fetched_at=doc.fetched_at)))


# --------------------------------------------------------------------------
# The five real files
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    out = {}
    for year, half in HALVES:
        name = _name(year, half)
        doc = document_from(shared_path(*ARCHIVE, name), f"file:{name}")
        out[(year, half)] = _split(fb.parse(doc))
    return out


def test_every_real_file_parses_with_only_the_known_findings(real):
    for (year, half), (obs, warnings) in real.items():
        # Only the United States' two ranges in 2013-H1 (line 56); later files give exact figures.
        expected = [("range_value", 56)] * 2 if (year, half) == (2013, 1) else []
        assert [(w.kind, w.row) for w in warnings] == expected, (year, half)
        period = half_year(year, half)
        assert {(o.period_start, o.period_end) for o in obs} == {(period.start, period.end)}
        has_content = any(o.dataset == "content-restrictions" for o in obs)
        assert has_content == ((year, half) != (2013, 1))


def test_every_country_name_resolves_to_its_checked_code(real):
    seen = set()
    everything = []
    for key, (obs, _) in real.items():
        resolved, found = _validated(obs, str(key))
        assert not found, (key, [w.detail for w in found])
        for o in resolved:
            assert o.country_code == ALL_NAMES[o.country_name], o.country_name
            seen.add(o.country_name)
        assert not check_totals(resolved, fb.SPEC.platform)  # no total rows
        everything += resolved
    assert seen == set(ALL_NAMES)
    dedupe(everything, fb.SPEC.platform, "all files")
    for name, code in ALL_NAMES.items():
        assert resolve_country(name).code == code, name


def test_hand_checked_figures(real):
    obs, _ = real[(2015, 1)]
    # Facebook-Government-Report-2015-H1.csv line 18: 印度 (India) 5,115 / 6,268 / 45.32% / 15155.
    india = _one(obs, "印度", "content_restrictions")
    assert (india.value, india.row) == (15155, 18)
    assert _one(obs, "印度", "requests_for_user_data").value == 5115
    assert _one(obs, "印度", "pct_requests_data_produced").value == pytest.approx(45.32)
    # line 24: 土耳其 (Turkey) 4496 content restrictions.
    assert _one(obs, "土耳其", "content_restrictions").value == 4496

    obs, _ = real[(2013, 2)]
    # Facebook-Government-Report-2013-H2.csv line 15: 印度 4765; line 22: 土耳其 2014; line 34: 德國 (Germany) 1,687 requests.
    assert _one(obs, "印度", "content_restrictions").value == 4765
    assert _one(obs, "土耳其", "content_restrictions").value == 2014
    assert _one(obs, "德國", "requests_for_user_data").value == 1687

    obs, _ = real[(2014, 2)]
    # Facebook-Government-Report-2014-H2.csv line 68: 美國 (United States) "14,274" requests, "21,731" accounts.
    assert _one(obs, "美國", "requests_for_user_data").value == 14274
    assert _one(obs, "美國", "user_accounts_referenced").value == 21731
