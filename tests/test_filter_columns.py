"""Filters: the vectorized row mask agrees with ItemFilter.allows on every item (one contract, two implementations)."""

import numpy as np
import pytest

from retrieval.catalog import Item
from retrieval.filter_columns import FilterColumns, UnknownFilterFieldError, filter_mask
from retrieval.filters import (
    FieldCondition,
    FilterSyntaxError,
    ItemFilter,
    genre_exclusion,
    genre_wishes,
    parse_filters,
    runtime_limit,
    year_range,
)

FILTERS = [
    ItemFilter(),
    ItemFilter(genre_wishes(["horror"])),
    ItemFilter(genre_wishes(["horror", "science fiction"])),
    ItemFilter(genre_exclusion({"comedy", "horror"})),
    ItemFilter(year_range(1980, 1995)),
    ItemFilter(year_range(None, 1969)),
    ItemFilter(runtime_limit(90)),
    ItemFilter(avoid_terms=frozenset({"gore", "zombie"})),
    ItemFilter(avoid_terms=frozenset({"tom cruise"})),
    ItemFilter(genre_wishes(["comedy"]) + year_range(1990, None), avoid_terms=frozenset({"zombie"})),
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
    ItemFilter((FieldCondition("price", maximum=10.0, missing_passes=True),)),
    ItemFilter((FieldCondition("tags", any_of=frozenset({"red"}), missing_passes=True),)),
    ItemFilter((FieldCondition("tags", any_of=frozenset({"red"}), exclude=True, missing_passes=True),)),
]


@pytest.fixture
def items(catalog):
    extras = [
        {"price": 5.5, "brand": "Acme", "tags": ["red", "blue"]},
        {"price": 12, "brand": "Globex"},
        {"price": "n/a", "brand": "Initech", "tags": ["green"]},
        {},
    ]
    return [
        Item(
            **{
                **{
                    f: getattr(item, f)
                    for f in (
                        "id",
                        "title",
                        "year",
                        "genres",
                        "directors",
                        "cast",
                        "runtime_min",
                        "synopsis",
                        "keywords",
                    )
                },
                "extra": extras[n % len(extras)],
                **({"genres": ()} if n % 5 == 4 else {}),
            }
        )  # some genres unknown
        for n, item in enumerate(catalog.items)
    ]


def test_a_wanted_genre_rules_out_only_items_whose_genres_are_known():
    wanted = ItemFilter(genre_wishes(["horror"]))
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
    assert np.array_equal(
        filter_mask(parse_filters(["category=western"]), columns),
        filter_mask(parse_filters(["genres=western"]), columns),
    )


def test_an_unknown_field_names_the_filterable_ones(items):
    with pytest.raises(UnknownFilterFieldError, match="filterable fields: genres, year"):
        filter_mask(parse_filters(["colour=red"]), FilterColumns(items))


@pytest.mark.parametrize("text", ["year", "=1990", "year=", "year=..", "year=1999..1990", "year=a..b"])
def test_unreadable_filters_are_refused(text):
    with pytest.raises(FilterSyntaxError):
        FieldCondition.parse(text)


def test_filters_describe_themselves():
    assert (
        parse_filters(["price=..15", "genres=comedy,drama"]).describe() == "price at most 15; genres: comedy or drama"
    )
    # an era reads the same whether a person said it or a filter wrote it
    assert parse_filters(["year=1990..1999", "genres=comedy,drama"]).describe() == "1990-1999; genres: comedy or drama"


def test_the_demo_wishes_describe_themselves_as_the_prompts_were_trained_on():
    wishes = ItemFilter(genre_wishes(["horror"]) + year_range(1990, 1999) + runtime_limit(100), frozenset({"gore"}))
    assert wishes.describe() == "horror; 1990-1999; under 100 min; no gore"
    assert ItemFilter(genre_exclusion({"comedy"}) + year_range(None, 1977)).describe() == "before 1978; no comedy"
