"""Starting the dashboard's server: the one command line, used by `takedowns dashboard`, tests and benchmarks.

`python -m dashboard.serve run APP [streamlit options]` imports what every
page needs (Plotly, pandas, pyarrow, DuckDB, the territory names, the
dashboard's chart and table code) and builds one throwaway figure of each kind
before the server listens, so the first visitor does not wait for seconds of
imports. It then hands over to Streamlit's own command line, in the same process.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"


def command(db_path: str | Path | None, port: int, host: str = "127.0.0.1",
            app: Path = APP) -> tuple[list[str], dict[str, str], Path]:  # fmt: skip
    """(argv, environment, working directory) that serve the dashboard (or another app) on host:port for one database."""
    argv = [
        sys.executable, "-m", "dashboard.serve", "run", str(app),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.enableStaticServing", "true",
        "--global.developmentMode", "false",
        # Nobody edits the app while it serves; watching its files costs CPU on every run.
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    root = str(APP.parent.parent)
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}
    if db_path is not None:
        env["TAKEDOWNS_DB"] = str(Path(db_path).resolve())
    return argv, env, app.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(db_path: str | Path | None, port: int | None = None, timeout: float = 90, app: Path = APP) -> Iterator[str]:
    """A dashboard server on 127.0.0.1 for `db_path`, healthy on entry, stopped on exit; yields its URL."""
    port = port or free_port()
    argv, env, cwd = command(db_path, port, app=app)
    log = tempfile.TemporaryFile()  # not a pipe: nobody reads it while serving, and a full pipe blocks the server
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    except BaseException:
        log.close()
        raise
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    proc.wait()
                    log.seek(0)
                    raise RuntimeError("the dashboard did not start: " + log.read().decode(errors="replace")[-2000:]) from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def warm() -> None:
    """Import and exercise once what the first page run would otherwise load on demand.

    Only modules that do not touch Streamlit's runtime (it does not exist yet):
    the cached queries are imported by the first run, which is cheap.
    """
    import io

    import duckdb  # noqa: F401
    import pandas as pd
    import plotly.graph_objects as go
    import plotly.io as pio
    import pyarrow  # noqa: F401
    from plotly.subplots import make_subplots

    from dashboard import charts, tables  # noqa: F401
    from scrapers.normalize import country_label

    country_label("VN")  # loads the territory names
    fig = make_subplots(rows=2, cols=1)
    fig.add_trace(go.Scatter(x=[1], y=[1], hovertext=["a"]), row=1, col=1)
    fig.add_trace(go.Bar(x=[1], y=[1], orientation="h"), row=2, col=1)
    fig.add_trace(go.Choropleth(locations=["VNM"], z=[1], locationmode="ISO-3"))
    fig.update_geos(projection_type="natural earth")
    pio.to_json(fig.to_dict(), validate=False)
    pd.DataFrame({"a": [1]}).to_parquet(io.BytesIO())


def main() -> None:
    warm()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
