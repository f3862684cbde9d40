"""Dialogue state updates across turns."""

from chat.state import DialogueState, record_feedback, record_shown, update_state
from chat.titles import TitleMatcher
from chat.understanding import read_message


def step(state, text, catalog):
    return update_state(state, read_message(text, TitleMatcher(catalog.items)), catalog)


def test_genre_is_replaced_and_avoided_terms_accumulate(catalog):
    state = step(DialogueState(), "a comedy, no zombies", catalog)
    state = step(state, "actually a horror, and nothing gory", catalog)
    assert state.genres_wanted == {"horror"}
    assert state.avoid_terms == {"zombie", "gore"}


def test_something_older_is_older_than_what_was_shown(catalog):
    state = record_shown(step(DialogueState(), "a horror film", catalog), ["the-others-2001", "poltergeist-1982", "the-shining-1980"])
    state = step(state, "something older", catalog)
    assert state.year_max == 1981
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
    assert state.genres_wanted == {"comedy"}
    assert "scary" not in state.query_text() and "silly" in state.query_text()
