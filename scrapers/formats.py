"""Reading published files safely: zips, text encodings, CSV headers.

Shared by every parser so that a truncated zip, a zip bomb, a BOM or a renamed
column is handled the same way everywhere, with a message naming the file.
"""

from __future__ import annotations

import csv
import io
import lzma
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from .models import ParseError
from .normalize import map_distinct

MAX_MEMBER_BYTES = 200 * 1024 * 1024  # one CSV inside a zip
MAX_TOTAL_BYTES = 500 * 1024 * 1024  # all members together
MAX_MEMBERS = 2000

_HTML_START = re.compile(rb"^\s*(<!doctype html|<html|<head|<body|<\?xml)", re.I)


def looks_like_html(body: bytes) -> bool:
    return bool(_HTML_START.match(body[:512].lstrip(b"\xef\xbb\xbf")))


def zip_members(body: bytes, where: str) -> dict[str, bytes]:
    """Read a zip's files (not folders, not __MACOSX), within size limits.

    Member names are only used as labels: nothing is ever written to a path
    derived from them.
    """
    if looks_like_html(body):
        raise ParseError(f"{where}: expected a zip file but got an HTML page")
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:  # NotImplementedError: "zip file version 22.0"
        raise ParseError(f"{where}: not a readable zip file ({exc}); the download may be truncated") from exc
    if any(not info.filename for info in archive.infolist()):  # ZipInfo.is_dir() fails on ""
        raise ParseError(f"{where}: zip has a member with an empty name; the zip is damaged")
    infos = [i for i in archive.infolist() if not i.is_dir() and not _is_junk(i.filename)]
    if len(infos) > MAX_MEMBERS:
        raise ParseError(f"{where}: zip holds {len(infos)} files, more than the limit of {MAX_MEMBERS}")
    members: dict[str, bytes] = {}
    total = 0
    for info in infos:
        if info.file_size > MAX_MEMBER_BYTES:
            raise ParseError(f"{where}: zip member {info.filename!r} would expand to {info.file_size} bytes, over the limit")
        try:
            with archive.open(info) as fh:
                data = fh.read(MAX_MEMBER_BYTES + 1)
        # Damaged compressed data raises zlib/lzma errors; an encryption flag, RuntimeError.
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError,
                zlib.error, lzma.LZMAError) as exc:  # fmt: skip
            raise ParseError(f"{where}: zip member {info.filename!r} cannot be read ({exc}); the zip may be truncated") from exc
        if len(data) > MAX_MEMBER_BYTES:
            raise ParseError(f"{where}: zip member {info.filename!r} expands past the limit of {MAX_MEMBER_BYTES} bytes")
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise ParseError(f"{where}: zip expands past the limit of {MAX_TOTAL_BYTES} bytes")
        members[info.filename] = data
    return members


def _is_junk(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return name.startswith("__MACOSX/") or "/__MACOSX/" in name or base.startswith("._") or base == ".DS_Store"


def decode_text(data: bytes, where: str) -> str:
    """Decode a published text file: UTF-8 (with or without BOM), UTF-16 with a
    BOM, else Windows-1252. Line endings become \\n (CR-only files included)."""
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:  # an odd byte count (truncated) or a lone surrogate
            raise ParseError(f"{where}: text starts with a UTF-16 byte-order mark but is not valid UTF-16 ({exc})") from exc
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as exc:
                raise ParseError(f"{where}: text is neither UTF-8, UTF-16 nor Windows-1252 ({exc})") from exc
    if "\x00" in text:
        raise ParseError(f"{where}: text contains NUL bytes; not a CSV or text file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass
class CsvTable:
    """A CSV with its header mapped to canonical column names."""

    where: str
    header: list[str]
    columns: dict[str, int]  # canonical name -> index
    # (1-based line number of the record, cells); None when the file was read
    # column-wise (read_csv(columnar=True)): then `arrays` and `lines` hold it.
    rows: list[tuple[int, list[str]]] | None
    arrays: list[pa.Array] | None = None  # one per header column, body records only
    lines: pa.Array | None = None

    def get(self, cells: list[str], name: str) -> str:
        idx = self.columns.get(name)
        if idx is None or idx >= len(cells):
            return ""
        return cells[idx]

    @property
    def num_rows(self) -> int:
        return len(self.lines) if self.rows is None else len(self.rows)

    @functools.cached_property
    def _transposed(self) -> list[tuple[str, ...]]:
        width = len(self.header)
        # Short rows read as "" in the missing cells, as `get` reads them.
        cells = [c if len(c) == width else (c + [""] * width)[:width] for _, c in self.rows]
        return list(zip(*cells)) if cells else [() for _ in range(width)]

    def column(self, name: str) -> pa.Array:
        """One column as strings, in row order ("" for an optional column it lacks)."""
        idx = self.columns.get(name)
        if idx is None:
            return pa.array([""] * self.num_rows, pa.string())
        if self.arrays is not None:
            return self.arrays[idx]
        return pa.array(self._transposed[idx], pa.string())

    def line_numbers(self) -> pa.Array:
        if self.lines is not None:
            return self.lines
        return pa.array([line for line, _ in self.rows], pa.int64())


def header_key(name: str) -> str:
    """Compare headers loosely: case, spaces, BOMs and footnote marks aside."""
    name = name.replace("\ufeff", "").replace("\u00a0", " ")
    name = re.sub(r"\[\d+\]|\*+$", "", name)
    return re.sub(r"\s+", " ", name).strip().casefold()


def _csv_records(text: str, where: str) -> list[tuple[int, list[str]]]:
    """Every record with its line number (1-based; where it ends, if it spans lines)."""
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        rows = None  # read again record by record to say where
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if rows is not None and len(rows) == lines:
        return list(enumerate(rows, 1))  # no record spans lines: record i is on line i
    reader = csv.reader(io.StringIO(text))
    records: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            records.append((reader.line_num, cells))
    except csv.Error as exc:
        raise ParseError(f"{where}: malformed CSV at line {reader.line_num}: {exc}") from exc
    return records


def _arrow_records(text: str) -> list[pa.Array] | None:
    """Every record as string columns, read by pyarrow in C, when that is
    exactly what csv.reader reads: every record on one line and every line
    the same width (tests hold the two equal). None otherwise: the caller then
    reads record by record."""
    first = next(csv.reader(io.StringIO(text[: text.find("\n") + 1 or None])), None) if text else None
    if not first or "\r" in text:
        return None
    try:
        table = pa_csv.read_csv(
            io.BytesIO(text.encode()),
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True),
            parse_options=pa_csv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(len(first))},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # ragged rows, a quote left open, ...
        return None
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if table.num_rows != lines or table.num_columns != len(first):
        return None
    return [column.combine_chunks() for column in table.columns]


def _header_columns(header: list[str], where: str, columns, optional, allow_extra) -> dict[str, int]:
    wanted = {header_key(alias): canon for canon, aliases in columns.items() for alias in aliases}
    found: dict[str, int] = {}
    unexpected: list[str] = []
    for idx, name in enumerate(header):
        key = header_key(name)
        if not key:
            continue  # trailing empty header cells
        canon = wanted.get(key)
        if canon is None:
            unexpected.append(name)
        elif canon in found:
            raise ParseError(f"{where}: column {name!r} appears twice")
        else:
            found[canon] = idx
    optional = set(optional)
    missing = [c for c in columns if c not in found and c not in optional]
    if missing:
        expected = "; ".join(f"{c} (as {' or '.join(repr(a) for a in columns[c])})" for c in missing)
        raise ParseError(f"{where}: header changed: missing column {expected}; header is {header!r}")
    if unexpected and not allow_extra:
        raise ParseError(f"{where}: header changed: unexpected column(s) {unexpected!r}; expected only {list(columns)}")
    return found


def read_csv(
    data: bytes | str,
    where: str,
    columns: Mapping[str, Iterable[str]],
    *,
    optional: Iterable[str] = (),
    allow_extra: bool = False,
    header_row: int = 0,
    columnar: bool = False,
) -> CsvTable:
    """Parse a CSV and find its columns by name, never by position.

    `columns` maps each canonical name to the header spellings accepted for it.
    A missing required column, or (unless allow_extra) a column nobody asked for,
    is a ParseError naming the file and the column. With columnar=True the
    table may come back column-wise (`rows` None; read it with `column`).
    """
    text = data if isinstance(data, str) else decode_text(data, where)
    arrays = _arrow_records(text) if columnar else None
    if arrays is not None and len(arrays[0]) > header_row:
        header = [a[header_row].as_py() for a in arrays]
        found = _header_columns(header, where, columns, optional, allow_extra)
        body = [a.slice(header_row + 1) for a in arrays]
        lines = pa.array(np.arange(header_row + 2, header_row + 2 + len(body[0]), dtype=np.int64))
        # Rows of blanks carry nothing (str.strip decides, as for `rows`). A
        # row with a letter or digit is not blank: only the others are asked.
        if pc.all(pc.match_substring_regex(body[0], "[0-9A-Za-z]")).as_py():
            return CsvTable(where, header, found, None, body, lines)  # every first cell says so already
        joined = pc.binary_join_element_wise(*body, "")
        undecided = pc.if_else(pc.match_substring_regex(joined, "[0-9A-Za-z]"), "x", joined)
        kept = map_distinct(undecided, lambda row: (bool(row.strip()),), [pa.bool_()])[0]
        if pc.all(kept).as_py():  # no blank row (the usual case): nothing to filter
            return CsvTable(where, header, found, None, body, lines)
        return CsvTable(where, header, found, None, [a.filter(kept) for a in body], lines.filter(kept))
    records = _csv_records(text, where)
    if len(records) <= header_row:
        raise ParseError(f"{where}: empty file, expected a CSV header with {', '.join(columns)}")
    header = records[header_row][1]
    found = _header_columns(header, where, columns, optional, allow_extra)
    body = [(line, cells) for line, cells in records[header_row + 1 :] if "".join(cells).strip()]
    return CsvTable(where=where, header=header, columns=found, rows=body)


def iter_csv_dicts(table: CsvTable) -> Iterator[tuple[int, dict[str, str]]]:
    for line, cells in table.rows:
        yield line, {name: (cells[idx] if idx < len(cells) else "") for name, idx in table.columns.items()}
