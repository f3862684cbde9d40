"""Hard constraints on items: which items a person's stated constraints allow, and why one is not allowed.

Pure functions over Item fields. Terms are compared in a normalized form (lowercase, no
accents, no punctuation, a plural 's' dropped), so "Zombies" in a request matches the keyword
"zombie" and "Penelope Cruz" the cast member "Penélope Cruz".
Any field can also be constrained by a `FieldCondition`, written `field=value` on the command
line: `genres=comedy,drama` (any of), `year=1990..1999` or `price=..20` (a numeric range),
`genres!=horror` (none of); several conditions must all hold, so `genres=comedy` twice with other
values means all of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

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
    def parse(cls, text: str) -> "FieldCondition":
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
                bounds = f"{self.minimum:g}" if self.minimum == self.maximum else f"{self.minimum:g} to {self.maximum:g}"
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


@dataclass(frozen=True)
class ItemFilter:
    """Constraints that every shown item must satisfy. Empty fields constrain nothing.

    A wanted genre rules out only items whose genres are known: an item without genres may be one.
    """

    genres_all: frozenset[str] = frozenset()
    genres_none: frozenset[str] = frozenset()
    year_min: int | None = None
    year_max: int | None = None
    runtime_max: int | None = None
    avoid_terms: frozenset[str] = field(default_factory=frozenset)
    fields: tuple[FieldCondition, ...] = ()

    @property
    def conditions(self) -> tuple[FieldCondition, ...]:
        """Every constraint but the avoided terms, as field conditions: the one form the violation check and the
        row mask (`retrieval.filter_columns.filter_mask`) read. A wanted genre passes an item whose genres are
        unknown; a year range does not pass one without a year; a most-minutes passes one without a runtime.

        Example: ItemFilter(genres_all={"horror"}, year_max=1999) -> (genres=horror (missing passes), year=..1999)
        """
        conditions = [FieldCondition("genres", any_of=frozenset({category(genre)}), missing_passes=True)
                      for genre in sorted(self.genres_all)]
        if self.genres_none:
            conditions.append(FieldCondition("genres", any_of=frozenset(category(g) for g in self.genres_none),
                                             exclude=True, missing_passes=True))
        if self.year_min is not None or self.year_max is not None:
            conditions.append(FieldCondition("year", minimum=None if self.year_min is None else float(self.year_min),
                                             maximum=None if self.year_max is None else float(self.year_max)))
        if self.runtime_max is not None:
            conditions.append(FieldCondition("runtime_min", maximum=float(self.runtime_max), missing_passes=True))
        return (*conditions, *self.fields)

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
        """The constraints in short words, for prompts and logs: "horror; 1990-1999; no gore"."""
        parts = []
        if self.genres_all:
            parts.append(" and ".join(sorted(self.genres_all)))
        if self.year_min is not None and self.year_max is not None:
            parts.append(f"{self.year_min}-{self.year_max}" if self.year_min != self.year_max else f"{self.year_min}")
        elif self.year_min is not None:
            parts.append(f"from {self.year_min}")
        elif self.year_max is not None:
            parts.append(f"before {self.year_max + 1}")
        if self.runtime_max is not None:
            parts.append(f"under {self.runtime_max} min")
        parts += [f"no {genre}" for genre in sorted(self.genres_none)]
        parts += [f"no {term}" for term in sorted(self.avoid_terms)]
        parts += [condition.describe() for condition in self.fields]
        return "; ".join(parts)


def parse_filters(texts: Sequence[str]) -> ItemFilter:
    """An ItemFilter from `field=value` strings, all of which must hold (see FieldCondition.parse)."""
    return ItemFilter(fields=tuple(FieldCondition.parse(text) for text in texts))
