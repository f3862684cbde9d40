"""The web app as a person meets it, for the browser tests: `python app.py` in its own process, and headless Chromium."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

from conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def count(db: Path, table: str) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as connection:
        try:
            return connection.execute(f"select count(*) from {table}").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def wait_until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.contextmanager
def serve_app(folder: Path, *flags: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, Path]]:
    """`python app.py` on a free port, logging to `folder/logs.db`, its index in `folder/index`: (url, db).

    Its output goes to `folder/app.log` (a pipe nobody reads would fill up and stall the app).
    """
    port, db, output = free_port(), folder / "logs.db", folder / "app.log"
    with output.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port), "--log-db", f"sqlite:///{db}", "--index", str(folder / "index"),
             *flags],
            cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})},
            stdout=sink, stderr=subprocess.STDOUT,
        )
    try:
        def serving() -> bool:
            assert process.poll() is None, output.read_text()
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0
        wait_until(serving, 300, "the app to serve")
        yield f"http://127.0.0.1:{port}/", db
    finally:
        process.terminate()
        process.wait(timeout=30)
