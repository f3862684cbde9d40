"""The web app in headless Chromium: chat, item cards, a thumbs down honoured next turn, feedback in SQLite,
the Logs tab behind its sign-in, and the per-conversation opt-out."""

import sqlite3
from pathlib import Path

import pytest
from served_app import CHROMIUM, CHROMIUM_ARGS, count, serve_app, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ADMIN_USER, ADMIN_PASSWORD = "admin", "correct horse battery"


@pytest.fixture
def app_url(tmp_path):
    with serve_app(tmp_path, env={"RECSYS_ADMIN_USER": ADMIN_USER, "RECSYS_ADMIN_PASSWORD": ADMIN_PASSWORD}) as served:
        yield served


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is installed by `make test-deps`")
def test_chat_cards_and_thumbs_down_in_a_real_browser(app_url):
    from playwright.sync_api import sync_playwright

    url, db = app_url

    def send(page, text: str, turns_before: int) -> list[str]:
        page.fill("#message textarea", text)
        page.click("#send")
        wait_until(lambda: count(db, "turns") == turns_before + 1, 180, f"turn {turns_before + 1} to be logged")
        page.wait_for_timeout(1500)  # let the last streamed update reach the page
        return page.eval_on_selector_all(".card", "cards => cards.map(c => c.dataset.itemId)")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})  # phone-sized
        page.goto(url)
        page.wait_for_selector("#message textarea", timeout=60_000)

        first = send(page, "I loved Alien and The Thing, a horror film but nothing gory", 0)
        assert len(first) == 3
        assert "Alien" in page.inner_text("#chat")
        second = send(page, "something older", 1)
        assert len(second) == 3 and not set(first) & set(second)

        rejected = second[1]
        page.click("#dislike-1")
        wait_until(lambda: count(db, "feedback") == 1, 30, "the feedback row")
        third = send(page, "something else", 2)
        assert third and rejected not in third
        assert "Traceback" not in page.content()
        with sqlite3.connect(db) as connection:
            rows = connection.execute("select item_id, kind from feedback").fetchall()
        assert rows == [(rejected, "dislike")]

        # The Logs tab shows stats only after a correct sign-in.
        page.get_by_role("tab", name="Logs").click()
        page.fill("#admin-user input, #admin-user textarea", ADMIN_USER)
        page.fill("#admin-password input", "wrong")
        page.click("#admin-sign-in")
        page.wait_for_selector("text=Wrong user or password.", timeout=30_000)
        assert not page.is_visible("#log-stats")
        page.fill("#admin-password input", ADMIN_PASSWORD)
        page.click("#admin-sign-in")
        page.wait_for_selector("#log-stats table", timeout=30_000)
        cells = page.eval_on_selector_all("#log-stats td", "cells => cells.map(c => c.innerText.trim())")
        assert cells[:2] == ["1", "3"], cells  # one session, three turns
        page.click("#prepare-export")
        page.wait_for_selector("#export-file a", timeout=30_000)
        assert "conversations-sft" in page.inner_text("#export-file")

        # Opting out forgets this conversation's logged turns, and the choice holds for the next conversation.
        page.get_by_role("tab", name="Chat").click()
        page.check("#dont-log input")
        wait_until(
            lambda: count(db, "turns") == 0 and count(db, "feedback") == 0,
            30,
            "the opted-out conversation to be deleted",
        )
        page.click("#new-conversation")
        page.wait_for_function("() => document.querySelectorAll('.card').length === 0", timeout=30_000)
        page.fill("#message textarea", "I loved Alien and The Thing, a horror film but nothing gory")
        page.click("#send")
        page.wait_for_function("() => document.querySelectorAll('.card').length === 3", timeout=180_000)
        page.wait_for_timeout(2000)  # a logged turn is committed before its last update reaches the page
        assert count(db, "turns") == 0 and count(db, "sessions") == 0
        browser.close()
