"""The grounding guard rejects reasons that name other films or facts not on the card."""

import pytest

from chat.guard import reason_problems, writable_numbers
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


@pytest.mark.parametrize(
    "text, problem",
    [
        ("A tense ghost story from `1980`, in a remote snowy hotel.", "contains markup"),
        ("A tense ghost story in a remote\x0bsnowy hotel, with ghosts.", "breaks the line"),
        ("A tense ghost story in a hotel.The new year has brought a lot.", "runs two sentences together"),
    ],
)
def test_code_marks_line_breaks_and_sentences_run_together_are_caught(catalog, text, problem):
    assert problem in problems(catalog, text)
    assert problem not in problems(catalog, "A tense ghost story in a hotel. The snow keeps everyone in.")


def test_a_quoted_name_must_be_whole_words_of_an_allowed_title(catalog):
    with_m = Catalog([*catalog.items, Item(id="m-1931", title="M", year=1931, genres=("crime",))])
    people = frozenset(normalize_term(n) for item in with_m for n in (*item.cast, *item.directors))

    def problems_with_m(text):
        return reason_problems(
            text, with_m["the-shining-1980"], {"the-shining-1980", "m-1931"}, TitleMatcher(with_m.items), with_m, people
        )

    assert any(
        "The Mummy" in p for p in problems_with_m('Much like "The Mummy", it is tense and eerie in a remote hotel.')
    )
    assert problems_with_m('A tense and eerie hotel story, as cold as "M" and full of ghosts.') == []
    assert problems_with_m("A tense and eerie hotel story, *Shining* in every frame, with ghosts.") == []


@pytest.mark.parametrize(
    "text, repeats",
    [
        ("1. **The Shining (1980)**: an atmospheric, tense horror story in a remote hotel.", True),
        ("**The Shining**: an atmospheric, tense horror story in a remote hotel full of ghosts.", True),
        ("**The Shining** is an atmospheric, tense horror story in a remote hotel.", True),
        ("The Shining (1980) is an atmospheric, tense horror story in a remote hotel.", True),
        ("Shining: an atmospheric, tense horror story in a remote hotel full of ghosts.", True),
        ("The Shining is an atmospheric, tense horror story in a remote hotel.", False),
        ("An atmospheric, tense horror story in a remote hotel full of ghosts.", False),
    ],
)
def test_a_reason_that_repeats_its_line_start_is_caught(catalog, text, repeats):
    assert ("repeats the start of its line (number or title)" in problems(catalog, text)) is repeats


@pytest.mark.parametrize(
    "reason, repetitive",
    [
        ("1964, a musical musical by Richard Lester, a musical by Richard Lester.", True),
        ("A musical by Richard Lester, then more of it: a musical by Richard Lester.", True),
        ("A breezy musical by Richard Lester with the band at its most playful.", False),
    ],
)
def test_a_reason_that_says_a_phrase_twice_is_repetitive(catalog, reason, repetitive):
    assert ("repetitive" in problems(catalog, reason)) is repetitive


# ----- numbers with units and roles, on the demo catalogue's cards ------------------------------


@pytest.fixture(scope="module")
def demo():
    from conftest import DEMO_CATALOG

    from retrieval.catalog import load_catalog

    return load_catalog(DEMO_CATALOG)


def demo_problems(demo, item_id, text):
    people = frozenset(normalize_term(n) for item in demo for n in (*item.cast, *item.directors))
    return reason_problems(text, demo[item_id], {item_id}, TitleMatcher(demo.items), demo, people)


@pytest.mark.parametrize(
    "item_id, text, caught",
    [
        # Seen in replies (the cases): each must be caught.
        ("up-2009", "A heartfelt 190 minutes of balloons, grief and adventure for the whole family.", "190 minutes"),
        ("monsters-inc-2001", "A funny, warm monster caper that runs 190 minutes and never drags.", "190 minutes"),
        (
            "the-french-connection-1971",
            "A gritty chase thriller, now 20 years old and still as tense as ever.",
            "20 years",
        ),
        ("superbad-2007", "A raunchy high school comedy that feels fresh even 10 years old.", "10 years"),
        (
            "frankenstein-1931",
            "A classic monster story from Boris Karloff, eerie and tragic to the end.",
            "Boris Karloff",
        ),
        # The same kinds of claim in other words.
        ("up-2009", "A moving family adventure that lasts 2 hours and flies by with humour.", "2 hours"),
        ("up-2009", "A moving family adventure, a two-hour flight of humour and heart.", "two-hour"),
        ("the-shining-1980", "Released in 1975, a tense ghost story in a snowbound hotel.", "1975"),
        ("the-french-connection-1971", "A gritty 1990s crime thriller with a famous car chase.", "decade"),
        ("superbad-2007", "An eighties-style teen comedy about one wild night before graduation.", "decade"),
        ("frankenstein-1931", "Directed by Boris Karloff, a tragic and eerie monster classic.", "Boris Karloff"),
        ("frankenstein-1931", "Boris Karloff's film about a creature made from stolen corpses.", "Boris Karloff"),
        ("frankenstein-1931", "A tragic, eerie monster classic starring James Whale as the scientist.", "James Whale"),
        (
            "frankenstein-1931",
            "A tragic, eerie monster classic starring Peter Cushing as the scientist.",
            "Peter Cushing",
        ),
        (
            "frankenstein-1931",
            "A tragic, eerie monster classic directed by Todd Haynes in black and white.",
            "Todd Haynes",
        ),
    ],
)
def test_numbers_ages_and_roles_the_card_does_not_support_are_caught(demo, item_id, text, caught):
    assert any(caught in problem for problem in demo_problems(demo, item_id, text)), demo_problems(demo, item_id, text)


@pytest.mark.parametrize(
    "item_id, text",
    [
        ("up-2009", "A moving 96-minute family adventure with balloons, grief and plenty of humour."),
        ("up-2009", "A moving family adventure, about 95 minutes of balloons, grief and humour."),
        ("up-2009", "A moving family adventure, well under two hours, full of balloons and humour."),
        ("the-french-connection-1971", "A gritty 1971 crime thriller from William Friedkin with a famous car chase."),
        (
            "the-french-connection-1971",
            "A gritty seventies crime thriller directed by William Friedkin, starring Gene Hackman.",
        ),
        ("the-french-connection-1971", "Gene Hackman's ferocious performance drives this gritty crime thriller."),
        ("frankenstein-1931", "James Whale's tragic monster classic, with a moving turn from Boris Karloff."),
        ("frankenstein-1931", "A 1931 horror classic by James Whale, eerie and tragic, starring Colin Clive."),
        ("superbad-2007", "A raunchy, sweet high school comedy about two friends and one wild party."),
        # The card's own people and keywords are no film titles or genres ("Martin" is no "The Martian").
        ("goodfellas-1990", "A sprawling mob saga directed by Martin Scorsese, starring Ray Liotta."),
        ("the-iron-giant-1999", "A gentle robot friendship tale set against cold war paranoia, from Brad Bird."),
        ("the-blues-brothers-1980", "A riotous musical road movie through chicago with car chases, from John Landis."),
    ],
)
def test_true_numbers_and_roles_pass(demo, item_id, text):
    assert demo_problems(demo, item_id, text) == []


def test_a_setting_year_from_the_synopsis_said_as_the_release_year_is_caught(demo):
    platoon = demo["platoon-1986"]
    assert "1967" in platoon.synopsis
    assert any("1967" in p for p in demo_problems(demo, platoon.id, "1967, moral conflict war from Oliver Stone."))


def test_a_count_of_years_the_synopsis_states_is_on_the_card(demo):
    film = next(item for item in demo if "ten-year-old" in item.synopsis)
    assert not any(
        "years" in p for p in demo_problems(demo, film.id, "A gentle story about a 10-year-old and a big adventure.")
    )


# ----- a catalogue that is not films: books with an author, pages and a price ---------------------


@pytest.fixture(scope="module")
def books():
    from pathlib import Path

    from retrieval.catalog import load_catalog
    from retrieval.field_kinds import people_of

    catalog = load_catalog(Path(__file__).resolve().parent / "data" / "books.csv")
    return catalog, frozenset(normalize_term(name) for item in catalog for name in people_of(item))


def book_problems(books, text, item_id="BK-1000"):
    catalog, people = books
    return reason_problems(text, catalog[item_id], {item_id}, TitleMatcher(catalog.items), catalog, people)


def test_a_book_reason_with_its_author_pages_and_price_passes(books):
    assert book_problems(books, "A cozy whodunit by Beatrix Wren: 287 pages of tea, gossip and red herrings.") == []
    assert book_problems(books, "A cozy village whodunit by Beatrix Wren, and only $16.67 for the paperback.") == []


@pytest.mark.parametrize(
    "text, caught",
    [
        ("1.1e thriller and snowbound, this thriller from thriller fits the request.", "number 1.1"),
        ("A cozy whodunit by Beatrix Wren, a quick read at 150 pages for a rainy day.", "number 150"),
        ("A cozy whodunit for $9.99 that keeps you guessing until the last page.", "number 9.99"),
        ("A cozy village whodunit by Élodie Brûlé, full of gossip and red herrings.", "élodie brûlé"),
    ],
)
def test_numbers_and_names_not_on_a_books_card_are_caught(books, text, caught):
    found = book_problems(books, text)
    assert any(caught in problem.lower() for problem in found), found


def test_a_name_with_an_accented_capital_is_read_as_a_name(books):
    catalog, _ = books
    her_book = next(item for item in catalog if item.extra["author"] == "Élodie Brûlé")
    assert (
        book_problems(
            books, f"A fine read by Élodie Brûlé, whose {her_book.extra['pages']} pages fly by quickly.", her_book.id
        )
        == []
    )
    found = book_problems(books, "Written with warmth, a lovely novel by Élodie Brûlé about a small village.")
    assert any("credits it to Élodie Brûlé" in problem for problem in found), found


def test_a_reason_that_calls_a_book_a_film_is_caught(books):
    catalog, people = books
    text = "A cozy whodunit film by Beatrix Wren, full of tea, gossip and red herrings."
    assert reason_problems(text, catalog["BK-1000"], {"BK-1000"}, TitleMatcher(catalog.items), catalog, people) == []
    assert "calls it a film, but the catalogue holds no films" in reason_problems(
        text, catalog["BK-1000"], {"BK-1000"}, TitleMatcher(catalog.items), catalog, people, noun="book"
    )


def test_a_reason_may_write_the_numbers_on_its_card_and_no_other_year():
    platoon = Item(
        "platoon-1986", "Platoon", 1986, ("war",), ("Oliver Stone",), (), 120, "In 1967, a 19-year-old volunteer..."
    )
    assert writable_numbers(platoon, ["28 Days Later"]) == {"1986", "120", "19", "1980s", "80s", "28"}


def test_a_year_inside_an_allowed_title_is_the_title_not_a_claim(demo):
    people = frozenset(normalize_term(n) for item in demo for n in (*item.cast, *item.directors))
    allowed = {"interstellar-2014", "2001-a-space-odyssey-1968"}
    text = "A cerebral science fiction from Christopher Nolan, for fans of 2001: A Space Odyssey."
    assert reason_problems(text, demo["interstellar-2014"], allowed, TitleMatcher(demo.items), demo, people) == []
    assert any("2001" in p for p in demo_problems(demo, "interstellar-2014", text))  # not allowed: a claim
    assert "2049" in writable_numbers(demo["blade-runner-2049-2017"])  # its own title's number, though year-like
