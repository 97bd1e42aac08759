"""Checks every source's records go through between parsing and storing.

Country names are resolved here (centrally, through normalize), metrics are
checked against the vocabulary, duplicate rows are found, and published totals
are compared with the rows they total. Findings become Warnings; only what
would corrupt the store (a conflicting duplicate, an unknown metric) is an error.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable

from .models import METRICS, Observation, ParseError, Warning
from .normalize import resolve_country

DIMENSIONS = ("country", "requester", "product", "reason")


def country_key(obs: Observation) -> str:
    """What identifies the country in a row's key: the code, else the name."""
    return obs.country_code or f"name:{(obs.country_name or '').strip()}"


def observation_key(obs: Observation, platform: str) -> tuple:
    return (
        obs.dataset,
        obs.platform or platform,
        country_key(obs),
        obs.period_start,
        obs.period_end,
        obs.requester,
        obs.product,
        obs.reason,
        obs.metric,
    )


def resolve_countries(observations: Iterable[Observation], where: str) -> tuple[list[Observation], list[Warning]]:
    """Set each row's ISO code from its published code or name; report misses."""
    cache: dict[tuple, tuple[str | None, str]] = {}
    out: list[Observation] = []
    warnings: list[Warning] = []
    reported: set[str] = set()
    for obs in observations:
        if obs.country_name is None and obs.country_code is None:
            out.append(obs)
            continue
        k = (obs.country_name, obs.country_code)
        if k not in cache:
            match = resolve_country(obs.country_name, obs.country_code)
            cache[k] = (match.code, match.how)
        code, how = cache[k]
        if code is None and obs.country_name and obs.country_name not in reported:
            reported.add(obs.country_name)
            warnings.append(
                Warning(
                    f"{how}_country" if how in ("unknown", "ambiguous") else "unknown_country",
                    f"country {obs.country_name!r} ({how}); kept with no ISO code",
                    obs.member,
                    obs.row,
                )
            )
        out.append(obs if code == obs.country_code else dataclasses.replace(obs, country_code=code))
    return out, warnings


def check_metrics(observations: Iterable[Observation], where: str) -> None:
    for obs in observations:
        if obs.metric not in METRICS:
            raise ParseError(f"{where}: metric {obs.metric!r} is not in the vocabulary (member {obs.member}, row {obs.row})")
        if obs.period_end < obs.period_start:
            raise ParseError(f"{where}: period ends before it starts (member {obs.member}, row {obs.row})")


def dedupe(observations: list[Observation], platform: str, where: str) -> tuple[list[Observation], list[Warning]]:
    """Drop exact repeats (reported); a key published twice with two values is an error."""
    seen: dict[tuple, Observation] = {}
    warnings: list[Warning] = []
    out: list[Observation] = []
    for obs in observations:
        key = observation_key(obs, platform)
        prior = seen.get(key)
        if prior is None:
            seen[key] = obs
            out.append(obs)
        elif (prior.value, prior.value_low, prior.value_high) == (obs.value, obs.value_low, obs.value_high):
            warnings.append(Warning("duplicate_row", f"repeats row {prior.row} of {prior.member}", obs.member, obs.row))
        else:
            raise ParseError(
                f"{where}: {obs.member} rows {prior.row} and {obs.row} give two values "
                f"({prior.value_text!r} and {obs.value_text!r}) for the same figure "
                f"({obs.dataset}, {obs.country_name or obs.country_code}, {obs.period_start}..{obs.period_end}, {obs.metric})"
            )
    return out, warnings


def check_totals(observations: Iterable[Observation], platform: str = "") -> list[Warning]:
    """Compare each published total with the sum of the rows it totals.

    A mismatch is a finding about the report, not an error: both figures stay
    as published and the warning says what they are.
    """
    observations = list(observations)
    totals = [o for o in observations if o.is_total and o.total_over and o.value is not None]
    if not totals:
        return []
    # Only rows that share a total's dataset, period and metric can belong to it.
    wanted = {(t.dataset, t.period_start, t.period_end, t.metric) for t in totals}
    candidates = [o for o in observations if not o.is_total and (o.dataset, o.period_start, o.period_end, o.metric) in wanted]
    groups: dict[tuple, list[Observation]] = defaultdict(list)
    for span in {t.total_over for t in totals}:
        for o in candidates:
            groups[(span, _group_key(o, span))].append(o)
    warnings = []
    for t in totals:
        rows = groups.get((t.total_over, _group_key(t, t.total_over)), [])
        if not rows or any(r.value is None for r in rows):
            continue  # nothing to compare, or banded rows: no exact sum
        if not t.metric.startswith(("pct_", "median_")) and t.metric != "removal_rate":
            total = sum(r.value for r in rows)
            if abs(total - t.value) > 1e-9:
                warnings.append(
                    Warning(
                        "total_mismatch",
                        f"{t.dataset} {t.period_start}..{t.period_end} {t.metric}: published total "
                        f"{t.value_text!r} ({t.country_name or t.requester or 'total'}) but its {len(rows)} rows "
                        f"add up to {total:g}",
                        t.member,
                        t.row,
                    )
                )
    return warnings


def _group_key(o: Observation, span: str) -> tuple:
    spanned = set(span.split(","))
    dims = {
        "country": country_key(o),
        "requester": o.requester,
        "product": o.product,
        "reason": o.reason,
    }
    return (o.dataset, o.platform, o.period_start, o.period_end, o.metric) + tuple(
        v for d, v in dims.items() if d not in spanned
    )
