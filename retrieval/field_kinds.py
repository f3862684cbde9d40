"""What each filterable field of a catalogue holds: its kind (categorical or numeric), its vocabulary or range, its unit.

Recorded in the index manifest at build time (`retrieval.index.Manifest.field_kinds`) so the
reader (`chat.understanding`) maps what a person says onto fields that exist: "crime fiction" is
a hard constraint only where the catalogue has that category, "shorter" means pages for books and
minutes for films, "cheaper" means nothing where there is no price. Pure functions over items.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from statistics import median
from typing import Literal

from retrieval.catalog import Item
from retrieval.filters import category, field_values, number

MAX_VOCABULARY = (
    60  # a categorical field with more values (cast, keywords, authors) is open: no word of it is a category
)
NUMERIC_SHARE = 0.9  # a field is numeric when this share of its non-empty values are single numbers
# Units people use for a field, by field name; a field not listed has none.
UNITS = {
    "runtime_min": "minutes",
    "play_minutes": "minutes",
    "duration_min": "minutes",
    "pages": "pages",
    "price": "currency",
    "year": "year",
    "age": "years",
    "min_players": "players",
    "max_players": "players",
}
# People fields: names a person may ask for or avoid, and which reasons may state ("by Beatrix Wren").
PERSON_FIELDS = ("directors", "cast", "author", "authors", "designer", "designers", "artist", "creator", "creators")


@dataclass(frozen=True)
class FieldKind:
    """One filterable field. Categorical: `values` is its whole vocabulary, folded (empty when open, i.e. large).
    Numeric: `minimum`, `median` and `maximum` of its values, and its `unit` where known."""

    name: str
    kind: Literal["categorical", "numeric"]
    values: tuple[str, ...] = ()
    minimum: float | None = None
    median: float | None = None
    maximum: float | None = None
    unit: str = ""

    @classmethod
    def from_dict(cls, record: dict) -> FieldKind:
        return cls(**{**record, "values": tuple(record.get("values", ()))})


def describe_field(items: Sequence[Item], name: str) -> FieldKind | None:
    """The kind of field `name` over the items; None when no item has a value for it.

    Example: prices 9.5, 12, 30 -> FieldKind("price", "numeric", minimum=9.5, median=12.0, maximum=30.0, unit="currency");
             categories "crime fiction", "Cookery" -> FieldKind("category", "categorical", values=("cookery", "crime fiction"))
    """
    values = [value for item in items for value in field_values(item, name)]
    if not values:
        return None
    numbers = [n for n in (number(v) for v in values if not isinstance(v, str) or v.strip()) if n is not None]
    if len(numbers) >= NUMERIC_SHARE * len(values):
        return FieldKind(
            name,
            "numeric",
            minimum=min(numbers),
            median=float(median(numbers)),
            maximum=max(numbers),
            unit=UNITS.get(name, ""),
        )
    vocabulary = sorted({category(v) for v in values} - {""})
    return FieldKind(name, "categorical", values=tuple(vocabulary) if len(vocabulary) <= MAX_VOCABULARY else ())


def describe_fields(items: Sequence[Item], names: Iterable[str]) -> tuple[FieldKind, ...]:
    """Every field in `names` that some item fills, in order."""
    return tuple(kind for kind in (describe_field(items, name) for name in dict.fromkeys(names)) if kind is not None)


@dataclass(frozen=True)
class CatalogFields:
    """A catalogue's filterable fields by name, with the look-ups the reader and the engine need."""

    kinds: tuple[FieldKind, ...] = ()

    @classmethod
    def from_records(cls, records: Iterable[dict]) -> CatalogFields:
        return cls(tuple(FieldKind.from_dict(record) for record in records))

    def records(self) -> list[dict]:
        return [asdict(kind) for kind in self.kinds]

    def get(self, name: str) -> FieldKind | None:
        return next((kind for kind in self.kinds if kind.name == name), None)

    def numeric(self, name: str) -> FieldKind | None:
        kind = self.get(name)
        return kind if kind is not None and kind.kind == "numeric" else None

    def first_numeric(self, names: Sequence[str]) -> FieldKind | None:
        """The first of `names` that is a numeric field here. Example: ("runtime_min", "pages") for books -> pages"""
        return next((kind for kind in map(self.numeric, names) if kind is not None), None)

    def vocabulary(self, name: str) -> frozenset[str]:
        kind = self.get(name)
        return frozenset(kind.values) if kind is not None and kind.kind == "categorical" else frozenset()

    def category_fields(self) -> tuple[FieldKind, ...]:
        """Categorical fields with a closed vocabulary that are not people: where a word can be a hard constraint."""
        return tuple(
            k
            for k in self.kinds
            if k.kind == "categorical" and k.values and k.name not in PERSON_FIELDS and k.name != "keywords"
        )


def creators(item: Item) -> tuple[str, ...]:
    """Who made the item: its directors, else the people in its author or designer fields.

    Example: Item(directors=("Ridley Scott",)) -> ("Ridley Scott",);  extra {"author": "Élodie Brulé"} -> ("Élodie Brulé",)
    """
    names = list(item.directors)
    for name in PERSON_FIELDS[2:]:
        value = item.extra.get(name)
        for person in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(person, str) and person.strip():
                names.append(person.strip())
    return tuple(dict.fromkeys(names))


def people_of(item: Item) -> tuple[str, ...]:
    """Everyone named on the item's card: its creators and its cast."""
    return tuple(dict.fromkeys((*creators(item), *item.cast)))
