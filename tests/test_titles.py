"""Finding catalogue titles in text: colon-prefix aliases, "&" as "and", typo matching and its switch."""

import pytest
from conftest import DEMO_CATALOG

from chat import titles as titles_module
from chat.titles import TitleMatcher, title_aliases
from retrieval.catalog import Item, load_catalog


def found(items, text, **options):
    return [m.item_id for m in TitleMatcher(items, **options).find(text)]


def test_a_number_before_a_colon_names_no_film():
    yuma = [Item(id="yuma-2007", title="3:10 to Yuma", year=2007)]
    assert found(yuma, "Here are 3 picks for tonight") == []
    assert found(yuma, "I loved 3:10 to Yuma") == ["yuma-2007"]


@pytest.mark.parametrize(
    "title, prefix, kept",
    [("3:10 to Yuma", "3", False), ("2001: A Space Odyssey", "2001", False), ("Alien: Resurrection", "alien", False),
     ("Up: A Short", "up", False), ("The Thing: Prequel", "thing", False),
     ("Kill Bill: Volume 1", "kill bill", True), ("Mad Max: Fury Road", "mad max", True),
     ("The Lord of the Rings: The Two Towers", "lord of the rings", True)],
)
def test_colon_prefix_alias_only_when_it_can_name_the_film(title, prefix, kept):
    assert (prefix in title_aliases(title)) is kept


@pytest.mark.parametrize(
    "title, text",
    [("Fast & Furious", "I loved Fast and Furious"), ("Fast and Furious", "I loved Fast & Furious"),
     ("Harold & Kumar Go to White Castle", "harold & kumar go to white castle was fun"),
     ("Harold & Kumar Go to White Castle", "harold and kumar go to white castle was fun")],
)
def test_ampersand_and_and_are_the_same_word(title, text):
    mentions = TitleMatcher([Item(id="film", title=title)]).find(text)
    assert [m.item_id for m in mentions] == ["film"]
    assert text[mentions[0].start : mentions[0].end].lower().endswith(("furious", "castle"))


def test_typos_are_forgiven_on_the_demo_catalogue():
    catalog = load_catalog(DEMO_CATALOG)
    godfather = next(item.id for item in catalog if item.title == "The Godfather")
    assert found(catalog.items, "I loved the godfater") == [godfather]


def test_typo_matching_switches_off_above_the_size_limit_unless_asked(monkeypatch):
    films = [Item(id="groundhog-day-1993", title="Groundhog Day", year=1993), Item(id="heat-1995", title="Heat", year=1995)]
    monkeypatch.setattr(titles_module, "FUZZY_MAX_TITLES", 1)
    assert found(films, "groundhog dya") == []
    assert found(films, "Groundhog Day") == ["groundhog-day-1993"]
    assert found(films, "groundhog dya", fuzzy=True) == ["groundhog-day-1993"]
    monkeypatch.setattr(titles_module, "FUZZY_MAX_TITLES", 20_000)
    assert found(films, "groundhog dya") == ["groundhog-day-1993"]
    assert found(films, "groundhog dya", fuzzy=False) == []
