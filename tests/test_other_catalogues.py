"""Catalogues that are not films: 200 books (CSV, columns detected) and 100 board games (JSONL, columns by flags).

Fast: each is indexed by the `build_index` command with the bag-of-words fake embedder and
searched through `retrieval.search` (the engine's recall and rerank), and the chat engine runs
the scenarios on each with a scripted LLM whose reasons the guard must swap: a category word the
catalogue lacks, a constraint on a field that exists and on one that does not, "something else",
an over-constrained request, reasons that name only card facts, canned replies. The slow tests
run the same scenarios with the real default models, with no wording flags (the app then says
"item", never "film").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import HashingEmbedder, ScriptedChatModel

from chat.assemble import build_engine
from chat.engine import ChatEngine, EngineSettings
from chat.guard import named_items, reason_problems
from chat.settings import Settings
from chat.tools import parse_call
from retrieval import build_index, search
from retrieval.catalog import ColumnMap, load_catalog
from retrieval.index import ItemIndex
from retrieval.item_search import ItemSearch, SearchOptions

DATA = Path(__file__).resolve().parent / "data"
BOOKS = DATA / "books.csv"
GAMES = DATA / "board_games.jsonl"
GAME_COLUMNS = [
    "--title",
    "name",
    "--text",
    "name",
    "summary",
    "mechanics",
    "designer",
    "--filters",
    "mechanics",
    "min_players",
    "max_players",
    "play_minutes",
    "age",
    "price",
]


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
    assert dict(books.columns.fields) == {
        "id": "sku",
        "title": "name",
        "year": "year",
        "genres": "category",
        "synopsis": "description",
    }
    assert {"author", "price"} <= set(books.columns.filter_fields)
    assert "mystery" not in books.genres and "crime fiction" in books.genres
    assert any(not item.extra["author"].isascii() for item in books)


def test_games_load_with_columns_named_by_flags():
    games = load_catalog(
        GAMES,
        ColumnMap(
            title="name",
            text=("name", "summary", "mechanics", "designer"),
            filters=("mechanics", "min_players", "max_players", "price"),
        ),
    )
    assert len(games) == 100 and games.columns.fields["title"] == "name"
    assert all(
        isinstance(game.extra["mechanics"], list) and game.extra["min_players"] <= game.extra["max_players"]
        for game in games
    )


def test_columns_of_numbers_and_few_categories_are_detected_as_filters():
    games = load_catalog(GAMES)  # no flags
    assert games.columns.fields["title"] == "name" and games.columns.fields["synopsis"] == "summary"
    assert {"mechanics", "min_players", "max_players", "play_minutes", "age", "price"} <= set(
        games.columns.filter_fields
    )
    assert all(isinstance(game.extra["play_minutes"], int) for game in games)
    books = load_catalog(BOOKS)
    assert {"pages", "price", "author"} <= set(
        books.columns.filter_fields
    ) and "name" not in books.columns.filter_fields


def test_a_cozy_mystery_query_finds_crime_fiction(tmp_path, capsys):
    books = load_catalog(BOOKS)
    folder = build(tmp_path, BOOKS)
    results = found(
        folder, capsys, "--query", "a cozy whodunit in a small village, gossip and red herrings", "--k", "5"
    )
    assert len(results) == 5
    assert all(books[result["id"]].genres == ("crime fiction",) for result in results), results


def test_a_book_search_holds_its_filters(tmp_path, capsys):
    folder = build(tmp_path, BOOKS)
    results = found(
        folder,
        capsys,
        "--query",
        "recipes for the kitchen",
        "--filter",
        "price=..15",
        "--filter",
        "genres=cookery",
        "--k",
        "50",
    )
    books = load_catalog(BOOKS)
    assert results and all(books[r["id"]].genres == ("cookery",) and r["extra"]["price"] <= 15 for r in results)
    assert len(results) == sum(1 for b in books if b.genres == ("cookery",) and float(b.extra["price"]) <= 15)


def test_a_cooperative_query_finds_cooperative_games_for_four(tmp_path, capsys):
    folder = build(tmp_path, GAMES, *GAME_COLUMNS)
    results = found(
        folder,
        capsys,
        "--query",
        "cooperative game, players work together as one team",
        "--filter",
        "min_players=..4",
        "--filter",
        "max_players=4..",
        "--k",
        "5",
    )
    assert len(results) == 5
    for result in results:
        game = result["extra"]
        assert "cooperative" in game["mechanics"] and game["min_players"] <= 4 <= game["max_players"], result


# ----- the chat engine on each catalogue: scenarios with fakes (fast) and with the real models (slow) ---------

REQUESTS = {
    "books": (BOOKS, (), "a cozy mystery in a small town"),
    "games": (GAMES, GAME_COLUMNS, "a cooperative game for 4 players"),
}
FILM_WORDS = ("film", "films", "movie", "movies", "watch")
# A reason the guard must swap: a film word and a number the card does not hold.
BAD_REASON = "1.1e thriller film and snowbound, this thriller from thriller fits the request nicely"


def film_words(text: str) -> set[str]:
    return set(text.lower().replace(".", " ").replace(",", " ").replace(":", " ").split()) & set(FILM_WORDS)


@pytest.fixture(scope="module")
def fake_engines(tmp_path_factory):
    """name -> a function making an engine over that catalogue's index: bag-of-words embedder, a scripted LLM."""
    folders = {}
    for name, (path, flags, _) in REQUESTS.items():
        folder = tmp_path_factory.mktemp(name) / "index"
        assert (
            build_index.main(
                ["--catalog", str(path), "--out", str(folder), "--quiet", *flags], embedder=HashingEmbedder()
            )
            == 0
        )
        folders[name] = folder

    def make(name: str, llm=None) -> ChatEngine:
        index = ItemIndex.open(folders[name])
        search = ItemSearch.open(index, HashingEmbedder(), SearchOptions(collaborative="none", ranker="none"))
        settings = Settings(catalog=str(REQUESTS[name][0]), index=str(folders[name]), no_log=True)
        return ChatEngine(
            index.catalog,
            search,
            llm or ScriptedChatModel([BAD_REASON]),
            None,
            EngineSettings(wording=settings.wording),
        )

    return make


def say(engine, session, text):
    return [update.result for update in engine.respond(session, text)][-1]


def assert_grounded(engine, result):
    """Every reason is the card's facts only, as the guard reads them, and nothing calls an item a film."""
    assert not film_words(result.reply), result.reply
    for shown in result.items:
        assert not reason_problems(
            shown.why,
            shown.item,
            {shown.item.id},
            engine.titles,
            engine.catalog,
            engine.people,
            noun=engine.settings.wording.noun,
        ), shown.why
    assert named_items(result.reply, engine.titles) <= {shown.item.id for shown in result.items}


# name -> (a category word not in the vocabulary, a constraint on a field that exists and its check,
#          a constraint on a field that does not exist, an over-constrained request)
SCENARIOS = {
    "books": (
        "a cozy mystery set in a small town",
        ("crime fiction under $15", lambda item: item.genres == ("crime fiction",) and item.extra["price"] <= 15),
        "something under 2 hours for a train ride",
        "cookery under $6 from the 1960s",
    ),
    "games": (
        "a spooky horror game with ghosts",
        (
            "a cooperative game for 4 players",
            lambda item: (
                "cooperative" in item.extra["mechanics"] and item.extra["min_players"] <= 4 <= item.extra["max_players"]
            ),
        ),
        "a tense game about spies and secrets from the 90s, more recent",
        "a cooperative game for 12 players under 20 minutes",
    ),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_category_word_the_catalogue_lacks_is_searched_not_filtered(fake_engines, name):
    engine = fake_engines(name)
    session = engine.new_session()
    result = say(engine, session, SCENARIOS[name][0])
    assert result.kind == "recommend" and result.items, result.reply
    assert not session.state.wanted("genres") and not session.state.conditions
    assert_grounded(engine, result)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_constraint_on_a_field_that_exists_holds_on_every_item_and_after_something_else(fake_engines, name):
    engine = fake_engines(name)
    session = engine.new_session()
    text, holds = SCENARIOS[name][1]
    shown_before: set[str] = set()
    for message in (text, "something else"):
        result = say(engine, session, message)
        assert result.kind == "recommend" and result.items, result.reply
        assert all(holds(shown.item) for shown in result.items), [s.item for s in result.items]
        assert not shown_before & {shown.item.id for shown in result.items}  # "something else" shows new items
        shown_before |= {shown.item.id for shown in result.items}
        assert_grounded(engine, result)
    assert session.state.conditions and json.dumps(parse_call(result.tool_call["text"]).arguments())
    assert parse_call(result.tool_call["text"]).arguments()["filters"]  # the logged call holds the field conditions


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_constraint_on_a_field_the_catalogue_lacks_is_ignored(fake_engines, name):
    engine = fake_engines(name)
    session = engine.new_session()
    result = say(engine, session, SCENARIOS[name][2])
    state = session.state
    assert (state.bounds("runtime_min")[1], state.bounds("year")[0], state.bounds("year")[1]) == (None, None, None)
    assert not any(condition.field in ("runtime_min", "year") for condition in state.conditions)
    assert result.kind == "recommend" and result.items, result.reply
    assert_grounded(engine, result)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_an_over_constrained_request_gets_the_nearest_items_and_a_plain_note(fake_engines, name):
    engine = fake_engines(name)
    session = engine.new_session()
    result = say(engine, session, SCENARIOS[name][3])
    assert result.kind == "relaxed" and result.items, result.reply
    note = result.reply.splitlines()[0]
    assert note.startswith("I couldn't find anything new") and "left out" in note
    assert not session.state.filters().is_empty  # what the person asked for stays asked for
    assert_grounded(engine, result)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_reasons_name_only_card_facts_and_a_bad_one_is_swapped(fake_engines, name):
    engine = fake_engines(name)
    result = say(engine, engine.new_session(), SCENARIOS[name][1][0])
    assert result.items and all(BAD_REASON not in shown.why for shown in result.items)
    assert any("not on the card" in note or "holds no films" in note for note in result.guard_notes)
    assert_grounded(engine, result)
    for shown in result.items:  # the templated reason says what the card holds: its maker and the gist of its text
        maker = shown.item.extra.get("author") or shown.item.extra.get("designer")
        assert maker in shown.why


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_canned_replies_never_say_film(fake_engines, name):
    engine = fake_engines(name)
    session = engine.new_session()
    replies = [say(engine, session, text).reply for text in ("hello", "", "who are you?", "¿Qué me recomiendas hoy?")]
    assert all(reply and not film_words(reply) for reply in replies), replies


# ----- with the real models --------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(REQUESTS))
def real_engine(request, tmp_path_factory):
    """(catalogue name, engine as the app builds it): index built by the command, default models, no wording flags."""
    path, flags, _ = REQUESTS[request.param]
    folder = tmp_path_factory.mktemp(request.param) / "index"
    assert build_index.main(["--catalog", str(path), "--out", str(folder), "--quiet", *flags]) == 0
    return request.param, build_engine(Settings(catalog=str(path), index=str(folder), no_log=True), progress=False)


@pytest.fixture(scope="module")
def first_turn(real_engine):
    """(catalogue name, engine, reply) for the catalogue's plain request."""
    name, engine = real_engine
    session = engine.new_session()
    session.logging_enabled = False
    return name, engine, say(engine, session, REQUESTS[name][2])


@pytest.mark.slow
def test_the_reply_names_only_catalogue_items(first_turn):
    name, engine, result = first_turn
    assert engine.llm is not None
    assert result.reply.strip()
    shown = {shown.item.id for shown in result.items}
    assert all(item_id in engine.catalog for item_id in shown)
    assert named_items(result.reply, engine.titles) <= shown, result.reply


@pytest.mark.slow
def test_an_answerable_request_shows_items(first_turn):
    name, engine, result = first_turn
    assert result.items, f"{name}: {result.kind}: {result.reply}"


@pytest.mark.slow
def test_the_reply_does_not_call_items_films(first_turn):
    name, engine, result = first_turn
    assert not film_words(result.reply), f"{name}: {result.reply}"


@pytest.mark.slow
def test_with_the_real_models_each_scenario_holds(real_engine):
    """The fast scenarios' checks, each through the default models: items for every answerable request, no film
    words, only card facts in reasons, every stated constraint on an existing field held, none on a missing one."""
    name, engine = real_engine
    lacks, (text, holds), missing, over = SCENARIOS[name]
    for message in (lacks, missing):
        session = engine.new_session()
        result = say(engine, session, message)
        assert result.kind == "recommend" and result.items, f"{message}: {result.reply}"
        assert session.state.bounds("runtime_min")[1] is None and not any(
            c.field in ("runtime_min",) for c in session.state.conditions
        )
        assert_grounded(engine, result)
    session = engine.new_session()
    for message in (text, "something else"):
        result = say(engine, session, message)
        assert result.items and all(holds(shown.item) for shown in result.items), f"{message}: {result.reply}"
        assert_grounded(engine, result)
    result = say(engine, engine.new_session(), over)
    assert result.kind == "relaxed" and result.items and "left out" in result.reply.splitlines()[0]
    assert_grounded(engine, result)
