"""Pure figure builders: a DataFrame in, a plotly figure out (no Streamlit).

Rules every builder keeps: one axis holds one unit; a missing period is a gap
(None), never a zero; a banded figure ("<10") is drawn as the span of its
bounds, never as a point at some guessed number; hover text carries the
figure as published and where it came from.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from html import escape

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.tables import records

# Plotly fetches country outlines from this folder instead of its CDN
# (Streamlit serves dashboard/static/ at /app/static/).
TOPOJSON_URL = "/app/static/topojson/"
PLOTLY_CONFIG = {
    "topojsonURL": TOPOJSON_URL,
    "displaylogo": False,
    "modeBarButtonsToRemove": ["sendDataToCloud", "lasso2d", "select2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}

PLATFORM_COLOURS = {
    "Google": "#1a73e8",
    "TikTok": "#d6336c",
    "X (Twitter)": "#222222",
    "Facebook": "#4c6ef5",
    "GitHub": "#6f42c1",
    "Apple": "#868e96",
    "LinkedIn": "#0b7285",
    "Wikimedia": "#2b8a3e",
}
_FALLBACK = ["#e8590c", "#0ca678", "#f59f00", "#1098ad", "#ae3ec9", "#74b816", "#5c7cfa", "#c2255c"]
SEQUENTIAL = [[0.0, "#c6dbef"], [0.35, "#6baed6"], [0.7, "#2171b5"], [1.0, "#08306b"]]
BANDED_COLOUR = "#f4a261"
# The page's own typeface (Streamlit serves it), so charts read as part of the page.
FONT = dict(family='"Source Sans", "Source Sans Pro", sans-serif', size=13, color="#1f2328")


def platform_colour(name: str, index: int = 0) -> str:
    return PLATFORM_COLOURS.get(name, _FALLBACK[index % len(_FALLBACK)])


# All the charts take from a template: every axis (xaxis2… too) makes room for
# its labels, grid lines stay light. plotly.py's default template instead costs
# 10 ms to build per figure (seconds on a page of charts) and 6 kB to send.
_TEMPLATE = {"layout": {"xaxis": {"automargin": True, "gridcolor": "#f1f3f5", "zerolinecolor": "#adb5bd"},
                        "yaxis": {"automargin": True, "gridcolor": "#e9ecef", "zerolinecolor": "#adb5bd"}}}  # fmt: skip


def _figure() -> go.Figure:
    return go.Figure(layout={"template": _TEMPLATE})


def _layout(fig: go.Figure, title: str | None = None, height: int = 360) -> go.Figure:
    # Merged into a copy of the layout, not through fig.update_layout, which
    # re-checks every key already set against every new one (10 ms a chart).
    fig.layout = go.Layout(fig.layout).update(
        title=dict(text=escape(title) if title else None, x=0, xanchor="left", font=dict(size=15)),
        height=height,
        margin=dict(l=10, r=10, t=48 if title else 16, b=10),
        font=FONT,
        paper_bgcolor="white",
        plot_bgcolor="white",
        legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0),
        hoverlabel=dict(align="left"),
    )
    return fig


# Trace arrays go to Plotly as numpy arrays: a list of thousands of points is
# validated, copied and serialised one element at a time (seconds on a big page).
def _dates(values) -> np.ndarray:
    """Dates (None: a break in the line) as datetime64."""
    return np.array(values, dtype="datetime64[D]")


def _numbers(values) -> np.ndarray:
    """Numbers; None and NaN are drawn as gaps, never as zero."""
    return np.array([math.nan if _nan(v) else v for v in values], dtype=float)


def _texts(values) -> np.ndarray:
    return np.array(values, dtype=object)


# Above this many points a line is drawn without its markers: each marker is an
# SVG element, and tens of thousands of them take the browser seconds to draw
# (they would overlap at that density anyway; hover still gives every point).
MARKER_LIMIT = 400


def _lines_mode(points: int) -> str:
    return "lines+markers" if points <= MARKER_LIMIT else "lines"


def _mid(start: date, end: date) -> date:
    return start + timedelta(days=(end - start).days // 2)


def _nan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _fmt(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.12g}"


# --------------------------------------------------------------------------
# World map
# --------------------------------------------------------------------------


def world_map(frame: pd.DataFrame, metric_title: str, period_text: str) -> go.Figure:
    """Choropleth of exact figures; countries published only as a band get their own colour."""
    places = frame[frame.is_place.astype(bool) & frame.alpha3.notna()] if not frame.empty else frame
    exact = places[places.value.notna()] if not places.empty else places
    banded = places[places.value.isna()] if not places.empty else places
    fig = _figure()
    if not exact.empty:
        values = exact.value.astype(float)
        use_log = values.max() >= 100
        z = [math.log10(v + 1) for v in values] if use_log else values.tolist()
        ticks = [0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]
        ticks = [t for t in ticks if t <= values.max() * 10] or [0]
        colorbar = dict(title=dict(text="figure", side="right"), thickness=14, len=0.75)
        if use_log:
            colorbar.update(tickvals=[math.log10(t + 1) for t in ticks], ticktext=[f"{t:,}" for t in ticks])
        fig.add_trace(
            go.Choropleth(
                locations=exact.alpha3, z=z, locationmode="ISO-3", colorscale=SEQUENTIAL,
                marker_line_color="#ffffff", marker_line_width=0.5, colorbar=colorbar,
                customdata=exact[["country_code"]].to_numpy(),
                hovertext=[_map_hover(r) for r in exact.itertuples()], hoverinfo="text",
                name="published figure", zmin=0,
            )
        )  # fmt: skip
    if not banded.empty:
        fig.add_trace(
            go.Choropleth(
                locations=banded.alpha3, z=[1] * len(banded), locationmode="ISO-3",
                colorscale=[[0, BANDED_COLOUR], [1, BANDED_COLOUR]], showscale=False,
                marker_line_color="#ffffff", marker_line_width=0.5,
                customdata=banded[["country_code"]].to_numpy(),
                hovertext=[_map_hover(r) for r in banded.itertuples()], hoverinfo="text",
                name="published only as a band (e.g. <10) or unknown",
            )
        )  # fmt: skip
    fig.update_geos(
        projection_type="natural earth", showframe=False, showcoastlines=False, showcountries=True,
        countrycolor="#c8c8c8", showland=True, landcolor="#f4f4f2", showocean=False, showlakes=False,
        bgcolor="rgba(0,0,0,0)", lataxis_range=[-58, 85],
    )  # fmt: skip
    _layout(fig, f"{metric_title} · {period_text}", height=560)
    fig.update_layout(margin=dict(l=0, r=0, t=40, b=0), dragmode=False)
    return fig


def _map_hover(row) -> str:
    return (
        f"<b>{escape(row.country)}</b><br>{escape(row.figure)}<br>{row.breakdown}"
        f"<br><i>{escape(row.source_title or '')}</i><br>click to open the country profile"
    )


# --------------------------------------------------------------------------
# Time series (one metric, one unit per chart)
# --------------------------------------------------------------------------

_GRAIN_WORDS = {"half": "per half-year", "year": "per year", "quarter": "per quarter", "month": "per month"}


def metric_series(series: pd.DataFrame, title: str, unit_title: str) -> go.Figure:
    """Lines per platform (and grain) over time; gaps stay gaps; bands drawn as their bounds."""
    fig = _figure()
    if series.empty:
        return _layout(fig, title)
    groups = list(series.groupby(["platform", "period_grain"], sort=True))
    several_grains = series.period_grain.nunique() > 1
    for index, ((platform, grain), group) in enumerate(groups):
        group = group.sort_values("period_start")
        colour = platform_colour(platform, index)
        name = platform + (f" ({_GRAIN_WORDS.get(grain, grain)})" if several_grains else "")
        xs = _dates([_mid(s, e) for s, e in zip(group.period_start.tolist(), group.period_end.tolist())])
        ys = _numbers(group.value.tolist())
        hover = _texts([_series_hover(r) for r in records(group, _SERIES_HOVER_FIELDS)])
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, mode=_lines_mode(len(xs)), name=name, connectgaps=False,
                line=dict(color=colour, width=2, dash="dash" if grain == "year" and several_grains else "solid"),
                marker=dict(size=7, color=colour), hovertext=hover, hoverinfo="text",
            )
        )  # fmt: skip
        bands = group[group.value.isna() & group.value_low.notna() & group.value_high.notna()]
        if not bands.empty:
            bx, by, bh = [], [], []
            for r in records(bands, ["period_start", "period_end", "value_low", "value_high", *_SERIES_HOVER_FIELDS]):
                mid = _mid(r["period_start"], r["period_end"])
                bx += [mid, mid, None]
                by += [r["value_low"], r["value_high"], None]
                bh += [_series_hover(r)] * 2 + [None]
            fig.add_trace(
                go.Scatter(
                    x=_dates(bx), y=_numbers(by), mode=_lines_mode(len(bx)), name=f"{platform}: published as a band (bounds)",
                    line=dict(color=BANDED_COLOUR, width=6), marker=dict(symbol="line-ew-open", size=12, color=colour),
                    hovertext=_texts(bh), hoverinfo="text",
                )
            )  # fmt: skip
    fig.update_yaxes(title_text=unit_title, rangemode="tozero", gridcolor="#e9ecef", zeroline=True, zerolinecolor="#adb5bd")
    fig.update_xaxes(gridcolor="#f1f3f5")
    fig.update_layout(showlegend=True)  # the platform's name, even for a single line
    return _layout(fig, title)


_SERIES_HOVER_FIELDS = ["platform", "period_label", "status", "figure", "how", "source_title"]


def _series_hover(r: dict) -> str:
    label = escape(str(r.get("period_label", "")))
    if r.get("status") and r["status"] != "published":
        return f"<b>{escape(r['platform'])}</b> {label}<br>{escape(r['status'])}"
    figure = escape(str(r.get("figure") or ""))
    how = escape(str(r.get("how") or ""))
    return f"<b>{escape(r['platform'])}</b> {label}<br>{figure}<br>{how}<br><i>{escape(str(r.get('source_title') or ''))}</i>"


# --------------------------------------------------------------------------
# Breakdowns and shares
# --------------------------------------------------------------------------


def breakdown_chart(rows: pd.DataFrame, dimension: str, title: str, stacked: bool, top: int = 8) -> go.Figure:
    """Per period, the count of each category (rows from `tables.breakdown_series`; top `top` shown).

    Stacked only when the categories are disjoint (requester types add up to
    the total); reasons and products can overlap, so they are drawn as lines.
    """
    fig = _figure()
    if rows.empty:
        return _layout(fig, title)
    exact = rows[rows.value.notna()]
    order = exact.groupby(dimension)["value"].sum().sort_values(ascending=False).index.tolist()[:top]
    periods = rows.drop_duplicates(["period_start", "period_end"]).sort_values("period_start")
    xs = [_mid(s, e) for s, e in zip(periods.period_start, periods.period_end)]
    for index, category in enumerate(order):
        sub = {(r.period_start, r.period_end): r for r in rows[rows[dimension] == category].itertuples()}
        ys, hover = [], []
        for s, e, label in zip(periods.period_start, periods.period_end, periods.period_label):
            r = sub.get((s, e))
            if r is not None:
                ys.append(None if _nan(r.value) else r.value)
                hover.append(f"<b>{escape(str(category))}</b> {label}<br>{escape(r.figure)}")
            else:
                ys.append(None)
                hover.append(f"<b>{escape(str(category))}</b> {label}<br>not listed")
        colour = _FALLBACK[index % len(_FALLBACK)]
        if stacked:
            fig.add_trace(go.Bar(x=xs, y=ys, name=str(category), marker_color=colour, hovertext=hover, hoverinfo="text"))
        else:
            fig.add_trace(
                go.Scatter(x=xs, y=ys, name=str(category), mode=_lines_mode(len(xs)), connectgaps=False,
                           line=dict(color=colour), hovertext=hover, hoverinfo="text")
            )  # fmt: skip
    if stacked:
        fig.update_layout(barmode="stack", bargap=0.25)
    fig.update_yaxes(title_text="count as published", rangemode="tozero", gridcolor="#e9ecef")
    return _layout(fig, title, height=380)


def shares_chart(rows: pd.DataFrame, title: str, unit: str) -> go.Figure:
    """Published percentages per platform and requester over time (never summed)."""
    fig = _figure()
    if rows.empty:
        return _layout(fig, title)
    keys = rows.assign(series=rows.platform + rows.requester.fillna("").map(lambda r: f" · {r}" if r else ""))
    for index, (name, group) in enumerate(keys.groupby("series", sort=True)):
        group = group.sort_values("period_start")
        fig.add_trace(
            go.Scatter(
                x=[_mid(s, e) for s, e in zip(group.period_start, group.period_end)],
                y=[None if _nan(v) else v for v in group.value], name=name, mode=_lines_mode(len(group)),
                line=dict(color=_FALLBACK[index % len(_FALLBACK)]), connectgaps=False,
                hovertext=[f"<b>{escape(name)}</b> {p}<br>{escape(f)}" for p, f in zip(group.period_label, group.figure)],
                hoverinfo="text",
            )
        )  # fmt: skip
    fig.update_yaxes(title_text="percent, as published" if unit == "percent" else "fraction of 1, as published",
                     rangemode="tozero", gridcolor="#e9ecef")  # fmt: skip
    return _layout(fig, title, height=380)


# --------------------------------------------------------------------------
# Compare
# --------------------------------------------------------------------------


def compare_chart(cells: pd.DataFrame, title: str, unit_title: str) -> go.Figure:
    fig = _figure()
    if cells.empty:
        return _layout(fig, title)
    for index, ((country, platform), group) in enumerate(cells.groupby(["country", "platform"], sort=True)):
        group = group.sort_values("period_start")
        name = f"{country} · {platform}"
        colour = _FALLBACK[index % len(_FALLBACK)]
        fig.add_trace(
            go.Scatter(
                x=_dates([_mid(s, e) for s, e in zip(group.period_start.tolist(), group.period_end.tolist())]),
                y=_numbers(group.value.tolist()), name=name, mode=_lines_mode(len(group)),
                line=dict(color=colour, dash="dot" if group.derived.any() else "solid"), connectgaps=False,
                hovertext=_texts([f"<b>{escape(name)}</b> {p}<br>{escape(f)}<br>{escape(c)}" for p, f, c
                                  in zip(group.period_label.tolist(), group.figure.tolist(), group.comparability.tolist())]),
                hoverinfo="text",
            )
        )  # fmt: skip
        bands = group[group.value.isna() & group.value_low.notna() & group.value_high.notna()]
        if not bands.empty:
            bx, by = [], []
            for r in bands.itertuples():
                mid = _mid(r.period_start, r.period_end)
                bx += [mid, mid, None]
                by += [r.value_low, r.value_high, None]
            fig.add_trace(go.Scatter(x=_dates(bx), y=_numbers(by), mode="lines", name=f"{name}: band (bounds)",
                                     line=dict(color=colour, width=6), opacity=0.45, hoverinfo="skip"))  # fmt: skip
    fig.update_yaxes(title_text=unit_title, rangemode="tozero", gridcolor="#e9ecef")
    return _layout(fig, title, height=420)


# --------------------------------------------------------------------------
# Claims vs reports
# --------------------------------------------------------------------------

CLAIM_ROWS = ("count", "percent", "per week")
_ROW_TITLES = {
    "count": "Counts, each over the period it covers",
    "percent": "Percentages",
    "per week": "Counts per week, as claimed",
}
_CLAIM_COLOURS = ["#c92a2a", "#e8590c", "#f08c00", "#a61e4d", "#862e9c", "#d9480f", "#e64980", "#5f3dc4"]
_REPORT_COLOURS = ["#1c7ed6", "#0b7285", "#2b8a3e", "#364fc7", "#087f5b", "#1864ab", "#5c940d", "#3b5bdb"]


def claims_timeline(claims: pd.DataFrame, reports: pd.DataFrame, log_counts: bool = False) -> go.Figure:
    """Claims and reported figures on one time axis, one panel per unit.

    Each figure is a horizontal segment over the period it covers, so a
    quarter, a half-year and a cumulative claim are never mistaken for one
    another. Claims are diamonds on solid lines (warm colours), platform
    reports circles on dotted lines (cool colours).
    """
    kinds = [k for k in CLAIM_ROWS if (not claims.empty and (claims.kind == k).any()) or (not reports.empty and (reports.kind == k).any())]
    kinds = kinds or ["count"]
    fig = make_subplots(figure=_figure(), rows=len(kinds), cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=[_ROW_TITLES[k] for k in kinds])  # fmt: skip
    for row_index, kind in enumerate(kinds, start=1):
        for frame, is_claim in ((reports, False), (claims, True)):
            if frame.empty:
                continue
            palette = _CLAIM_COLOURS if is_claim else _REPORT_COLOURS
            for index, (series_name, group) in enumerate(frame[frame.kind == kind].groupby("series", sort=True)):
                colour = palette[index % len(palette)]
                xs, ys, hover = [], [], []
                for r in records(group, ["period_start", "period_end", "value", "value_low", "hover"]):
                    end = r["period_end"]
                    start = r["period_start"] if not _nan_date(r["period_start"]) else end
                    value = r["value"] if not _nan(r["value"]) else r.get("value_low")
                    if _nan(value) or (log_counts and kind == "count" and value <= 0):
                        continue
                    text = escape(r["hover"]).replace("\n", "<br>")
                    xs += [start, end, None]
                    ys += [value, value, None]
                    hover += [text, text, None]
                fig.add_trace(
                    go.Scatter(
                        x=_dates(xs), y=_numbers(ys), mode=_lines_mode(len(xs)), name=("Claim · " if is_claim else "Report · ") + series_name,
                        line=dict(color=colour, width=3, dash="solid" if is_claim else "dot"),
                        marker=dict(symbol="diamond" if is_claim else "circle", size=9, color=colour),
                        hovertext=_texts(hover), hoverinfo="text",
                    ),
                    row=row_index, col=1,
                )  # fmt: skip
        axis = dict(title_text=kind, gridcolor="#e9ecef")
        if kind == "count" and log_counts:
            axis.update(type="log")
        else:
            axis.update(rangemode="tozero")
        fig.update_yaxes(row=row_index, col=1, **axis)
    _layout(fig, None, height=300 * len(kinds) + 160)
    fig.update_annotations(font=dict(size=14), xanchor="left", x=0)
    fig.update_layout(legend=dict(orientation="v", y=-0.08, yanchor="top", x=0, xanchor="left"), margin=dict(t=40))
    return fig


def _nan_date(value) -> bool:
    return value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and math.isnan(value))


# --------------------------------------------------------------------------
# Revisions and coverage
# --------------------------------------------------------------------------


def revisions_scatter(rows: pd.DataFrame) -> go.Figure:
    """Old value against new value for each changed figure (the diagonal means unchanged)."""
    fig = _figure()
    changed = rows[(rows.kind == "changed") & rows.old_value.notna() & rows.new_value.notna()] if not rows.empty else rows
    if changed.empty:
        return _layout(fig, "Old and new values of changed figures")
    top = float(max(changed.old_value.max(), changed.new_value.max(), 1))
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", line=dict(color="#adb5bd", dash="dash"),
                             name="unchanged", hoverinfo="skip"))  # fmt: skip
    hover = [
        f"<b>{escape(str(r.country_name))}</b> {r.period_start}–{r.period_end}<br>{escape(r.metric)}"
        f"{' · ' + escape(str(r.requester)) if isinstance(r.requester, str) and r.requester else ''}"
        f"<br>{_fmt(r.old_value)} → {_fmt(r.new_value)}"
        for r in changed.itertuples()
    ]
    fig.add_trace(go.Scatter(x=changed.old_value, y=changed.new_value, mode="markers", name="changed figure",
                             marker=dict(color="#d6336c", size=7, opacity=0.7), hovertext=hover, hoverinfo="text"))  # fmt: skip
    # On a log axis, ticks at powers of ten only (Plotly would label the 2s and 5s between them too).
    scale = dict(type="log", dtick=1) if top > 1000 else dict(type="linear")
    fig.update_xaxes(title_text="value in the earlier edition", gridcolor="#e9ecef", **scale)
    fig.update_yaxes(title_text="value in the later edition", gridcolor="#e9ecef", **scale)
    _layout(fig, "Old and new values of changed figures", height=420)
    fig.update_layout(legend=dict(orientation="h", y=1.0, yanchor="bottom", x=1, xanchor="right"))
    return fig


def coverage_timeline(bars: pd.DataFrame) -> go.Figure:
    """One row per source and grain; a bar for each period published (rows of `tables.coverage_bars`); empty space is a gap."""
    fig = _figure()
    if bars.empty:
        return _layout(fig, "Periods published per source")
    frame = bars.assign(row=bars.source + " (" + bars.period_grain.map(lambda g: _GRAIN_WORDS.get(g, g)) + ")")
    rows = sorted(frame.row.unique())
    for index, (platform, group) in enumerate(frame.groupby("platform", sort=True)):
        starts, ends = _dates(group.period_start.tolist()), _dates(group.period_end.tolist())
        fig.add_trace(
            go.Bar(
                y=_texts(group.row.tolist()), base=starts.astype("datetime64[ms]"),
                x=((ends - starts) + np.timedelta64(1, "D")).astype("timedelta64[ms]").astype(np.int64),  # in ms, end day included
                orientation="h", name=platform, marker=dict(color=platform_colour(platform, index), line=dict(color="white", width=1)),
                hovertext=_texts([_coverage_hover(r) for r in records(group, ["source", "period_label", "figures", "countries", "periods"])]),
                hoverinfo="text",
            )
        )  # fmt: skip
    fig.update_xaxes(type="date", gridcolor="#e9ecef")
    fig.update_yaxes(categoryorder="array", categoryarray=rows[::-1])
    fig.update_layout(barmode="overlay")
    return _layout(fig, "Periods published per source (empty space = nothing held for that period)", height=120 + 34 * len(rows))


def _coverage_hover(r: dict) -> str:
    if r["periods"] > 1:
        return f"<b>{escape(r['source'])}</b> {r['period_label']}<br>{r['periods']} periods, {r['figures']:,} figures"
    return f"<b>{escape(r['source'])}</b> {r['period_label']}<br>{r['figures']:,} figures, {r['countries']} countries"
