"""The `takedowns` command: a thin layer over pipeline, store and dashboard."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import pipeline, store
from .models import TakedownsError
from .sources import SOURCES

DEFAULT_DB = Path("data") / "takedowns.duckdb"
console = Console(stderr=True)
STAGES = ("fetch", "parse", "load", "done")


def default_db() -> Path:
    return Path(os.environ.get("TAKEDOWNS_DB") or DEFAULT_DB)


db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Database file (default: $TAKEDOWNS_DB or {DEFAULT_DB}).",
)


def _stdout() -> Console:
    """Full-width tables when piped, so URLs are never cut."""
    return Console() if sys.stdout.isatty() else Console(width=250)


def _db(db_path: Path | None) -> Path:
    return db_path or default_db()


def _open_existing(db_path: Path):
    if not db_path.exists():
        raise click.ClickException(f"no database at {db_path}: run `takedowns refresh` first")
    return store.connect_readonly(db_path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="takedowns")
def main() -> None:
    """Gather platforms' reports of government content-removal demands."""


@main.command()
@db_option
def sources(db_path: Path | None) -> None:
    """List registered sources, their URLs, last fetch and rows."""
    db_path = _db(db_path)
    stats = {}
    if db_path.exists():
        with store.connect_readonly(db_path) as con:
            stats = {s["slug"]: s for s in store.status(con)}
    table = Table(title="Registered sources")
    for col in ("source", "platform", "cadence", "URLs / notes", "last fetch", "rows"):
        table.add_column(col)
    for slug, module in SOURCES.items():
        spec = module.SPEC
        info = stats.get(slug, {})
        where = "\n".join(spec.urls) or "import only: takedowns import FILE --source " + slug
        if spec.notes:
            where += f"\n[dim]{spec.notes}[/dim]"
        last = info.get("last_fetch")
        table.add_row(slug, spec.platform, spec.cadence, where, str(last)[:19] if last else "never", str(info.get("rows", 0)))
    _stdout().print(table)


@main.command()
@click.argument("source_slugs", nargs=-1, metavar="[SOURCE]...")
@db_option
@click.option("--mirror", type=click.Path(file_okay=False, exists=True), help="Read DIR/<host>/<path> instead of the network.")
@click.option("--mirror-url", help="Fetch BASE/<host>/<path> over HTTP instead of the real hosts (testing).", hidden=True)
@click.option("--force", is_flag=True, help="Parse and load even when no file changed.")
@click.option("--host-delay", type=float, default=1.0, show_default=True, help="Seconds between requests to one host.")
def refresh(source_slugs, db_path, mirror, mirror_url, force, host_delay) -> None:
    """Fetch, parse and load sources (all by default)."""
    from .http import HttpConfig

    unknown = [s for s in source_slugs if s not in SOURCES]
    if unknown:
        raise click.BadParameter(f"unknown source(s) {', '.join(unknown)}; known: {', '.join(SOURCES)}")
    db_path = _db(db_path)
    slugs = list(source_slugs) or list(SOURCES)
    with Progress(
        SpinnerColumn(), TextColumn("[bold]{task.fields[slug]:<28}"), BarColumn(),
        TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=False,
    ) as bar:  # fmt: skip
        tasks = {s: bar.add_task("waiting", total=len(STAGES), slug=s) for s in slugs}

        def progress(slug: str, stage: str) -> None:
            bar.update(tasks[slug], completed=STAGES.index(stage) + 1, description=stage)

        try:
            results = pipeline.refresh(
                db_path, slugs, mirror=mirror, mirror_url=mirror_url,
                http_config=HttpConfig(host_delay=host_delay), force=force, progress=progress,
            )  # fmt: skip
        except store.RefreshLocked as exc:
            raise click.ClickException(str(exc)) from exc
        except (TakedownsError, OSError) as exc:
            raise click.ClickException(f"refresh stopped, database unchanged: {exc}") from exc
        for r in results:
            bar.update(tasks[r.slug], description={"loaded": "[green]loaded", "unchanged": "[cyan]unchanged",
                                                    "skipped": "[yellow]skipped"}.get(r.status, "[red]failed"))  # fmt: skip
    _report(results, db_path)


def _report(results, db_path: Path) -> None:
    failed = [r for r in results if r.status == "failed"]
    for r in results:
        colour = {"loaded": "green", "unchanged": "cyan", "skipped": "yellow"}.get(r.status, "red")
        console.print(f"[{colour}]{r.status:>9}[/{colour}] {r.slug}: {r.message}", highlight=False, soft_wrap=True)
        for note in r.details:
            console.print(f"          [yellow]note:[/yellow] {note}", highlight=False, soft_wrap=True)
    console.print(f"database: {db_path}")
    if failed:
        console.print(f"[red]{len(failed)} source(s) failed; the others were loaded and the database keeps their last good state.")
        sys.exit(1)


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--source", "slug", required=True, type=click.Choice(list(SOURCES)), help="Which parser reads the file(s).")
@click.option("--url", help="The URL the file was published at (default: the source's own mapping, if any).")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="When the file was published (YYYY-MM-DD).")
@db_option
def import_(files, slug, url, as_of, db_path) -> None:
    """Load files downloaded by hand (or from a web archive) through a source's parser."""
    db_path = _db(db_path)
    if url and len(files) > 1:
        raise click.BadParameter("--url names one file's origin; import one file at a time with it")
    results = []
    for path in files:
        try:
            result = pipeline.import_file(db_path, path, slug, url=url, as_of=as_of.date() if as_of else None)
        except store.RefreshLocked as exc:
            raise click.ClickException(str(exc)) from exc
        result.slug = f"{slug} <- {path.name}"
        results.append(result)
    _report(results, db_path)


@main.command()
@db_option
@click.option("--port", type=int, default=8501, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (local only by default).")
def dashboard(db_path, port, host) -> None:
    """Open the Streamlit dashboard on 127.0.0.1."""
    db_path = _db(db_path).resolve()
    if not db_path.exists():
        raise click.ClickException(f"no database at {db_path}: run `takedowns refresh` first")
    from dashboard.serve import command  # the one command line (warms the page's imports before serving)

    cmd, env, cwd = command(db_path, port, host)
    console.print(f"dashboard on http://{host}:{port}  (database {db_path})")
    # Become the Streamlit process, so stopping `takedowns dashboard` stops the
    # server too (a child process would outlive a SIGTERM to its parent).
    os.chdir(cwd)
    os.execve(sys.executable, cmd, env)


@main.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--source", "sources_", multiple=True, help="Source slug (repeatable).")
@click.option("--platform", multiple=True, help="Platform name (repeatable).")
@click.option("--country", multiple=True, help="ISO alpha-2 code (repeatable).")
@click.option("--metric", multiple=True, help="Metric name (repeatable).")
@click.option("--from", "period_from", type=click.DateTime(formats=["%Y-%m-%d"]), help="Periods ending on or after.")
@click.option("--to", "period_to", type=click.DateTime(formats=["%Y-%m-%d"]), help="Periods starting on or before.")
def export(db_path, fmt, out, sources_, platform, country, metric, period_from, period_to) -> None:
    """Export observations (with provenance columns) as CSV or Parquet."""
    with _open_existing(_db(db_path)) as con:
        frame = store.export_filtered(
            con,
            sources=list(sources_) or None,
            platforms=list(platform) or None,
            countries=[c.upper() for c in country] or None,
            metrics=list(metric) or None,
            period_from=period_from.date() if period_from else None,
            period_to=period_to.date() if period_to else None,
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
    console.print(f"wrote {len(frame)} rows to {out}")


@main.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(db_path, as_json) -> None:
    """Per source: documents, rows, periods covered, warnings, revisions."""
    with _open_existing(_db(db_path)) as con:
        items = store.status(con)
        cov = store.coverage(con)
    if as_json:
        for item in items:
            item["coverage"] = cov[cov.source == item["slug"]][["period_label", "rows"]].to_dict("records")
        click.echo(json.dumps(items, default=str, indent=2))
        return
    out = _stdout()
    table = Table(title="Sources")
    for col in ("source", "docs", "rows", "periods", "first..last", "revisions", "warnings", "last run"):
        table.add_column(col)
    for s in items:
        span = f"{s['first_period']}..{s['last_period']}" if s["first_period"] else "-"
        warns = ", ".join(f"{k} {v}" for k, v in s["warnings"].items()) or "-"
        rev = f"{s['revisions']} changed, {s['not_republished']} not republished"
        table.add_row(s["slug"], str(s["documents"]), str(s["rows"] + s["notices"]), str(s["periods"]), span, rev, warns,
                      (s["last_run"] or "never")[:80])  # fmt: skip
    out.print(table)
    for s in items:
        if s["unknown_countries"]:
            out.print(f"[yellow]{s['slug']}: country names kept without an ISO code:[/yellow] {', '.join(s['unknown_countries'])}")
    _print_coverage(out, cov)


def _print_coverage(out: Console, cov) -> None:
    """Source x year matrix: rows per year, '·' where a source published nothing."""
    if cov.empty:
        return
    cov = cov.assign(year=cov.period_start.map(lambda d: d.year))
    years = list(range(int(cov.year.min()), int(cov.year.max()) + 1))
    table = Table(title="Coverage (figures per year; · = gap)")
    table.add_column("source")
    for y in years:
        table.add_column(str(y)[2:], justify="right")
    for source, group in cov.groupby("source"):
        per_year = group.groupby("year")["rows"].sum()
        table.add_row(source, *[(str(int(per_year[y])) if y in per_year.index and per_year[y] else "·") for y in years])
    out.print(table)


if __name__ == "__main__":
    main()
