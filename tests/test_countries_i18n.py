"""Country names in any language resolve to one ISO code, or are reported, never guessed."""

from __future__ import annotations

from datetime import date

import pytest
from babel import Locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrapers.models import Observation
from scrapers.normalize import PSEUDO_CODES, resolve_country
from scrapers.validate import resolve_countries


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Việt Nam", "VN"),  # Vietnamese
        ("Россия", "RU"),  # Russian
        ("Türkiye", "TR"),  # Turkish
        ("Deutschland", "DE"),  # German
        ("Österreich", "AT"),
        ("مصر", "EG"),  # Arabic: Egypt
        ("المملكة العربية السعودية", "SA"),  # Arabic: Saudi Arabia
        ("日本", "JP"),
        ("대한민국", "KR"),  # Korean
        ("Ελλάδα", "GR"),  # Greek
        ("ไทย", "TH"),  # Thai
        ("España", "ES"),
        ("Côte d’Ivoire", "CI"),
        # Traditional Chinese, as in Facebook's 2013-2015 report files
        ("丹麥", "DK"),
        ("亞美尼亞", "AM"),
        ("俄羅斯", "RU"),
        ("喬治亞", "GE"),
        ("澳大利亞", "AU"),  # alias: CLDR says 澳洲
        ("捷克共和國", "CZ"),  # alias: CLDR says 捷克
        ("香港", "HK"),  # alias: CLDR says 中國香港特別行政區
        # Names only a regional CLDR locale gives
        ("Bangladeche", "BD"),  # pt_PT
        ("阿拉伯聯合酋長國", "AE"),  # zh_Hant_HK
        # Accent folding must not turn a name into a code: Vietnamese Austria, Belgium
        ("Áo", "AT"),
        ("Bỉ", "BE"),
        ("अंगोला", "AO"),  # Hindi: Angola
        # Plain two-letter codes are still codes
        ("AO", "AO"),
        ("be", "BE"),
    ],
)
def test_names_in_many_languages_resolve(name, code):
    assert resolve_country(name).code == code


def test_indic_vowel_signs_are_part_of_the_name():
    # Hindi: अंगोला is Angola; अंगुला differs only in a vowel sign (it was
    # Anguilla in older CLDR data, newer data spells it एंग्विला), so folding marks away
    # must not turn it into Angola.
    assert resolve_country("अंगुला").code != "AO"
    assert resolve_country(Locale("hi").territories["AI"]).code == "AI"


@pytest.mark.parametrize("name", ["Congo", "the Congo", "Kongo", "Конго", "Sant Martin"])
def test_ambiguous_names_are_reported_not_guessed(name):
    match = resolve_country(name)
    assert (match.code, match.how) == (None, "ambiguous")


@pytest.mark.parametrize("name", ["Atlantis", "Narnia", "TOTAL", "Worldwide total"])
def test_unknown_names_stay_unresolved(name):
    match = resolve_country(name)
    assert (match.code, match.how) == (None, "unknown")


def test_the_pipeline_keeps_and_reports_unresolved_names():
    def row(name):
        return Observation("d", date(2015, 1, 1), date(2015, 6, 30), "requests", 1.0, "1", 1.0, 1.0, country_name=name)

    rows = [row("Việt Nam"), row("Congo"), row("Atlantis"), row("Atlantis")]
    resolved, warnings = resolve_countries(rows, "test")
    assert [o.country_code for o in resolved] == ["VN", None, None, None]
    assert [o.country_name for o in resolved] == ["Việt Nam", "Congo", "Atlantis", "Atlantis"]  # kept as published
    assert [w.kind for w in warnings] == ["ambiguous_country", "unknown_country"]  # each name reported once


# --------------------------------------------------------------------------
# Property: CLDR's own name for a territory, in any locale, never resolves to
# another territory.
# --------------------------------------------------------------------------


def _codes() -> list[str]:
    import pycountry

    return sorted({c.alpha_2 for c in pycountry.countries} | {"XK"})


def _locales() -> list[str]:
    from babel import localedata

    return sorted(localedata.locale_identifiers())


CODES = _codes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(locale=st.sampled_from(_locales()))
def test_cldr_territory_names_resolve_back_or_are_ambiguous(locale):
    from babel import Locale

    territories = Locale.parse(locale).territories
    wrong = []
    for code in CODES:
        name = territories.get(code)
        if not name:
            continue  # this locale does not name that territory
        match = resolve_country(name)
        if not (match.code == code or match.how == "ambiguous"):
            wrong.append((code, name, match))
    assert not wrong, (locale, wrong)


def test_known_cldr_collisions_are_ambiguous():
    # Strings CLDR itself gives to two territories (in one locale or two).
    for name in ("Sant Martin", "Свети Мартин", "لتونی", "موریتانیا", "Nigeri", "Kongo"):
        assert resolve_country(name).how == "ambiguous", name


def test_kosovo_resolves_to_its_pseudo_code():
    # XK is a user-assigned code, not ISO's, yet CLDR names it, and so must we.
    assert "XK" in PSEUDO_CODES
    assert resolve_country("Kosovo").code == "XK"
    assert resolve_country("Косово").code == "XK"
