"""Security checks: what the tool sends, what it keeps, where it listens, how it builds SQL."""

from __future__ import annotations

import ast
import logging
import re
import secrets
import os
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from scrapers import PROJECT_URL, __version__, pipeline
from scrapers.archive import Archive, ArchiveError
from scrapers.cli import main
from scrapers.http import USER_AGENT, HttpSession, mirror_relpath
from scrapers.sources import google, tiktok, wikimedia
from tests.conftest import ROOT, shared_path
from tests.localserver import Fault, LocalServer


def test_user_agent_names_the_project():
    assert USER_AGENT.startswith(f"takedowns/{__version__} ") and PROJECT_URL in USER_AGENT


# --------------------------------------------------------------------------
# A credential passed to the session is sent, and never kept anywhere
# --------------------------------------------------------------------------


def every_stored_value(db_path: Path) -> str:
    """Every row of every table, as text (read through the relation API: no SQL built from names)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return "\n".join(repr(row) for table in tables for row in con.table(table).fetchall())
    finally:
        con.close()


def test_extra_headers_are_sent_but_never_recorded(db_path, monkeypatch, caplog):
    secret = "s3cr3t-" + secrets.token_hex(16)

    class TokenSession(HttpSession):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, headers={"Authorization": f"token {secret}"}, **kwargs)

    monkeypatch.setattr(pipeline, "HttpSession", TokenSession)
    caplog.set_level(logging.DEBUG)  # urllib3 and requests log their requests at DEBUG
    with LocalServer(shared_path("mirror", "latest")) as server:
        # Faults, so that error messages (stored in runs and warnings) are written too:
        # Google retried after two 503s, TikTok's report page missing, Wikimedia failing for good.
        server.add_fault(mirror_relpath(google.URL), *[Fault("status", 503, headers={"Retry-After": "0"})] * 2)
        server.add_fault(mirror_relpath(wikimedia.PAGE_URL), *[Fault("status", 503, headers={"Retry-After": "0"})] * 5)
        res = CliRunner().invoke(
            main, ["refresh", "google", "tiktok", "github-takedowns", "wikimedia", "--db", str(db_path),
                   "--mirror-url", server.base, "--host-delay", "0"],
        )  # fmt: skip
        sent = [headers for _, headers in server.requests]
    assert res.exit_code == 1, res.output  # wikimedia failed, as scripted
    assert "falling back to the known address" in res.output.replace("\n", " ")
    assert "HTTP 503" in res.output.replace("\n", " ")
    # Sent with every request, beside a User-Agent naming the project...
    assert sent and all(h.get("Authorization") == f"token {secret}" for h in sent)
    assert all(h.get("User-Agent") == USER_AGENT for h in sent)
    # ...and nowhere afterwards: not in any table, the database file, the archive, the output or the logs.
    stored = every_stored_value(db_path)
    assert "HTTP 503" in stored and tiktok.REPORT_PAGE in stored  # the error messages are in there
    places = {
        "a table": stored,
        "the database file": db_path.read_bytes().decode("latin-1"),
        "the command's output": res.output,
        "the logs": caplog.text,
    }
    for path in pipeline.archive_for(db_path).root.rglob("*"):
        if path.is_file():
            places[f"archived {path.name}"] = path.read_bytes().decode("latin-1")
    assert len(places) > 5
    for where, text in places.items():
        assert secret not in text, f"the credential leaked into {where}"


# --------------------------------------------------------------------------
# The archive names files by hash only
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "/etc/passwd", "a" * 63, "a" * 65, "A" * 64, "g" * 64, "../" + "a" * 61,
     "a" * 62 + "/a", "", "a" * 63 + "\n", "aa" + "/" * 62, "google-government-removals.zip"],
)  # fmt: skip
def test_archive_refuses_anything_but_a_sha256(tmp_path, name):
    with pytest.raises(ArchiveError, match="not a sha256"):
        Archive(tmp_path).path_for(name)


def test_archive_paths_are_derived_from_the_hash_only(google_latest_template):
    archive = pipeline.archive_for(google_latest_template)
    sha = "0123456789abcdef" * 4
    assert archive.path_for(sha) == archive.root / "01" / sha
    con = duckdb.connect(str(google_latest_template), read_only=True)
    rows = con.execute("SELECT sha256, archive_path, url, members FROM documents").fetchall()
    con.close()
    assert rows
    for sha, path, url, members in rows:
        assert path == str(archive.root / sha[:2] / sha)
        rel = Path(path).relative_to(archive.root).parts
        # No part of the URL or of a zip member's name is in the path.
        for label in [url.rsplit("/", 1)[-1], *(m.rsplit("/", 1)[-1] for m in members or [] if m.rsplit("/", 1)[-1])]:
            assert not any(label in part for part in rel)
    for path in archive.root.rglob("*"):
        assert re.fullmatch(r"[0-9a-f]{2}" if path.is_dir() else r"[0-9a-f]{64}", path.name), path


# --------------------------------------------------------------------------
# The dashboard listens on 127.0.0.1 only, unless told otherwise
# --------------------------------------------------------------------------


def test_dashboard_binds_localhost_by_default(tmp_path, monkeypatch):
    res = CliRunner().invoke(main, ["dashboard", "--help"])
    assert res.exit_code == 0 and "127.0.0.1" in res.output
    launched = []
    monkeypatch.setattr(os, "execve", lambda path, cmd, env: launched.append(cmd))  # the CLI execs Streamlit
    monkeypatch.setattr(os, "chdir", lambda path: None)
    db = tmp_path / "takedowns.duckdb"
    db.touch()
    res = CliRunner().invoke(main, ["dashboard", "--db", str(db)])
    assert res.exit_code == 0, res.output
    (cmd,) = launched
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    assert "0.0.0.0" not in " ".join(cmd)


# --------------------------------------------------------------------------
# House rule: no SQL built with f-strings, .format() or string operators
# --------------------------------------------------------------------------

SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|FROM|WHERE|JOIN)\b")


def _literal_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return None


def sql_built_from_strings(source: str) -> list[tuple[int, str]]:
    """(line, code) of every SQL-looking string that is formatted with values."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            formatted = any(isinstance(v, ast.FormattedValue) for v in node.values)
            if formatted and SQL_WORDS.search(_literal_text(node) or ""):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            if SQL_WORDS.search(_literal_text(node.func.value) or ""):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
            sides = (node.left, node.right)
            if any(SQL_WORDS.search(_literal_text(s) or "") for s in sides) and not all(
                isinstance(s, ast.Constant) for s in sides
            ):
                found.append((node.lineno, ast.unparse(node)))
    return found


def test_the_check_finds_formatted_sql():
    bad = '''
con.execute(f"SELECT * FROM t WHERE c = '{value}'")
con.execute("SELECT * FROM t WHERE c = '{}'".format(value))
con.execute("DELETE FROM t WHERE c = '%s'" % value)
con.execute("SELECT * FROM " + table)
'''
    good = '''
con.execute("SELECT * FROM t WHERE c = ?", [value])
raise ParseError(f"{where}: value from {name!r} is not a number")
label = "FROM" + "M"
'''
    assert [line for line, _ in sql_built_from_strings(bad)] == [2, 3, 4, 5]
    assert sql_built_from_strings(good) == []


def test_no_sql_is_built_with_string_formatting():
    files = sorted({*ROOT.joinpath("dashboard").rglob("*.py"), *ROOT.joinpath("scrapers").rglob("*.py")})
    assert len(files) > 20
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {code[:120]}"
        for path in files
        for line, code in sql_built_from_strings(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "SQL built from strings (use ? parameters):\n" + "\n".join(offenders)
