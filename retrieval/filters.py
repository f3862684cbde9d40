"""Hard constraints on items: which items a person's stated constraints allow, and why one is not allowed.

Pure functions over Item fields. Terms are compared in a normalized form (lowercase, no
accents, no punctuation, a plural 's' dropped), so "Zombies" in a request matches the keyword
"zombie" and "Penelope Cruz" the cast member "Penélope Cruz".
Any field can also be constrained by a `FieldCondition`, written `field=value` on the command
line: `genres=comedy,drama` (any of), `year=1990..1999` or `price=..20` (a numeric range),
`genres!=horror` (none of); several conditions must all hold, so `genres=comedy` twice with other
values means all of them.
The demo's well-known wishes (a genre, genres to avoid, an era, a most-minutes) are conditions of one
shape each, made by `genre_wishes`, `genre_exclusion`, `year_range` and `runtime_limit` and told
apart by `wish_kind`; `Constraints` answers for anything holding conditions what it wants.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from retrieval.catalog import Item
from retrieval.text_keys import fold, words


class FilterSyntaxError(ValueError):
    """A `field=value` filter that cannot be read."""


def normalize_term(text: str) -> str:
    """Folded words (`retrieval.text_keys`) joined by single spaces, each without a trailing plural 's'.

    Example: "Zombies!" -> "zombie";  "Tom  Cruise" -> "tom cruise";  "Penélope Cruz" -> "penelope cruz"
    """
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words(text))


def category(value: Any) -> str:
    """A value as compared by categorical filters: folded (`retrieval.text_keys`), spaces collapsed, whole numbers
    without ".0".

    Example: "  Science  Fiction" -> "science fiction";  "Comédie" -> "comedie";  1994.0 -> "1994";  9.5 -> "9.5"
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(fold(str(value)).split())


def number(value: Any) -> float | None:
    """A value as compared by range filters, or None when it is not one number.

    Example: 1994 -> 1994.0;  "9.99" -> 9.99;  "n/a" -> None;  ["1", "2"] -> None
    """
    if value is None or isinstance(value, (bool, list, tuple, dict)):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def field_values(item: Item, name: str) -> tuple[Any, ...]:
    """An item's values for a field: () when absent, the elements of a list field, else one value."""
    value = item.value(name)
    if value is None or value == "":
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(v for v in value if v is not None and v != "")
    return (value,)


@dataclass(frozen=True)
class FieldCondition:
    """One constraint on one field: the item has any of `any_of`, or its number lies in [minimum, maximum].

    With `exclude` the condition is turned round: the item has none of `any_of` (its number lies outside the
    range). With `missing_passes` an item without a value for the field is allowed (a book whose page count is
    unknown may be short); otherwise it is not.
    """

    field: str
    any_of: frozenset[str] = frozenset()
    minimum: float | None = None
    maximum: float | None = None
    exclude: bool = False
    missing_passes: bool = False

    def __post_init__(self) -> None:
        has_range = self.minimum is not None or self.maximum is not None
        if not self.field:
            raise FilterSyntaxError("a filter needs a field name")
        if bool(self.any_of) == has_range:
            raise FilterSyntaxError(f"filter on {self.field!r} needs either values or a range")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise FilterSyntaxError(f"filter on {self.field!r}: range {self.minimum:g}..{self.maximum:g} is empty")

    @property
    def is_range(self) -> bool:
        return not self.any_of

    @classmethod
    def parse(cls, text: str) -> FieldCondition:
        """`field=a,b` (any of), `field=low..high` (either end may be left out), `field!=...` (none of, outside).

        Example: "year=1990..1999" -> FieldCondition("year", minimum=1990.0, maximum=1999.0)
                 "genres=Comedy, drama" -> FieldCondition("genres", any_of=frozenset({"comedy", "drama"}))
                 "genres!=horror" -> FieldCondition("genres", any_of=frozenset({"horror"}), exclude=True)
        """
        name, equals, spec = text.partition("=")
        exclude = name.endswith("!")
        name, spec = name.rstrip("!").strip(), spec.strip()
        if not equals or not name or not spec:
            raise FilterSyntaxError(f"filter {text!r}: write field=value, field=a,b or field=low..high")
        if ".." in spec:
            low, high = (part.strip() for part in spec.split("..", 1))
            bounds = []
            for part in (low, high):
                if part and number(part) is None:
                    raise FilterSyntaxError(f"filter {text!r}: {part!r} is not a number")
                bounds.append(number(part) if part else None)
            if bounds == [None, None]:
                raise FilterSyntaxError(f"filter {text!r}: a range needs at least one end")
            return cls(name, minimum=bounds[0], maximum=bounds[1], exclude=exclude)
        values = frozenset(category(part) for part in spec.split(",") if part.strip())
        if not values:
            raise FilterSyntaxError(f"filter {text!r}: no value given")
        return cls(name, any_of=values, exclude=exclude)

    def text(self) -> str:
        """The condition as `parse` reads it. Example: FieldCondition("price", maximum=20.0) -> "price=..20" """
        spec = self.describe_range() if self.is_range else ",".join(sorted(self.any_of))
        return f"{self.field}{'!' if self.exclude else ''}={spec}"

    def holds(self, item: Item) -> bool | None:
        """Whether the item's value meets the condition before `exclude` turns it round; None when it has no value."""
        values = field_values(item, self.field)
        if self.is_range:
            numbers = [number(v) for v in values]
            value = numbers[0] if len(numbers) == 1 else None
            if value is None:
                return None
            return (self.minimum is None or value >= self.minimum) and (self.maximum is None or value <= self.maximum)
        if not values:
            return None
        return any(category(v) in self.any_of for v in values)

    def violation(self, item: Item) -> str | None:
        holds = self.holds(item)
        if holds is None:
            return None if self.missing_passes else f"{self.field} unknown"
        if holds != self.exclude:
            return None
        if self.is_range:
            return f"{self.field} {'' if self.exclude else 'not '}{self.describe_range()}"
        return f"{self.field} {'is' if self.exclude else 'not'} {' or '.join(sorted(self.any_of))}"

    def describe_range(self) -> str:
        low = "" if self.minimum is None else f"{self.minimum:g}"
        high = "" if self.maximum is None else f"{self.maximum:g}"
        return f"{low}..{high}"

    def describe(self) -> str:
        """The condition in short words, for replies and logs.

        Example: year=1990..1999 -> "year 1990 to 1999";  price=..15 -> "price at most 15";
                 genres=comedy,drama -> "genres: comedy or drama";  mechanics!=bluffing -> "mechanics: not bluffing"
        """
        name = self.field.replace("_", " ")
        if self.is_range:
            if self.minimum is not None and self.maximum is not None:
                bounds = (
                    f"{self.minimum:g}" if self.minimum == self.maximum else f"{self.minimum:g} to {self.maximum:g}"
                )
            else:
                bounds = f"at most {self.maximum:g}" if self.minimum is None else f"at least {self.minimum:g}"
            return f"{name} {'not ' if self.exclude else ''}{bounds}"
        return f"{name}: {'not ' if self.exclude else ''}{' or '.join(sorted(self.any_of))}"


def avoid_text(item: Item) -> str:
    """The words an avoided term is looked for in: genres, keywords, people, title and synopsis, " | "-separated.

    Whole-word containment (`f" {term} " in text`), so "violence" also catches "graphic violence".
    """
    terms = [normalize_term(t) for t in (*item.genres, *item.keywords, *item.cast, *item.directors)]
    return " " + " | ".join(terms) + " | " + normalize_term(f"{item.title} {item.synopsis}") + " "


# The demo's well-known fields. A wish on one of them has one shape of FieldCondition, made and said here alone;
# any other condition is said by `FieldCondition.describe`.
GENRES, YEAR, RUNTIME = "genres", "year", "runtime_min"
WishKind = Literal["genre", "no_genre", "years", "runtime"]


def genre_wishes(genres: Iterable[str]) -> tuple[FieldCondition, ...]:
    """One condition per wanted genre, in the order given: each must hold, and an item whose genres are unknown may
    be one. Example: ["horror"] -> (genres=horror (missing passes),)"""
    return tuple(FieldCondition(GENRES, any_of=frozenset({category(genre)}), missing_passes=True) for genre in genres)


def genre_exclusion(genres: Iterable[str]) -> tuple[FieldCondition, ...]:
    """The genres to avoid as one condition, or none. Example: {"comedy", "horror"} -> (genres!=comedy,horror,)"""
    values = frozenset(category(genre) for genre in genres)
    return (FieldCondition(GENRES, any_of=values, exclude=True, missing_passes=True),) if values else ()


def year_range(year_min: float | None, year_max: float | None) -> tuple[FieldCondition, ...]:
    """A wanted era, or none: an item without a year does not pass. Example: (1990, 1999) -> (year=1990..1999,)"""
    if year_min is None and year_max is None:
        return ()
    return (
        FieldCondition(
            YEAR,
            minimum=None if year_min is None else float(year_min),
            maximum=None if year_max is None else float(year_max),
        ),
    )


def runtime_limit(minutes: float | None) -> tuple[FieldCondition, ...]:
    """A most-minutes, or none: an item whose runtime is unknown may be short enough."""
    return () if minutes is None else (FieldCondition(RUNTIME, maximum=float(minutes), missing_passes=True),)


def wish_kind(condition: FieldCondition) -> WishKind | None:
    """Which well-known wish a condition is, or None for any other condition.

    Example: genre_wishes(["horror"])[0] -> "genre";  runtime_limit(100)[0] -> "runtime";
             FieldCondition.parse("genres=comedy,drama") -> None (a filter, not a wished genre)
    """
    if condition.field == GENRES and not condition.is_range and condition.missing_passes:
        return "no_genre" if condition.exclude else "genre" if len(condition.any_of) == 1 else None
    if condition.exclude or not condition.is_range:
        return None
    if condition.field == YEAR and not condition.missing_passes:
        return "years"
    if condition.field == RUNTIME and condition.minimum is None and condition.missing_passes:
        return "runtime"
    return None


def whole(value: float | None) -> int | float | None:
    """A bound as a person writes it. Example: 1990.0 -> 1990;  9.5 -> 9.5;  None -> None"""
    return int(value) if value is not None and float(value).is_integer() else value


def era_words(year_min: float | None, year_max: float | None) -> str:
    """Example: (1990, 1999) -> "1990-1999";  (1994, 1994) -> "1994";  (1980, None) -> "from 1980";
    (None, 1999) -> "before 2000" """
    if year_min is not None and year_max is not None:
        return f"{year_min:g}-{year_max:g}" if year_min != year_max else f"{year_min:g}"
    if year_min is not None:
        return f"from {year_min:g}"
    return f"before {year_max + 1:g}" if year_max is not None else ""


class Constraints:
    """What holders of `conditions` (a filter, a dialogue state, a reading, a search call) answer about them."""

    conditions: tuple[FieldCondition, ...]

    def wanted(self, name: str) -> frozenset[str]:
        """The values wanted on a categorical field. Example: genres=horror, genres!=comedy -> {"horror"}"""
        return frozenset(
            value for c in self.conditions if c.field == name and not c.exclude and not c.is_range for value in c.any_of
        )

    def avoided(self, name: str) -> frozenset[str]:
        """The values ruled out on a categorical field. Example: genres=horror, genres!=comedy -> {"comedy"}"""
        return frozenset(
            value for c in self.conditions if c.field == name and c.exclude and not c.is_range for value in c.any_of
        )

    def bounds(self, name: str) -> tuple[int | float | None, int | float | None]:
        """The wanted range on a numeric field, (None, None) without one. Example: year=1990..1999 -> (1990, 1999)"""
        for c in reversed(self.conditions):
            if c.field == name and c.is_range and not c.exclude:
                return whole(c.minimum), whole(c.maximum)
        return None, None

    def wishes(self, kind: WishKind) -> tuple[FieldCondition, ...]:
        return tuple(c for c in self.conditions if wish_kind(c) == kind)

    def others(self) -> tuple[FieldCondition, ...]:
        """The conditions that are no well-known wish: on the catalogue's other fields, or filters as written."""
        return tuple(c for c in self.conditions if wish_kind(c) is None)

    def wanted_categories(self) -> list[str]:
        """Every wanted category in words: the wished genres sorted, then the other fields' values.

        Example: genres=horror, mechanics=cooperative -> ["horror", "cooperative"]
        """
        genres = sorted(value for c in self.wishes("genre") for value in c.any_of)
        return genres + [value for c in self.others() if not c.exclude and not c.is_range for value in sorted(c.any_of)]

    def excluded_categories(self) -> frozenset[str]:
        """Every value ruled out on any categorical field. Example: genres!=comedy, mechanics!=bluffing -> both"""
        return frozenset(value for c in self.conditions if c.exclude and not c.is_range for value in c.any_of)


@dataclass(frozen=True)
class ItemFilter(Constraints):
    """Constraints that every shown item must satisfy: field conditions, all of which must hold, and terms to avoid.

    The violation check and the row mask (`retrieval.filter_columns.filter_mask`) read the conditions alone.
    Example: ItemFilter(genre_wishes(["horror"]) + year_range(None, 1999), frozenset({"gore"}))
    """

    conditions: tuple[FieldCondition, ...] = ()
    avoid_terms: frozenset[str] = field(default_factory=frozenset)

    def violations(self, item: Item) -> list[str]:
        """Every constraint this item breaks, in words; empty when the item is allowed."""
        broken = [problem for problem in (condition.violation(item) for condition in self.conditions) if problem]
        if self.avoid_terms:
            text = avoid_text(item)
            broken += [f"has {term}" for term in sorted(self.avoid_terms) if f" {term} " in text]
        return broken

    def allows(self, item: Item) -> bool:
        return not self.violations(item)

    @property
    def is_empty(self) -> bool:
        return self == ItemFilter()

    def describe(self) -> str:
        """The constraints in short words, for prompts and logs: "horror; 1990-1999; under 100 min; no gore"."""
        parts = []
        genres = sorted(value for c in self.wishes("genre") for value in c.any_of)
        if genres:
            parts.append(" and ".join(genres))
        parts += [era_words(c.minimum, c.maximum) for c in self.wishes("years")]
        parts += [f"under {c.maximum:g} min" for c in self.wishes("runtime")]
        parts += [f"no {genre}" for genre in sorted(value for c in self.wishes("no_genre") for value in c.any_of)]
        parts += [f"no {term}" for term in sorted(self.avoid_terms)]
        parts += [condition.describe() for condition in self.others()]
        return "; ".join(parts)


def parse_filters(texts: Sequence[str]) -> ItemFilter:
    """An ItemFilter from `field=value` strings, all of which must hold (see FieldCondition.parse)."""
    return ItemFilter(tuple(FieldCondition.parse(text) for text in texts))
