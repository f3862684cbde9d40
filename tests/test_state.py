"""Dialogue state updates across turns."""

from pathlib import Path

from chat.state import DialogueState, merge_conditions, record_feedback, record_shown, relaxations, update_state
from chat.titles import TitleMatcher
from chat.understanding import read_message
from retrieval.catalog import load_catalog
from retrieval.field_kinds import CatalogFields, describe_fields
from retrieval.filters import FieldCondition, genre_exclusion, genre_wishes


def step(state, text, catalog):
    return update_state(state, read_message(text, TitleMatcher(catalog.items)), catalog)


def test_genre_is_replaced_and_avoided_terms_accumulate(catalog):
    state = step(DialogueState(), "a comedy, no zombies", catalog)
    state = step(state, "actually a horror, and nothing gory", catalog)
    assert state.wanted("genres") == {"horror"}
    assert state.avoid_terms == {"zombie", "gore"}


def test_something_older_is_older_than_what_was_shown(catalog):
    state = record_shown(
        step(DialogueState(), "a horror film", catalog), ["the-others-2001", "poltergeist-1982", "the-shining-1980"]
    )
    state = step(state, "something older", catalog)
    assert state.bounds("year")[1] == 1981
    assert state.filters().allows(catalog["psycho-1960"])
    assert not state.filters().allows(catalog["the-others-2001"])


def test_not_that_one_rejects_the_last_shown(catalog):
    state = record_shown(DialogueState(), ["alien-1979", "psycho-1960"])
    state = step(state, "not that one", catalog)
    assert {"alien-1979", "psycho-1960"} <= state.rejected


def test_more_like_the_second_one_likes_it(catalog):
    state = record_shown(DialogueState(), ["alien-1979", "psycho-1960"])
    assert step(state, "more like the second one", catalog).liked == ("psycho-1960",)


def test_thumbs_down_rejects_and_dislikes(catalog):
    state = record_feedback(DialogueState(liked=("alien-1979",)), "alien-1979", positive=False)
    assert "alien-1979" in state.rejected and state.disliked == ("alien-1979",) and state.liked == ()
    assert "alien-1979" in state.excluded


def test_a_new_genre_starts_the_wish_list_afresh(catalog):
    state = step(DialogueState(), "something scary and atmospheric", catalog)
    state = step(state, "actually a comedy, something silly", catalog)
    assert state.wanted("genres") == {"comedy"}
    assert "scary" not in state.query_text() and "silly" in state.query_text()


# ----- constraints on a catalogue's other fields (books: pages, price) ----------------------------

BOOKS = load_catalog(Path(__file__).resolve().parent / "data" / "books.csv")
BOOK_FIELDS = CatalogFields(describe_fields(BOOKS.items, ("genres", "year", *BOOKS.columns.filter_fields)))


def book_step(state, text):
    return update_state(state, read_message(text, TitleMatcher(BOOKS.items), fields=BOOK_FIELDS), BOOKS)


def test_shorter_books_are_shorter_than_the_ones_just_shown():
    shown = [item.id for item in BOOKS.items[:3]]
    state = book_step(record_shown(book_step(DialogueState(), "some crime fiction"), shown), "something shorter")
    middle = sorted(item.extra["pages"] for item in BOOKS.items[:3])[1]
    assert state.others() == (FieldCondition("pages", maximum=middle - 1, missing_passes=True),)
    assert state.bounds("runtime_min")[1] is None and state.wanted("genres") == {"crime fiction"}
    assert all(item.extra["pages"] < middle for item in BOOKS if state.filters().allows(item))


def test_a_new_limit_on_a_field_replaces_the_old_one_and_exclusions_add():
    cheap, cheaper = FieldCondition("price", maximum=20.0), FieldCondition("price", maximum=15.0)
    no_poetry = FieldCondition("genres", any_of=frozenset({"poetry"}), exclude=True)
    assert merge_conditions((cheap, no_poetry), [cheaper]) == (no_poetry, cheaper)


def test_genres_merge_like_any_field_a_newly_wanted_one_leaves_the_avoided_ones():
    horror, comedy = genre_wishes(["horror"]), genre_wishes(["comedy"])
    assert (
        merge_conditions(horror + genre_exclusion({"comedy", "romance"}), comedy)
        == genre_exclusion({"romance"}) + comedy
    )
    assert merge_conditions(horror + genre_exclusion({"comedy"}), genre_exclusion({"horror"})) == genre_exclusion(
        {"comedy", "horror"}
    )


def test_relaxations_leave_out_one_wanted_constraint_at_a_time_never_an_avoided_one():
    state = book_step(DialogueState(), "crime fiction under $6 from the 60s, nothing gory")
    options = relaxations(state)
    assert [words for words, _ in options][:3] == ["price at most 6", "1960-1969", "crime fiction"]
    assert all(relaxed.avoid_terms == {"gore"} for _, relaxed in options)
    _, last = options[-1]
    assert not last.wanted("genres") and last.bounds("year")[0] is None and not last.conditions
