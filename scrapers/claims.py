"""Governments' own claims about removals, loaded beside platform figures.

The curated CSV shipped in the package (scrapers/data/government_claims.csv)
holds each claim as the claimant stated it, with the source title and URL.
Claims are not observations: they are never summed or mixed with platform
figures, only shown beside them with their unit spelled out.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from importlib import resources

from . import store
from .models import ParseError
from .normalize import country_code, parse_number

COLUMNS = ["claimant", "country", "period_start", "period_end", "platform_and_metric", "value", "note",
           "source_title", "source_url"]  # fmt: skip
# How a claim's figure is qualified, from the curator's note (upper-case tags).
QUALIFIERS = ("LOWER BOUND", "APPROXIMATE", "RANGE", "DOUBTFUL", "UNSURE")


def read_claims(text: str | None = None) -> list[dict]:
    if text is None:
        text = resources.files("scrapers.data").joinpath("government_claims.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames != COLUMNS:
        raise ParseError(f"government_claims.csv: header {reader.fieldnames!r}, expected {COLUMNS!r}")
    claims = []
    for i, row in enumerate(reader, start=1):
        platform, _, metric = row["platform_and_metric"].partition(":")
        number = parse_number(row["value"])
        note = row["note"]
        qualifier = next((q.lower().replace(" ", "_") for q in QUALIFIERS if q in note), "")
        if number.kind == "range" and not qualifier:
            qualifier = "range"
        claims.append(
            {
                "claim_id": i,
                "claimant": row["claimant"],
                "country_code": country_code(row["country"]),
                "country_name": row["country"],
                "period_start": date.fromisoformat(row["period_start"]) if row["period_start"] else None,
                "period_end": date.fromisoformat(row["period_end"]) if row["period_end"] else None,
                "platform": platform.replace("_", " "),
                "claimed_metric": metric,
                "value": number.value,
                "value_low": number.low,
                "value_high": number.high,
                "value_text": row["value"],
                "qualifier": qualifier,
                "per_week": bool(re.search(r"per_week", metric)),
                "note": note,
                "source_title": row["source_title"],
                "source_url": row["source_url"],
            }
        )
    return claims


def load(con) -> int:
    """Replace the claims table with the shipped CSV (a few dozen rows), unless it holds them already."""
    rows = [list(c.values()) for c in read_claims()]

    def write() -> None:
        con.execute("DELETE FROM claims")
        store.insert_rows(con, "claims", rows)

    store.replace_unless_same(con, "claims", rows, write)
    return len(rows)
