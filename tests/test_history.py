"""A brought watch history: Letterboxd, IMDb and plain CSV exports read in watch order and matched to the catalogue;
the reply that says what matched; the dialogue state and the engine seeded with it; `python -m chat --history`."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT, SMALL_CATALOG

from chat.history import HistoryError, HistoryMatch, RatedTitle, history_reply, match_history, read_history
from chat.state import HISTORY_TASTE_ITEMS, DialogueState, add_history
from chat.wording import Wording
from retrieval.catalog import Catalog, Item

CATALOG = [
    Item(id="alien-1979", title="Alien", year=1979),
    Item(id="the-thing-1982", title="The Thing", year=1982),
    Item(id="heat-1995", title="Heat", year=1995),
    Item(id="heat-1972", title="Heat", year=1972),
    Item(id="usual-suspects-1995", title="The Usual Suspects", year=1995),
]


def test_letterboxd_ratings_are_ordered_by_date_and_matched(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text(
        "Date,Name,Year,Letterboxd URI,Rating\n"
        "2024-03-02,The Thing,1982,https://boxd.it/a,4.5\n"
        "2024-01-10,Alien,1979,https://boxd.it/b,5\n"
        "2024-02-01,Usual Suspects,1995,https://boxd.it/c,1.5\n"
        "2024-02-05,A Film Nobody Has,2031,https://boxd.it/d,3\n"
    )
    rows = read_history(path)
    assert [r.title for r in rows] == ["Alien", "Usual Suspects", "A Film Nobody Has", "The Thing"]
    assert rows[0].watched == datetime.date(2024, 1, 10) and rows[0].rating == 5.0 and rows[0].line == 3
    found = match_history(rows, CATALOG)
    assert found.item_ids() == [
        "alien-1979",
        "usual-suspects-1995",
        "the-thing-1982",
    ]  # a missing article still matches
    assert found.liked_ids() == ["alien-1979", "the-thing-1982"]
    assert found.disliked_ids() == ["usual-suspects-1995"]
    assert [r.label for r in found.unmatched] == ["A Film Nobody Has (2031)"]


def test_imdb_ratings_out_of_ten_use_the_rated_date_and_the_year_picks_the_film(tmp_path):
    path = tmp_path / "imdb.csv"
    path.write_text(
        "Const,Your Rating,Date Rated,Title,URL,Title Type,IMDb Rating,Runtime (mins),Year,Genres\n"
        "tt0113277,9,2023-05-01,Heat,https://imdb.com/x,movie,8.3,170,1995,Crime\n"
        "tt0084787,4,2023-04-01,The Thing,https://imdb.com/y,movie,8.2,109,1983,Horror\n"
    )
    rows = read_history(path)
    assert [(r.title, r.rating) for r in rows] == [("The Thing", 2.0), ("Heat", 4.5)]
    found = match_history(rows, CATALOG)
    assert found.item_ids() == ["the-thing-1982", "heat-1995"]  # one year apart still matches; 1995 is not 1972


def test_a_plain_tsv_without_dates_keeps_file_order_and_an_ambiguous_title_is_unmatched(tmp_path):
    path = tmp_path / "seen.tsv"
    path.write_text("title\trating\nHeat\t\nAlien\t4\n")
    rows = read_history(path)
    assert [r.title for r in rows] == ["Heat", "Alien"] and rows[0].rating is None and rows[0].year is None
    found = match_history(rows, CATALOG)
    assert found.item_ids() == ["alien-1979"]  # two films are called Heat, and the row has no year
    assert [r.title for r in found.unmatched] == ["Heat"]


def test_files_without_titles_are_refused_with_the_reason(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("movie_id,stars\n1,5\n")
    with pytest.raises(HistoryError, match="title column"):
        read_history(path)
    with pytest.raises(HistoryError, match="not found"):
        read_history(tmp_path / "none.csv")


def test_binary_and_title_less_files_are_refused_with_the_reason(tmp_path):
    binary = tmp_path / "poster.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(HistoryError, match="not a text file") as error:
        read_history(binary)
    assert error.value.path == binary and str(error.value) == f"{binary}: {error.value.reason}"
    export = tmp_path / "letterboxd-export.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("ratings.csv", "Date,Name,Year,Letterboxd URI,Rating\n")
    with pytest.raises(HistoryError, match="a zip archive; bring one CSV from it"):
        read_history(export)
    header_only = tmp_path / "empty.csv"
    header_only.write_text("Date,Name,Year,Letterboxd URI,Rating\n")
    with pytest.raises(HistoryError, match="no titles under its 'Name' column"):
        read_history(header_only)


def test_a_rewatch_counts_with_its_latest_rating(tmp_path):
    path = tmp_path / "diary.csv"
    path.write_text(
        "Date,Name,Year,Rating,Watched Date\n"
        "2024-01-01,Alien,1979,5,2024-01-01\n"
        "2024-06-01,Alien,1979,1.5,2024-06-01\n"
        "2024-03-01,Heat,1995,2,2024-03-01\n"
        "2024-07-01,Heat,1995,4,2024-07-01\n"
    )
    found = match_history(read_history(path), CATALOG)
    assert found.liked_ids() == ["heat-1995"] and found.disliked_ids() == ["alien-1979"]


def row(line: int, title: str, year: int | None, rating: float | None = None) -> RatedTitle:
    return RatedTitle(line, title, year, rating, None)


def test_the_reply_counts_names_the_latest_liked_and_lists_what_was_not_found():
    catalog = Catalog(CATALOG)
    found = HistoryMatch(
        matched=(
            (row(2, "Alien", 1979, 5), "alien-1979"),
            (row(3, "Heat", 1995, 1), "heat-1995"),
            (row(4, "The Thing", 1982, 4), "the-thing-1982"),
            (row(5, "Usual Suspects", 1995), "usual-suspects-1995"),
        ),
        unmatched=tuple(row(10 + n, f"Lost {n}", 2030) for n in range(22)),
    )
    reply = history_reply(found, catalog)
    first, second = reply.split("\n")
    assert first == (
        "Found 4 of your 26 titles in the catalogue, among them The Thing (1982), Alien (1979). "
        "I'll count 2 as films you liked and 1 as a film you didn't, and won't suggest any of the 4 again."
    )
    assert second.startswith("Not found: Lost 0 (2030); Lost 1 (2030);") and second.endswith(
        "Lost 19 (2030); and 2 more."
    )
    as_books = history_reply(found, catalog, Wording("book", "books")).split("\n")[0]
    assert "2 as books you liked and 1 as a book you didn't" in as_books and "film" not in as_books
    nothing = HistoryMatch(matched=(), unmatched=(row(2, "Nope", 2022),))
    assert history_reply(nothing, catalog) == (
        "The title in your history is not in the catalogue, so I know no more than before.\nNot found: Nope (2022)."
    )


def test_a_history_seeds_taste_in_watch_order_and_what_the_conversation_said_wins():
    state = DialogueState(liked=("up",), disliked=("jaws",))
    seeded = add_history(
        state, liked=["heat", "up", "m"], disliked=["psycho", "jaws"], watched=["heat", "psycho", "up", "m", "x"]
    )
    assert seeded.liked == ("heat", "m", "up") and seeded.disliked == ("psycho", "jaws")
    assert seeded.watched == ("heat", "psycho", "up", "m", "x") and {"x", "heat", "psycho"} <= seeded.excluded
    assert seeded.mentioned == ("heat", "up", "m", "x")  # what seeds the collaborative model: all but the disliked
    many = [f"film-{n}" for n in range(HISTORY_TASTE_ITEMS + 5)]
    assert add_history(DialogueState(), many, [], many).liked == tuple(many[5:])  # only the latest count as taste


HORROR_HISTORY = (
    "Date,Name,Year,Letterboxd URI,Rating\n"
    "2024-01-01,The Shining,1980,https://boxd.it/1,3\n"
    "2024-01-02,Alien,1979,https://boxd.it/2,5\n"
    "2024-01-03,The Thing,1982,https://boxd.it/3,4.5\n"
    "2024-01-04,Poltergeist,1982,https://boxd.it/4,1\n"
    "2024-01-05,The Others,2001,https://boxd.it/5,\n"
    "2024-01-06,A Film Nobody Has,2031,https://boxd.it/6,4\n"
)
SEEN_HORROR = {"the-shining-1980", "alien-1979", "the-thing-1982", "poltergeist-1982", "the-others-2001"}


@pytest.fixture
def horror_history(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text(HORROR_HISTORY)
    return path


def shown_for(engine, session, message: str) -> set[str]:
    return {shown.item.id for shown in [update.result for update in engine.respond(session, message)][-1].items}


def test_a_seeded_history_is_never_recommended_back_and_is_logged(engine, log_store, horror_history):
    found = match_history(read_history(horror_history), engine.catalog.items)
    assert shown_for(engine, engine.new_session(), "a horror film") & SEEN_HORROR  # unseeded, the history is fair game
    session = engine.new_session()
    result = engine.seed_history(session, found)
    assert result.kind == "history" and not result.items
    assert result.reply.startswith("Found 5 of your 6 titles") and result.reply.endswith(
        "Not found: A Film Nobody Has (2031)."
    )
    assert session.state.liked == ("alien-1979", "the-thing-1982") and session.state.disliked == ("poltergeist-1982",)
    assert set(session.state.watched) == SEEN_HORROR
    for message in ("a horror film", "another horror film"):  # 4 horror films left: 3, then 1
        shown = shown_for(engine, session, message)
        assert shown and not shown & SEEN_HORROR, shown
    logged = log_store.turns(session.id)
    assert [turn["kind"] for turn in logged] == ["history", "recommend", "recommend"]
    assert logged[0]["user_text"] == "[watch history: 6 titles]" and logged[0]["reply"] == result.reply
    assert logged[0]["state"]["watched"] == list(found.item_ids()) and logged[0]["state"]["liked"] == [
        "alien-1979",
        "the-thing-1982",
    ]


# ----- the CLI --------------------------------------------------------------------------------


def run_chat(tmp_path, history, messages: list[str]) -> subprocess.CompletedProcess:
    catalog = tmp_path / "films.jsonl"
    catalog.write_text("\n".join(json.dumps(film) for film in SMALL_CATALOG) + "\n")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "chat",
            "--jsonl",
            "--llm",
            "none",
            "--catalog",
            str(catalog),
            "--index",
            str(tmp_path / "index"),
            "--log-db",
            f"sqlite:///{tmp_path / 'logs.db'}",
            "--history",
            str(history),
        ],
        input="\n".join(messages) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path)},
    )


@pytest.mark.slow
def test_the_cli_seeds_the_conversation_from_a_history_file_and_refuses_a_bad_one(tmp_path, horror_history):
    completed = run_chat(tmp_path, horror_history, ["a horror film", "another horror film"])
    assert completed.returncode == 0, completed.stderr[-3000:]
    first, *turns = [json.loads(line) for line in completed.stdout.splitlines()]
    assert {item["id"] for item in first["history"]["matched"]} == SEEN_HORROR and first["items"] == []
    assert first["history"]["unmatched"] == [{"line": 7, "title": "A Film Nobody Has", "year": 2031}]
    assert "Not found: A Film Nobody Has (2031)." in first["reply"]
    assert len(turns) == 2 and all(turn["items"] for turn in turns)
    assert not {item["id"] for turn in turns for item in turn["items"]} & SEEN_HORROR

    bad = tmp_path / "export.csv"
    bad.write_text("movie_id,stars\n1,5\n")
    refused = run_chat(tmp_path, bad, ["a horror film"])
    assert refused.returncode == 2 and refused.stdout == ""
    assert f"{bad}: needs a title column" in refused.stderr and "Traceback" not in refused.stderr
