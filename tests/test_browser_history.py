"""A watch history brought to the chat in headless Chromium: the upload button seeds the conversation, the chat says
what matched and what was not found, the next recommendations leave the history out, and "New conversation" forgets
it; a file that cannot be read is a notice that changes nothing.

The app runs without its LLM (`--llm none`): what is tested is the history, not the reasons. The history is built from
what the same request recommends in a conversation without one, so it holds exactly the films that would come back.
"""

from pathlib import Path

import pytest
from served_app import BROWSER_TEST, count, logged_turns, on_screen, send_and_wait, serve_app, wait_until

pytestmark = BROWSER_TEST
REQUEST = "a horror film"
NOBODY_HAS = "A Film Nobody Has"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with serve_app(tmp_path_factory.mktemp("app"), "--llm", "none") as served:
        yield served


def upload(page, path: Path) -> None:
    with page.expect_file_chooser() as chooser:
        page.click("#history-upload")
    chooser.value.set_files(str(path))


def letterboxd_csv(path: Path, films: list[dict]) -> Path:
    """A Letterboxd ratings export of three `films` (as logged: title, year), the last rated neither up nor down, and
    of one film the catalogue lacks, watched on consecutive days."""
    rated = zip((*films, {"title": NOBODY_HAS, "year": 2031}), ("5", "4.5", "3", "4"), strict=True)
    rows = [
        f'2024-02-{day:02d},"{film["title"]}",{film["year"]},https://boxd.it/{day},{rating}'
        for day, (film, rating) in enumerate(rated, start=1)
    ]
    path.write_text("Date,Name,Year,Letterboxd URI,Rating\n" + "\n".join(rows) + "\n")
    return path


def test_a_brought_history_is_said_back_never_recommended_and_forgotten_by_a_new_conversation(page, app, tmp_path):
    db = app[1]
    unseeded = send_and_wait(page, db, REQUEST)["shown"]
    history = letterboxd_csv(tmp_path / "ratings.csv", unseeded)
    brought = {film["id"] for film in unseeded}
    page.click("#new-conversation")
    page.wait_for_function("() => document.querySelectorAll('.card').length === 0", timeout=30_000)

    before = count(db, "turns")
    upload(page, history)
    wait_until(lambda: count(db, "turns") == before + 1, 60, "the history turn to be logged")
    page.wait_for_function(
        "() => document.querySelectorAll('#chat [aria-label^=\"bot\\'s message\"]').length === 1", timeout=30_000
    )
    said = on_screen(page)
    assert len(said) == 1 and said[0].startswith(
        f"bot's message: Found {len(brought)} of your {len(brought) + 1} titles"
    )
    assert said[0].endswith(f"Not found: {NOBODY_HAS} (2031).")
    assert all(f"{film['title']} ({film['year']})" in said[0] for film in unseeded[:3])
    seeded = logged_turns(db)[-1]
    assert seeded["kind"] == "history" and set(seeded["state"]["watched"]) == brought
    assert seeded["state"]["liked"] == [film["id"] for film in unseeded[:2]]

    turn = send_and_wait(page, db, REQUEST)
    assert turn["session_id"] == seeded["session_id"] and turn["shown"]
    assert not {film["id"] for film in turn["shown"]} & brought
    on_cards = set(page.eval_on_selector_all(".card", "cards => cards.map(c => c.dataset.itemId)"))
    assert on_cards == {film["id"] for film in turn["shown"]}

    page.click("#new-conversation")
    page.wait_for_timeout(1000)
    assert on_screen(page) == []
    fresh = send_and_wait(page, db, REQUEST)
    assert fresh["session_id"] != seeded["session_id"] and fresh["state"]["watched"] == []
    assert fresh["shown"] == unseeded  # the history is gone with its conversation


def test_a_file_that_cannot_be_read_is_a_notice_and_changes_nothing(page, app, tmp_path):
    db = app[1]
    bad = tmp_path / "notes.csv"
    bad.write_text("movie_id,stars\n1,5\n")
    before = count(db, "turns")
    upload(page, bad)
    toast = page.wait_for_selector("[data-testid='toast-text']", timeout=30_000)
    assert "notes.csv: needs a title column" in toast.inner_text()
    page.wait_for_timeout(1000)
    assert on_screen(page) == [] and count(db, "turns") == before
