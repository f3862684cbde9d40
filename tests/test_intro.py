"""The reply's opening sentence: every stated constraint and liked film in a person's words, worded anew each turn; and
the request summary the model reads."""

import re

import pytest

from chat.prompts import intro_line, state_summary
from chat.state import DialogueState
from chat.wording import Wording
from retrieval.filters import FieldCondition, genre_exclusion, genre_wishes, runtime_limit, year_range

HORROR = DialogueState(
    liked=("alien-1979",), conditions=genre_wishes(["horror"]) + year_range(None, 1977), avoid_terms=frozenset({"gore"})
)


def test_the_intro_names_the_liked_film_and_every_constraint_in_plain_words(catalog):
    intro = intro_line(HORROR, catalog, 3)
    assert intro == "Since you liked Alien, here are three horror films made before 1978, with no gore:"


@pytest.mark.parametrize("turn", range(4))
def test_every_wording_keeps_every_constraint(catalog, turn):
    state = DialogueState(
        liked=("alien-1979", "the-shining-1980"),
        conditions=genre_wishes(["horror"]) + year_range(1990, 1999) + runtime_limit(100) + genre_exclusion({"comedy"}),
        avoid_terms=frozenset({"gore", "jack nicholson"}),
        shown=("x",) * 3 * turn,
    )
    intro = intro_line(state, catalog, 3)
    for said in (
        "Alien",
        "The Shining",
        "horror",
        "from the 90s",
        "under 100 minutes",
        "gore",
        "comedy",
        "without Jack Nicholson",
    ):
        assert said in intro
    assert ";" not in intro and "keeping to" not in intro


def test_the_wording_changes_from_turn_to_turn_and_stays_the_same_for_one_state(catalog):
    intros = [
        intro_line(DialogueState(conditions=genre_wishes(["horror"]), shown=("x",) * 3 * turn), catalog, 3)
        for turn in range(4)
    ]
    assert len(set(intros)) == 4
    assert intro_line(HORROR, catalog, 3) == intro_line(HORROR, catalog, 3)


@pytest.mark.parametrize(
    "years, said",
    [
        ((1990, 1999), "from the 90s"),
        ((2000, 2009), "from the 2000s"),
        ((None, 1969), "made before 1970"),
        ((2010, None), "from 2010 on"),
        ((1980, 1995), "from 1980 to 1995"),
    ],
)
def test_eras_read_as_people_say_them(catalog, years, said):
    state = DialogueState(conditions=year_range(*years))
    assert said in intro_line(state, catalog, 2)


def test_one_pick_reads_in_the_singular(catalog):
    intro = intro_line(DialogueState(conditions=genre_wishes(["horror"])), catalog, 1)
    assert re.search(r"\bone horror film\b", intro) and "films" not in intro


@pytest.mark.parametrize(
    "conditions, said",
    [
        ((FieldCondition("price", maximum=15.0),), "three books, with price at most 15:"),
        ((FieldCondition("pages", maximum=299.0),), "three books under 300 pages:"),
        (
            (FieldCondition("min_players", maximum=4.0), FieldCondition("max_players", minimum=4.0)),
            "three books for 4 players:",
        ),
    ],
)
def test_numeric_limits_read_as_a_sentence_for_other_catalogues(catalog, conditions, said):
    intro = intro_line(DialogueState(conditions=conditions), catalog, 3, Wording("book", "books"))
    assert intro == f"Here are {said}"


def test_the_request_summary_says_a_wanted_genre_once(catalog):
    state = DialogueState(conditions=genre_wishes(["crime"]), preferences=("crime", "heist"))
    assert "Wants: crime, heist" in state_summary(state, catalog)
