"""The grounding guard rejects reasons that name other films or facts not on the card."""

from chat.guard import reason_problems
from chat.titles import TitleMatcher
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
