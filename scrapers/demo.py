"""Build a database from the real files in ../shared (no network): the older
mirror edition, then the newest, then every archived file of the import-only
sources. `make demo` runs this, then opens the dashboard."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from . import pipeline
from .http import mirror_relpath
from .sources import SOURCES

# Archived files in shared/archive/ and the source that reads each folder.
ARCHIVES = {
    "twitter-removal-requests": ("twitter-removals", "*.csv"),
    "facebook-government-report": ("facebook-government-report", "*.csv"),
    "x": ("x-global-report", "*.pdf"),
    "dsa-orders": ("dsa-orders", "*.csv"),
    "wikimedia": ("wikimedia", "content_*.html"),
}


def sources_in_mirror(root: Path) -> list[str]:
    """Sources whose every URL has a copy in this mirror edition."""
    found = []
    for slug, module in SOURCES.items():
        urls = module.SPEC.urls
        if urls and all((root / mirror_relpath(u)).is_file() for u in urls[:1]):
            found.append(slug)
    return found


def build(db_path: Path, shared: Path, console: Console | None = None) -> list:
    console = console or Console(stderr=True)
    results = []
    for edition in ("previous", "latest"):
        root = shared / "mirror" / edition
        slugs = sources_in_mirror(root)
        console.print(f"[bold]{edition} edition[/bold]: {', '.join(slugs)}")
        for r in pipeline.refresh(db_path, slugs, mirror=root):
            console.print(f"  {r.status:>9} {r.slug}: {r.message}", highlight=False)
            results.append(r)
    for folder, (slug, pattern) in ARCHIVES.items():
        files = sorted((shared / "archive" / folder).glob(pattern))
        console.print(f"[bold]import[/bold] {len(files)} file(s) of {slug}")
        for path in files:
            r = pipeline.import_file(db_path, path, slug)
            if r.status == "failed":
                console.print(f"  [red]failed[/red] {path.name}: {r.message}", highlight=False)
            results.append(r)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=Path("data/takedowns.duckdb"))
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    args = parser.parse_args(argv)
    if not (args.shared / "mirror").is_dir():
        print(f"no shared data at {args.shared} (expected {args.shared}/mirror)", file=sys.stderr)
        return 2
    results = build(args.db, args.shared)
    failed = [r for r in results if r.status == "failed"]
    print(f"{len(results) - len(failed)} loads done, {len(failed)} failed; database {args.db}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
