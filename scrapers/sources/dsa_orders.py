"""EU Digital Services Act: orders from member-state authorities (Article 9 and 10).

Since the 2025-H2 reports every very large online platform publishes the same
harmonised CSV each half-year: Implementing Regulation (EU) 2024/2835, Annex I,
part 3 ("member states orders"). One row per scope (TOTAL, then each member
state) and category (TOTAL, each STATEMENT_CATEGORY_* and under it its
KEYWORD_* sub-categories); per row the orders to act against illegal content,
the items in them, the median times to confirm receipt and to give effect, and
the same for orders to provide information.

Platforms fill the template in their own ways, and this one parser reads them
all: an extra "Category label" column (TikTok), trailing unnamed header columns
(LinkedIn), rows that omit their trailing empty fields (Google), quoted
thousands ("18,400"), the template's placeholder text left in the description
column (Snap, Google), and category-major blocks in which only the first
member-state row names the service, period and category and the rows below
leave them empty to carry down (Facebook, Instagram).

There is no stable URL per platform and period (files sit behind each
platform's report page), so the source is import-first: `takedowns import FILE
--source dsa-orders`. data/dsa_catalog.json lists the platforms' report pages;
fetch() downloads only catalog entries that name a direct file URL.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

from ..formats import decode_text, read_csv
from ..models import Document, Observation, ParseError, SourceSpec, Warning
from ..normalize import parse_count, parse_number, parse_period, resolve_country

ORDERS_TO_ACT = "orders-to-act"
ORDERS_TO_PROVIDE_INFORMATION = "orders-to-provide-information"
BY_SUBCATEGORY = "-by-subcategory"

SPEC = SourceSpec(
    slug="dsa-orders",
    platform="EU DSA platforms",
    title="EU Digital Services Act transparency reports: orders from member-state authorities",
    urls=(),
    cadence="half-yearly",
    homepage="https://digital-strategy.ec.europa.eu/en/policies/dsa-brings-transparency",
    expect="csv",
    datasets={
        ORDERS_TO_ACT: (
            "Orders from member-state authorities to act against illegal content (DSA Art. 9), per service, "
            "member state and category of illegal content: orders, items in them, median hours to confirm "
            "receipt and to give effect (harmonised template, 2025-H2 on)"
        ),
        ORDERS_TO_ACT + BY_SUBCATEGORY: (
            "The same per sub-category (KEYWORD_*) of each category, as far as the platform fills them in"
        ),
        ORDERS_TO_PROVIDE_INFORMATION: (
            "Orders from member-state authorities to provide information about users (DSA Art. 10), per "
            "service, member state and category: orders, median hours to confirm receipt and to give effect"
        ),
        ORDERS_TO_PROVIDE_INFORMATION + BY_SUBCATEGORY: "The same per sub-category (KEYWORD_*) of each category",
    },
    headline_datasets=(ORDERS_TO_ACT,),
    notes=(
        "Import-only: load each platform's part-3 CSV ('..._3_member_states_orders.csv') with `takedowns import "
        "FILE --source dsa-orders`. The platform is the file's Service column ('Multi-Services' is Google's "
        "multi-service report). Scope TOTAL rows are the total over member states: country EU, is_total. "
        "Category TOTAL rows are the total over categories. Sub-categories (KEYWORD_*) are separate datasets "
        "because a category's row need not equal the sum of its sub-categories. Member states are given as EU "
        "codes; EL is Greece (GR). Medians are in hours, as the Implementing Regulation asks (LinkedIn's file "
        "quotes it). An empty cell publishes nothing, never 0: neither the template nor its blank copy says an "
        "empty cell means zero, and platforms leave cells empty both for zero (Google's unused categories) and "
        "for figures they did not compute (TikTok's median time to confirm receipt, sent automatically). "
        "The template names no type of authority, so requester is empty. The contextual-information columns "
        "are free text and are not loaded."
    ),
    import_only=True,
)

_COLUMNS = {
    "applicability": ["Applicability"],
    "service": ["Service"],
    "period": ["Reporting period"],
    "category_label": ["Category label"],
    "category": ["Category of illegal content"],
    "description": ['Description of the sub-category "Other"'],
    "scope": ["Scope"],
    "act_orders": ["Number of orders to act against illegal content received"],
    "act_items": [
        "Number of specific items of information included in the total number of orders to act against illegal content"
    ],
    "act_inform": ["Median time to inform the authority of the receipt of the order to act against illegal content"],
    "act_effect": ["Median time to give effect to the order to act against illegal content"],
    "info_orders": ["Number of orders to provide information"],
    "info_inform": ["Median time to inform the authority of the receipt of the order to provide information"],
    "info_effect": ["Median time to give effect to the order to provide information"],
    "ctx_act_orders": ["Contextual information on number of orders to act against illegal content received"],
    "ctx_act_items": [
        "Contextual information on number of specific items of information included in the total number of "
        "orders to act against illegal content"
    ],
    "ctx_act_inform": [
        "Contextual information on Median time to inform the authority of the receipt of the order to act "
        "against illegal content"
    ],
    "ctx_act_effect": [
        "Contextual information on Median time to give effect to the order to act against illegal content"
    ],
    "ctx_info_orders": ["Contextual information on Number of orders to provide information"],
    "ctx_info_inform": [
        "Contextual information on Median time to inform the authority of the receipt of the order to provide "
        "information"
    ],
    "ctx_info_effect": [
        "Contextual information on Median time to give effect to the order to provide information"
    ],
}
_OPTIONAL = ["applicability", "category_label", "description"] + [c for c in _COLUMNS if c.startswith("ctx_")]

# (column, dataset, metric)
_FIGURES = [
    ("act_orders", ORDERS_TO_ACT, "orders"),
    ("act_items", ORDERS_TO_ACT, "items_requested"),
    ("act_inform", ORDERS_TO_ACT, "median_hours_to_inform"),
    ("act_effect", ORDERS_TO_ACT, "median_hours_to_effect"),
    ("info_orders", ORDERS_TO_PROVIDE_INFORMATION, "orders_to_provide_information"),
    ("info_inform", ORDERS_TO_PROVIDE_INFORMATION, "median_hours_to_inform"),
    ("info_effect", ORDERS_TO_PROVIDE_INFORMATION, "median_hours_to_effect"),
]

# Service column (case-folded, spaces collapsed) -> platform name.
SERVICES = {
    "facebook": "Facebook",
    "instagram": "Instagram",
    "tiktok": "TikTok",
    "x": "X (Twitter)",  # one name for the platform across Twitter, X and DSA reports
    "snap": "Snapchat",
    "snapchat": "Snapchat",
    "linkedin": "LinkedIn",
    "multi-services": "Google Multi-Services",
    "google multi-services": "Google Multi-Services",
    "youtube": "YouTube",
    "google play": "Google Play",
    "google maps": "Google Maps",
    "google search": "Google Search",
    "google shopping": "Google Shopping",
}

# The template's own filler text, left in by some platforms.
_PLACEHOLDERS = {'text to detail the "other" keyword.'}
# Member-state codes the EU writes differently from ISO 3166.
_EU_CODES = {"EL": "GR"}


def fetch(session, spec: SourceSpec = SPEC) -> list[Document]:
    return [session.get(entry["direct_file_url"], expect="csv") for entry in catalog() if entry.get("direct_file_url")]


def catalog() -> list[dict]:
    """The very large platforms' DSA report pages (data/dsa_catalog.json)."""
    text = resources.files("scrapers.data").joinpath("dsa_catalog.json").read_text(encoding="utf-8")
    return json.loads(text)["platforms"]


def import_url(filename: str) -> str | None:
    # Platforms publish these files behind report pages with no stable per-file
    # URL we can name with confidence; the import records the file name instead.
    return None


@dataclass
class _Row:
    number: int  # 1-based record number in the file, header = 1 (the spreadsheet row)
    cells: list[str]
    service: str
    period: str
    category: str
    description: str
    parent: str  # the STATEMENT_CATEGORY_* a KEYWORD_* row belongs to


def parse(document: Document) -> Iterator[Observation | Warning]:
    where = document.url
    member = document.url.rsplit("/", 1)[-1].removeprefix("file:")
    text = decode_text(document.body, where)
    try:
        records = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ParseError(f"{where}: malformed CSV: {exc}") from exc
    # The header is checked by name (missing or unexpected columns are errors);
    # the records are read here so that `row` is the record number a spreadsheet shows.
    header = io.StringIO()
    csv.writer(header).writerow(records[0] if records else [])
    columns = read_csv(header.getvalue(), where, _COLUMNS, optional=_OPTIONAL).columns

    def cell(cells: list[str], name: str) -> str:
        idx = columns.get(name)
        return cells[idx] if idx is not None and idx < len(cells) else ""

    rows: list[_Row] = []
    warnings: list[Warning] = []
    context: _Row | None = None
    parent = ""
    for number, cells in enumerate(records[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        category = cell(cells, "category").strip()
        service = _spaces(cell(cells, "service"))
        period = cell(cells, "period").strip()
        if not category:
            # Facebook/Instagram blocks: the rows below a block's first row leave
            # service, period and category empty; they carry down.
            if service or period:
                raise ParseError(f"{where} row {number}: no 'Category of illegal content' on a row that names its service")
            if context is None:
                raise ParseError(f"{where} row {number}: the first data row names no category")
            rows.append(_Row(number, cells, context.service, context.period, context.category, context.description, context.parent))
            continue
        description = _spaces(cell(cells, "description"))
        if description.casefold() in _PLACEHOLDERS:
            description = ""
        if category == "TOTAL":
            parent = ""
        elif category.startswith("STATEMENT_CATEGORY_"):
            parent = category
            if description.isdigit():
                warnings.append(
                    Warning("odd_cell", f"description column holds {description!r} on category row {category}", member, number)
                )
        elif category.startswith("KEYWORD_"):
            if not parent:
                raise ParseError(f"{where} row {number}: sub-category {category} comes before any STATEMENT_CATEGORY_* row")
        else:
            raise ParseError(
                f"{where} row {number}: 'Category of illegal content' {category!r} is not TOTAL, "
                "STATEMENT_CATEGORY_* or KEYWORD_*"
            )
        context = _Row(number, cells, service, period, category, description, parent if category != "TOTAL" else "")
        rows.append(context)

    # Categories with more than one KEYWORD_OTHER row in one scope (Google, Snap)
    # need the row's description to tell their sub-categories apart.
    seen: dict[tuple, int] = {}
    for row in rows:
        if row.category == "KEYWORD_OTHER":
            key = (row.service, row.period, _spaces(cell(row.cells, "scope")), row.parent)
            seen[key] = seen.get(key, 0) + 1
    described = {key[3] for key, n in seen.items() if n > 1}

    yield from warnings
    unknown_services: set[str] = set()
    periods: dict[str, object] = {}
    numbers: dict[tuple[str, str], object] = {}  # the same cells ("0", "") recur thousands of times
    for row in rows:
        texts = {column: cell(row.cells, column) for column, _, _ in _FIGURES}
        if not any(t.strip() for t in texts.values()):
            continue  # an empty row publishes nothing (the blank template is all such rows)
        if not row.service:
            raise ParseError(f"{where} row {row.number}: figures but no 'Service'; cannot tell which platform they are")
        platform = SERVICES.get(row.service.casefold())
        if platform is None:
            platform = row.service
            if row.service not in unknown_services:
                unknown_services.add(row.service)
                detail = f"Service {row.service!r} is not a known platform name; kept as published"
                yield Warning("unknown_service", detail, member, row.number)
        period = periods.get(row.period)
        if period is None:
            try:
                period = periods[row.period] = parse_period(row.period)
            except ValueError as exc:
                raise ParseError(f"{where} row {row.number}: 'Reporting period' {row.period!r}: {exc}") from exc
        place = _place(_spaces(cell(row.cells, "scope")), where, row.number)
        level = "total" if row.category == "TOTAL" else "keyword" if row.category.startswith("KEYWORD_") else "category"
        reason, total_over = _reason_and_totals(row, level, place, described)
        for column, dataset, metric in _FIGURES:
            raw = texts[column]
            number = numbers.get((raw, column))
            if number is None:
                number = numbers[(raw, column)] = _number(raw, metric, where, row.number, column)
            if number.kind == "blank":
                continue  # not published (see SPEC.notes: never read as 0)
            yield Observation(
                dataset=dataset + (BY_SUBCATEGORY if level == "keyword" else ""),
                period_start=period.start,
                period_end=period.end,
                metric=metric,
                value=number.value,
                value_text=raw,
                value_low=number.low,
                value_high=number.high,
                country_name=place["name"],
                country_code=place["code"],
                reason=reason,
                is_total=bool(total_over),
                total_over=total_over,
                member=member,
                row=row.number,
                platform=platform,
            )
            if number.kind != "exact":
                yield Warning(
                    f"{number.kind}_value",
                    f"{metric} published as {raw!r} for {place['name']} {row.category}; no exact value",
                    member,
                    row.number,
                )


def _spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _place(scope: str, where: str, number: int) -> dict:
    """The Scope cell: TOTAL (all member states) or a member state's code."""
    if not scope:
        raise ParseError(f"{where} row {number}: figures but an empty 'Scope'")
    if scope.upper() == "TOTAL":
        return {"name": scope, "code": "EU", "total": True}
    code = scope.upper()
    code = _EU_CODES.get(code, code)
    if len(code) == 2 and resolve_country(None, code).how == "code":
        return {"name": scope, "code": code, "total": False}
    # Not a code: keep the name as published; the pipeline resolves it and reports a miss.
    return {"name": scope, "code": None, "total": False}


def _reason_and_totals(row: _Row, level: str, place: dict, described: set[str]) -> tuple[str, str]:
    """The row's reason and, for a total row, what it adds up over."""
    over = ["country"] if place["total"] else []
    if level == "total":
        return "", ",".join(over + ["reason"])
    if level == "category":
        return row.category, ",".join(over)
    reason = f"{row.parent} / {row.category}"
    if row.category == "KEYWORD_OTHER" and row.parent in described and row.description:
        reason += f": {row.description}"
    return reason, ",".join(over)


def _number(raw: str, metric: str, where: str, number: int, column: str):
    try:
        if metric.startswith("median_"):
            return parse_number(raw)
        return parse_count(raw)
    except ValueError as exc:
        header = _COLUMNS[column][0]
        raise ParseError(f"{where} row {number}: column {header!r}: {exc}") from exc
