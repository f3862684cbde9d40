"""The web app as a person meets it, for the browser tests: `python app.py` in its own process, headless Chromium,
and the steps a person takes in its chat (send a message, read the chat as screen readers do), checked in the log."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TURN_TIMEOUT_S = 180
BROWSER_TEST = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is installed by `make test-deps`"),
]
MESSAGES = '#chat [aria-label*="\'s message: "]'


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
            [
                sys.executable,
                "app.py",
                "--port",
                str(port),
                "--log-db",
                f"sqlite:///{db}",
                "--index",
                str(folder / "index"),
                *flags,
            ],
            cwd=ROOT,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})},
            stdout=sink,
            stderr=subprocess.STDOUT,
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


@contextlib.contextmanager
def chromium():
    """Headless Debian Chromium through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def chat_page(browser, url: str):
    """A page of the app in a browser context of its own (its own conversation); never showing a traceback."""
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#message textarea", timeout=60_000)
    yield page
    assert "Traceback" not in page.content()
    context.close()


def logged_turns(db: Path) -> list[dict]:
    """Every logged turn, oldest first; `state` and `shown` parsed."""
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute("select session_id, kind, user_text, reply, state, shown from turns order by id")
        return [{**dict(row), "state": json.loads(row["state"]), "shown": json.loads(row["shown"])} for row in rows]


def on_screen(page) -> list[str]:
    """The chat's messages as screen readers get them: "user's message: ..." and "bot's message: ..."."""
    return page.eval_on_selector_all(MESSAGES, "messages => messages.map(m => m.getAttribute('aria-label'))")


def send(page, text: str) -> None:
    page.fill("#message textarea", text)
    page.click("#send")


def send_and_wait(page, db: Path, text: str) -> dict:
    """Sends a message, waits until its turn is logged and its last update has reached the page; the logged turn."""
    before = count(db, "turns")
    send(page, text)
    wait_until(lambda: count(db, "turns") == before + 1, TURN_TIMEOUT_S, f"the turn for {text!r} to be logged")
    page.wait_for_function("() => document.querySelectorAll('.card').length > 0", timeout=30_000)
    page.wait_for_timeout(1500)  # a turn is logged before its last update is sent
    return logged_turns(db)[-1]
