"""Catalogues that are not films: 200 books (CSV, columns detected) and 100 board games (JSONL, columns by flags).

Fast: each is indexed by the `build_index` command with the bag-of-words fake embedder and
searched through `retrieval.search` (the engine's recall and rerank). The slow tests run the
chat engine on each with the real models; the parts of their replies that issue 14 says are
still wrong for other catalogues are marked xfail, not strict, with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chat.assemble import build_engine
from chat.guard import named_items
from chat.settings import Settings
from fakes import HashingEmbedder
from retrieval import build_index, search
from retrieval.catalog import ColumnMap, load_catalog

DATA = Path(__file__).resolve().parent / "data"
BOOKS = DATA / "books.csv"
GAMES = DATA / "board_games.jsonl"
GAME_COLUMNS = ["--title", "name", "--text", "name", "summary", "mechanics", "designer",
                "--filters", "mechanics", "min_players", "max_players", "play_minutes", "age", "price"]


def build(tmp_path: Path, catalog: Path, *flags: str) -> Path:
    folder = tmp_path / catalog.stem
    argv = ["--catalog", str(catalog), "--out", str(folder), "--quiet", *flags]
    assert build_index.main(argv, embedder=HashingEmbedder()) == 0
    return folder


def found(folder: Path, capsys, *argv: str) -> list[dict]:
    capsys.readouterr()  # what build_index printed
    assert search.main(["--index", str(folder), "--json", *argv], embedder=HashingEmbedder()) == 0
    return json.loads(capsys.readouterr().out)["items"]


def test_books_load_with_detected_columns():
    books = load_catalog(BOOKS)
    assert len(books) == 200
    assert dict(books.columns.fields) == {"id": "sku", "title": "name", "year": "year", "genres": "category",
                                          "synopsis": "description"}
    assert {"author", "price"} <= set(books.columns.filter_fields)
    assert "mystery" not in books.genres and "crime fiction" in books.genres
    assert any(not item.extra["author"].isascii() for item in books)


def test_games_load_with_columns_named_by_flags():
    games = load_catalog(GAMES, ColumnMap(title="name", text=("name", "summary", "mechanics", "designer"),
                                          filters=("mechanics", "min_players", "max_players", "price")))
    assert len(games) == 100 and games.columns.fields["title"] == "name"
    assert all(isinstance(game.extra["mechanics"], list) and game.extra["min_players"] <= game.extra["max_players"]
               for game in games)


def test_a_cozy_mystery_query_finds_crime_fiction(tmp_path, capsys):
    books = load_catalog(BOOKS)
    folder = build(tmp_path, BOOKS)
    results = found(folder, capsys, "--query", "a cozy whodunit in a small village, gossip and red herrings", "--k", "5")
    assert len(results) == 5
    assert all(books[result["id"]].genres == ("crime fiction",) for result in results), results


def test_a_book_search_holds_its_filters(tmp_path, capsys):
    folder = build(tmp_path, BOOKS)
    results = found(folder, capsys, "--query", "recipes for the kitchen", "--filter", "price=..15",
                    "--filter", "genres=cookery", "--k", "50")
    books = load_catalog(BOOKS)
    assert results and all(books[r["id"]].genres == ("cookery",) and r["extra"]["price"] <= 15 for r in results)
    assert len(results) == sum(1 for b in books if b.genres == ("cookery",) and float(b.extra["price"]) <= 15)


def test_a_cooperative_query_finds_cooperative_games_for_four(tmp_path, capsys):
    folder = build(tmp_path, GAMES, *GAME_COLUMNS)
    results = found(folder, capsys, "--query", "cooperative game, players work together as one team",
                    "--filter", "min_players=..4", "--filter", "max_players=4..", "--k", "5")
    assert len(results) == 5
    for result in results:
        game = result["extra"]
        assert "cooperative" in game["mechanics"] and game["min_players"] <= 4 <= game["max_players"], result


# ----- the chat engine on each catalogue, with the real models ---------------------------------

REQUESTS = {"books": (BOOKS, (), "a cozy mystery in a small town"),
            "games": (GAMES, GAME_COLUMNS, "a cooperative game for 4 players")}
FILM_WORDS = ("film", "films", "movie", "movies", "watch")


@pytest.fixture(scope="module", params=sorted(REQUESTS))
def first_turn(request, tmp_path_factory):
    """(catalogue name, engine, reply) for the catalogue's plain request: index built by the command, engine as the app's."""
    path, flags, message = REQUESTS[request.param]
    folder = tmp_path_factory.mktemp(request.param) / "index"
    assert build_index.main(["--catalog", str(path), "--out", str(folder), "--quiet", *flags]) == 0
    engine = build_engine(Settings(catalog=str(path), index=str(folder), no_log=True), progress=False)
    session = engine.new_session()
    session.logging_enabled = False
    result = [update.result for update in engine.respond(session, message)][-1]
    return request.param, engine, result


@pytest.mark.slow
def test_the_reply_names_only_catalogue_items(first_turn):
    name, engine, result = first_turn
    assert engine.llm is not None
    assert result.reply.strip()
    shown = {shown.item.id for shown in result.items}
    assert all(item_id in engine.catalog for item_id in shown)
    assert named_items(result.reply, engine.titles) <= shown, result.reply


@pytest.mark.slow
def test_an_answerable_request_shows_items(first_turn, request):
    name, engine, result = first_turn
    if name == "books":
        request.applymarker(pytest.mark.xfail(strict=False, reason="issue 14 item 1: a category word the catalogue lacks "
                                                                   "('mystery') becomes a hard genre filter: no items"))
    assert result.items, f"{name}: {result.kind}: {result.reply}"


@pytest.mark.slow
@pytest.mark.xfail(strict=False, reason="issue 14 item 3: canned replies, templates and prompts still say 'film'")
def test_the_reply_does_not_call_items_films(first_turn):
    name, engine, result = first_turn
    words = set(result.reply.lower().replace(".", " ").replace(",", " ").split())
    assert not words & set(FILM_WORDS), f"{name}: {result.reply}"
