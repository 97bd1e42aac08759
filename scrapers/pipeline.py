"""refresh(source): fetch -> archive -> parse -> validate -> store.

Each stage lives in its own module; this one only sequences them and turns
every failure into a SourceResult that names the source and the file, so one
broken source never stops the others.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import inspect
import io
import traceback
import warnings as pywarnings
import zipfile
from collections.abc import Callable, Iterable
from datetime import date, datetime, timezone
from pathlib import Path
from types import ModuleType

from . import claims as claims_module
from . import store, validate
from .archive import Archive
from .http import HttpConfig, HttpSession, Known, MirrorSession, rewrite_to_base
from .models import Document, Notice, Observation, ObservationTable, SourceResult, TakedownsError, Warning
from .sources import SOURCES

Progress = Callable[[str, str], None]  # (slug, stage) -> None


def archive_for(db_path: str | Path) -> Archive:
    """The raw archive lives beside the database file."""
    db_path = Path(db_path)
    return Archive(db_path.parent / "archive")


def parser_hash(module: ModuleType) -> str:
    """Changes when the source's code changes, so its files are parsed again."""
    try:
        code = inspect.getsource(module)
    except (OSError, TypeError):  # a source defined at run time (tests)
        code = repr(module.SPEC)
    return hashlib.sha256(code.encode()).hexdigest()[:16]


def make_session(
    *,
    mirror: str | Path | None = None,
    mirror_url: str | None = None,
    config: HttpConfig | None = None,
    archive: Archive | None = None,
):
    if mirror:
        return MirrorSession(mirror)
    return HttpSession(
        config,
        load_archived=archive.get if archive else None,
        rewrite=rewrite_to_base(mirror_url) if mirror_url else None,
    )


def _zip_names(body: bytes) -> list[str] | None:
    if not body.startswith(b"PK"):
        return None
    try:
        return zipfile.ZipFile(io.BytesIO(body)).namelist()
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):  # e.g. "zip file version 22.0"
        return None


def _internal(stage: str, slug: str, exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
    return f"{slug}: unexpected error while {stage}: {type(exc).__name__}: {exc}{at}"


@contextlib.contextmanager
def _bulk_allocation():
    """Parsing makes a million short-lived objects without cycles: reference
    counting frees them, and the cycle collector would only re-scan the live
    heap over and over (it doubled Google's parse time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def checked_figures(records: list, where: str, platform: str) -> tuple[ObservationTable, list[Warning]]:
    """One document's figures after the central checks, with the parser's and
    the checks' warnings. A ParseError when a figure cannot be stored."""
    figures = ObservationTable.concat(
        [ObservationTable.of(r for r in records if isinstance(r, Observation))]
        + [r for r in records if isinstance(r, ObservationTable)]
    )
    warnings = [r for r in records if isinstance(r, Warning)]
    validate.check_metrics(figures, where)
    figures, found = validate.resolve_countries(figures, where)
    warnings += found
    figures, found = validate.dedupe(figures, platform, where)
    warnings += found
    warnings += validate.check_totals(figures, platform)
    return figures, warnings


def ingest(
    con,
    module: ModuleType,
    documents: list[Document],
    archive: Archive,
    *,
    force: bool = False,
    progress: Progress | None = None,
    fetch_notes: list[Warning] = (),
) -> SourceResult:
    """Archive, parse, validate and load documents already fetched or imported."""
    spec = module.SPEC
    result = SourceResult(spec.slug, "failed", documents=len(documents))
    code_hash = parser_hash(module)
    store.register_source(con, spec)
    meta: dict[str, tuple[str, list[str] | None]] = {}
    for doc in documents:
        sha = archive.put(doc.body) if not doc.not_modified else doc.sha256
        meta[doc.document_id] = (str(archive.path_for(sha)), _zip_names(doc.body))

    # Unchanged: every file is one this parser has already loaded (the same
    # bytes from the same URL), so parsing it again could only repeat itself.
    loaded = store.loaded_document_ids(con, spec.slug)
    unchanged = (
        not force
        and documents
        and store.parser_hash_of(con, spec.slug) == code_hash
        and all(doc.document_id in loaded for doc in documents)
    )
    if unchanged:
        store.touch_documents(con, documents)
        result.status, result.message = "unchanged", "no new edition"
        return result

    if progress:
        progress(spec.slug, "parse")
    observations: list[tuple[ObservationTable, str]] = []
    notices: list[tuple[Notice, str]] = []
    warnings: list[tuple[Warning, str]] = [(w, documents[0].document_id) for w in fetch_notes]
    for doc in documents:
        try:
            with _bulk_allocation():
                records = list(module.parse(doc))
        except TakedownsError as exc:
            result.message = str(exc)
            return result
        except Exception as exc:  # a parser bug must not take other sources down
            result.message = _internal(f"parsing {doc.url}", spec.slug, exc)
            return result
        try:
            doc_obs, doc_warn = checked_figures(records, doc.url, spec.platform)
        except TakedownsError as exc:
            result.message = str(exc)
            return result
        observations.append((doc_obs, doc.document_id))
        notices += [(r, doc.document_id) for r in records if isinstance(r, Notice)]
        warnings += [(w, doc.document_id) for w in doc_warn]
    if not any(len(batch) for batch, _ in observations) and not notices:
        # A report with a header and no rows is a broken publication, not an
        # edition that withdrew every figure: keep the last good state.
        names = ", ".join(doc.url for doc in documents)
        result.message = f"{names}: the file holds no figures (a header and no rows?); nothing was loaded"
        return result
    # Two documents of one source may not publish the same figure differently.
    if len(documents) > 1:
        try:
            validate.dedupe(ObservationTable.concat(batch for batch, _ in observations), spec.platform, spec.slug)
        except TakedownsError as exc:
            result.message = str(exc)
            return result

    if progress:
        progress(spec.slug, "load")
    rows, revisions = store.load_source(con, spec, documents, meta, observations, notices, warnings)
    store.set_parser_hash(con, spec.slug, code_hash)  # registered above
    result.status = "loaded"
    result.observations, result.revisions, result.notices, result.warnings = rows, revisions, len(notices), len(warnings)
    result.message = f"{rows} figures" + (f", {len(notices)} notices" if notices else "") + (
        f", {revisions} revisions" if revisions else ""
    )
    return result


def refresh_source(con, module: ModuleType, session, archive: Archive, *, force=False, progress=None) -> SourceResult:
    spec = module.SPEC
    if isinstance(session, HttpSession):
        session.known = {
            url: Known(etag, lm, sha) for url, (etag, lm, sha) in store.known_documents(con, spec.slug).items()
        }
    if progress:
        progress(spec.slug, "fetch")
    try:
        # A source may warn while fetching (e.g. it fell back to a known URL
        # because discovery failed): such notes are kept with the load.
        with pywarnings.catch_warnings(record=True) as caught:
            pywarnings.simplefilter("always")
            documents = module.fetch(session, spec)
    except TakedownsError as exc:
        return SourceResult(spec.slug, "failed", str(exc))
    except Exception as exc:
        return SourceResult(spec.slug, "failed", _internal("fetching", spec.slug, exc))
    if not documents:
        store.register_source(con, spec)
        how = "load its files with `takedowns import FILE --source " + spec.slug + "`"
        return SourceResult(spec.slug, "skipped", "nothing to fetch (import-only source): " + how)
    fetch_notes = [Warning("fetch_note", str(w.message)) for w in caught]
    try:
        result = ingest(con, module, documents, archive, force=force, progress=progress, fetch_notes=fetch_notes)
        result.details += [w.detail for w in fetch_notes]
        return result
    except TakedownsError as exc:
        return SourceResult(spec.slug, "failed", f"{spec.slug}: {exc}")
    except Exception as exc:
        return SourceResult(spec.slug, "failed", _internal("loading", spec.slug, exc))


def refresh(
    db_path: str | Path,
    slugs: Iterable[str] | None = None,
    *,
    mirror: str | Path | None = None,
    mirror_url: str | None = None,
    http_config: HttpConfig | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> list[SourceResult]:
    """Refresh the named sources (all by default) into the database at db_path."""
    modules = [SOURCES[s] for s in (slugs or SOURCES)]
    archive = archive_for(db_path)
    session = make_session(mirror=mirror, mirror_url=mirror_url, config=http_config, archive=archive)
    results = []
    try:
        with store.writable_copy(db_path) as con:
            archive.discard_incomplete()  # the lock is held: no other writer
            claims_module.load(con)
            for module in modules:
                started = datetime.now(timezone.utc)
                result = refresh_source(con, module, session, archive, force=force, progress=progress)
                store.record_run(con, module.SPEC.slug, started, result)
                results.append(result)
                if progress:
                    progress(module.SPEC.slug, "done")
    finally:
        session.close()
    return results


def import_file(
    db_path: str | Path,
    path: str | Path,
    slug: str,
    *,
    url: str | None = None,
    as_of: date | None = None,
    force: bool = False,
) -> SourceResult:
    """Load a file a person downloaded (or found in a web archive) through the
    source's own parser, with the URL it came from as its provenance."""
    module = SOURCES[slug]
    path = Path(path)
    origin_url = url or (module.import_url(path.name) if hasattr(module, "import_url") else None)
    document = Document(
        url=origin_url or f"file:{path.name}",
        body=path.read_bytes(),
        fetched_at=datetime.now(timezone.utc),
        http_status=None,
        published_as_of=as_of,
        origin="import",
    )
    archive = archive_for(db_path)
    with store.writable_copy(db_path) as con:
        archive.discard_incomplete()
        started = datetime.now(timezone.utc)
        try:
            result = ingest(con, module, [document], archive, force=force)
        except TakedownsError as exc:
            result = SourceResult(slug, "failed", f"{slug}: {path.name}: {exc}")
        store.record_run(con, slug, started, result)
    return result
