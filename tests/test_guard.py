"""The grounding guard rejects reasons that name other films or facts not on the card."""

import pytest

from chat.guard import reason_problems
from chat.titles import TitleMatcher
from retrieval.catalog import Catalog, Item
from retrieval.filters import normalize_term


def problems(catalog, text, item_id="the-shining-1980", allowed=("the-shining-1980",), earlier=()):
    people = frozenset(normalize_term(n) for item in catalog for n in (*item.cast, *item.directors))
    return reason_problems(text, catalog[item_id], set(allowed), TitleMatcher(catalog.items), catalog, people, earlier)


def test_a_plain_grounded_reason_passes(catalog):
    assert problems(catalog, "An atmospheric, tense horror story in a remote hotel full of ghosts.") == []


def test_naming_an_unshown_catalogue_film_is_caught(catalog):
    assert any("Psycho" in p for p in problems(catalog, "As tense as Psycho, with ghosts everywhere."))


def test_naming_an_unknown_title_is_caught(catalog):
    assert any("Dark Tower" in p for p in problems(catalog, 'Much like "The Dark Tower", it is tense and eerie.'))


def test_a_year_not_on_the_card_is_caught(catalog):
    assert any("1975" in p for p in problems(catalog, "Released in 1975, it is a tense ghost story."))


def test_a_person_not_on_the_card_is_caught(catalog):
    assert any("alfred hitchcock" in p for p in problems(catalog, "Directed by Alfred Hitchcock with a great cast."))


def test_a_genre_not_on_the_card_is_caught(catalog):
    assert any("comedy" in p for p in problems(catalog, "A light comedy about a family on holiday."))


def test_markup_and_repeats_are_caught(catalog):
    assert "contains markup" in problems(catalog, "<script>alert(1)</script> a fine tense story")
    same = "A tense ghost story in a remote snowy hotel."
    assert "repeats an earlier reason" in problems(catalog, same, earlier=(same,))


def test_a_quoted_name_must_be_whole_words_of_an_allowed_title(catalog):
    with_m = Catalog([*catalog.items, Item(id="m-1931", title="M", year=1931, genres=("crime",))])
    people = frozenset(normalize_term(n) for item in with_m for n in (*item.cast, *item.directors))

    def problems_with_m(text):
        return reason_problems(text, with_m["the-shining-1980"], {"the-shining-1980", "m-1931"},
                               TitleMatcher(with_m.items), with_m, people)

    assert any("The Mummy" in p for p in problems_with_m('Much like "The Mummy", it is tense and eerie in a remote hotel.'))
    assert problems_with_m('A tense and eerie hotel story, as cold as "M" and full of ghosts.') == []
    assert problems_with_m("A tense and eerie hotel story, *Shining* in every frame, with ghosts.") == []


@pytest.mark.parametrize(
    "text, repeats",
    [("1. **The Shining (1980)**: an atmospheric, tense horror story in a remote hotel.", True),
     ("**The Shining**: an atmospheric, tense horror story in a remote hotel full of ghosts.", True),
     ("**The Shining** is an atmospheric, tense horror story in a remote hotel.", True),
     ("The Shining (1980) is an atmospheric, tense horror story in a remote hotel.", True),
     ("Shining: an atmospheric, tense horror story in a remote hotel full of ghosts.", True),
     ("The Shining is an atmospheric, tense horror story in a remote hotel.", False),
     ("An atmospheric, tense horror story in a remote hotel full of ghosts.", False)],
)
def test_a_reason_that_repeats_its_line_start_is_caught(catalog, text, repeats):
    assert ("repeats the start of its line (number or title)" in problems(catalog, text)) is repeats


@pytest.mark.parametrize("reason, repetitive", [
    ("1964, a musical musical by Richard Lester, a musical by Richard Lester.", True),
    ("A musical by Richard Lester, then more of it: a musical by Richard Lester.", True),
    ("A breezy musical by Richard Lester with the band at its most playful.", False),
])
def test_a_reason_that_says_a_phrase_twice_is_repetitive(catalog, reason, repetitive):
    assert ("repetitive" in problems(catalog, reason)) is repetitive
