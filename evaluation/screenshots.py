"""README screenshots: the app as a person sees it on a desktop and a phone, and its Logs tab, taken with Playwright.

    python -m evaluation.screenshots --out docs/screenshots                 # the real model (as `make demo` serves it)
    python -m evaluation.screenshots --out docs/screenshots --llm none      # rules and templates only: quicker

Starts `python app.py` on a free port (the app's own index folder, a throwaway log store, an admin login made up for
the run), sends the same message on a desktop (1280x900, then likes the first pick) and a phone (390x844) page, and
writes `desktop.png`, `phone.png` (the phone page from its top to the cards and the message box) and `logs.png` (the
Logs tab, signed in, after one more turn). Needs the test tools (`make test-deps`: Playwright and Debian's chromium).
"""

from __future__ import annotations

import argparse
import secrets
import socket
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from evaluation.app_process import ROOT, free_port, launch_app, stopped_reason

MESSAGE = "I loved Alien and The Thing, something scary but not gory"
FOLLOW_UP = "something older"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
START_TIMEOUT_S = 600
TURN_TIMEOUT_S = 300


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="folder for the PNG files")
    parser.add_argument(
        "--llm",
        choices=("local", "none"),
        default="local",
        help="the app's LLM: 'local' (the real model) or 'none' (rules and templates)",
    )
    parser.add_argument("--message", default=MESSAGE, help="what the person says in the screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium executable Playwright drives")
    return parser.parse_args(argv)


def _turns(db: Path) -> int:
    try:
        with sqlite3.connect(db) as connection:
            return connection.execute("select count(*) from turns").fetchone()[0]
    except sqlite3.OperationalError:  # not made yet
        return 0


def _wait(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.5)


def _chat(page, url: str, db: Path, message: str) -> None:
    """Opens the app and has one turn in it; returns once the reply and its cards are on the page."""
    page.goto(url)
    page.wait_for_selector("#message textarea", timeout=120_000)
    before = _turns(db)
    page.fill("#message textarea", message)
    page.click("#send")
    _wait(lambda: _turns(db) > before, TURN_TIMEOUT_S, "the reply")
    page.wait_for_selector(".card", timeout=60_000)
    page.wait_for_timeout(2000)  # a turn is logged before its last update reaches the page


def take(args: argparse.Namespace) -> list[Path]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise SystemExit("error: Playwright is a test tool: `make test-deps` installs it") from error
    args.out.mkdir(parents=True, exist_ok=True)
    port, password = free_port(), secrets.token_urlsafe(12)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as scratch:
        db, log_path = Path(scratch) / "logs.db", Path(scratch) / "app.log"
        env = {"HF_HUB_OFFLINE": "1", "RECSYS_ADMIN_USER": "admin", "RECSYS_ADMIN_PASSWORD": password}
        app = launch_app(port, db, ["--llm", args.llm], log_path, env)
        try:

            def serving() -> bool:
                if (reason := stopped_reason(app, log_path)) is not None:
                    raise SystemExit(f"error: {reason}")
                with socket.socket() as s:
                    return s.connect_ex(("127.0.0.1", port)) == 0

            _wait(serving, START_TIMEOUT_S, "the app to serve")
            url = f"http://127.0.0.1:{port}/"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"]
                )
                desktop = browser.new_page(viewport=DESKTOP)
                _chat(desktop, url, db, args.message)
                desktop.click("#like-0")  # the card shows the like
                desktop.wait_for_selector("#card-0 .card[data-feedback='like']", timeout=30_000)
                desktop.wait_for_timeout(4000)  # the notice about the like fades
                desktop.screenshot(path=args.out / "desktop.png")

                phone = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
                _chat(phone, url, db, args.message)
                bottom = phone.eval_on_selector_all(
                    ".card, #send",
                    "parts => Math.max(...parts.map(p => p.getBoundingClientRect().bottom + window.scrollY))",
                )
                phone.screenshot(
                    path=args.out / "phone.png",
                    full_page=True,
                    clip={"x": 0, "y": 0, "width": PHONE["width"], "height": bottom + 60},
                )

                _chat(desktop, url, db, FOLLOW_UP)  # a second turn, so the Logs tab has more to show
                desktop.get_by_role("tab", name="Logs").click()
                desktop.fill("#admin-user input, #admin-user textarea", "admin")
                desktop.fill("#admin-password input", password)
                desktop.click("#admin-sign-in")
                desktop.wait_for_selector("#log-stats table", timeout=60_000)
                desktop.wait_for_timeout(3000)  # the charts draw after the table
                desktop.screenshot(path=args.out / "logs.png", full_page=True)
                browser.close()
        finally:
            app.terminate()
            app.wait(timeout=60)
    return [args.out / name for name in ("desktop.png", "phone.png", "logs.png")]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for path in take(args):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
