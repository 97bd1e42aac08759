"""Normalisation in one place: countries, periods and published numbers.

Every source goes through these functions, so "Türkiye", "Turkey" and "TR" end
up as one country, "2023-H1" means the same dates everywhere, and "<10" is a
bounded value rather than a guess.
"""

from __future__ import annotations

import calendar
import functools
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# --------------------------------------------------------------------------
# Countries
# --------------------------------------------------------------------------

# Codes outside ISO 3166-1 that reports use as requesters or aggregates. EU is
# ISO's exceptionally reserved code; the X* codes are from ISO's user-assigned
# range, so they can never clash with a real country.
PSEUDO_CODES: dict[str, str] = {
    "EU": "European Union (institutions or all member states)",
    "XK": "Kosovo",
    "XW": "Worldwide (all countries, a published total)",
    "XO": "Other countries (a published residual group)",
    "XR": "Worldwide except the United States (a published total)",
    "XE": "Europol",
    "XI": "Interpol",
}
# Pseudo codes that are real places on the map.
MAPPABLE_PSEUDO = {"XK"}

# Names the ISO and CLDR tables do not give, or give differently. Keys are
# compared after `_name_key` folding (case, accents, punctuation, "&"->"and").
ALIASES: dict[str, str] = {
    "turkiye": "TR",
    "turkey": "TR",
    "viet nam": "VN",
    "vietnam": "VN",
    "congo kinshasa": "CD",
    "congo drc": "CD",
    "democratic republic of the congo": "CD",
    "democratic republic of congo": "CD",  # TikTok
    "dr congo": "CD",
    "congo brazzaville": "CG",
    "republic of the congo": "CG",
    "korea": "KR",
    "south korea": "KR",
    "korea south": "KR",
    "republic of korea": "KR",
    "north korea": "KP",
    "hong kong": "HK",
    "hong kong sar": "HK",
    "hong kong sar china": "HK",
    "macau": "MO",
    "macao": "MO",
    "macao sar china": "MO",
    "kosovo": "XK",
    "russia": "RU",
    "russian federation": "RU",
    "taiwan": "TW",
    "iran": "IR",
    "laos": "LA",
    "syria": "SY",
    "moldova": "MD",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "palestine": "PS",
    "palestinian territories": "PS",
    "palestinian authority": "PS",
    "myanmar burma": "MM",
    "burma": "MM",
    "china mainland": "CN",
    "mainland china": "CN",
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "us": "US",
    "uk": "GB",
    "united kingdom": "GB",
    "great britain": "GB",
    "ivory coast": "CI",
    "cote d ivoire": "CI",
    "czechia": "CZ",
    "czech republic": "CZ",
    "macedonia": "MK",
    "north macedonia": "MK",
    "eswatini": "SZ",
    "swaziland": "SZ",
    "cape verde": "CV",
    "micronesia": "FM",
    "vatican city": "VA",
    "brunei": "BN",
    "st kitts and nevis": "KN",
    "st lucia": "LC",
    "st vincent and grenadines": "VC",
    "st vincent and the grenadines": "VC",
    "trinidad tobago": "TT",
    # LinkedIn's spelling of Colombia (member-data tables 2020-2024); CLDR
    # matches it only as the Romanian and Latin name.
    "columbia": "CO",
    "bosnia": "BA",
    "bosnia herzegovina": "BA",
    "european union": "EU",
    "eu": "EU",
    "europol": "XE",
    "interpol": "XI",
    # Traditional-Chinese names in Facebook's 2013-2015 reports that CLDR
    # spells otherwise (澳洲, 捷克, 北馬其頓, 中國香港特別行政區, …).
    "澳大利亞": "AU",
    "捷克共和國": "CZ",
    "馬其頓": "MK",
    "香港": "HK",
    "澳門": "MO",
    "巴勒斯坦": "PS",
    # Misspellings in Twitter's removal-requests CSVs (2016-2018).
    "tunisla": "TN",
    "crotia": "HR",
    "czech republuc": "CZ",
}

# Names that stand for more than one country in practice: never guessed.
AMBIGUOUS: frozenset[str] = frozenset({"congo", "the congo", "guinea republic"})


class _KeyCharacters(dict):
    """str.translate table, filled per character on first sight: letters,
    digits, spaces and combining marks stay (Indic vowel signs are marks, which
    a regex's non-word class erased, making Hindi अंगोला Angola and अंगुला
    Anguilla one key); invisible format characters (ZWNJ…) go; punctuation and
    symbols become spaces."""

    def __missing__(self, codepoint: int) -> str:
        c = chr(codepoint)
        category = unicodedata.category(c)
        kept = c.isalnum() or c == "_" or c.isspace() or category[0] == "M"
        self[codepoint] = c if kept else "" if category == "Cf" else " "
        return self[codepoint]


_KEY_CHARACTERS = _KeyCharacters()


def _punctuation_to_spaces(text: str) -> str:
    return text.translate(_KEY_CHARACTERS)


_SPACES = re.compile(r"\s+")


def _name_key(name: str, *, strip_accents: bool = True) -> str:
    text = unicodedata.normalize("NFKC", name).casefold().replace("&", " and ")
    text = text.replace("’", "'").replace("‘", "'")
    if strip_accents:
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    text = _punctuation_to_spaces(text)
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class CountryMatch:
    code: str | None
    how: str  # code, alias, iso, cldr, unknown, ambiguous, blank


@functools.cache
def _iso_codes() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_2 for c in pycountry.countries) | frozenset(PSEUDO_CODES)


@functools.cache
def _alpha3() -> dict[str, str]:
    import pycountry

    table = {c.alpha_2: c.alpha_3 for c in pycountry.countries}
    table["XK"] = "XKX"  # plotly's outlines use XKX for Kosovo
    return table


def alpha3(code: str | None) -> str | None:
    """ISO alpha-3 for the map; None for pseudo codes that are not places."""
    if not code:
        return None
    return _alpha3().get(code)


def is_country(code: str | None) -> bool:
    """True for a code that is a place on the map (not EU, worldwide, …)."""
    return bool(code) and (code not in PSEUDO_CODES or code in MAPPABLE_PSEUDO)


@functools.cache
def _english_index() -> dict[str, set[str]]:
    import pycountry
    from babel import localedata

    index: dict[str, set[str]] = {}

    def add(name: str | None, code: str) -> None:
        if name:
            index.setdefault(_name_key(name), set()).add(code)

    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            add(getattr(c, attr, None), c.alpha_2)
    # English's own territory names: the same as Locale("en").territories,
    # without loading the inherited date formats (a third of a second).
    for code, name in localedata.load("en", merge_inherited=False)["territories"].items():
        if code in _iso_codes():
            add(name, code)
    for key, code in ALIASES.items():
        index[key] = {code}  # the alias table has the last word
    return index


@functools.cache
def _cldr_index() -> dict[str, set[str]]:
    """Territory names in every CLDR locale Babel ships (loaded on first miss)."""
    from babel import localedata

    codes = _iso_codes()
    index: dict[str, set[str]] = {}
    # Each locale's own data only (no inherited merge): regional variants then
    # cost little yet still add the names they change (pt_PT "Bangladeche",
    # es_419 "República del Congo", zh_Hant_HK "阿拉伯聯合酋長國").
    for ident in localedata.locale_identifiers():
        try:
            territories = localedata.load(ident, merge_inherited=False).get("territories", {})
        except Exception:  # a locale Babel lists but cannot load: skip it
            continue
        for code, name in territories.items():
            if code in codes:
                index.setdefault(_name_key(name), set()).add(code)
                index.setdefault(_name_key(name, strip_accents=False), set()).add(code)
    return index


def resolve_country(name: str | None, code: str | None = None) -> CountryMatch:
    """Map a published country name (any language) or code to ISO alpha-2.

    A published code wins when it is a known code. An unknown or ambiguous
    name gives code None: the caller keeps the row and reports it.
    """
    if code:
        code = code.strip().upper()
        if code in _iso_codes():
            return CountryMatch(code, "code")
    if not name or not name.strip():
        return CountryMatch(None, "blank")
    key = _name_key(name)
    if key in AMBIGUOUS:
        return CountryMatch(None, "ambiguous")
    # A code is two plain letters as published: folding accents must not turn
    # a name into one (Vietnamese "Áo" is Austria, not AO; "Bỉ" Belgium, not BI).
    as_published = _name_key(name, strip_accents=False)
    if len(key) == 2 and as_published.isascii() and key.upper() in _iso_codes() and key not in ALIASES:
        return CountryMatch(key.upper(), "code")
    for load_index, how in ((_english_index, "iso"), (_cldr_index, "cldr")):
        index = load_index()  # the all-locales index is built only on a miss
        # The name as written first: folding marks merges distinct names in
        # some scripts (Hindi अंगोला Angola and अंगुला Anguilla fold alike).
        found = index.get(as_published) or index.get(key)
        if found:
            if len(found) == 1:
                return CountryMatch(next(iter(found)), how)
            return CountryMatch(None, "ambiguous")
    return CountryMatch(None, "unknown")


def country_code(name: str | None, code: str | None = None) -> str | None:
    return resolve_country(name, code).code


def country_label(code: str | None) -> str:
    """An English display name for a code (pseudo codes included)."""
    if not code:
        return "Unknown"
    if code in PSEUDO_CODES:
        return PSEUDO_CODES[code]
    import pycountry

    c = pycountry.countries.get(alpha_2=code)
    if c is None:
        return code
    return getattr(c, "common_name", None) or c.name


# --------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date

    @property
    def grain(self) -> str:
        return period_grain(self.start, self.end)

    @property
    def label(self) -> str:
        return period_label(self.start, self.end)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def half_year(year: int, half: int) -> Period:
    if half not in (1, 2):
        raise ValueError(f"half must be 1 or 2, not {half!r}")
    return Period(date(year, 1 if half == 1 else 7, 1), date(year, 6 if half == 1 else 12, 30 if half == 1 else 31))


def quarter(year: int, q: int) -> Period:
    if q not in (1, 2, 3, 4):
        raise ValueError(f"quarter must be 1..4, not {q!r}")
    return Period(date(year, 3 * q - 2, 1), _month_end(year, 3 * q))


def full_year(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31))


def month(year: int, m: int) -> Period:
    return Period(date(year, m, 1), _month_end(year, m))


@functools.lru_cache(maxsize=4096)
def half_year_ending(end: date) -> Period:
    """The half-year that ends on `end` (Google's "Period Ending")."""
    if (end.month, end.day) == (6, 30):
        return half_year(end.year, 1)
    if (end.month, end.day) == (12, 31):
        return half_year(end.year, 2)
    raise ValueError(f"{end.isoformat()} is not the last day of a half-year")


def period_grain(start: date, end: date) -> str:
    if start.day != 1 or end != _month_end(end.year, end.month) or end < start:
        return "custom"
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months == 12 and start.month == 1:
        return "year"
    if months == 6 and start.month in (1, 7):
        return "half"
    if months == 3 and start.month in (1, 4, 7, 10):
        return "quarter"
    if months == 1:
        return "month"
    return "custom"


def period_label(start: date, end: date) -> str:
    grain = period_grain(start, end)
    if grain == "year":
        return f"{start.year}"
    if grain == "half":
        return f"{start.year}-H{1 if start.month == 1 else 2}"
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    return f"{start.isoformat()}/{end.isoformat()}"


_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_LABEL_PATTERNS = [
    (re.compile(r"^(\d{4})\s*[-_ ]?\s*H([12])$", re.I), lambda m: half_year(int(m[1]), int(m[2]))),
    (re.compile(r"^H([12])\s*[-_ ]?\s*(\d{4})$", re.I), lambda m: half_year(int(m[2]), int(m[1]))),
    (re.compile(r"^(\d{4})\s*[-_ ]?\s*Q([1-4])$", re.I), lambda m: quarter(int(m[1]), int(m[2]))),
    (re.compile(r"^Q([1-4])\s*[-_ ]?\s*(\d{4})$", re.I), lambda m: quarter(int(m[2]), int(m[1]))),
    (re.compile(r"^(\d{4})$"), lambda m: full_year(int(m[1]))),
    (re.compile(r"^(\d{4})-(\d{2})$"), lambda m: month(int(m[1]), int(m[2]))),
    (
        re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:/|to|–|-{1,2})\s*(\d{4}-\d{2}-\d{2})$"),
        lambda m: Period(date.fromisoformat(m[1]), date.fromisoformat(m[2])),
    ),
    (
        re.compile(r"^([a-z]{3})[a-z]*\s*[-–]\s*([a-z]{3})[a-z]*\s*,?\s*(\d{4})$", re.I),
        lambda m: _month_span(int(m[3]), m[1], m[2]),
    ),
]


def _month_span(year: int, first: str, last: str) -> Period:
    a, b = _MONTHS.get(first.lower()), _MONTHS.get(last.lower())
    if a is None or b is None or b < a:
        raise ValueError(f"not a month range: {first}-{last} {year}")
    return Period(date(year, a, 1), _month_end(year, b))


def parse_period(text: str) -> Period:
    """Read a period label: 2023-H1, H1 2023, 2023Q2, 2023, 2023-05, Jan-Jun 2023,
    or an explicit 2023-01-01/2023-06-30. Raises ValueError otherwise."""
    cleaned = _SPACES.sub(" ", (text or "").strip())
    for pattern, build in _LABEL_PATTERNS:
        m = pattern.match(cleaned)
        if m:
            period = build(m)
            if period.end < period.start:
                raise ValueError(f"period ends before it starts: {text!r}")
            return period
    raise ValueError(f"not a period label: {text!r}")


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------

DASHES = {"-", "–", "—", "‒"}
UNKNOWN_MARKS = {"?", "unknown", "n/k"}
NOT_APPLICABLE = {"n/a", "na", "not applicable"}


@dataclass(frozen=True)
class Number:
    """A published cell read as a number, with bounds when it is banded."""

    value: float | None
    low: float | None
    high: float | None
    kind: str  # exact, banded, range, unknown, blank, dash, not_applicable
    text: str


_FOOTNOTE = re.compile(r"(?:\s*(?:\*+|†|‡|\[\d+\]|\(\d+\)))+$")
_GROUPED = re.compile(r"^[+]?\d{1,3}(?:[,\u202f\u00a0 ]\d{3})+(?:\.\d+)?$")
_PLAIN = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_RANGE = re.compile(r"^(.+?)\s*[-–]\s*(.+)$")


def _clean(text: str) -> str:
    return _SPACES.sub(" ", (text or "").replace("\u00a0", " ").replace("\u202f", " ")).strip()


def _plain_number(text: str) -> float:
    t = text.strip()
    if _GROUPED.match(t):
        t = re.sub(r"[,\u202f\u00a0 ]", "", t)
    if not _PLAIN.match(t):
        raise ValueError(f"not a number: {text!r}")
    value = float(t)
    if not math.isfinite(value):  # 400 digits read as inf
        raise ValueError(f"not a finite number: {text!r}")
    return value


def parse_number(
    text: str | None,
    *,
    percent: bool = False,
    allow_negative: bool = False,
    maximum: float | None = None,
) -> Number:
    # Reports repeat the same few thousand cells; reading each once is enough.
    return _parse_number_cached(text, percent, allow_negative, maximum)


@functools.lru_cache(maxsize=65536)
def _parse_number_cached(text, percent, allow_negative, maximum) -> Number:
    """Read one published cell.

    "1,234" -> 1234; "<10" -> banded 0..9; "11,000 - 12,000" -> range; "?" ->
    unknown; "" -> blank; "-" -> dash (the caller documents what a dash means
    in its report). Footnote marks ("158*") are dropped from the value but kept
    in `text`. With percent=True a trailing "%" is accepted. Anything else
    raises ValueError, and so do negative numbers (unless allowed) and values
    above `maximum` (100 for percentages).
    """
    raw = text if text is not None else ""
    t = _clean(raw)
    if t == "":
        return Number(None, None, None, "blank", raw)
    if t in DASHES:
        return Number(None, None, None, "dash", raw)
    low_t = t.casefold()
    if low_t in UNKNOWN_MARKS:
        return Number(None, None, None, "unknown", raw)
    if low_t in NOT_APPLICABLE:
        return Number(None, None, None, "not_applicable", raw)
    t = _FOOTNOTE.sub("", t).strip()
    if percent:
        t = t.removesuffix("%").strip()
        maximum = 100.0 if maximum is None else maximum
    if t.startswith("<"):
        bound = _check_bound(_plain_number(t[1:].lstrip("=")), raw, allow_negative, maximum)
        high = bound if "=" in t[:2] else (bound - 1 if bound == int(bound) and not percent else bound)
        return Number(None, 0.0, high, "banded", raw)
    if t.startswith(">"):
        bound = _check_bound(_plain_number(t[1:].lstrip("=")), raw, allow_negative, maximum)
        low = bound if "=" in t[:2] else (bound + 1 if bound == int(bound) and not percent else bound)
        return Number(None, low, None, "banded", raw)
    m = _RANGE.match(t)
    if m and not _PLAIN.match(t):
        low = _check_bound(_plain_number(m[1]), raw, allow_negative, maximum)
        high = _check_bound(_plain_number(m[2]), raw, allow_negative, maximum)
        if high < low:
            raise ValueError(f"range runs backwards: {raw!r}")
        return Number(None, low, high, "range", raw)
    value = _plain_number(t)
    if value < 0 and not allow_negative:
        raise ValueError(f"negative value: {raw!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"value above {maximum:g}: {raw!r}")
    return Number(value, value, value, "exact", raw)


def _check_bound(bound: float, raw: str, allow_negative: bool, maximum: float | None) -> float:
    # Bounds of "<10" and "11,000 - 12,000" obey the same limits as exact values.
    if bound < 0 and not allow_negative:
        raise ValueError(f"negative value: {raw!r}")
    if maximum is not None and bound > maximum:
        raise ValueError(f"value above {maximum:g}: {raw!r}")
    return bound


def parse_count(text: str | None, *, maximum: float = 1e12) -> Number:
    """A count: a whole, non-negative number (bounds for "<10" are whole too)."""
    number = parse_number(text, maximum=maximum)
    if number.value is not None and number.value != int(number.value):
        raise ValueError(f"not a whole number: {text!r}")
    return number


# --------------------------------------------------------------------------
# Whole columns (pyarrow): the per-cell functions above, applied once per
# distinct cell, so a column reads exactly as a loop over its cells would.
# --------------------------------------------------------------------------


def map_distinct(values: pa.Array, fn: Callable[[str], tuple], types: Sequence[pa.DataType]) -> list[pa.Array]:
    """fn(value) -> one item per type, computed per distinct value, as columns."""
    encoded = values.dictionary_encode()
    results = [fn(v) for v in encoded.dictionary.to_pylist()]
    return [
        pc.take(pa.array([r[i] for r in results], type=t), encoded.indices) for i, t in enumerate(types)
    ]


def group_ids(columns: list[pa.Array | pa.ChunkedArray]) -> np.ndarray:
    """One integer per row, equal for two rows exactly when every column is
    (a null equals a null, never a value): rows grouped without building and
    hashing a long string per row."""
    ids = np.zeros(len(columns[0]), dtype=np.int64)
    span = 1  # ids lie in range(span)
    for column in columns:
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        encoded = array.dictionary_encode()
        size = len(encoded.dictionary) + 1  # the last code is null
        codes = pc.fill_null(encoded.indices, size - 1).to_numpy(zero_copy_only=False).astype(np.int64)
        if span * size >= 2**62:  # renumber densely before the product could overflow
            _, ids = np.unique(ids, return_inverse=True)
            span = int(ids.max()) + 1 if len(ids) else 1
        ids = ids * size + codes
        span *= size
    return ids


def map_distinct_rows(columns: list[pa.Array | pa.ChunkedArray], fn: Callable[..., tuple],
                      types: Sequence[pa.DataType]) -> list[pa.Array]:
    """fn(*row) -> one item per type, computed once per distinct row of the columns, as columns."""
    _, first, row_index = np.unique(group_ids(columns), return_index=True, return_inverse=True)
    results = [fn(*(column[i].as_py() for column in columns)) for i in first.tolist()]
    row_index = pa.array(row_index)
    return [pc.take(pa.array([r[i] for r in results], type=t), row_index) for i, t in enumerate(types)]


@dataclass(frozen=True)
class NumberColumn:
    """A column of published cells read as numbers (see `Number`)."""

    kind: pa.Array  # Number.kind, or "error" where the cell is not a number
    value: pa.Array
    low: pa.Array
    high: pa.Array
    errors: dict[str, str]  # cell text -> why it was refused


def parse_number_column(texts: pa.Array, *, percent: bool = False, count: bool = False) -> NumberColumn:
    """`parse_count` (count=True) or `parse_number` over a column of cells."""
    errors: dict[str, str] = {}

    def read(text: str) -> tuple:
        try:
            n = parse_count(text) if count else parse_number(text, percent=percent)
        except ValueError as exc:
            errors[text] = str(exc)
            return "error", None, None, None
        return n.kind, n.value, n.low, n.high

    kind, value, low, high = map_distinct(texts, read, [pa.string(), pa.float64(), pa.float64(), pa.float64()])
    return NumberColumn(kind, value, low, high, errors)

