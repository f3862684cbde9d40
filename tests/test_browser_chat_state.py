"""The chat in headless Chromium keeps what its screen shows: clearing it or starting over starts a new engine and log
session, even while a reply streams; text typed, or a second message sent, while a reply streams is never lost; the
copy button and screen readers get a message as it was written; the cards come with the reply's first line and
say "writing…" until their reason comes; Stop ends a reply and undoes its turn.

One app process serves every test here, each test in its own browser context (its own conversation). It is the
default app, LLM on: on a CPU a reply takes seconds, the window in which these tests act. Each test that acts while a
reply streams checks afterwards that the turn was not logged yet when it acted, so a reply too quick to act in fails
the test rather than passing it without testing anything.
"""

from pathlib import Path

import pytest
from served_app import (
    BROWSER_TEST,
    MESSAGES,
    TURN_TIMEOUT_S,
    count,
    logged_turns,
    on_screen,
    send,
    send_and_wait,
    serve_app,
    wait_until,
)

pytestmark = BROWSER_TEST
COMEDY = "A 90s comedy (1990-1999), nothing with zombies; something funny."
HORROR = "a horror film"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with serve_app(tmp_path_factory.mktemp("app")) as served:
        yield served


@pytest.fixture
def db(app) -> Path:
    return app[1]


def send_and_act_while_it_streams(page, db: Path, text: str, act) -> None:
    """Sends a message and, once it shows in the chat, does `act(page)`; fails unless the reply was still being written
    then. Returns once the turn is logged and its reply would have reached the page."""
    before = count(db, "turns")
    send(page, text)
    page.wait_for_selector(f'{MESSAGES}[aria-label^="user\'s message"]', timeout=30_000)
    act(page)
    assert count(db, "turns") == before, "the reply was finished before the test could act: it tests nothing"
    wait_until(lambda: count(db, "turns") == before + 1, TURN_TIMEOUT_S, f"the turn for {text!r} to be logged")
    page.wait_for_timeout(2500)  # time for its last updates to reach the page, were they sent


def assert_fresh_conversation(turn: dict, earlier: dict) -> None:
    """`turn` was logged in a new log session and its engine state knows nothing of `earlier`'s."""
    state = turn["state"]
    assert turn["session_id"] != earlier["session_id"]
    assert "genres=comedy" not in state["conditions"] and not state["avoid_terms"]
    assert not any(condition.startswith("year=") for condition in state["conditions"])
    assert "comedy" not in turn["reply"] and "zombie" not in turn["reply"]


def test_the_chatbots_clear_button_starts_a_new_engine_and_log_session(page, db):
    first = send_and_wait(page, db, COMEDY)
    page.click("#chat button[aria-label='Clear']")
    page.wait_for_timeout(1500)
    assert on_screen(page) == []
    cards_left = page.locator(".card").count()
    assert_fresh_conversation(send_and_wait(page, db, HORROR), first)
    assert cards_left == 0


def test_new_conversation_clicked_while_a_reply_streams_stays_new(page, db):
    before = count(db, "turns")

    def start_over_and_ask_again(page):
        page.click("#new-conversation")
        page.wait_for_timeout(500)
        send(page, HORROR)  # the abandoned reply is still being written

    send_and_act_while_it_streams(page, db, COMEDY, start_over_and_ask_again)
    wait_until(lambda: count(db, "turns") == before + 2, TURN_TIMEOUT_S, "the new conversation's first turn")
    page.wait_for_timeout(2500)
    assert on_screen(page)[0] == f"user's message: {HORROR}" and len(on_screen(page)) == 2
    new = next(turn for turn in logged_turns(db)[-2:] if turn["user_text"] == HORROR)
    abandoned = next(turn for turn in logged_turns(db)[-2:] if turn != new)
    assert "genres=comedy" in abandoned["state"]["conditions"]  # the abandoned turn ran to its end, logged
    assert_fresh_conversation(new, abandoned)


def test_text_typed_while_a_reply_streams_is_kept(page, db):
    typed = "and not too long"
    send_and_act_while_it_streams(page, db, COMEDY, lambda p: p.locator("#message textarea").press_sequentially(typed))
    assert page.input_value("#message textarea") == typed
    assert len(on_screen(page)) == 2


def test_a_message_sent_while_a_reply_streams_is_refused_visibly_and_kept(page, db):
    second = "something older"

    def send_second(page):
        send(page, second)
        page.wait_for_selector("[data-testid='toast-text']", timeout=10_000)

    send_and_act_while_it_streams(page, db, COMEDY, send_second)
    assert page.input_value("#message textarea") == second
    assert [turn["user_text"] for turn in logged_turns(db)].count(second) == 0
    assert on_screen(page)[0] == f"user's message: {COMEDY}" and len(on_screen(page)) == 2

    page.click("#send")  # once the reply is done, the kept message goes through
    wait_until(lambda: logged_turns(db)[-1]["user_text"] == second, TURN_TIMEOUT_S, "the second message's turn")
    page.wait_for_timeout(1500)
    assert f"user's message: {second}" in on_screen(page)


def test_copy_and_screen_readers_get_messages_as_written(page, db):
    send_and_wait(page, db, COMEDY)
    user, bot = on_screen(page)
    assert user == f"user's message: {COMEDY}"
    assert any(mark in bot for mark in "().:,-") and "\\" not in bot  # punctuation a Markdown escape would have marked

    copies = []
    for button in page.locator("#chat button[aria-label='Copy message']").all():
        button.click()
        copies.append(page.evaluate("navigator.clipboard.readText()"))
    assert copies[0] == COMEDY
    assert copies[1] == bot.removeprefix("bot's message: ") and "\\" not in copies[1]


def test_the_cards_come_with_the_opening_line_and_fill_in_as_each_reason_is_written(page, db):
    before = count(db, "turns")
    send(page, HORROR)
    page.wait_for_function(
        "() => document.querySelector('.card.pending') && "
        "document.querySelector('#chat').innerText.includes('writing…')",
        timeout=TURN_TIMEOUT_S * 1000,
    )
    assert count(db, "turns") == before  # seen while the reply was being written
    page.wait_for_function(
        "() => document.querySelectorAll('.card').length === 3 && !document.querySelector('.card.pending')"
        " && !document.querySelector('#chat').innerText.includes('writing…')",
        timeout=TURN_TIMEOUT_S * 1000,
    )
    assert page.locator("#like-0").is_visible() and all(
        page.inner_text(f"#card-{slot} .why").strip() for slot in range(3)
    )


def test_stop_ends_the_reply_undoes_its_turn_and_logs_nothing(page, db):
    before = count(db, "turns")
    send(page, COMEDY)
    page.wait_for_selector(f'{MESSAGES}[aria-label^="user\'s message"]', timeout=30_000)
    page.click("#stop")
    page.wait_for_function(
        "() => document.querySelector('#chat').innerText.includes('(stopped')", timeout=TURN_TIMEOUT_S * 1000
    )
    page.wait_for_timeout(2500)
    assert count(db, "turns") == before  # stopped before its end: nothing of it logged
    assert len(on_screen(page)) == 2 and page.locator(".card:visible").count() == 0
    turn = send_and_wait(page, db, HORROR)
    conditions = turn["state"]["conditions"]  # the stop undid the comedy and its era
    assert "genres=comedy" not in conditions and not any(condition.startswith("year=") for condition in conditions)
