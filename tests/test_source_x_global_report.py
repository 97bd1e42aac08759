"""X's Global Transparency Report (PDF, import-only), H1 2024 onwards.

Real-file tests read ../shared/archive/x/x-global-transparency-report-2024-H1.pdf
(page 13: "INFORMATION AND REMOVAL REQUESTS"). Table-level tests use rows typed
from that page; the table-not-found test builds a one-page PDF with no table.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from scrapers.models import Document, Observation, ParseError, Warning
from scrapers.normalize import half_year
from scrapers.sources import SOURCES
from scrapers.sources import x_global_report as x
from scrapers.validate import check_metrics, check_totals, dedupe, resolve_countries

from tests.conftest import document_from, shared_path

FILE = "x-global-transparency-report-2024-H1.pdf"
PUBLISHED = "https://transparency.x.com/content/dam/transparency-twitter/2024/x-global-transparency-report-h1.pdf"

# The removal-requests table of page 13, as pdfplumber reads it (typed from the PDF).
REMOVAL_TABLE = [
    ["", "TOTAL NUMBER OF REQUESTS", "CASES ACTIONED", "ACTION RATE"],
    ["TOTAL REMOVAL REQUESTS", "72,703", "51,487", "70.82%"],
    ["Turkey", "9,364", "6,332", "68%"],
    ["Japan", "46,648", "36,731", "79%"],
    ["South Korea", "5,889", "4,296", "73%"],
    ["EU", "2,458", "1,965", "80%"],
    ["All Others", "8,345", "2,163", "26%"],
]


@pytest.fixture(scope="module")
def records() -> list:
    doc = document_from(shared_path("archive", "x", FILE), x.import_url(FILE), origin="import")
    return list(x.parse(doc))


@pytest.fixture(scope="module")
def observations(records) -> list[Observation]:
    return [r for r in records if isinstance(r, Observation)]


def _find(observations, dataset, metric, country):
    (hit,) = [o for o in observations if o.dataset == dataset and o.metric == metric and o.country_name == country]
    return hit


def _tiny_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF showing `lines` of text (and no table)."""
    text = " ".join(f"({line}) '" for line in lines)
    content = f"BT /F1 12 Tf 72 720 Td 14 TL {text} ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


# --------------------------------------------------------------------------
# Contract
# --------------------------------------------------------------------------


def test_spec_and_registry():
    assert SOURCES["x-global-report"] is x
    spec = x.SPEC
    assert (spec.platform, spec.expect, spec.import_only, spec.urls) == ("X (Twitter)", "pdf", True, ())
    assert spec.headline_datasets == ("removal-requests",)
    assert x.fetch(object()) == []  # import-only: nothing to fetch


def test_import_url():
    assert x.import_url(FILE) == PUBLISHED
    assert x.import_url(f"/somewhere/archive/x/{FILE}") == PUBLISHED
    assert x.import_url("x-global-transparency-report-2025-H1.pdf") is None  # not known: no guess


# --------------------------------------------------------------------------
# The real report
# --------------------------------------------------------------------------


def test_removal_figures_checked_by_hand(observations):
    # Page 13, second table: "Japan 46,648 36,731 79%".
    japan = _find(observations, "removal-requests", "requests", "Japan")
    assert (japan.value, japan.value_text, japan.period_start, japan.period_end) == (
        46648, "46,648", date(2024, 1, 1), date(2024, 6, 30)
    )
    assert japan.member == "page 13: TOTAL REMOVAL REQUESTS" and japan.row == 4
    # The document's URL names no year: 2024 comes from the text ("Global Transparency Report | H1 2024").
    assert "2024-h1" not in japan.member and "2024" not in PUBLISHED.rsplit("/", 1)[-1]
    assert _find(observations, "removal-requests", "requests_actioned", "Japan").value == 36731
    assert _find(observations, "removal-requests", "pct_requests_actioned", "Japan").value == 79
    # "Turkey 9,364 6,332 68%".
    assert _find(observations, "removal-requests", "requests", "Turkey").value == 9364
    # "TOTAL REMOVAL REQUESTS 72,703 51,487 70.82%": the total, never a country.
    total = _find(observations, "removal-requests", "pct_requests_actioned", "TOTAL REMOVAL REQUESTS")
    assert (total.value, total.value_text, total.is_total, total.country_code, total.total_over) == (
        70.82, "70.82%", True, "XW", "country"
    )
    # "EU 2,458 1,965 80%" and "All Others 8,345 2,163 26%" are groups, not totals.
    eu = _find(observations, "removal-requests", "requests", "EU")
    others = _find(observations, "removal-requests", "requests_actioned", "All Others")
    assert (eu.country_code, eu.is_total, eu.value) == ("EU", False, 2458)
    assert (others.country_code, others.is_total, others.value) == ("XO", False, 2163)


def test_information_request_figures_checked_by_hand(observations):
    # Page 13, first table: "USA 3,329 2,522 76%", "TOTAL INFORMATION REQUESTS 18,737 9,897 52.82%".
    assert _find(observations, "information-requests", "requests_for_user_data", "USA").value == 3329
    assert _find(observations, "information-requests", "requests_data_produced", "USA").value == 2522
    assert _find(observations, "information-requests", "pct_requests_data_produced", "USA").value == 76
    total = _find(observations, "information-requests", "requests_for_user_data", "TOTAL INFORMATION REQUESTS")
    assert (total.value, total.is_total, total.country_code) == (18737, True, "XW")
    assert {o.dataset for o in observations} == {"removal-requests", "information-requests"}
    assert len(observations) == 2 * 6 * 3  # two tables, six rows, three columns


def test_no_warnings_and_every_country_resolves(records, observations):
    assert [r for r in records if isinstance(r, Warning)] == []
    resolved, unknown = resolve_countries(observations, PUBLISHED)
    assert unknown == []
    codes = {o.country_name: o.country_code for o in resolved}
    assert codes == {
        "TOTAL INFORMATION REQUESTS": "XW", "USA": "US", "Japan": "JP", "EU": "EU", "UK": "GB", "All Others": "XO",
        "TOTAL REMOVAL REQUESTS": "XW", "Turkey": "TR", "South Korea": "KR",
    }
    check_metrics(resolved, PUBLISHED)
    kept, duplicates = dedupe(resolved, "X (Twitter)", PUBLISHED)
    assert duplicates == [] and len(kept) == len(observations)


def test_check_totals_reports_the_published_totals_that_do_not_add_up(observations):
    resolved, _ = resolve_countries(observations, PUBLISHED)
    details = sorted(w.detail for w in check_totals(resolved, "X (Twitter)"))
    # Removal requests: 9,364 + 46,648 + 5,889 + 2,458 + 8,345 = 72,704, printed total 72,703.
    # Cases disclosed: 2,522 + 1,627 + 4,388 + 307 + 1,135 = 9,979, printed total 9,897.
    # (Actioned 51,487 and information requests 18,737 do add up.)
    assert len(details) == 2
    assert "requests_data_produced" in details[0] and "'9,897'" in details[0] and "add up to 9979" in details[0]
    assert " requests:" in details[1] and "'72,703'" in details[1] and "add up to 72704" in details[1]


# --------------------------------------------------------------------------
# Drift and bad input fail loudly
# --------------------------------------------------------------------------


def test_the_table_reader_matches_the_real_file(observations):
    period = half_year(2024, 1)
    typed = [o for o in x._read_table(REMOVAL_TABLE, 1, "removal-requests", period, "page 13: TOTAL REMOVAL REQUESTS", FILE)]
    assert typed == [o for o in observations if o.dataset == "removal-requests"]


def test_a_renamed_column_fails_loudly():
    drifted = [list(row) for row in REMOVAL_TABLE]
    drifted[0][2] = "CASES ACTED ON"
    with pytest.raises(ParseError) as err:
        list(x._read_table(drifted, 1, "removal-requests", half_year(2024, 1), "page 13: TOTAL REMOVAL REQUESTS", FILE))
    message = str(err.value)
    assert FILE in message and "page 13" in message and "'CASES ACTED ON'" in message


def test_a_missing_column_fails_loudly():
    drifted = [row[:3] for row in REMOVAL_TABLE]  # no ACTION RATE
    with pytest.raises(ParseError, match=r"missing column\(s\) 'ACTION RATE'"):
        list(x._read_table(drifted, 1, "removal-requests", half_year(2024, 1), "page 13", FILE))


def test_a_report_without_the_table_fails_loudly():
    body = _tiny_pdf(["Global Transparency Report | H1 2025", "INFORMATION AND REMOVAL REQUESTS", "To be published."])
    doc = Document(url="file:///imports/x-h1-2025.pdf", body=body, fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(ParseError) as err:
        list(x.parse(doc))
    message = str(err.value)
    assert "x-h1-2025.pdf" in message and "'TOTAL REMOVAL REQUESTS'" in message


def test_not_a_pdf_fails_loudly():
    doc = Document(url="file:///imports/report.pdf", body=b"<!DOCTYPE html><html></html>", fetched_at=None)
    with pytest.raises(ParseError, match="not a PDF"):
        list(x.parse(doc))


@pytest.mark.parametrize(
    "texts, expected",
    [
        (["Global Transparency Report | H2 2024", "from July to December 2024"], half_year(2024, 2)),
        (["the period of January 1 – June 30, 2025"], half_year(2025, 1)),
        (["GLOBAL TRANSPARENCY REPORT H1 2024", "for the period of January to June 2024"], half_year(2024, 1)),
    ],
)
def test_period_from_the_report_text(texts, expected):
    assert x._period(texts, {1}, FILE) == expected


@pytest.mark.parametrize(
    "texts, error",
    [
        (["Global Transparency Report | H1 2024", "covers July to December 2024"], "says 2024-H1"),
        (["Report | H1 2025", "up from H2 2024"], "several half-years"),
        (["A transparency report"], "cannot find the period"),
    ],
)
def test_unclear_period_fails_loudly(texts, error):
    with pytest.raises(ParseError, match=error):
        x._period(texts, set(range(1, len(texts) + 1)), FILE)
