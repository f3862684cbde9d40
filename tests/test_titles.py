"""Finding catalogue titles in text: colon-prefix aliases, "&" as "and", accents, other alphabets, typo matching."""

import random

import pytest
from conftest import DEMO_CATALOG

from chat.titles import TitleMatcher, normalize_title, title_aliases
from evaluation.title_bench import synthetic_titles, with_typo
from retrieval.catalog import Item, load_catalog


def found(items, text, **options):
    return [m.item_id for m in TitleMatcher(items, **options).find(text)]


def test_a_number_before_a_colon_names_no_film():
    yuma = [Item(id="yuma-2007", title="3:10 to Yuma", year=2007)]
    assert found(yuma, "Here are 3 picks for tonight") == []
    assert found(yuma, "I loved 3:10 to Yuma") == ["yuma-2007"]


@pytest.mark.parametrize(
    "title, prefix, kept",
    [
        ("3:10 to Yuma", "3", False),
        ("2001: A Space Odyssey", "2001", False),
        ("Alien: Resurrection", "alien", False),
        ("Up: A Short", "up", False),
        ("The Thing: Prequel", "thing", False),
        ("Kill Bill: Volume 1", "kill bill", True),
        ("Mad Max: Fury Road", "mad max", True),
        ("The Lord of the Rings: The Two Towers", "lord of the rings", True),
    ],
)
def test_colon_prefix_alias_only_when_it_can_name_the_film(title, prefix, kept):
    assert (prefix in title_aliases(title)) is kept


@pytest.mark.parametrize(
    "title, text",
    [
        ("Fast & Furious", "I loved Fast and Furious"),
        ("Fast and Furious", "I loved Fast & Furious"),
        ("Harold & Kumar Go to White Castle", "harold & kumar go to white castle was fun"),
        ("Harold & Kumar Go to White Castle", "harold and kumar go to white castle was fun"),
    ],
)
def test_ampersand_and_and_are_the_same_word(title, text):
    mentions = TitleMatcher([Item(id="film", title=title)]).find(text)
    assert [m.item_id for m in mentions] == ["film"]
    assert text[mentions[0].start : mentions[0].end].lower().endswith(("furious", "castle"))


def test_typos_are_forgiven_on_the_demo_catalogue():
    catalog = load_catalog(DEMO_CATALOG)
    godfather = next(item.id for item in catalog if item.title == "The Godfather")
    assert found(catalog.items, "I loved the godfater") == [godfather]


def test_typo_matching_is_on_at_any_size_unless_switched_off():
    films = [
        Item(id="groundhog-day-1993", title="Groundhog Day", year=1993),
        Item(id="heat-1995", title="Heat", year=1995),
    ]
    assert found(films, "groundhog dya") == ["groundhog-day-1993"]
    assert found(films, "groundhog dya", fuzzy=False) == []
    assert found(films, "Groundhog Day", fuzzy=False) == ["groundhog-day-1993"]


@pytest.mark.parametrize(
    "title, text",
    [
        ("Léon", "I loved Leon"),
        ("Leon", "I loved Léon"),
        ("Amélie", "something like amelie please"),
        ("Amelie", "something like AMÉLIE please"),
        ("Les Misérables", "les miserables was great"),
        ("Les Miserables", "Les Misérables was great"),
        ("Pokémon: The First Movie", "my kids loved Pokemon: The First Movie"),
        ("Nausicaä of the Valley of the Wind", "nausicaa of the valley of the wind"),
        ("Léon", "I loved Le\u0301on"),  # typed decomposed: "e" and a combining accent
        ("Smørrebrød Blues", "smorrebrod blues, twice"),
        ("Straße der Lieder", "loved strasse der lieder"),
    ],
)
def test_accents_are_optional_in_both_directions(title, text):
    mentions = TitleMatcher([Item(id="item", title=title)]).find(text)
    assert [m.item_id for m in mentions] == ["item"]
    assert normalize_title(text[mentions[0].start : mentions[0].end]) == normalize_title(title)


@pytest.mark.parametrize(
    "title, text",
    [
        ("Москва слезам не верит", "I liked москва слезам не верит a lot"),
        ("Ζορμπάς", "Ζορμπας was fun"),
        ("千と千尋の神隠し", "I loved 千と千尋の神隠し"),
    ],
)
def test_titles_in_other_alphabets_are_found(title, text):
    assert found([Item(id="item", title=title)], text) == ["item"]


def test_typos_and_missing_accents_together():
    films = [Item(id="les-mis", title="Les Misérables"), Item(id="amelie", title="Amélie")]
    assert found(films, "les miserbles and amelie") == ["les-mis", "amelie"]


def test_accented_title_on_the_demo_catalogue():
    catalog = load_catalog(DEMO_CATALOG)
    leon = next(item.id for item in catalog if item.title == "Léon: The Professional")
    assert found(catalog.items, "I loved Leon: the Professional") == [leon]
    assert found(catalog.items, "I loved Leon") == [leon]


def test_a_typo_is_found_among_100k_titles():
    """What `python -m evaluation.title_bench` times: typo matching stays on and right at 100k titles."""
    titles = synthetic_titles(100_000, seed=3)
    items = [Item(id=f"t{i}", title=title) for i, title in enumerate(titles)]
    matcher = TitleMatcher(items)
    rng = random.Random(3)
    for index in (7, 51_234, 99_999):
        typed = with_typo(titles[index], rng)
        assert typed != titles[index].lower()
        assert [m.item_id for m in matcher.find(f"I loved {typed} last week")] == [f"t{index}"], typed


@pytest.mark.parametrize(
    "text", ["**Pirates of the Coral Sea**: A fine pick", "I loved Pirates of the Coral Sea a lot"]
)
def test_a_title_plus_a_word_is_not_a_typo_of_its_expansion(text):
    games = [Item(id="base", title="Pirates of the Coral Sea"), Item(id="duel", title="Pirates of the Coral Sea: Duel")]
    assert found(games, text) == ["base"]
    assert found(games, "Pirates of the Coral Sea: Dule") == ["duel"]
