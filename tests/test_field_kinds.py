"""A catalogue's own fields: their kinds recorded in the index manifest, and messages read onto the fields that exist."""

import json
from pathlib import Path

import pytest
from fakes import HashingEmbedder

from chat.titles import TitleMatcher
from chat.understanding import read_message
from retrieval import build_index
from retrieval.catalog import ColumnMap, load_catalog
from retrieval.field_kinds import CatalogFields, creators, describe_fields
from retrieval.filters import FieldCondition

DATA = Path(__file__).resolve().parent / "data"
GAME_COLUMNS = ColumnMap(
    title="name", filters=("mechanics", "min_players", "max_players", "play_minutes", "age", "price")
)


def fields_of(catalog) -> CatalogFields:
    return CatalogFields(
        describe_fields(catalog.items, ("genres", "year", "runtime_min", *catalog.columns.filter_fields))
    )


@pytest.fixture(scope="module")
def books():
    return load_catalog(DATA / "books.csv")


@pytest.fixture(scope="module")
def games():
    return load_catalog(DATA / "board_games.jsonl", GAME_COLUMNS)


def read_books(books, text):
    return read_message(text, TitleMatcher(books.items), fields=fields_of(books))


def read_games(games, text):
    return read_message(text, TitleMatcher(games.items), fields=fields_of(games))


def test_the_manifest_records_each_fields_kind_vocabulary_and_range(tmp_path):
    folder = tmp_path / "books"
    assert (
        build_index.main(
            ["--catalog", str(DATA / "books.csv"), "--out", str(folder), "--quiet"], embedder=HashingEmbedder()
        )
        == 0
    )
    kinds = {record["name"]: record for record in json.loads((folder / "manifest.json").read_text())["field_kinds"]}
    assert kinds["genres"]["kind"] == "categorical" and "crime fiction" in kinds["genres"]["values"]
    assert "mystery" not in kinds["genres"]["values"]
    assert kinds["price"]["kind"] == "numeric" and 5 <= kinds["price"]["minimum"] < kinds["price"]["maximum"] <= 30
    assert kinds["pages"]["unit"] == "pages" and kinds["year"]["kind"] == "numeric"
    assert "runtime_min" not in kinds  # no book has one


def test_a_large_categorical_field_has_an_open_vocabulary(catalog):
    kinds = CatalogFields(describe_fields(catalog.items, ("genres", "cast", "keywords")))
    assert kinds.vocabulary("genres") and kinds.get("cast").kind == "categorical"
    assert [kind.name for kind in kinds.category_fields()] == ["genres"]  # never cast or keywords


def test_a_category_word_the_catalogue_lacks_is_a_soft_query_word(books):
    reading = read_books(books, "a cozy mystery set in a small town")
    assert not reading.wanted("genres") and not reading.conditions
    assert "mystery" in reading.preference_text


def test_a_category_in_the_vocabulary_is_a_hard_constraint(books):
    assert read_books(books, "some crime fiction please").wanted("genres") == {"crime fiction"}
    assert read_books(books, "a sci-fi novel").wanted("genres") == {"science fiction"}
    assert read_books(books, "nothing romantic").avoided("genres") == {"romance"}


def test_shorter_means_pages_for_books_and_never_a_runtime(books):
    reading = read_books(books, "something shorter and more recent")
    assert reading.bounds("runtime_min")[1] is None and reading.lower == ("pages",) and reading.newer
    assert read_books(books, "under 300 pages").conditions == (
        FieldCondition("pages", maximum=300.0, missing_passes=True),
    )
    assert read_books(books, "under 2 hours").bounds("runtime_min")[1] is None


def test_cheaper_means_price_where_there_is_one(books, catalog):
    assert read_books(books, "something cheaper").lower == ("price",)
    assert read_books(books, "a thriller under $15").others() == (
        FieldCondition("price", maximum=15.0, missing_passes=True),
    )
    films = CatalogFields(describe_fields(catalog.items, ("genres", "year", "runtime_min")))
    film_reading = read_message("something cheaper", TitleMatcher(catalog.items), fields=films)
    assert not film_reading.lower and not film_reading.others()


def test_games_read_mechanics_players_and_minutes(games):
    reading = read_games(games, "a cooperative game for 4 players, under 1 hour, no bluffing")
    assert FieldCondition("mechanics", any_of=frozenset({"cooperative"})) in reading.conditions
    assert (
        FieldCondition("mechanics", any_of=frozenset({"bluffing"}), exclude=True, missing_passes=True)
        in reading.conditions
    )
    assert FieldCondition("min_players", maximum=4.0, missing_passes=True) in reading.conditions
    assert FieldCondition("max_players", minimum=4.0, missing_passes=True) in reading.conditions
    assert FieldCondition("play_minutes", maximum=60.0, missing_passes=True) in reading.conditions
    assert (
        reading.bounds("runtime_min")[1] is None and "bluffing" not in reading.avoid_terms
    )  # avoided once, as the field


def test_an_era_is_only_words_where_there_are_no_years(games):
    reading = read_games(games, "something from the 90s, more recent")
    assert reading.bounds("year")[0] is None and reading.bounds("year")[1] is None and not reading.newer


def test_films_read_as_before(catalog):
    films = CatalogFields(describe_fields(catalog.items, ("genres", "year", "runtime_min", "keywords", "cast")))
    reading = read_message("a short horror from the 80s, no romance", TitleMatcher(catalog.items), fields=films)
    assert reading.wanted("genres") == {"horror"} and reading.avoided("genres") == {"romance"}
    assert (reading.bounds("year")[0], reading.bounds("year")[1], reading.bounds("runtime_min")[1]) == (1980, 1989, 100)
    assert not reading.others() and not reading.lower


def test_creators_come_from_any_person_field(books):
    assert creators(books["BK-1000"]) == ("Beatrix Wren",)
