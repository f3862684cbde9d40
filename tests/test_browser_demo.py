"""The demo as a newcomer meets it in headless Chromium: a welcome with examples from the catalogue, cards only once
there are picks, cards that show the feedback given, a word when a named title is not in the catalogue, retry and edit
of the last message, "under the hood" only when enabled, and the phone layout.

One app (`--llm none`, so turns take a moment; with an admin login) serves every test here, each test in its own
browser context.
"""

import json
import sqlite3
from pathlib import Path

import pytest
from served_app import (
    BROWSER_TEST,
    TURN_TIMEOUT_S,
    chat_page,
    count,
    logged_turns,
    on_screen,
    send_and_wait,
    serve_app,
    wait_until,
)

pytestmark = BROWSER_TEST
ADMIN_USER, ADMIN_PASSWORD = "admin", "correct horse battery"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    admin = {"RECSYS_ADMIN_USER": ADMIN_USER, "RECSYS_ADMIN_PASSWORD": ADMIN_PASSWORD}
    with serve_app(tmp_path_factory.mktemp("app"), "--llm", "none", env=admin) as served:
        yield served


@pytest.fixture
def db(app) -> Path:
    return app[1]


def test_the_first_screen_welcomes_with_catalogue_examples_and_no_empty_cards(page, db):
    welcome = page.inner_text("#chat")
    assert "catalogue of 570 from 1931 to 2023" in welcome
    examples = page.eval_on_selector_all("#examples button", "buttons => buttons.map(b => b.innerText.trim())")
    assert examples and all(example in welcome for example in examples), (examples, welcome)
    assert examples[0].startswith("I loved ")  # two of the catalogue's best-known titles
    assert not page.is_visible("#cards") and page.locator(".card").count() == 0

    send_and_wait(page, db, examples[0])
    assert page.is_visible("#cards") and page.locator(".card").count() == 3
    assert "catalogue of 570" not in page.inner_text("#chat")
    assert on_screen(page)[0] == f"user's message: {examples[0]}"

    page.click("#new-conversation")
    page.wait_for_function("document.querySelector('#chat').innerText.includes('catalogue of 570')", timeout=30_000)
    page.wait_for_selector("#cards", state="hidden", timeout=30_000)


def card_ids(page) -> list[str]:
    return page.eval_on_selector_all(".card", "cards => cards.filter(c => c.offsetParent).map(c => c.dataset.itemId)")


def test_cards_show_likes_and_dislikes_and_one_set_aside_leaves(page, db):
    send_and_wait(page, db, "I loved Alien and The Thing, something scary")
    first, second, third = card_ids(page)
    page.click("#like-0")
    page.wait_for_selector("#card-0 .card[data-feedback='like']", timeout=10_000)
    page.click("#dislike-1")
    page.wait_for_selector("#card-1 .card[data-feedback='dislike']", timeout=10_000)
    assert "You liked this" in page.inner_text("#card-0") and "Not for you" in page.inner_text("#card-1")
    page.click("#skip-2")
    page.wait_for_function("() => !document.querySelector('#card-2 .card')?.offsetParent", timeout=10_000)
    assert card_ids(page) == [first, second] and not page.is_visible("#skip-2")
    turn = send_and_wait(page, db, "more like those")
    assert not {second, third} & {item["id"] for item in turn["shown"]}
    assert first in turn["state"]["liked"] and {second, third} <= set(turn["state"]["disliked"])


def test_a_set_aside_card_offers_another_pick_in_its_place(page, db):
    turn = send_and_wait(page, db, "a horror film from the 70s")
    first, second, third = card_ids(page)
    assert not page.is_visible("#another-1")
    page.click("#skip-1")
    page.wait_for_selector("#another-1", state="visible", timeout=10_000)
    page.click("#another-1")
    page.wait_for_function("() => document.querySelector('#card-1 .card')?.offsetParent", timeout=10_000)
    ids = card_ids(page)
    assert ids[0] == first and ids[2] == third and ids[1] not in (first, second, third), ids
    assert page.is_visible("#like-1") and not page.is_visible("#another-1")
    assert page.locator("#card-1 img.thumb").count() == 1 and page.inner_text("#card-1 .why").strip()
    logged = logged_turns(db)[-1]["shown"]
    assert [entry["id"] for entry in logged] == [first, second, third, ids[1]] and logged[-1]["replaces"] == second
    page.click("#like-1")  # the new card takes feedback like the others
    page.wait_for_selector("#card-1 .card[data-feedback='like']", timeout=10_000)
    later = send_and_wait(page, db, "more like that")
    assert ids[1] in later["state"]["liked"] and second in later["state"]["disliked"]
    assert not {first, second, third, ids[1]} & {item["id"] for item in later["shown"]}
    assert turn["shown"] and not page.is_visible("#another-1")  # a new reply's cards offer no refill


def test_a_title_not_in_the_catalogue_is_said_before_the_picks(page, db):
    turn = send_and_wait(page, db, "recommend Zorblax Returns (2031)")
    reply = on_screen(page)[1].removeprefix("bot's message: ")
    assert reply.startswith("Zorblax Returns (2031) is not in the catalogue"), reply
    assert len(turn["shown"]) == 3 and page.locator(".card").count() == 3


def retried_marks(db: Path) -> list[tuple[str, int, bool]]:
    """(user text, turn index, retried) of every logged turn, oldest first."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute("select user_text, turn_index, retried from turns order by id").fetchall()
    return [(text, index, bool(retried)) for text, index, retried in rows]


def wait_for_new_turn(page, db: Path, before: int) -> dict:
    wait_until(lambda: count(db, "turns") == before + 1, TURN_TIMEOUT_S, "the replacing turn to be logged")
    page.wait_for_timeout(1500)  # a turn is logged before its last update is sent
    return logged_turns(db)[-1]


def test_retry_and_edit_replace_the_last_turn_in_the_chat_the_state_and_the_log(page, db):
    send_and_wait(page, db, "a comedy from the 90s")
    second = send_and_wait(page, db, "something with a road trip")
    before, marks = count(db, "turns"), len(retried_marks(db))

    page.click("#chat button[aria-label='Retry']")
    retried = wait_for_new_turn(page, db, before)
    assert retried["user_text"] == second["user_text"] and retried["state"] == second["state"]  # as if asked once
    assert [m.split(": ", 1)[0] for m in on_screen(page)] == ["user's message", "bot's message"] * 2
    assert retried_marks(db)[marks - 1 :] == [
        ("something with a road trip", 2, True),
        ("something with a road trip", 2, False),
    ]

    page.locator("#chat button[aria-label='Edit']").last.click()
    page.locator("#chat textarea").last.fill("a western instead")
    page.click("#chat button[aria-label='Submit']")
    edited = wait_for_new_turn(page, db, before + 1)
    assert edited["user_text"] == "a western instead" and "genres=western" in edited["state"]["conditions"]
    assert not any("road trip" in said for said in edited["state"]["preferences"])  # the edited-away message is gone
    assert on_screen(page)[2] == "user's message: a western instead" and len(on_screen(page)) == 4
    assert retried_marks(db)[-2:] == [("something with a road trip", 2, True), ("a western instead", 2, False)]
    assert {item["id"] for item in edited["shown"]} == set(
        page.eval_on_selector_all(".card", "c => c.map(x => x.dataset.itemId)")
    )


def test_under_the_hood_is_for_a_signed_in_admin_and_reads_as_a_table(page, db):
    send_and_wait(page, db, "a horror film from the 80s")
    assert not page.is_visible("#under-the-hood") and "Search call" not in page.content()

    page.get_by_role("tab", name="Logs").click()
    page.fill("#admin-user input, #admin-user textarea", ADMIN_USER)
    page.fill("#admin-password input", ADMIN_PASSWORD)
    page.click("#admin-sign-in")
    page.wait_for_selector("#log-stats table", timeout=30_000)
    page.get_by_role("tab", name="Chat").click()
    page.wait_for_selector("#under-the-hood", timeout=10_000)
    turn = send_and_wait(page, db, "something older")
    page.click("#under-the-hood button")  # open the accordion
    page.wait_for_selector("#hood table", timeout=10_000)
    report = page.inner_text("#hood")
    assert "Search call" in report and "search_items(query=" in report and "Timings" in report
    headers = page.eval_on_selector_all("#hood th", "cells => cells.map(c => c.innerText.trim())")
    assert headers[:3] == ["#", "title", "score"] and "text match" in headers
    first_row = page.eval_on_selector_all(
        "#hood tbody tr:first-child td", "cells => cells.map(c => c.innerText.trim())"
    )
    assert first_row[1] == f"{turn['shown'][0]['title']} ({turn['shown'][0]['year']}) (shown)"


def test_on_a_phone_the_cards_sit_between_the_conversation_and_the_message_box(app, browser):
    url, db = app
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#message textarea", timeout=60_000)
    send_and_wait(page, db, "a comedy from the 90s")
    chat, cards, box, examples = (
        page.locator(part).bounding_box() for part in ("#chat", "#cards", "#message", "#examples")
    )
    assert chat["y"] + chat["height"] <= cards["y"] + 1, (chat, cards)
    assert cards["y"] + cards["height"] <= box["y"] + 1 and box["y"] < examples["y"], (cards, box, examples)
    assert (
        cards["width"] >= chat["width"] - 2 and page.evaluate("document.documentElement.scrollWidth") <= 390
    )  # no sideways scroll
    context.close()


def card_pictures(page) -> list[dict]:
    """Each visible card's picture: where it came from and whether the browser drew it."""
    return page.eval_on_selector_all(
        ".card",
        """cards => cards.filter(c => c.offsetParent).map(c => {
        const img = c.querySelector('img.thumb');
        return {id: c.dataset.itemId, src: img.currentSrc || img.src, drawn: img.complete && img.naturalWidth > 0};
    })""",
    )


def test_without_an_image_column_each_card_shows_a_drawn_placeholder(page, db):
    send_and_wait(page, db, "a thriller")
    pictures = card_pictures(page)
    assert len(pictures) == 3 and all(p["src"].startswith("data:image/svg+xml") and p["drawn"] for p in pictures), (
        pictures
    )


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5f0a8bd0000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def pictured_app(tmp_path_factory):
    """The app on a three-item catalogue with a poster column: a local file, an unreachable URL, a path outside."""
    folder = tmp_path_factory.mktemp("pictured")
    (folder / "posters").mkdir()
    (folder / "posters" / "local.png").write_bytes(PNG)
    (folder.parent / "outside.png").write_bytes(PNG)
    rows = [
        {"id": "local", "title": "Local Poster Film", "genres": ["drama"], "poster": "posters/local.png"},
        {
            "id": "remote",
            "title": "Remote Poster Film",
            "genres": ["drama"],
            "poster": "https://unreachable.invalid/a.png",
        },
        {"id": "outside", "title": "Outside Poster Film", "genres": ["drama"], "poster": "../outside.png"},
    ]
    catalog = folder / "films.jsonl"
    catalog.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with serve_app(folder, "--llm", "none", "--catalog", str(catalog)) as served:
        yield served, catalog


def test_a_poster_column_shows_local_and_remote_pictures_and_never_a_broken_one(pictured_app, browser):
    (url, db), catalog = pictured_app
    with chat_page(browser, url) as page:
        send_and_wait(page, db, "a drama film")
        page.wait_for_timeout(1500)  # the unreachable picture fails, and falls back
        pictures = {p["id"]: p for p in card_pictures(page)}
        assert set(pictures) == {"local", "remote", "outside"} and all(p["drawn"] for p in pictures.values()), pictures
        assert "/gradio_api/file=" in pictures["local"]["src"] and pictures["local"]["src"].endswith("local.png")
        assert pictures["remote"]["src"].startswith("data:image/svg+xml")  # its URL failed: the placeholder instead
        assert pictures["outside"]["src"].startswith("data:image/svg+xml")  # never served from outside the folder
        remote = page.locator(".card[data-item-id='remote'] img")
        assert remote.get_attribute("referrerpolicy") == "no-referrer" and remote.get_attribute("loading") == "lazy"
        for path in (catalog, catalog.parent.parent / "outside.png"):  # only the named pictures are served
            assert page.request.get(f"{url}gradio_api/file={path}").status in (403, 404)
        assert page.request.get(pictures["local"]["src"]).status == 200
