"""Normalisation properties: periods, numbers and countries (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapers.normalize import (
    PSEUDO_CODES,
    Period,
    alpha3,
    full_year,
    half_year,
    half_year_ending,
    is_country,
    month,
    parse_count,
    parse_number,
    parse_period,
    period_grain,
    period_label,
    quarter,
    resolve_country,
)

years = st.integers(min_value=1990, max_value=2100)


@given(years, st.integers(1, 2))
def test_half_year_label_round_trips(year, half):
    p = half_year(year, half)
    assert p.grain == "half"
    assert parse_period(p.label) == p
    assert half_year_ending(p.end) == p
    assert (p.end - p.start).days in (180, 181, 183)


@given(years, st.integers(1, 4))
def test_quarter_label_round_trips(year, q):
    p = quarter(year, q)
    assert p.grain == "quarter" and parse_period(p.label) == p


@given(years, st.integers(1, 12))
def test_month_and_year_round_trip(year, m):
    assert parse_period(month(year, m).label) == month(year, m)
    assert parse_period(str(year)) == full_year(year)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 800))
def test_any_span_has_a_label_that_parses_back(start, days):
    end = start + timedelta(days=days)
    label = period_label(start, end)
    assert parse_period(label) == Period(start, end)
    assert period_grain(start, end) in ("year", "half", "quarter", "month", "custom")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023-H1", half_year(2023, 1)),
        ("H2 2023", half_year(2023, 2)),
        ("2023H2", half_year(2023, 2)),
        ("Jan-Jun 2024", half_year(2024, 1)),
        ("July-December 2024", half_year(2024, 2)),
        ("2023-Q2", quarter(2023, 2)),
        ("2012-07-01/2013-06-30", Period(date(2012, 7, 1), date(2013, 6, 30))),
    ],
)
def test_period_labels(text, expected):
    assert parse_period(text) == expected


@pytest.mark.parametrize("text", ["", "2023-H3", "H0 2020", "sometime", "2023-13", "Jun-Jan 2024"])
def test_bad_period_labels_raise(text):
    with pytest.raises(ValueError):
        parse_period(text)


def test_half_year_ending_rejects_other_days():
    with pytest.raises(ValueError):
        half_year_ending(date(2023, 5, 31))


@given(st.integers(min_value=0, max_value=10**12))
def test_grouped_and_plain_counts_read_the_same(n):
    assert parse_count(f"{n:,}").value == n
    assert parse_count(str(n)).value == n
    assert parse_count(f" {n:,}\u00a0").value == n
    assert parse_count(f"{n:,}*").value == n  # footnote mark kept in text only


@given(st.integers(min_value=1, max_value=10**6))
def test_less_than_is_a_bound_not_a_value(n):
    number = parse_count(f"<{n}")
    assert number.value is None and number.kind == "banded"
    assert number.low == 0 and number.high == n - 1
    assert number.text == f"<{n}"


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_ranges_keep_both_bounds(a, b):
    low, high = min(a, b), max(a, b)
    number = parse_count(f"{low:,} - {high:,}")
    if low == high:
        assert number.low == low and number.high == high
    else:
        assert (number.value, number.low, number.high, number.kind) == (None, low, high, "range")


@pytest.mark.parametrize(
    "text, kind",
    [("", "blank"), ("  ", "blank"), ("-", "dash"), (" - ", "dash"), ("?", "unknown"), ("N/A", "not_applicable")],
)
def test_non_numbers_are_kinds_never_zero(text, kind):
    number = parse_number(text)
    assert number.kind == kind and number.value is None and number.low is None


@pytest.mark.parametrize("text", ["-5", "1.5e3", "abc", "12,34", "1,2345", "100%"])
def test_bad_counts_raise(text):
    with pytest.raises(ValueError):
        parse_count(text)


def test_percentages():
    assert parse_number("72%", percent=True).value == 72
    assert parse_number("0.5", percent=True).value == 0.5
    with pytest.raises(ValueError):
        parse_number("172%", percent=True)
    with pytest.raises(ValueError):
        parse_count("2.5")


@given(st.sampled_from(sorted(c.alpha_2 for c in pycountry.countries)))
@settings(max_examples=300)
def test_every_iso_code_and_its_names_resolve_to_itself(code):
    assert resolve_country(None, code).code == code
    assert resolve_country("Somewhere", code.lower()).code == code
    c = pycountry.countries.get(alpha_2=code)
    for name in {c.name, getattr(c, "common_name", c.name)}:
        match = resolve_country(name)
        assert match.code in (code, None), (name, match)
        if match.code is None:
            assert match.how == "ambiguous"


@pytest.mark.parametrize(
    "name, code",
    [
        ("Türkiye", "TR"), ("Turkey", "TR"), ("Viet Nam", "VN"), ("Vietnam", "VN"), ("Việt Nam", "VN"),
        ("Congo - Kinshasa", "CD"), ("Congo - Brazzaville", "CG"), ("Korea", "KR"), ("South Korea", "KR"),
        ("Hong Kong", "HK"), ("Kosovo", "XK"), ("Bosnia & Herzegovina", "BA"), ("Myanmar (Burma)", "MM"),
        ("China mainland", "CN"), ("Russia", "RU"), ("Europol", "XE"), ("Interpol", "XI"),
        ("  united   states ", "US"), ("Côte d’Ivoire", "CI"), ("Россия", "RU"), ("丹麥", "DK"),
    ],
)  # fmt: skip
def test_country_aliases(name, code):
    assert resolve_country(name).code == code


def test_unknown_and_ambiguous_names_are_reported_not_guessed():
    assert resolve_country("Atlantis").how == "unknown"
    assert resolve_country("Congo").code is None and resolve_country("Congo").how == "ambiguous"
    assert resolve_country("").how == "blank"


def test_pseudo_codes_are_not_on_the_map():
    assert set(PSEUDO_CODES) >= {"EU", "XW", "XO", "XE", "XI", "XK"}
    assert not is_country("EU") and not is_country("XW") and is_country("XK") and is_country("VN")
    assert alpha3("VN") == "VNM" and alpha3("XK") == "XKX" and alpha3("XW") is None
