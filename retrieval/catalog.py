"""The item catalogue: the Item record, loading a catalogue file, and validating it row by row.

A catalogue is a JSONL or CSV file with one item per row. Required fields are `id` and
`title`; the rest (year, genres, directors, cast, runtime_min, synopsis, keywords) are
optional and feed the embedded text, the filters and the item cards. Any other column is kept
in `Item.extra`. Problems are reported as `file:row:field: what is wrong`, all of them at once.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

LIST_FIELDS = ("genres", "directors", "cast", "keywords")
KNOWN_FIELDS = ("id", "title", "year", "runtime_min", "synopsis") + LIST_FIELDS


@dataclass(frozen=True)
class Item:
    """One recommendable thing. Strings are stripped; list fields are tuples of lowercase-free text."""

    id: str
    title: str
    year: int | None = None
    genres: tuple[str, ...] = ()
    directors: tuple[str, ...] = ()
    cast: tuple[str, ...] = ()
    runtime_min: int | None = None
    synopsis: str = ""
    keywords: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def label(self) -> str:
        """Title with year, as a person reads it: "Alien (1979)"."""
        return f"{self.title} ({self.year})" if self.year else self.title


@dataclass(frozen=True)
class RowProblem:
    path: str
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.row}:{self.field}: {self.message}"


class CatalogError(ValueError):
    """A catalogue file could not be read or has invalid rows; `problems` lists each one."""

    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:50])
        more = f"\n... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problem(s) in catalogue:\n{shown}{more}")


class Catalog:
    """Items in file order, with lookup by id. Read-only once built."""

    def __init__(self, items: Iterable[Item], source: str = ""):
        self.items: tuple[Item, ...] = tuple(items)
        self.source = source
        self._by_id = {item.id: item for item in self.items}
        self.genres = frozenset(genre for item in self.items for genre in item.genres)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._by_id

    def __getitem__(self, item_id: str) -> Item:
        return self._by_id[item_id]

    def get(self, item_id: str) -> Item | None:
        return self._by_id.get(item_id)

    def content_hash(self) -> str:
        """A hash of every item's fields: changes whenever anything that is embedded could change."""
        digest = hashlib.sha256()
        for item in self.items:
            record = {name: getattr(item, name) for name in KNOWN_FIELDS}
            record["extra"] = item.extra
            digest.update(json.dumps(record, sort_keys=True, default=list).encode())
        return digest.hexdigest()


def _split_list(value: Any) -> tuple[str, ...]:
    """A list field from JSON (a list) or CSV (a '|' or ';' separated string).

    Example: "horror|science fiction" -> ("horror", "science fiction")
    """
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        parts: Iterable[Any] = value
    else:
        text = str(value)
        separator = "|" if "|" in text else ";" if ";" in text else ","
        parts = text.split(separator)
    return tuple(str(part).strip() for part in parts if str(part).strip())


def _optional_int(value: Any, name: str, problems: list[RowProblem], where: tuple[str, int]) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        problems.append(RowProblem(where[0], where[1], name, f"not a number: {str(value)[:40]!r}"))
        return None
    if number != int(number):
        problems.append(RowProblem(where[0], where[1], name, f"not a whole number: {value!r}"))
        return None
    return int(number)


def item_from_record(record: dict[str, Any], path: str, row: int, problems: list[RowProblem]) -> Item | None:
    """Validate one raw row; append its problems and return None if it cannot become an Item."""
    before = len(problems)
    item_id = str(record.get("id") or "").strip()
    title = str(record.get("title") or "").strip()
    if not item_id:
        problems.append(RowProblem(path, row, "id", "missing id"))
    if not title:
        problems.append(RowProblem(path, row, "title", "missing title"))
    year = _optional_int(record.get("year"), "year", problems, (path, row))
    runtime = _optional_int(record.get("runtime_min"), "runtime_min", problems, (path, row))
    if len(problems) > before:
        return None
    extra = {key: value for key, value in record.items() if key not in KNOWN_FIELDS}
    return Item(
        id=item_id,
        title=title,
        year=year,
        genres=tuple(genre.lower() for genre in _split_list(record.get("genres"))),
        directors=_split_list(record.get("directors")),
        cast=_split_list(record.get("cast")),
        runtime_min=runtime,
        synopsis=str(record.get("synopsis") or "").strip(),
        keywords=tuple(keyword.lower() for keyword in _split_list(record.get("keywords"))),
        extra=extra,
    )


def _read_records(path: Path, problems: list[RowProblem]) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a JSONL or CSV file, numbered as a person counts lines (header is line 1 in CSV)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        problems.append(RowProblem(str(path), line, "-", f"not UTF-8 text ({error.reason})"))
        return []
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                problems.append(RowProblem(str(path), number, "-", f"invalid JSON: {error.msg}"))
                continue
            if not isinstance(record, dict):
                problems.append(RowProblem(str(path), number, "-", "a row must be a JSON object"))
                continue
            rows.append((number, record))
        return rows
    if suffix in (".csv", ".tsv"):
        delimiter = "\t" if suffix == ".tsv" else ","
        reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
        header = reader.fieldnames or []
        if "id" not in header or "title" not in header:
            problems.append(
                RowProblem(str(path), 1, "-", f"header must have 'id' and 'title' columns, found {header[:8]}")
            )
            return []
        return [(number, dict(record)) for number, record in enumerate(reader, start=2)]
    problems.append(RowProblem(str(path), 0, "-", f"unsupported catalogue format {suffix!r} (use .jsonl or .csv)"))
    return []


def load_catalog(path: str | Path) -> Catalog:
    """Read and validate a catalogue; raise CatalogError listing every bad row and field."""
    path = Path(path)
    if not path.is_file():
        raise CatalogError([RowProblem(str(path), 0, "-", "file not found")])
    problems: list[RowProblem] = []
    items: list[Item] = []
    first_row_of: dict[str, int] = {}
    for row, record in _read_records(path, problems):
        item = item_from_record(record, str(path), row, problems)
        if item is None:
            continue
        if item.id in first_row_of:
            problems.append(
                RowProblem(str(path), row, "id", f"duplicate id {item.id!r} (first on row {first_row_of[item.id]})")
            )
            continue
        first_row_of[item.id] = row
        items.append(item)
    if problems:
        raise CatalogError(problems)
    if not items:
        raise CatalogError([RowProblem(str(path), 0, "-", "catalogue has no items")])
    return Catalog(items=tuple(items), source=str(path))
