"""Wikimedia Foundation: requests for content alteration and takedown (2012-2018).

The Foundation's old transparency site (transparency.wikimedia.org) is no
longer updated; its last edition covers Jul-Dec 2018. Two things on it are
loaded, as two separate datasets so that government requests are never mixed
with requests from anyone:

* the page's "Government Requests Breakdown" table (content.html): the
  government requests of one reporting period, per country and requester type.
  The page was overwritten every half-year, so each period is a different copy
  of the page (the archived ones are loaded with `takedowns import`). Two
  layouts: the unminified one (2015-H1 to 2016-H1), in which an empty country
  cell continues the country of the row above, and the minified one after it.
* data/where_from.csv: all requests (from any requester) per requester's
  country and period, with how many were granted, 2012-07 to 2018-12. The
  first period runs a full year (Jul 2012-Jun 2013); later ones are half-years.

data/targeted_takedown.csv counts all requests by the Wikimedia project they
targeted ("English Wikipedia", "Wikimedia Commons"…), from any requester and
with no country: it says nothing about governments, so it is not loaded.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import date

from ..formats import decode_text, iter_csv_dicts, looks_like_html, read_csv
from ..models import Document, Observation, ParseError, SourceSpec, Warning
from ..normalize import Period, parse_count, parse_period

SITE = "https://transparency.wikimedia.org"
PAGE_URL = f"{SITE}/content.html"
WHERE_FROM_URL = f"{SITE}/data/where_from.csv"
TARGETED_URL = f"{SITE}/data/targeted_takedown.csv"

GOVERNMENT = "government-requests"
ALL_REQUESTERS = "requests-by-country-all-requesters"

SPEC = SourceSpec(
    slug="wikimedia",
    platform="Wikimedia",
    title="Wikimedia Foundation Transparency Report: requests for content alteration and takedown",
    urls=(PAGE_URL, WHERE_FROM_URL),
    cadence="archived",
    homepage=PAGE_URL,
    expect="html",
    datasets={
        GOVERNMENT: (
            "Government requests for content alteration or takedown, per country and requester type "
            "(as the Foundation classed them: agencies, courts, police, politicians…), one reporting period "
            "per edition of the page (2015-H1 to 2018-H2 in the archived copies)"
        ),
        ALL_REQUESTERS: (
            "All requests for content alteration or takedown, from any requester (private people and "
            "companies included), per requester's country and period, and how many were granted "
            "(Jul 2012-Jun 2013, then half-years to 2018-H2)"
        ),
    },
    headline_datasets=(GOVERNMENT,),
    notes=(
        "Old site, last updated for Jul-Dec 2018. The government table is read from content.html, located by "
        "its 'Government Requests Breakdown' heading; its period is the one printed in that heading. Earlier "
        "half-years' tables are in archived copies of the page: load them with `takedowns import "
        "content_<YYYYHn>.html --source wikimedia`. where_from.csv holds all requesters, not governments: it "
        "is a separate dataset and never a headline; its country 'Unknown' is kept as published (not a "
        "country), and its tooltips ('One case was American-Brazilian') are reported as notes. "
        "targeted_takedown.csv (all requests per targeted Wikimedia project, any requester, no country) is "
        "not loaded: it says nothing about governments."
    ),
)

_HEADING = "government requests breakdown"
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
# "jul12jun13", "juldec13": first month (and year), last month and year.
_DURATION = re.compile(r"^([a-z]{3})(\d{2})?([a-z]{3})(\d{2})$")
# "Jul 2012 – Jun 2013" (a period across two years, as the first one was)
_SPAN = re.compile(r"^([A-Za-z]{3})[a-z]*\.?\s+(\d{4})\s*[-–—]\s*([A-Za-z]{3})[a-z]*\.?\s+(\d{4})$")

_WHERE_FROM = {
    "country": ["key"],
    "requests": ["requests"],
    "requests_actioned": ["complied"],
    "duration": ["duration"],
    "tooltip": ["tooltip"],
}
_TARGETED_HEADER = {"key", "url", "requests", "complied", "duration"}


def fetch(session, spec: SourceSpec = SPEC) -> list[Document]:
    return [
        session.get(PAGE_URL, expect="html"),
        session.get(WHERE_FROM_URL, expect="csv"),
    ]


def import_url(filename: str) -> str | None:
    """The URL an archived copy was published at: every content_<YYYYHn>.html
    is an edition of the one content page."""
    name = filename.rsplit("/", 1)[-1]
    if re.fullmatch(r"content(?:_\d{4}H[12])?\.html?", name, re.I):
        return PAGE_URL
    if name == "where_from.csv":
        return WHERE_FROM_URL
    if name == "targeted_takedown.csv":
        return TARGETED_URL
    return None


def parse(document: Document) -> Iterator[Observation | Warning]:
    if looks_like_html(document.body) or document.url.lower().endswith((".html", ".htm")):
        yield from _parse_page(document)
        return
    text = decode_text(document.body, document.url)
    header = {cell.strip().casefold() for cell in text.split("\n", 1)[0].split(",")}
    if _TARGETED_HEADER <= header:
        raise ParseError(
            f"{document.url}: this is targeted_takedown.csv (all requests per targeted Wikimedia project, any "
            "requester, no country); it is not loaded because it says nothing about governments"
        )
    yield from _parse_where_from(document, text)


# --------------------------------------------------------------------------
# The page's government table
# --------------------------------------------------------------------------


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


def _page_period(text: str, where: str) -> Period:
    """'Jan – Jun 2015' or 'Jul 2012 – Jun 2013' -> the period it names."""
    m = _SPAN.match(text)
    if m:
        first, last = _MONTHS.get(m[1].lower()), _MONTHS.get(m[3].lower())
        if first is None or last is None or 0 in (int(m[2]), int(m[4])):  # year 0000 is no date
            raise ParseError(f"{where}: cannot read the period {text!r} in the table's heading")
        start = date(int(m[2]), first, 1)
        end = date(int(m[4]), last, calendar.monthrange(int(m[4]), last)[1])
        if end < start:
            raise ParseError(f"{where}: the period {text!r} in the table's heading ends before it starts")
        return Period(start, end)
    try:
        return parse_period(text)
    except ValueError as exc:
        raise ParseError(f"{where}: cannot read the period {text!r} in the table's heading: {exc}") from exc


def _parse_page(document: Document) -> Iterator[Observation | Warning]:
    from bs4 import BeautifulSoup

    where = document.url
    soup = BeautifulSoup(decode_text(document.body, where), "lxml")
    headings = [h for h in soup.find_all(re.compile(r"^h[1-6]$")) if _HEADING in _clean(h.get_text(" ")).casefold()]
    if not headings:
        raise ParseError(f"{where}: no 'Government Requests Breakdown' heading found; the page layout changed")
    if len(headings) > 1:
        raise ParseError(f"{where}: {len(headings)} 'Government Requests Breakdown' headings; expected one")
    heading = headings[0]
    small = heading.find("small")
    if small is None:
        raise ParseError(f"{where}: the 'Government Requests Breakdown' heading names no period (no <small> label)")
    period = _page_period(_clean(small.get_text(" ")), where)
    small.extract()
    member = _clean(heading.get_text(" "))  # the heading as published, e.g. "Government Requests Breakdown"
    table = heading.find_next("table")
    if table is None:
        raise ParseError(f"{where}: no table after the '{member}' heading")
    where = f"{where} table {member!r}"

    country = None
    for number, tr in enumerate(table.find_all("tr"), start=1):
        cells = tr.find_all(["td", "th"])
        if cells and all(c.name == "th" for c in cells):
            continue  # a header row, if a later layout adds one
        if len(cells) != 3:
            raise ParseError(
                f"{where} row {number}: expected 3 cells (country, requester, requests), found {len(cells)}: "
                f"{[_clean(c.get_text(' ')) for c in cells]!r}"
            )
        name, requester, count = (_clean(c.get_text(" ")) for c in cells)
        if name:
            country = name
        elif country is None:
            raise ParseError(f"{where} row {number}: the first row has no country")
        # else: the unminified layout leaves the country empty on the rows that continue it
        try:
            value = parse_count(count)
        except ValueError as exc:
            raise ParseError(f"{where} row {number}: requests: {exc}") from exc
        if value.kind not in ("exact", "banded"):
            raise ParseError(f"{where} row {number}: requests: unexpected cell {count!r}")
        if not requester:
            raise ParseError(f"{where} row {number}: no requester type for {country}")
        yield Observation(
            dataset=GOVERNMENT,
            period_start=period.start,
            period_end=period.end,
            metric="requests",
            value=value.value,
            value_text=count,
            value_low=value.low,
            value_high=value.high,
            country_name=country,
            requester=requester,
            member=member,
            row=number,
        )
        if value.kind == "banded":
            yield Warning("banded_value", f"requests published as {count!r} for {country}", member, number)


# --------------------------------------------------------------------------
# where_from.csv: all requesters by country
# --------------------------------------------------------------------------


def _duration(text: str, where: str, line: int) -> Period:
    """'jul12jun13' -> Jul 2012..Jun 2013; 'juldec13' -> Jul..Dec 2013."""
    m = _DURATION.match(text.strip().lower())
    first = _MONTHS.get(m[1]) if m else None
    last = _MONTHS.get(m[3]) if m else None
    if not m or first is None or last is None:
        raise ParseError(f"{where} line {line}: 'duration' {text!r} is not like 'juldec13' or 'jul12jun13'")
    end_year = 2000 + int(m[4])
    start_year = 2000 + int(m[2]) if m[2] else end_year
    start = date(start_year, first, 1)
    end = date(end_year, last, calendar.monthrange(end_year, last)[1])
    if end < start:
        raise ParseError(f"{where} line {line}: 'duration' {text!r} ends before it starts")
    return Period(start, end)


def _parse_where_from(document: Document, text: str) -> Iterator[Observation | Warning]:
    member = "where_from.csv"
    where = document.url
    table = read_csv(text, where, _WHERE_FROM, optional=["tooltip"])
    for line, row in iter_csv_dicts(table):
        period = _duration(row["duration"], where, line)
        country = row["country"].strip()
        if not country:
            raise ParseError(f"{where} line {line}: empty 'key' (country)")
        for metric in ("requests", "requests_actioned"):
            try:
                number = parse_count(row[metric])
            except ValueError as exc:
                raise ParseError(f"{where} line {line}: {metric}: {exc}") from exc
            if number.kind == "blank":
                continue
            if number.kind != "exact":
                raise ParseError(f"{where} line {line}: {metric}: unexpected cell {row[metric]!r}")
            yield Observation(
                dataset=ALL_REQUESTERS,
                period_start=period.start,
                period_end=period.end,
                metric=metric,
                value=number.value,
                value_text=row[metric],
                value_low=number.low,
                value_high=number.high,
                country_name=country,
                member=member,
                row=line,
            )
        note = row.get("tooltip", "").strip()
        if note:
            yield Warning("published_note", f"{country} {period.label}: {note}", member, line)
