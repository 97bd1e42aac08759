"""Pure shaping of query results: DataFrames in, DataFrames or text out.

No Streamlit and no SQL here, so every rule that decides what a reader sees
(how a banded figure is written, which periods may be added up, when two
cells are comparable, what counts as a contradiction between claims) can be
tested on its own.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from urllib.parse import quote

import pandas as pd
import pyarrow as pa

from scrapers.models import METRICS
from scrapers.normalize import alpha3, country_label, is_country

GRAIN_ORDER = {"month": 0, "quarter": 1, "half": 2, "year": 3, "custom": 4}
GRAIN_NOUN = {"month": "month", "quarter": "quarter", "half": "half-year", "year": "year", "custom": "custom period"}
PROVENANCE_COLUMNS = ["source", "source_title", "source_url", "document_ids", "document_sha256", "fetched_at"]

# --------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------

_HALF = re.compile(r"^(\d{4})-H([12])$")


def half_year_bounds(label: str) -> tuple[date, date]:
    """'2023-H1' -> (2023-01-01, 2023-06-30)."""
    match = _HALF.match(label)
    if not match:
        raise ValueError(f"not a half-year label: {label!r}")
    year, half = int(match[1]), int(match[2])
    return (date(year, 1, 1), date(year, 6, 30)) if half == 1 else (date(year, 7, 1), date(year, 12, 31))


def half_year_label(day: date) -> str:
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def half_year_options(first: date, last: date) -> list[str]:
    """Every half-year from the one holding `first` to the one holding `last`."""
    labels, year, half = [], first.year, 1 if first.month <= 6 else 2
    end_label = half_year_label(last)
    while True:
        label = f"{year}-H{half}"
        labels.append(label)
        if label == end_label or year > last.year:
            return labels
        year, half = (year, 2) if half == 1 else (year + 1, 1)


def range_bounds(first_label: str, last_label: str) -> tuple[date, date]:
    """The dates a sidebar range covers: start of the first half-year to end of the last."""
    start, _ = half_year_bounds(first_label)
    _, end = half_year_bounds(last_label)
    if end < start:
        start, end = half_year_bounds(last_label)[0], half_year_bounds(first_label)[1]
    return start, end


def previous_period(start: date, end: date, grain: str) -> tuple[date, date] | None:
    """The period of the same grain immediately before [start, end]."""
    if grain == "half":
        return (date(start.year - 1, 7, 1), date(start.year - 1, 12, 31)) if start.month == 1 else (date(start.year, 1, 1), date(start.year, 6, 30))
    if grain == "year":
        return date(start.year - 1, 1, 1), date(start.year - 1, 12, 31)
    if grain in ("quarter", "month"):
        months = 3 if grain == "quarter" else 1
        prev_end = start - timedelta(days=1)
        first_month = prev_end.month - months + 1
        return date(prev_end.year, first_month, 1), prev_end
    return None


def periods_between(start: date, end: date, grain: str) -> list[tuple[date, date]]:
    """Every period of `grain` from the one holding `start` to the one ending at `end`."""
    if grain == "half":
        period = half_year_bounds(half_year_label(end))
    elif grain == "year":
        period = (date(end.year, 1, 1), date(end.year, 12, 31))
    elif grain == "quarter":
        first_month = (end.month - 1) // 3 * 3 + 1
        period = (date(end.year, first_month, 1), _month_end(end.year, first_month + 2))
    elif grain == "month":
        period = (date(end.year, end.month, 1), _month_end(end.year, end.month))
    else:
        return []  # custom periods have no "next" one to expect
    out: list[tuple[date, date]] = []
    while period and period[0] >= start:
        out.append(period)
        period = previous_period(period[0], period[1], grain)
    return out[::-1]


def _month_end(year: int, month: int) -> date:
    return (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)


# --------------------------------------------------------------------------
# Figures as text
# --------------------------------------------------------------------------


def _missing(value) -> bool:
    """None, NaN, NaT or NA (a list or other non-scalar is not missing)."""
    if value is None:
        return True
    if type(value) is float:  # the common case, without pandas' per-call overhead
        return value != value
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def number_text(value: float) -> str:
    """A stored number written back without rounding: 25925.0 -> '25,925', 0.93 -> '0.93'."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.12g}"


UNIT_SUFFIX = {"percent": "%", "hours": " h", "fraction": ""}


def figure_text(value, low=None, high=None, as_published: str | None = None, unit: str | None = None,
                banded_rows: int = 0, rows: int = 1) -> str:  # fmt: skip
    """How a figure is shown: exact, or as the bounds a band stands for, never a guess."""
    suffix = UNIT_SUFFIX.get(unit or "", "")
    if not _missing(value):
        return number_text(value) + suffix
    published = f"published as {as_published}" if as_published else "published as a band"
    if banded_rows and rows and rows > 1:
        published = f"{banded_rows} of {rows} rows {published}"
    if not _missing(low) and not _missing(high):
        return f"{number_text(low)}–{number_text(high)}{suffix} ({published})"
    if not _missing(low):
        return f"at least {number_text(low)}{suffix} ({published})"
    return f"unknown ({published})" if as_published else "unknown"


def how_published(row) -> str:
    """Whether a headline figure is a published total or a sum of published rows."""
    return _how(row.get("published_rows", 1), row.get("has_published_total"))


def _how(published_rows, has_published_total) -> str:
    rows = 1 if _missing(published_rows) else int(published_rows or 1)
    if not _missing(has_published_total) and has_published_total:
        return "published total"
    if rows <= 1:
        return "published figure"
    return f"sum of {rows} published rows"


def metric_label(description: str | None, metric: str) -> str:
    """'Removal requests (count)' -> 'Removal requests'; keeps other qualifiers."""
    if not description:
        return metric.replace("_", " ")
    return re.sub(r"\s*\(count\)$", "", description)


def records(frame: pd.DataFrame, names: list[str]) -> list[dict]:
    """Rows as dicts of the named columns (None where a column is absent).

    Column by column: iterating rows of Arrow-backed columns converts one cell
    at a time, which dominates pages with thousands of figures.
    """
    return [dict(zip(names, row)) for row in zip(*column_lists(frame, names))]


def column_lists(frame: pd.DataFrame, names: list[str]) -> list[list]:
    """The named columns as lists (None where a column is absent), to zip over rows."""
    return [frame[n].tolist() if n in frame.columns else [None] * len(frame) for n in names]


def with_figure_text(rows: pd.DataFrame) -> pd.DataFrame:
    """Adds `figure` (display text) and `how` (published total or sum) to headline rows."""
    rows = rows.copy()
    if rows.empty:
        rows["figure"] = pd.Series(dtype=str)
        rows["how"] = pd.Series(dtype=str)
        return rows
    # Column lists, not a dict per row: pages with thousands of figures.
    fields = ["value", "value_low", "value_high", "banded_as_published", "unit", "banded_rows", "published_rows"]
    rows["figure"] = [figure_text(*cells) for cells in zip(*column_lists(rows, fields))]
    rows["how"] = [_how(*cells) for cells in zip(*column_lists(rows, ["published_rows", "has_published_total"]))]
    return rows


def md_escape(text: str) -> str:
    """Text from the database made inert for st.markdown (no links, no emphasis, no HTML)."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~$])", r"\\\1", str(text))


def md_link(label: str, url: str) -> str:
    """A markdown link whose URL cannot break out of the link syntax."""
    safe = quote(str(url), safe=":/?&=#%@+,;~")
    if not safe.startswith(("https://", "http://")):
        return md_escape(label)
    return f"[{md_escape(label)}]({safe})"


# --------------------------------------------------------------------------
# The world map
# --------------------------------------------------------------------------


def pick_grain_per_source(rows: pd.DataFrame) -> pd.DataFrame:
    """Keeps, per source, the one grain whose periods cover the most days.

    A source that publishes both years and half-years (GitHub) would otherwise
    count the same requests twice when a range is summed.
    """
    if rows.empty:
        return rows
    spans = rows[["source", "period_grain", "period_start", "period_end"]].drop_duplicates()
    spans = spans.assign(days=[(e - s).days + 1 for s, e in zip(spans.period_start, spans.period_end)])
    cover = spans.groupby(["source", "period_grain"], as_index=False)["days"].sum()
    cover["fineness"] = cover.period_grain.map(GRAIN_ORDER).fillna(9)
    best = cover.sort_values(["source", "days", "fineness"], ascending=[True, False, True]).drop_duplicates("source")
    keep = set(zip(best.source, best.period_grain))
    return rows[[(s, g) in keep for s, g in zip(rows.source, rows.period_grain)]]


def _sum_bounds(values: pd.Series, lows: pd.Series, highs: pd.Series) -> tuple[float, float, float]:
    value = float(values.sum()) if values.notna().all() else math.nan
    low = float(lows.sum()) if lows.notna().all() else math.nan
    high = float(highs.sum()) if highs.notna().all() else math.nan
    return value, low, high


def _period_span_text(labels: list[str]) -> str:
    labels = sorted(set(labels))
    if len(labels) <= 2:
        return ", ".join(labels)
    return f"{labels[0]}…{labels[-1]} ({len(labels)} periods)"


def _sum_or_nan(values: list) -> float:
    """The sum of published figures, or NaN when any is missing (a band, a '?')."""
    return math.nan if any(_missing(v) for v in values) else float(sum(values))


def map_frame(rows: pd.DataFrame, summed_range: bool) -> pd.DataFrame:
    """One row per country code: the figure to colour by, its text, hover and provenance.

    Several platforms (or, for a range, several periods) are added up only as
    published; a band anywhere makes the total a pair of bounds. Grouped in
    plain Python: a pandas groupby per country and platform cost most of the
    world page's run.
    """
    columns = ["country_code", "country", "alpha3", "is_place", "value", "value_low", "value_high", "figure",
               "platforms", "periods", "breakdown", "source_title", "source_url", "document_ids",
               "document_sha256", "fetched_at"]  # fmt: skip
    if rows.empty:
        return pd.DataFrame(columns=columns)
    if summed_range:
        rows = pick_grain_per_source(rows)
    rows = rows[rows.country_code.notna()]
    fields = ["country_code", "platform", "value", "value_low", "value_high", "banded_rows", "published_rows",
              "banded_as_published", "unit", "period_label", "has_published_total", "source_title", "source_url",
              "document_ids", "document_sha256", "fetched_at"]  # fmt: skip
    by_country: dict[str, list[dict]] = {}
    for r in records(rows, fields):
        by_country.setdefault(r["country_code"], []).append(r)
    out = []
    for code in sorted(by_country):
        group = by_country[code]
        by_platform: dict[str, list[dict]] = {}
        for r in group:
            by_platform.setdefault(r["platform"], []).append(r)
        lines = []
        for platform in sorted(by_platform):
            mine = by_platform[platform]
            lines.append(f"{platform}, {_period_span_text([r['period_label'] for r in mine])}: "
                         f"{_summed_text(mine)} "
                         f"({how_published(mine[0]) if len(mine) == 1 else f'sum of {len(mine)} periods'})")  # fmt: skip
        fetched = [r["fetched_at"] for r in group if not _missing(r["fetched_at"])]
        out.append(
            {
                "country_code": code,
                "country": country_label(code),
                "alpha3": alpha3(code) if is_country(code) else None,
                "is_place": is_country(code),
                "value": _sum_or_nan([r["value"] for r in group]),
                "value_low": _sum_or_nan([r["value_low"] for r in group]),
                "value_high": _sum_or_nan([r["value_high"] for r in group]),
                "figure": _summed_text(group),
                "platforms": ", ".join(sorted(by_platform)),
                "periods": _period_span_text([r["period_label"] for r in group]),
                "breakdown": "<br>".join(lines),
                "source_title": _join_titles(r["source_title"] for r in group),
                "source_url": _join(r["source_url"] for r in group),
                "document_ids": _join(r["document_ids"] for r in group),
                "document_sha256": _join(r["document_sha256"] for r in group),
                "fetched_at": max(fetched) if fetched else pd.NaT,
            }
        )
    return pd.DataFrame(out, columns=columns)


def _summed_text(group: list[dict]) -> str:
    """figure_text of headline rows added up: exact, or the bounds when any row is banded."""
    return figure_text(
        _sum_or_nan([r["value"] for r in group]), _sum_or_nan([r["value_low"] for r in group]),
        _sum_or_nan([r["value_high"] for r in group]), _join(r["banded_as_published"] for r in group),
        group[0]["unit"], int(sum(r["banded_rows"] for r in group)), int(sum(r["published_rows"] for r in group)),
    )  # fmt: skip


def _join_titles(values) -> str | None:
    """Distinct whole titles, '; '-separated (titles contain spaces, so never split them)."""
    titles = sorted({v for v in values if isinstance(v, str) and v})
    return "; ".join(titles) or None


def _join(values) -> str | None:
    """Distinct space-separated tokens (URLs, document ids, hashes) merged into one string."""
    parts = sorted({p for v in values if isinstance(v, str) and v for p in v.replace(", ", " ").split(" ") if p})
    if not parts:
        return None
    return " ".join(parts)


def default_map_period(periods: pd.DataFrame, platforms: list[str]) -> str | None:
    """The latest half-year that the most of the chosen platforms published.

    `periods.platforms`: the platforms publishing each period, ", "-joined.
    """
    if periods.empty:
        return None
    half = periods[periods.period_grain == "half"]
    if half.empty:
        half = periods
    chosen = set(platforms)
    scored = half.assign(n=[len(set(p.split(", ")) & chosen) for p in half.platforms])
    scored = scored[scored.n > 0]
    if scored.empty:
        return None
    best = scored.n.max()
    return scored[scored.n == best].sort_values("period_end").period_label.iloc[-1]


# --------------------------------------------------------------------------
# Country profile
# --------------------------------------------------------------------------

# Which metric speaks for a platform in the one-line summary, in order of preference.
SUMMARY_METRICS = ("requests", "orders", "content_restrictions", "items_requested", "requests_court_orders",
                   "requests_processed", "items_actioned")  # fmt: skip


def series_with_gaps(rows: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Headline rows of one metric, plus a row for every period the platform skipped.

    Missing periods get value NaN (drawn as a gap, never as zero) and a status:
    'not listed' when the platform published that period without this country,
    'no report collected' when nothing of the platform's is held for it.
    """
    if rows.empty:
        return rows.assign(status=pd.Series(dtype=str))
    parts = []
    for (platform, grain), group in rows.groupby(["platform", "period_grain"], sort=True):
        group = group.assign(status="published")
        expected = periods_between(group.period_start.min(), group.period_end.max(), grain)
        # Periods as one integer each (start and end days), compared column-wise:
        # a set of Python dates costs a conversion per cell on long series.
        have = set(_period_keys(group))
        missing = [(start, end) for start, end in expected if _period_key(start, end) not in have]
        if missing:
            held = published[(published.platform == platform) & (published.period_grain == grain)]
            held_periods = set(_period_keys(held))
            metric, unit = group.metric.iloc[0], group.unit.iloc[0]
            gaps = pd.DataFrame(
                {
                    "platform": platform, "period_grain": grain,
                    "period_start": pd.array([s for s, _ in missing], dtype=group.period_start.dtype),
                    "period_end": pd.array([e for _, e in missing], dtype=group.period_end.dtype),
                    "period_label": [label_for_period(s, e, grain) for s, e in missing], "metric": metric, "unit": unit,
                    "value": math.nan, "value_low": math.nan, "value_high": math.nan,
                    "status": ["not listed in that report" if _period_key(s, e) in held_periods else "no report collected"
                               for s, e in missing],
                }
            )  # fmt: skip
            group = pd.concat([group, gaps], ignore_index=True)
        parts.append(group)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["platform", "period_grain", "period_start"], ignore_index=True)


_EPOCH = date(1970, 1, 1)


def _period_key(start: date, end: date) -> int:
    return (start - _EPOCH).days * 1_000_000 + (end - _EPOCH).days


def _period_keys(frame: pd.DataFrame):
    """_period_key of every row, computed on whole columns (through Arrow: pandas converts Arrow dates one by one)."""
    days = [pa.array(frame[c], type=pa.date32()).cast(pa.int32()).to_numpy(zero_copy_only=False).astype("int64")
            for c in ("period_start", "period_end")]  # fmt: skip
    return (days[0] * 1_000_000 + days[1]).tolist()


def label_for_period(start: date, end: date, grain: str) -> str:
    if grain == "half":
        return half_year_label(start)
    if grain == "year":
        return str(start.year)
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    return f"{start}..{end}"


def gap_notes(series: pd.DataFrame) -> list[str]:
    """'X (Twitter): no report collected for 2019-H2–2023-H2' style lines."""
    if series.empty or "status" not in series:
        return []
    notes = []
    for (platform, status), group in series[series.status != "published"].groupby(["platform", "status"]):
        labels = group.sort_values("period_start").period_label.tolist()
        notes.append(f"{platform}: {status} for {_runs_text(labels, group.sort_values('period_start'))}")
    return notes


GAP_RUNS_SHOWN = 12


def _runs_text(labels: list[str], group: pd.DataFrame) -> str:
    """Consecutive periods collapsed: 2019-H2–2021-H1, 2023-H1."""
    runs: list[list[str]] = []
    previous_end = None
    for label, start, end in zip(labels, group.period_start, group.period_end):
        if previous_end is not None and (start - previous_end).days == 1:
            runs[-1].append(label)
        else:
            runs.append([label])
        previous_end = end
    shown = ", ".join(r[0] if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs[:GAP_RUNS_SHOWN])
    # The chart shows every gap; past a dozen, a list of them is no longer read.
    return shown + (f" and {len(runs) - GAP_RUNS_SHOWN} more" if len(runs) > GAP_RUNS_SHOWN else "")


def change_text(current: float, previous: float) -> str:
    if previous == 0:
        return "up from 0" if current > 0 else "unchanged at 0"
    ratio = current / previous
    pct = (current - previous) / previous * 100
    if abs(pct) < 0.05:
        return "unchanged"
    direction = "up" if pct > 0 else "down"
    text = f"{direction} {abs(pct):.0f}%"
    if ratio >= 2:
        text += f", {ratio:.1f} times as many"
    return text


def summary_lines(series: pd.DataFrame, country: str) -> list[dict]:
    """Per platform: the latest figure of its main metric and the change since the period before.

    Returns dicts with `text` (plain), `markdown` (escaped, with a source link)
    and the figures used, so the page and the tests read the same sentence.
    """
    out = []
    if series.empty:
        return out
    for platform, group in series.groupby("platform", sort=True):
        held = set(group.metric.unique())
        metric = next((m for m in SUMMARY_METRICS if m in held), None)
        if metric is None:  # else the first in the vocabulary's order (requests before accounts)
            metric = next((m for m in METRICS if m in held), sorted(held)[0])
        rows = group[group.metric == metric].sort_values(["period_end", "period_start"])
        # The finest grain the platform publishes this metric in, latest period first.
        grain = min(rows.period_grain.unique(), key=lambda g: GRAIN_ORDER.get(g, 9))
        rows = rows[rows.period_grain == grain]
        latest = rows.iloc[-1]
        label = metric_label(latest.get("metric_description"), metric).lower()
        figure = figure_text(latest.value, latest.value_low, latest.value_high, latest.get("banded_as_published"),
                             latest.unit, latest.get("banded_rows", 0), latest.get("published_rows", 1))  # fmt: skip
        text = f"{platform}, {latest.period_label}: {figure} {label} from {country}"
        change = None
        prev_span = previous_period(latest.period_start, latest.period_end, grain)
        prev = rows[(rows.period_start == prev_span[0]) & (rows.period_end == prev_span[1])] if prev_span else rows.iloc[0:0]
        if prev_span and prev.empty:
            change = f"no figure for the {GRAIN_NOUN.get(grain, grain)} before"
        elif not prev.empty:
            p = prev.iloc[0]
            prev_figure = figure_text(p.value, p.value_low, p.value_high, p.get("banded_as_published"), p.unit,
                                      p.get("banded_rows", 0), p.get("published_rows", 1))  # fmt: skip
            if _missing(latest.value) or _missing(p.value):
                change = f"{p.period_label}: {prev_figure} (change not computable from a band)"
            else:
                change = f"{change_text(latest.value, p.value)} from {prev_figure} in {p.period_label}"
        if change:
            text += f" ({change})"
        markdown = f"- **{md_escape(platform)}**, {md_escape(latest.period_label)}: **{md_escape(figure)}** {md_escape(label)}"
        if change:
            markdown += f" — {md_escape(change)}"
        if isinstance(latest.get("source_url"), str):
            markdown += " · " + " ".join(md_link("source", u) for u in latest.source_url.split(" "))
        out.append({"platform": platform, "metric": metric, "period_label": latest.period_label, "value": latest.value,
                    "text": text + ".", "markdown": markdown})  # fmt: skip
    return out


def breakdown_rows(observations: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Published count rows split by one dimension (requester, reason or product), as published."""
    if observations.empty:
        return observations
    rows = observations[(observations.unit == "count") & observations[dimension].notna() & ~observations.is_total.astype(bool)]
    return rows.assign(figure=[figure_text(r.value, r.value_low, r.value_high, r.value_text if _missing(r.value) else None, r.unit)
                               for r in rows.itertuples()])  # fmt: skip


def share_rows(observations: pd.DataFrame) -> pd.DataFrame:
    """Published percentages and rates (compliance, removal shares), never summed."""
    if observations.empty:
        return observations
    rows = observations[observations.unit.isin(["percent", "fraction"])]
    return rows.assign(figure=[figure_text(r.value, r.value_low, r.value_high, r.value_text if _missing(r.value) else None, r.unit)
                               for r in rows.itertuples()])  # fmt: skip


# --------------------------------------------------------------------------
# Compare
# --------------------------------------------------------------------------


def compare_cells(rows: pd.DataFrame, grain: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cells, set aside): figures aligned on one grain, each saying whether it is comparable.

    Published figures of the chosen grain are comparable (bounds only when
    banded). For years, a platform that publishes half-years gets H1 + H2
    added up when both are published, marked as derived. Figures of other
    grains are set aside and listed, never placed in the grid.
    """
    columns = ["period_label", "period_start", "period_end", "country_code", "country", "platform", "value",
               "value_low", "value_high", "figure", "grain", "exact", "derived", "comparability", "source_url",
               "document_ids", "fetched_at", "source_title"]  # fmt: skip
    if rows.empty:
        return pd.DataFrame(columns=columns), rows
    rows = with_figure_text(rows)
    labels: dict[str, str] = {}

    def label(code: str) -> str:
        if code not in labels:
            labels[code] = country_label(code)
        return labels[code]

    fields = ["period_label", "period_start", "period_end", "period_grain", "country_code", "platform", "value",
              "value_low", "value_high", "figure", "unit", "banded_as_published", "banded_rows", "published_rows",
              "source_url", "document_ids", "fetched_at", "source_title"]  # fmt: skip
    noun = GRAIN_NOUN.get(grain, grain)
    # Figures published at the chosen grain: column by column (thousands of rows on a long span).
    same = rows[rows.period_grain == grain]
    exact = same.value.notna()
    published = pd.DataFrame({
        "period_label": same.period_label, "period_start": same.period_start, "period_end": same.period_end,
        "country_code": same.country_code, "country": same.country_code.map(label), "platform": same.platform,
        "value": same.value, "value_low": same.value_low, "value_high": same.value_high, "figure": same.figure,
        "grain": noun, "exact": exact, "derived": False,
        "comparability": ("comparable: " + noun + ", " + same.unit.astype(str) + ", "
                          + exact.map({True: "exact", False: "bounds only (banded)"})),
        "source_url": same.source_url, "document_ids": same.document_ids, "fetched_at": same.fetched_at,
        "source_title": same.source_title,
    }, columns=columns)  # fmt: skip
    cells: list[dict] = []
    aside = rows[rows.period_grain != grain]
    if grain == "year":
        have_year = set(zip(same.country_code, same.platform, [d.year for d in same.period_start.tolist()]))
        halves: dict[tuple, list[dict]] = {}
        for r in records(rows[rows.period_grain == "half"], fields):
            halves.setdefault((r["country_code"], r["platform"], r["period_start"].year), []).append(r)
        for (code, platform, year) in sorted(halves):
            group = halves[(code, platform, year)]
            if len(group) != 2 or (code, platform, year) in have_year:
                continue
            v = _sum_or_nan([r["value"] for r in group])
            exact = not _missing(v)
            fetched = [r["fetched_at"] for r in group if not _missing(r["fetched_at"])]
            cells.append({
                "period_label": str(year), "period_start": date(year, 1, 1), "period_end": date(year, 12, 31),
                "country_code": code, "country": label(code), "platform": platform,
                "value": v, "value_low": _sum_or_nan([r["value_low"] for r in group]),
                "value_high": _sum_or_nan([r["value_high"] for r in group]),
                "figure": _summed_text(group) + " (H1+H2)", "grain": "year", "exact": exact, "derived": True,
                "comparability": "derived: sum of the two published half-years, " + ("exact" if exact else "bounds only (banded)"),
                "source_url": _join(r["source_url"] for r in group), "document_ids": _join(r["document_ids"] for r in group),
                "fetched_at": max(fetched) if fetched else pd.NaT, "source_title": _join_titles(r["source_title"] for r in group),
            })  # fmt: skip
        aside = aside[aside.period_grain != "half"]
    if not cells:
        return published.reset_index(drop=True), aside
    return pd.concat([published, pd.DataFrame(cells, columns=columns)], ignore_index=True), aside


def compare_grid(cells: pd.DataFrame) -> pd.DataFrame:
    """Periods down, 'Country · Platform' across; each cell its figure and comparability mark."""
    if cells.empty:
        return pd.DataFrame()
    marks = cells.assign(
        column=cells.country + " · " + cells.platform,
        cell=[f"{f}  [{'derived' if d else 'published'}; {'exact' if e else 'bounds'}]"
              for f, d, e in zip(cells.figure, cells.derived, cells.exact)],
    )  # fmt: skip
    grid = marks.pivot_table(index=["period_start", "period_label"], columns="column", values="cell", aggfunc="first")
    grid = grid.sort_index().reset_index(level=0, drop=True)
    grid.index.name = "period"
    return grid.fillna("— no figure")


# --------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------


def claim_unit(row) -> str:
    """Plain words for what a claim counts: 'links removed per week, as claimed'."""
    metric = str(row["claimed_metric"])
    words = metric.replace("_per_week", "").replace("_cumulative", "").replace("percent_", "% of ").replace("_", " ")
    if row.get("per_week"):
        return f"{words} per week, as claimed"
    if metric.endswith("_cumulative") or _missing(row.get("period_start")):
        return f"{words} (cumulative to {row['period_end']}, start not stated), as claimed"
    return f"{words}, as claimed"


def claim_kind(metric: str, per_week: bool) -> str:
    if per_week:
        return "per week"
    if metric.startswith("percent"):
        return "percent"
    return "count"


def claim_contradictions(claims: pd.DataFrame) -> pd.DataFrame:
    """Pairs of claims that cannot both be true, or that disagree for the same period.

    - A claim for a shorter period inside a longer one, for the same platform and
      the same kind of thing (posts, videos, links…), whose lower bound exceeds the
      longer period's upper bound.
    - Two claims for the same period, platform and metric with different figures.
    Claims the curator marked doubtful or unsure are listed as such too.
    """
    columns = ["kind", "explanation", "claim_a", "claim_b", "source_url_a", "source_url_b"]
    out = []
    if claims.empty:
        return pd.DataFrame(columns=columns)
    rows = claims.to_dict("records")

    def desc(c) -> str:
        start = c["period_start"] if not _missing(c["period_start"]) else "start not stated"
        return f"{c['platform']} {c['claimed_metric']} = {c['value_text']} ({start} to {c['period_end']}; {c['claimant']})"

    for a in rows:
        for b in rows:
            if a is b or a["platform"] != b["platform"] or a["per_week"] or b["per_week"]:
                continue
            if claim_kind(a["claimed_metric"], False) != "count" or claim_kind(b["claimed_metric"], False) != "count":
                continue
            if str(a["claimed_metric"]).split("_")[0] != str(b["claimed_metric"]).split("_")[0]:
                continue
            if _missing(a["period_start"]) or _missing(b["period_start"]):
                continue
            inside = a["period_start"] >= b["period_start"] and a["period_end"] <= b["period_end"]
            shorter = (a["period_start"], a["period_end"]) != (b["period_start"], b["period_end"])
            lo_a, hi_b = a["value_low"], b["value_high"]
            if inside and shorter and not _missing(lo_a) and not _missing(hi_b) and lo_a > hi_b:
                out.append({
                    "kind": "shorter period claims more",
                    "explanation": f"{desc(a)} lies inside {desc(b)} yet claims more ({number_text(lo_a)} > {number_text(hi_b)})",
                    "claim_a": desc(a), "claim_b": desc(b), "source_url_a": a["source_url"], "source_url_b": b["source_url"],
                })  # fmt: skip
            same = (a["period_start"], a["period_end"], a["claimed_metric"]) == (b["period_start"], b["period_end"], b["claimed_metric"])
            if same and id(a) < id(b) and a["value_text"] != b["value_text"]:
                out.append({
                    "kind": "same period, different figures",
                    "explanation": f"{desc(a)} vs {desc(b)}",
                    "claim_a": desc(a), "claim_b": desc(b), "source_url_a": a["source_url"], "source_url_b": b["source_url"],
                })  # fmt: skip
    for c in rows:
        if c.get("qualifier") in ("doubtful", "unsure"):
            out.append({
                "kind": f"marked {c['qualifier']} by the curator", "explanation": f"{desc(c)}: {c['note']}",
                "claim_a": desc(c), "claim_b": None, "source_url_a": c["source_url"], "source_url_b": None,
            })  # fmt: skip
    return pd.DataFrame(out, columns=columns)


# --------------------------------------------------------------------------
# Coverage
# --------------------------------------------------------------------------


COVERAGE_BAR_LIMIT = 600


def coverage_bars(published: pd.DataFrame, limit: int = COVERAGE_BAR_LIMIT) -> pd.DataFrame:
    """The coverage timeline's bars: one per source, grain and period published.

    Past `limit` bars (more periods than the chart's width can show apart), a
    source's consecutive periods of one grain are drawn as one bar, its hover
    giving the span and the figures added up: thousands of bars take a
    browser seconds to draw.
    """
    columns = ["source", "platform", "period_grain", "period_label", "period_start", "period_end", "figures", "countries"]
    frame = published[columns].assign(periods=1)
    if len(frame) <= limit:
        return frame
    out = []
    for (source, platform, grain), group in frame.groupby(["source", "platform", "period_grain"], sort=True):
        bar = None
        for r in records(group.sort_values("period_start"), columns):
            if bar is not None and (r["period_start"] - bar["period_end"]).days <= 1:
                bar.update(period_end=max(bar["period_end"], r["period_end"]), last_label=r["period_label"],
                           figures=bar["figures"] + r["figures"], periods=bar["periods"] + 1)  # fmt: skip
                continue
            if bar is not None:
                out.append(bar)
            bar = r | {"last_label": r["period_label"], "periods": 1}
        out.append(bar)
    bars = pd.DataFrame(out)
    merged = bars.periods > 1
    bars.loc[merged, "period_label"] = bars.period_label[merged] + "…" + bars.last_label[merged]
    return bars[columns + ["periods"]]


def coverage_by_year(published: pd.DataFrame) -> pd.DataFrame:
    """Source x year: figures published; '·' where a source has nothing for a year."""
    if published.empty:
        return pd.DataFrame()
    frame = published.assign(year=[s.year for s in published.period_start.tolist()])
    years = list(range(int(frame.year.min()), int(frame.year.max()) + 1))
    grid = frame.pivot_table(index="source", columns="year", values="figures", aggfunc="sum").reindex(columns=years)
    text = [["·" if v != v else f"{int(v):,}" for v in row] for row in grid.to_numpy(dtype=float)]  # v != v: NaN
    return pd.DataFrame(text, index=grid.index, columns=[str(y) for y in years])


# --------------------------------------------------------------------------
# Citation
# --------------------------------------------------------------------------


def citation(rows: pd.DataFrame, what: str) -> str:
    """One paragraph naming every source behind a view: title, periods, file, hash, retrieval date."""
    if rows is None or rows.empty:
        return f"{what}: no figures in this view."
    parts = []
    title_col = "source_title" if "source_title" in rows else "source"
    for title, group in rows.groupby(rows[title_col].fillna("unnamed source"), sort=True):
        labels = sorted(set(group.period_label.dropna())) if "period_label" in group else []
        span = (labels[0] if len(labels) == 1 else f"{labels[0]} to {labels[-1]}") if labels else "undated"
        urls = _join(group.source_url) if "source_url" in group else None
        hashes = _join(group.document_sha256) if "document_sha256" in group else None
        fetched = pd.to_datetime(group.fetched_at, utc=True).dropna() if "fetched_at" in group else pd.Series([], dtype="datetime64[ns, UTC]")
        retrieved = ", ".join(sorted({d.strftime("%Y-%m-%d") for d in fetched})) or "date unknown"
        piece = f"{title}, periods {span}"
        if urls:
            piece += f", file(s) {urls}"
        if hashes:
            piece += f" (SHA-256 {', '.join(h[:16] + '…' for h in hashes.split(' '))})"
        piece += f", retrieved {retrieved}"
        parts.append(piece)
    return (
        f"{what}. Sources: " + "; ".join(parts) + ". Figures as published by each platform; banded values are "
        "given as the bounds the band stands for. Compiled with takedowns."
    )


def breakdown_series(rows: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Per period and category: the published rows of that category added up.

    Rows of one category can be split further (Google splits reasons by
    product and requester); those parts are added, bounds for bands. Across
    products or reasons a request can be counted in more than one category,
    so categories are never added to each other.
    """
    columns = ["platform", "dataset", "metric", "period_label", "period_start", "period_end", dimension,
               "value", "value_low", "value_high", "figure", "published_rows", "source_url"]  # fmt: skip
    if rows.empty:
        return pd.DataFrame(columns=columns)
    out = []
    keys = ["platform", "dataset", "metric", "period_label", "period_start", "period_end", dimension]
    for key, group in rows.groupby(keys, sort=True, dropna=False):
        v, lo, hi = _sum_bounds(group.value, group.value_low, group.value_high)
        bands = group[group.value.isna()]
        text = figure_text(v, lo, hi, _join(bands.value_text) if not bands.empty else None, "count", len(bands), len(group))
        if len(group) > 1 and not _missing(v):
            text += f" (sum of {len(group)} rows)"
        out.append(dict(zip(keys, key)) | {"value": v, "value_low": lo, "value_high": hi, "figure": text,
                                           "published_rows": len(group), "source_url": _join(group.source_url)})  # fmt: skip
    return pd.DataFrame(out, columns=columns)


def absence_notes(country: str, platforms: list[str], published: pd.DataFrame, start: date, end: date,
                  present: set[str]) -> list[str]:  # fmt: skip
    """Why a platform has no figure for a country in a span: nothing held, or held but not listed."""
    notes = []
    for platform in platforms:
        if platform in present:
            continue
        mine = published[published.platform == platform]
        inside = mine[(mine.period_start >= start) & (mine.period_end <= end)]
        if mine.empty:
            notes.append(f"{platform}: no report of this platform is held in this database.")
        elif inside.empty:
            notes.append(
                f"{platform}: no report held for any period in this span (reports held cover "
                f"{min(mine.period_start)} to {max(mine.period_end)}): not published, or not collected yet."
            )
        else:
            labels = sorted(set(inside.period_label))
            span = labels[0] if len(labels) == 1 else f"{labels[0]} to {labels[-1]}"
            notes.append(
                f"{platform}: reports held for {len(labels)} period(s) in this span ({span}); {country} is not listed "
                "in any of them. Reports usually leave out countries that sent no requests, but a missing row is "
                "not a published zero."
            )
    return notes


# Platform figures set beside claims: what each counts, in plain words.
REPORTED_FOR_CLAIMS = ("items_requested", "items_actioned", "content_restrictions", "items_withheld", "requests")


def claims_for_timeline(claims: pd.DataFrame) -> pd.DataFrame:
    """Claims with the panel they go in (count, percent, per week), a legend name and hover text."""
    if claims.empty:
        return claims.assign(kind=[], series=[], hover=[])
    rows = []
    for c in claims.to_dict("records"):
        kind = claim_kind(str(c["claimed_metric"]), bool(c["per_week"]))
        unit = claim_unit(c)
        qualifier = f" [{c['qualifier'].replace('_', ' ')}]" if c.get("qualifier") else ""
        start = c["period_start"] if not _missing(c["period_start"]) else "start not stated"
        hover = (f"CLAIM by {c['claimant']}: {c['value_text']} {unit}{qualifier}\n{start} to {c['period_end']}\n"
                 f"{c['source_title']}")  # fmt: skip
        rows.append(c | {"kind": kind, "series": f"{c['platform']}: {unit}", "hover": hover})
    return pd.DataFrame(rows)


# Which reporting platforms' figures to set beside claims naming a platform
# (claims name services; YouTube's figures are in Google's report).
CLAIM_PLATFORM_REPORTERS = {
    "youtube": ("Google",), "google": ("Google",), "facebook": ("Facebook",), "instagram": ("Facebook",),
    "meta": ("Facebook",), "tiktok": ("TikTok",), "twitter": ("X (Twitter)",), "x": ("X (Twitter)",),
    "meta+tiktok": ("Facebook", "TikTok"),
}  # fmt: skip


def reporters_for_claims(claim_platform: str, available: list[str]) -> list[str]:
    """The reporting platforms whose figures answer claims about `claim_platform` (all, for 'all platforms')."""
    wanted = CLAIM_PLATFORM_REPORTERS.get(claim_platform.strip().lower())
    if wanted is None:
        return list(available)
    return [p for p in available if p in wanted]


def reports_for_timeline(series: pd.DataFrame, product_rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Platform figures for the claims chart, each named for what it counts and who reported it.

    Worked out column by column: a long span holds thousands of figures.
    """
    parts = []
    if not series.empty:
        rows = series[series.metric.isin(REPORTED_FOR_CLAIMS)]
        if not rows.empty:
            descriptions = rows["metric_description"] if "metric_description" in rows else pd.Series(None, index=rows.index)
            what = pd.Series([metric_label(d, m).lower() for d, m in zip(descriptions, rows.metric)], index=rows.index)
            figure = with_figure_text(rows).figure
            name = rows.platform + ": " + what + " per " + _grain_nouns(rows) + ", as reported by " + rows.platform
            titles = rows["source_title"].fillna("") if "source_title" in rows else ""
            hover = ("REPORT: " + figure + " " + what + "\n" + rows.period_label + " (" + rows.platform + ")\n" + titles)
            parts.append(rows.assign(kind="count", series=name, hover=hover))
    if product_rows is not None and not product_rows.empty:
        rows = product_rows
        # As published, in the count unit; bands named only as bands (the sum has no one published text).
        figure = with_figure_text(rows.assign(unit="count", banded_as_published=None)).figure
        what = ("requests naming " + rows["product"]).where(rows.metric == "requests", "items requested on " + rows["product"])
        name = rows.platform + ": " + what + " per " + _grain_nouns(rows) + ", as reported by " + rows.platform
        hover = "REPORT: " + figure + " " + what + " (summed over reasons)\n" + rows.period_label + " (" + rows.platform + ")"
        parts.append(rows.assign(kind="count", series=name, hover=hover))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _grain_nouns(rows: pd.DataFrame) -> pd.Series:
    return rows.period_grain.map(lambda g: GRAIN_NOUN.get(g, g))


SHORT_PSEUDO = {"EU": "European Union", "XW": "Worldwide total", "XO": "Other countries (grouped)",
                "XR": "Worldwide except the US", "XE": "Europol", "XI": "Interpol", "XK": "Kosovo"}  # fmt: skip


def short_pseudo_label(code: str) -> str:
    return SHORT_PSEUDO.get(code) or country_label(code)


def headline_count_metrics(metrics: pd.DataFrame, platforms: list[str]) -> list[str]:
    """Count metrics with a per-country headline for the chosen platforms, in vocabulary order."""
    usable = metrics[metrics.in_headline.fillna(False) & metrics.platform.isin(platforms) & (metrics.unit == "count")]
    present = set(usable.metric)
    return [m for m in METRICS if m in present]
