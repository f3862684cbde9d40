"""Filters as boolean row masks over a columnar copy of the catalogue, so filtering 1M items takes milliseconds.

`filter_mask(filters, columns)` answers, for every row at once, what `filters.allows(item)`
answers for one item (a contract test holds the two to the same result). A column is built the
first time a filter needs it and kept: numbers as a float array (NaN where an item has no
single number), categories as an inverted list category -> rows, avoided terms as the rows
whose text contains them (cached per term).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

import numpy as np

from retrieval.catalog import Item
from retrieval.filters import FieldCondition, ItemFilter, avoid_text, category, field_values, number

BUILTIN_FILTER_FIELDS = ("genres", "year", "runtime_min", "keywords", "directors", "cast")
TERM_CACHE_SIZE = 256


class UnknownFilterFieldError(ValueError):
    """A filter names a field this index cannot filter on."""

    def __init__(self, name: str, available: Sequence[str]):
        self.name = name
        self.available = tuple(available)
        super().__init__(f"cannot filter on {name!r}; filterable fields: {', '.join(self.available) or 'none'}")


class FilterColumns:
    """Per-field columns over a fixed list of rows (the index's rows), built lazily from the items."""

    def __init__(
        self,
        items: Sequence[Item],
        fields: Sequence[str] = BUILTIN_FILTER_FIELDS,
        columns: Mapping[str, str] | None = None,
    ):
        """`columns` (Item field -> catalogue column) lets a filter name a field by its column, e.g. category for genres."""
        self.items = items
        self.count = len(items)
        self.fields = tuple(dict.fromkeys((*BUILTIN_FILTER_FIELDS, *fields)))
        self._field_of_column = {column: name for name, column in (columns or {}).items() if column not in self.fields}
        self._numbers: dict[str, np.ndarray] = {}
        self._categories: dict[str, dict[str, np.ndarray]] = {}
        self._term_rows: dict[str, np.ndarray] = {}
        self._avoid_texts: list[str] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_arrays(
        cls,
        count: int,
        numbers: Mapping[str, np.ndarray] | None = None,
        categories: Mapping[str, Sequence[str]] | None = None,
    ) -> FilterColumns:
        """Columns given directly (one value per row), without Item objects: for benchmarks on generated data."""
        numbers, categories = dict(numbers or {}), dict(categories or {})
        columns = cls((), (*numbers, *categories))
        columns.count = count
        for name, values in numbers.items():
            columns._numbers[name] = np.asarray(values, dtype=np.float64)
        for name, labels in categories.items():
            columns._categories[name] = _inverted(category(label) for label in labels)
        return columns

    def field(self, name: str) -> str:
        """The Item field a filter on `name` (a field or a catalogue column) constrains."""
        name = self._field_of_column.get(name, name)
        if name not in self.fields:
            raise UnknownFilterFieldError(name, self.fields)
        return name

    def numbers(self, name: str) -> np.ndarray:
        """One float per row: the item's value when it is exactly one number, else NaN."""
        name = self.field(name)
        column = self._numbers.get(name)
        if column is None:
            column = np.full(self.count, np.nan)
            for row, item in enumerate(self.items):
                values = field_values(item, name)
                value = number(values[0]) if len(values) == 1 else None
                if value is not None:
                    column[row] = value
            with self._lock:
                self._numbers[name] = column
        return column

    def rows_with(self, name: str, wanted: frozenset[str]) -> np.ndarray:
        """A mask of the rows having at least one of the categories `wanted` in field `name`."""
        name = self.field(name)
        inverted = self._categories.get(name)
        if inverted is None:
            inverted = (
                _inverted((category(value) for value in field_values(item, name)) for item in self.items)
                if self.items
                else {}
            )
            with self._lock:
                self._categories[name] = inverted
        mask = np.zeros(self.count, dtype=bool)
        for value in wanted:
            rows = inverted.get(category(value))
            if rows is not None:
                mask[rows] = True
        return mask

    def rows_with_any(self, name: str) -> np.ndarray:
        """A mask of the rows with at least one value in field `name` (a genre known, say)."""
        self.rows_with(name, frozenset())  # builds the column
        mask = np.zeros(self.count, dtype=bool)
        for rows in self._categories[self.field(name)].values():
            mask[rows] = True
        return mask

    def rows_with_term(self, term: str) -> np.ndarray:
        """The rows whose avoid-text holds `term` as whole words (see filters.avoid_text)."""
        rows = self._term_rows.get(term)
        if rows is None:
            if self._avoid_texts is None:
                self._avoid_texts = [avoid_text(item) for item in self.items]
            needle = f" {term} "
            rows = np.fromiter((row for row, text in enumerate(self._avoid_texts) if needle in text), dtype=np.int64)
            with self._lock:
                if len(self._term_rows) >= TERM_CACHE_SIZE:
                    self._term_rows.pop(next(iter(self._term_rows)))
                self._term_rows[term] = rows
        return rows


def _inverted(values_per_row) -> dict[str, np.ndarray]:
    """category -> sorted rows, from one value (a str) or an iterable of values per row."""
    rows_of: dict[str, list[int]] = {}
    for row, values in enumerate(values_per_row):
        for value in [values] if isinstance(values, str) else values:
            rows_of.setdefault(value, []).append(row)
    return {value: np.asarray(rows, dtype=np.int64) for value, rows in rows_of.items()}


def _condition_mask(condition: FieldCondition, columns: FilterColumns) -> np.ndarray:
    if condition.is_range:
        values = columns.numbers(condition.field)
        with np.errstate(invalid="ignore"):
            known = ~np.isnan(values)
            holds = known.copy()
            if condition.minimum is not None:
                holds &= values >= condition.minimum
            if condition.maximum is not None:
                holds &= values <= condition.maximum
    else:
        known = columns.rows_with_any(condition.field)
        holds = columns.rows_with(condition.field, condition.any_of)
    mask = (known & ~holds) if condition.exclude else holds
    return mask | ~known if condition.missing_passes else mask


def filter_mask(filters: ItemFilter, columns: FilterColumns) -> np.ndarray:
    """True for every row the filter allows; the vectorized twin of `ItemFilter.allows`, over the same conditions."""
    mask = np.ones(columns.count, dtype=bool)
    for condition in filters.conditions:
        mask &= _condition_mask(condition, columns)
    for term in filters.avoid_terms:
        mask[columns.rows_with_term(term)] = False
    return mask
