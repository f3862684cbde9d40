"""A title the person names that the catalogue lacks is said to be missing, before the picks; a known one never is."""

import pytest
from conftest import make_engine

from chat.titles import TitleMatcher
from chat.unknown_titles import not_in_catalogue_note, unknown_titles


@pytest.mark.parametrize(
    "text, unknown",
    [
        ("recommend Zorblax Returns (2031)", ["Zorblax Returns (2031)"]),
        ("I loved Alien (1979) and Moonfall Ninety (1990)", ["Moonfall Ninety (1990)"]),
        ('Something like "The Glorp", or Heat', ["The Glorp"]),
        ("Recommend The Return of the Glorp (1988)", ["The Return of the Glorp (1988)"]),
        ("I loved Alien (1979), something from (1990) on", []),
        ('I loved "The Thing" and the alein (1979)', []),  # a typo of a catalogue title is that title
        ("a 90s comedy (1990-1999), nothing with zombies", []),
    ],
)
def test_titles_written_as_titles_that_the_catalogue_lacks(catalog, text, unknown):
    assert unknown_titles(text, TitleMatcher(catalog.items).find(text)) == unknown


def test_the_reply_says_so_before_its_picks(catalog, index, embedder):
    engine = make_engine(catalog, index, embedder)
    result = [u.result for u in engine.respond(engine.new_session(), "recommend Zorblax Returns (2031)")][-1]
    assert result.reply.startswith("Zorblax Returns (2031) is not in the catalogue") and result.items
    known = [u.result for u in engine.respond(engine.new_session(), "recommend Heat (1995)")][-1]
    assert "not in the catalogue" not in known.reply


def test_two_missing_titles_are_named_together():
    assert (
        not_in_catalogue_note(["A (1990)", "B (1991)"])
        == "A (1990) and B (1991) are not in the catalogue, so I can't go by them."
    )
