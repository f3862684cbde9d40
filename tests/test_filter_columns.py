"""Filters: the vectorized row mask agrees with ItemFilter.allows on every item (one contract, two implementations)."""

import numpy as np
import pytest

from retrieval.catalog import Item
from retrieval.filter_columns import FilterColumns, UnknownFilterFieldError, filter_mask
from retrieval.filters import FieldCondition, FilterSyntaxError, ItemFilter, parse_filters

FILTERS = [
    ItemFilter(),
    ItemFilter(genres_all=frozenset({"horror"})),
    ItemFilter(genres_all=frozenset({"horror", "science fiction"})),
    ItemFilter(genres_none=frozenset({"comedy", "horror"})),
    ItemFilter(year_min=1980, year_max=1995),
    ItemFilter(year_max=1969),
    ItemFilter(runtime_max=90),
    ItemFilter(avoid_terms=frozenset({"gore", "zombie"})),
    ItemFilter(avoid_terms=frozenset({"tom cruise"})),
    ItemFilter(genres_all=frozenset({"comedy"}), avoid_terms=frozenset({"zombie"}), year_min=1990),
    parse_filters(["genres=Comedy, western"]),
    parse_filters(["year=1990..1999", "genres=comedy"]),
    parse_filters(["year=..1970"]),
    parse_filters(["runtime_min=100.."]),
    parse_filters(["cast=Tom Cruise"]),
    parse_filters(["price=..10"]),
    parse_filters(["brand=acme,globex"]),
    parse_filters(["tags=red"]),
    parse_filters(["year=1982"]),
    parse_filters(["genres!=horror,comedy"]),
    parse_filters(["price!=..10"]),
    ItemFilter(fields=(FieldCondition("price", maximum=10.0, missing_passes=True),)),
    ItemFilter(fields=(FieldCondition("tags", any_of=frozenset({"red"}), missing_passes=True),)),
    ItemFilter(fields=(FieldCondition("tags", any_of=frozenset({"red"}), exclude=True, missing_passes=True),)),
]


@pytest.fixture
def items(catalog):
    extras = [{"price": 5.5, "brand": "Acme", "tags": ["red", "blue"]}, {"price": 12, "brand": "Globex"},
              {"price": "n/a", "brand": "Initech", "tags": ["green"]}, {}]
    return [Item(**{**{f: getattr(item, f) for f in ("id", "title", "year", "genres", "directors", "cast",
                                                     "runtime_min", "synopsis", "keywords")},
                    "extra": extras[n % len(extras)], **({"genres": ()} if n % 5 == 4 else {})})  # some genres unknown
            for n, item in enumerate(catalog.items)]


def test_a_wanted_genre_rules_out_only_items_whose_genres_are_known():
    wanted = ItemFilter(genres_all=frozenset({"horror"}))
    assert wanted.allows(Item(id="a", title="A", genres=("horror",)))
    assert wanted.allows(Item(id="b", title="B"))  # genres unknown: maybe
    assert not wanted.allows(Item(id="c", title="C", genres=("comedy",)))


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: f.describe() or "none")
def test_mask_agrees_with_allows_on_every_item(items, filters):
    columns = FilterColumns(items, ("price", "brand", "tags"))
    expected = np.array([filters.allows(item) for item in items])
    assert np.array_equal(filter_mask(filters, columns), expected)


def test_columns_named_by_their_catalogue_column_reach_the_item_field(items):
    columns = FilterColumns(items, (), columns={"genres": "category"})
    assert np.array_equal(filter_mask(parse_filters(["category=western"]), columns),
                          filter_mask(parse_filters(["genres=western"]), columns))


def test_an_unknown_field_names_the_filterable_ones(items):
    with pytest.raises(UnknownFilterFieldError, match="filterable fields: genres, year"):
        filter_mask(parse_filters(["colour=red"]), FilterColumns(items))


@pytest.mark.parametrize("text", ["year", "=1990", "year=", "year=..", "year=1999..1990", "year=a..b"])
def test_unreadable_filters_are_refused(text):
    with pytest.raises(FilterSyntaxError):
        FieldCondition.parse(text)


def test_filters_describe_themselves():
    assert parse_filters(["year=1990..1999", "genres=comedy,drama"]).describe() == "year 1990 to 1999; genres: comedy or drama"
