"""`make bench`: speed figures in one run; the last line printed is one JSON object.

- refresh_nochange_s: a second refresh of every mirrored source, nothing changed
- google_load_s: parse and load both Google editions into an empty database
- duckdb_floor_s: a bare DuckDB read_csv of the same CSV files (the floor)
  Both are medians of LOAD_RUNS runs taken in turn (load, floor, load, ...): on a
  shared machine one run of either can be off by a third. google_load_vs_floor
  (the target's figure) is the median of each load's ratio to the floor run
  right after it. google_load_first_s is the first load, which also pays what
  a process does once (loading country names, growing its memory pools): what
  a `takedowns refresh` command pays.
- query_p95_ms: the slowest dashboard query's p95 over repeated runs (full database),
  each run a cache miss (st.cache_data cleared), with the parameters pages pass
- query_p95_ms_scaled: the same on a 100x copy (rows replicated with shifted periods,
  written to bench/out/synthetic_scaled_100x.duckdb: synthetic, for benchmarking only)
- first_chart_s / first_chart_s_scaled: per page, seconds from navigation to its first
  chart drawn in headless Chromium (bench/browser.py says exactly what is measured),
  for a browser that has opened the dashboard before (median of three rounds, each on
  a server started afresh); first_chart_first_visit_s(_scaled)
  the same for a browser with nothing cached; first_chart_floor_s a page holding only
  one small chart, measured the same way (what Streamlit and Plotly cost on this machine),
  drawn as the dashboard draws charts (ui_chart) and with st.plotly_chart
Targets: no-change refresh < 1 s; google_load_vs_floor <= 5; every query < 50 ms p95
(full and 100x); every page's first chart within 3 s (full and 100x).
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import browser  # noqa: E402
from scrapers import pipeline, store  # noqa: E402
from scrapers.demo import build, sources_in_mirror  # noqa: E402
from scrapers.http import mirror_relpath  # noqa: E402
from scrapers.sources import google  # noqa: E402

OUT = ROOT / "bench" / "out"


def timed(fn, *args, **kw) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kw)
    return time.perf_counter() - start, result


LOAD_RUNS = 7


def bench_google_load(shared: Path, work: Path) -> float:
    db = work / "takedowns.duckdb"
    total = 0.0
    for edition in ("previous", "latest"):
        seconds, results = timed(pipeline.refresh, db, ["google"], mirror=shared / "mirror" / edition)
        assert results[0].status == "loaded", results[0].message
        total += seconds
    return total


def google_csv_files(shared: Path, work: Path) -> list[Path]:
    """Every CSV in both Google zips, written out for the floor to read."""
    files = []
    for edition in ("previous", "latest"):
        body = (shared / "mirror" / edition / mirror_relpath(google.URL)).read_bytes()
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            for name in zf.namelist():
                if name.endswith(".csv"):
                    target = work / edition / Path(name).name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(zf.read(name))
                    files.append(target)
    return files


def bench_duckdb_floor(files: list[Path]) -> float:
    """read_csv of every CSV in both Google zips: the work a loader cannot avoid."""
    con = duckdb.connect()
    start = time.perf_counter()
    for f in files:
        con.execute("SELECT count(*) FROM read_csv(?, all_varchar = true)", [str(f)]).fetchone()
    return time.perf_counter() - start


def bench_nochange(shared: Path, db: Path) -> float:
    root = shared / "mirror" / "latest"
    slugs = sources_in_mirror(root)
    seconds, results = timed(pipeline.refresh, db, slugs, mirror=root)
    bad = [r for r in results if r.status != "unchanged"]
    assert not bad, [(r.slug, r.status, r.message) for r in bad]
    return seconds


def make_scaled_copy(db: Path, factor: int = 100) -> Path:
    """Synthetic: every figure replicated with periods shifted by whole decades."""
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"synthetic_scaled_{factor}x.duckdb"
    target.unlink(missing_ok=True)
    shutil.copyfile(db, target)
    con = duckdb.connect(str(target))
    con.execute("CREATE TEMP TABLE base AS SELECT * FROM observation_rows")
    con.execute(
        """INSERT INTO observation_rows BY NAME
           SELECT base.* REPLACE (period_start + to_years(CAST(10 * k AS INTEGER)) AS period_start,
                                  period_end + to_years(CAST(10 * k AS INTEGER)) AS period_end)
           FROM base, range(1, ?) t(k)""",
        [factor],
    )
    store.refresh_derived(con)  # as a refresh would
    con.execute("CHECKPOINT")
    con.close()
    return target


def query_calls(db):
    """Each dashboard question with the parameters a page passes: (name, callable(db)).

    Pages always pass the chosen platforms (all of them by default, never an
    empty list); the span is the real data's (2009 to 2026), so on the 100x
    copy a query must find the same-sized answer in a hundred times the rows.
    """
    from dashboard import queries

    platforms = queries.catalog(db)["platforms"].platform.tolist()
    start, end = date(2009, 1, 1), date(2026, 12, 31)
    half = (date(2023, 1, 1), date(2023, 6, 30))
    table = [  # (name in the results, query function, its arguments after db)
        ("catalog", "catalog", ()),
        ("headline_periods", "headline_periods", ("requests", platforms, start, end)),
        ("requests_by_country", "requests_by_country", ("requests", platforms, *half)),  # the map's one period
        ("requests_by_country_span", "requests_by_country", ("requests", platforms, start, end)),  # "added up"
        ("country_series", "country_series", ("VN", platforms, start, end)),
        ("compare_figures", "compare_figures", ("requests", ["VN", "RU", "TR", "IN"], platforms, start, end)),
        ("product_requests", "product_requests", ("VN", "Google", "YouTube", start, end)),
        ("country_observations", "country_observations", ("VN", platforms, start, end)),
        ("published_periods", "published_periods", ()),
        ("country_notices", "country_notices", ("RU",)),
        ("government_claims", "government_claims", ("VN",)),
        ("revisions", "revisions", (None, None)),
        ("documents", "documents", ()),
        ("data_warnings", "data_warnings", ()),
        ("unknown_country_names", "unknown_country_names", ()),
        ("source_status", "source_status", ()),
    ]
    return [(name, lambda db, fn=getattr(queries, fn), args=args: fn(db, *args)) for name, fn, args in table]


def bench_queries(db_path: Path, repeats: int) -> dict[str, float]:
    import streamlit as st
    import streamlit.logger

    streamlit.logger.set_log_level("error")  # "no runtime found" on every cache use, here on purpose
    from dashboard import queries
    from dashboard.db import Database, _Reader, file_token

    reader = _Reader(str(db_path))
    db = Database(str(db_path), file_token(db_path), reader)

    def fresh(name: str) -> None:
        """Every cached answer dropped, so the query runs; but the filter catalogue read
        back, as the sidebar has always read it before a page asks anything else."""
        st.cache_data.clear()
        if name != "catalog":
            queries.catalog(db)

    p95 = {}
    for name, call in query_calls(db):
        try:
            fresh(name)
            call(db)  # warm up
        except TypeError as exc:  # a signature changed: report, do not hide
            p95[name] = float("nan")
            print(f"query {name}: cannot call ({exc})", file=sys.stderr)
            continue
        times = []
        for _ in range(repeats):
            fresh(name)  # time the query, not Streamlit's cache
            start = time.perf_counter()
            call(db)
            times.append((time.perf_counter() - start) * 1000)
        p95[name] = statistics.quantiles(times, n=20)[-1] if len(times) >= 2 else times[0]
    if reader.con is not None:
        reader.con.close()
    return p95


def bench_first_charts(result: dict, full_db: Path, scaled: Path | None) -> bool:
    """Adds the first-chart figures to result; True when every page (full and 100x) drew within 3 s."""
    seconds = browser.first_chart_seconds(full_db)
    result["first_chart_s"] = seconds["returning"]
    result["first_chart_first_visit_s"] = seconds["first_visit"]
    drawn = list(seconds["returning"].values())
    if scaled is not None:
        seconds = browser.first_chart_seconds(scaled)
        result["first_chart_s_scaled"] = seconds["returning"]
        result["first_chart_first_visit_s_scaled"] = seconds["first_visit"]
        drawn += list(seconds["returning"].values())
    result["first_chart_floor_s"] = browser.floor_seconds()
    return all(s is not None and s < 3 for s in drawn)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--no-scaled", action="store_true", help="skip the 100x synthetic copy")
    parser.add_argument("--no-browser", action="store_true", help="skip the first-chart timings in Chromium")
    args = parser.parse_args(argv)
    if not (args.shared / "mirror").is_dir():
        print(f"no shared data at {args.shared}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="takedowns-bench-") as tmp:
        work = Path(tmp)
        csv_files = google_csv_files(args.shared, work / "floor")
        loads, floors = [], []
        for run in range(LOAD_RUNS):  # in turn, so both see the same moments of a busy machine
            loads.append(bench_google_load(args.shared, work / f"google-{run}"))
            floors.append(bench_duckdb_floor(csv_files))
        google_load, floor = statistics.median(loads), statistics.median(floors)
        # Each load against the floor measured right after it: a busy moment
        # slows both, so the pair's ratio moves far less than either.
        load_vs_floor = statistics.median(load / floor for load, floor in zip(loads, floors))
        full_db = work / "full" / "takedowns.duckdb"
        build_s, _ = timed(build, full_db, args.shared)
        nochange = bench_nochange(args.shared, full_db)
        queries = bench_queries(full_db, args.repeats)
        result = {
            "refresh_nochange_s": round(nochange, 3),
            "google_load_s": round(google_load, 3),
            "duckdb_floor_s": round(floor, 3),
            "google_load_first_s": round(loads[0], 3),
            "google_load_runs_s": [round(x, 3) for x in loads],
            "duckdb_floor_runs_s": [round(x, 3) for x in floors],
            "google_load_vs_floor": round(load_vs_floor, 2),
            "full_build_s": round(build_s, 2),
            "query_p95_ms": round(max(queries.values()), 2),
            "slowest_query": max(queries, key=queries.get),
            "queries_p95_ms": {k: round(v, 2) for k, v in queries.items()},
        }
        scaled = None
        if not args.no_scaled:
            scaled = make_scaled_copy(full_db)
            scaled_q = bench_queries(scaled, args.repeats)
            result["query_p95_ms_scaled"] = round(max(scaled_q.values()), 2)
            result["slowest_query_scaled"] = max(scaled_q, key=scaled_q.get)
            result["queries_p95_ms_scaled"] = {k: round(v, 2) for k, v in scaled_q.items()}
        charts_met = None
        if args.no_browser:
            result["first_chart_s"] = None
            result["first_chart_message"] = "skipped (--no-browser)"
        elif reason := browser.missing():
            result["first_chart_s"] = None
            result["first_chart_message"] = reason
        else:
            try:
                charts_met = bench_first_charts(result, full_db, scaled)
            except Exception as exc:  # a browser that will not start must not cost the other figures
                result.setdefault("first_chart_s", None)
                result["first_chart_message"] = f"failed: {type(exc).__name__}: {exc}"
        result["targets_met"] = {
            "refresh_nochange_under_1s": nochange < 1.0,
            "google_load_within_5x_floor": load_vs_floor <= 5,
            "queries_under_50ms": result["query_p95_ms"] < 50,
            "queries_under_50ms_scaled": result["query_p95_ms_scaled"] < 50 if scaled is not None else None,
            "first_chart_under_3s": charts_met,
        }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
