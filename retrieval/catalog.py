"""The item catalogue: the Item record, reading a catalogue file through a column mapping, and validating it row by row.

A catalogue is a CSV, TSV, JSONL or Parquet file with one item per row. Which columns hold the
id, the title, the embedded text and the filterable fields is a `ColumnMap`; names left unset
are detected from common column names (`item_id` -> id, `name` -> title, `description` ->
synopsis, `category` -> genres, ...; RecBole-style `item_id:token` headers count as `item_id`).
Only the id and the title are required. The known film fields (year, genres, directors, cast,
runtime_min, synopsis, keywords) feed the default embedded text, the filters and the item
cards; every other column is kept in `Item.extra`. Unless filters are named, the other columns
that hold numbers or a few short categories (price, pages, players, mechanics) are filters too.

Problems are reported as `file:row:field: what is wrong`, all of them at once. Rows are counted
as a person counts lines in text files (the CSV header is line 1) and from 1 in Parquet files.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import hashlib
import io
import json
import math
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

LIST_FIELDS = ("genres", "directors", "cast", "keywords")
KNOWN_FIELDS = ("id", "title", "year", "runtime_min", "synopsis") + LIST_FIELDS
DEFAULT_TEXT_FIELDS = ("title", "year", "genres", "directors", "cast", "synopsis", "keywords")
CATALOG_SUFFIXES = (".csv", ".tsv", ".tab", ".jsonl", ".ndjson", ".parquet", ".pq")

# Common column names for each Item field, most specific first; compared in their bare form
# (lowercase, RecBole's ":token" suffix dropped, spaces and dashes as underscores).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "id": (
        "id",
        "item_id",
        "itemid",
        "item",
        "movie_id",
        "movieid",
        "product_id",
        "productid",
        "book_id",
        "course_id",
        "sku",
        "asin",
        "isbn",
    ),
    "title": ("title", "name", "item_name", "product_name", "movie_title", "book_title", "course_title"),
    "year": ("year", "release_year", "publication_year", "published_year", "year_published"),
    "genres": ("genres", "genre", "categories", "category"),
    "directors": ("directors", "director"),
    "cast": ("cast", "actors", "stars", "starring"),
    "runtime_min": ("runtime_min", "runtime", "duration_min", "runtime_minutes"),
    "synopsis": ("synopsis", "description", "overview", "plot", "summary", "abstract", "desc"),
    "keywords": ("keywords", "tags", "keyword"),
    # Not an Item attribute: the card's picture (a path under the catalogue's folder, or an http(s) URL), kept as
    # `item.extra["image"]`, neither embedded nor a filter.
    "image": (
        "image",
        "image_url",
        "img",
        "poster",
        "poster_url",
        "poster_path",
        "cover",
        "cover_url",
        "cover_image",
        "thumbnail",
        "thumbnail_url",
        "picture",
        "photo",
    ),
}
# Extra columns that become filters without being asked for, when present.
COMMON_FILTER_NAMES = (
    "price",
    "pages",
    "page_count",
    "brand",
    "language",
    "country",
    "author",
    "authors",
    "publisher",
    "level",
    "platform",
    "format",
    "rating",
    "color",
    "colour",
    "size",
    "type",
)
DEFAULT_FILTER_FIELDS = ("year", "runtime_min", "genres", "keywords", "directors", "cast")
MAX_DETECTED_VALUES = 60  # a column with more distinct values (names, titles) is not detected as a filter
_DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}


@dataclass(frozen=True)
class Item:
    """One recommendable thing. Strings are stripped; genres and keywords are lowercase tuples."""

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

    def value(self, name: str) -> Any:
        """A field by name: a known field, else the extra column of that name (None when absent)."""
        return getattr(self, name) if name in KNOWN_FIELDS else self.extra.get(name)


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


@dataclass(frozen=True)
class ColumnMap:
    """Which file columns hold the id, the title, the embedded text and the filterable fields.

    None and () mean "detect": the id and title from common names, the text is the default
    film recipe (title, year, genres, directors, cast, synopsis, keywords: whichever exist), and
    the filters are the known fields plus common ones such as price or brand. `text` and
    `filters` name columns (or the Item field a column was mapped to), in order.
    """

    id: str | None = None
    title: str | None = None
    text: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    fields: tuple[
        tuple[str, str], ...
    ] = ()  # (Item field, column) pairs given explicitly, e.g. ("genres", "mese_genres")


@dataclass(frozen=True)
class ResolvedColumns:
    """The column behind each Item field, plus the Item fields that are embedded and filterable."""

    fields: Mapping[str, str]  # Item field -> file column
    text_fields: tuple[str, ...] = DEFAULT_TEXT_FIELDS
    filter_fields: tuple[str, ...] = ()

    def as_column_map(self) -> ColumnMap:
        """The ColumnMap that resolves to the same items and fields again on the same header."""
        return ColumnMap(
            id=self.fields.get("id"),
            title=self.fields.get("title"),
            text=self.text_fields,
            filters=self.filter_fields,
            fields=tuple((name, column) for name, column in self.fields.items() if name not in ("id", "title")),
        )


@dataclass(frozen=True)
class CatalogReading:
    """What reading a catalogue file gave: the valid items, and a problem for every invalid row."""

    items: tuple[Item, ...]
    problems: tuple[RowProblem, ...]
    columns: ResolvedColumns | None
    source: str

    def catalog(self) -> Catalog:
        return Catalog(self.items, source=self.source, columns=self.columns)


class Catalog:
    """Items in file order, with lookup by id. Read-only once built."""

    def __init__(self, items: Iterable[Item], source: str = "", columns: ResolvedColumns | None = None):
        self.items: tuple[Item, ...] = tuple(items)
        self.source = source
        self.columns = columns
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


# ----- values -------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A cell as stripped text; None is empty (and 0 is "0", not empty)."""
    return "" if value is None else str(value).strip()


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (list, tuple)):
        return not any(_text(part) for part in value)
    return not _text(value)


def _plain(value: Any) -> Any:
    """A Parquet/Arrow value as plain JSON data, so items hash and save the same however they were read.

    Example: float("nan") -> None;  datetime.date(2020, 1, 2) -> "2020-01-02";  Decimal("9.5") -> 9.5
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, (list, tuple)):
        return [_plain(part) for part in value]
    if isinstance(value, dict):
        return {str(key): _plain(part) for key, part in value.items()}
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if hasattr(value, "item"):  # numpy scalar
        return _plain(value.item())
    return str(value)


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


def filter_value(value: Any) -> Any:
    """An extra column used as a filter, typed: a number when it reads as one, a list when '|' or ';' separated.

    Example: "9.99" -> 9.99;  "1999" -> 1999;  "007" -> "007";  "red|blue" -> ["red", "blue"];  " Acme " -> "Acme"
    """
    if isinstance(value, (list, tuple)):
        return [_text(part) for part in value if _text(part)]
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        number = None if text.startswith("0") and text[1:2].isdigit() else float(text)  # "007" is a code
    except ValueError:
        number = None
    if number is not None and math.isfinite(number):
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    if "|" in text or ";" in text:
        return list(_split_list(text))
    return text


def _optional_int(value: Any, name: str, problems: list[RowProblem], where: tuple[str, int]) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        problems.append(RowProblem(where[0], where[1], name, f"not a number: {str(value)[:40]!r}"))
        return None
    if math.isnan(number):
        return None
    if math.isinf(number) or number != int(number):
        problems.append(RowProblem(where[0], where[1], name, f"not a whole number: {value!r}"))
        return None
    return int(number)


def item_from_record(record: dict[str, Any], path: str, row: int, problems: list[RowProblem]) -> Item | None:
    """Validate one row keyed by Item field names; append its problems and return None if it cannot become an Item."""
    before = len(problems)
    item_id = _text(record.get("id"))
    title = _text(record.get("title"))
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
        synopsis=_text(record.get("synopsis")),
        keywords=tuple(keyword.lower() for keyword in _split_list(record.get("keywords"))),
        extra=extra,
    )


def item_record(item: Item) -> dict[str, Any]:
    """An Item as one JSON-ready row keyed by field names (empty fields left out); item_from_record reads it back."""
    record: dict[str, Any] = {"id": item.id, "title": item.title}
    for name in ("year", "genres", "directors", "cast", "runtime_min", "synopsis", "keywords"):
        value = getattr(item, name)
        if value not in (None, "", ()):
            record[name] = list(value) if isinstance(value, tuple) else value
    record.update(item.extra)
    return record


# ----- columns ------------------------------------------------------------------------------


def bare_column(name: str) -> str:
    """A column name as compared with the aliases.

    Example: "Item ID:token" -> "item_id";  "movieId" -> "movieid"
    """
    return name.split(":", 1)[0].strip().lower().replace(" ", "_").replace("-", "_")


def resolve_columns(
    header: Sequence[str], wanted: ColumnMap, path: str
) -> tuple[ResolvedColumns | None, list[RowProblem]]:
    """Map a file's header onto Item fields: explicit names first, then common names; report what is missing."""
    problems: list[RowProblem] = []
    fields: dict[str, str] = {}
    used: set[str] = set()
    for name, column in (("id", wanted.id), ("title", wanted.title), *wanted.fields):
        if column is None:
            continue
        if name not in FIELD_ALIASES:
            problems.append(
                RowProblem(path, 1, name, f"not an item field; map columns onto {', '.join(FIELD_ALIASES)}")
            )
        elif column not in header:
            problems.append(RowProblem(path, 1, name, f"column {column!r} is not in the header {list(header)[:12]}"))
        else:
            fields[name] = column
            used.add(column)
    by_bare: dict[str, str] = {}
    for column in header:
        by_bare.setdefault(bare_column(column), column)
    for name, aliases in FIELD_ALIASES.items():
        if name in fields or (name in ("id", "title") and getattr(wanted, name) is not None):
            continue
        for alias in aliases:
            column = by_bare.get(alias)
            if column is not None and column not in used:
                fields[name] = column
                used.add(column)
                break
    for name, flag in (("id", "--id"), ("title", "--title")):
        if name not in fields and getattr(wanted, name) is None:
            problems.append(
                RowProblem(
                    path,
                    1,
                    name,
                    f"no {name} column: the header has {list(header)[:12]}; name one with {flag} "
                    f"(looked for {', '.join(FIELD_ALIASES[name][:6])})",
                )
            )
    field_of_column = {column: name for name, column in fields.items()}

    def to_field(column: str, option: str) -> str | None:
        if column in field_of_column:
            return field_of_column[column]
        if column in KNOWN_FIELDS:  # an Item field, maybe from a column of another name, maybe empty
            return column
        if column in header:
            return column
        problems.append(RowProblem(path, 1, option, f"column {column!r} is not in the header {list(header)[:12]}"))
        return None

    if wanted.text:
        text_fields = tuple(dict.fromkeys(f for f in (to_field(c, "text") for c in wanted.text) if f))
    else:
        text_fields = DEFAULT_TEXT_FIELDS
    if wanted.filters:
        filter_fields = tuple(dict.fromkeys(f for f in (to_field(c, "filters") for c in wanted.filters) if f))
    else:
        common = [
            c for c in header if bare_column(c) in COMMON_FILTER_NAMES and c not in used and c not in KNOWN_FIELDS
        ]
        filter_fields = tuple(name for name in DEFAULT_FILTER_FIELDS if name in fields) + tuple(common)
    if problems:
        return None, problems
    return ResolvedColumns(fields=fields, text_fields=text_fields, filter_fields=filter_fields), problems


def filterable_columns(
    header: Sequence[str], raws: Sequence[Mapping[str, Any]], columns: ResolvedColumns
) -> tuple[str, ...]:
    """The other columns whose values make filters: numbers throughout, or a few short categories (lists or single
    values, at most MAX_DETECTED_VALUES distinct and repeating). Long text, ids and names of one item each are not.

    Example: columns min_players (1..5), mechanics (["cooperative", ...]), summary (a sentence each)
             -> ("min_players", "mechanics")
    """
    mapped = set(columns.fields.values()) | set(columns.filter_fields)
    found = []
    for column in header:
        if column in mapped or column in KNOWN_FIELDS:
            continue
        values = [filter_value(raw.get(column)) for raw in raws]
        values = [v for v in values if v is not None and v != "" and v != []]
        if not values:
            continue
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            found.append(column)
            continue
        labels = [str(part) for v in values for part in (v if isinstance(v, list) else [v])]
        distinct = set(labels)
        if (
            all(isinstance(v, (str, list)) for v in values)
            and all(len(label) <= 40 for label in labels)
            and len(distinct) <= MAX_DETECTED_VALUES
            and len(distinct) <= len(labels) / 2
        ):
            found.append(column)
    return tuple(found)


def _record_for(raw: Mapping[str, Any], columns: ResolvedColumns) -> dict[str, Any]:
    """A file row re-keyed by Item field names; unmapped columns keep their names, filter columns get typed."""
    mapped = set(columns.fields.values())
    record = {name: raw.get(column) for name, column in columns.fields.items()}
    for column, value in raw.items():
        if column in mapped or column in KNOWN_FIELDS or column is None:
            continue
        record[column] = filter_value(value) if column in columns.filter_fields else value
    return record


# ----- file formats -------------------------------------------------------------------------


def _decode(path: Path, problems: list[RowProblem]) -> str | None:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        problems.append(RowProblem(str(path), line, "-", f"not UTF-8 text ({error.reason})"))
        return None


def _read_jsonl(path: Path, problems: list[RowProblem]) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    text = _decode(path, problems)
    if text is None:
        return [], []
    rows, header = [], {}
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
        header.update(dict.fromkeys(record))
        rows.append((number, record))
    return list(header), rows


def _read_delimited(
    path: Path, delimiter: str, problems: list[RowProblem]
) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Rows of a CSV/TSV file; a header or row that splits wrongly is reported as a wrong delimiter."""
    text = _decode(path, problems)
    if text is None:
        return [], []
    where = str(path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        problems.append(RowProblem(where, 1, "-", "empty file: no header row"))
        return [], []
    header = [column.strip() for column in header]
    if len(header) == 1:
        others = [d for d in _DELIMITER_NAMES if d != delimiter and d in header[0]]
        if others:
            problems.append(
                RowProblem(
                    where,
                    1,
                    "-",
                    f"wrong delimiter: the header looks {_DELIMITER_NAMES[others[0]]}-separated, but {path.suffix} files "
                    f"are read as {_DELIMITER_NAMES[delimiter]}-separated (save it {_DELIMITER_NAMES[delimiter]}-separated"
                    f"{', or as .tsv' if others[0] == chr(9) else ''})",
                )
            )
            return [], []
    rows = []
    start = reader.line_num + 1
    for values in reader:
        line, start = start, reader.line_num + 1
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        if len(values) != len(header):
            problems.append(
                RowProblem(
                    where,
                    line,
                    "-",
                    f"{len(values)} fields but the header has {len(header)} "
                    f"(wrong delimiter, or an unquoted {_DELIMITER_NAMES[delimiter]} inside a value?)",
                )
            )
            continue
        rows.append((line, dict(zip(header, values))))
    return header, rows


def _read_parquet(path: Path, problems: list[RowProblem]) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        problems.append(RowProblem(str(path), 0, "-", "reading Parquet needs pyarrow (pip install pyarrow)"))
        return [], []
    try:
        table = parquet.read_table(path)
    except (OSError, ValueError) as error:  # pyarrow.ArrowInvalid is a ValueError
        problems.append(RowProblem(str(path), 0, "-", f"not a readable Parquet file: {error}"))
        return [], []
    rows = [
        (number, {key: _plain(value) for key, value in record.items()})
        for number, record in enumerate(table.to_pylist(), start=1)
    ]
    return list(table.column_names), rows


def _read_rows(path: Path, problems: list[RowProblem]) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(path, problems)
    if suffix == ".csv":
        return _read_delimited(path, ",", problems)
    if suffix in (".tsv", ".tab"):
        return _read_delimited(path, "\t", problems)
    if suffix in (".parquet", ".pq"):
        return _read_parquet(path, problems)
    problems.append(
        RowProblem(str(path), 0, "-", f"unsupported catalogue format {suffix!r} (use {', '.join(CATALOG_SUFFIXES)})")
    )
    return [], []


# ----- reading a catalogue ------------------------------------------------------------------


def read_catalog(
    path: str | Path, columns: ColumnMap = ColumnMap(), existing_ids: Container[str] = ()
) -> CatalogReading:
    """Every valid item of a catalogue file and a problem for every invalid row (nothing raised for bad rows).

    `existing_ids` are ids already taken (by the index new items are added to): reusing one is a problem.
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        return CatalogReading((), (RowProblem(where, 0, "-", "file not found"),), None, where)
    problems: list[RowProblem] = []
    header, rows = _read_rows(path, problems)
    if not header:
        if not problems:
            problems.append(RowProblem(where, 0, "-", "catalogue has no items"))
        return CatalogReading((), tuple(problems), None, where)
    resolved, column_problems = resolve_columns(header, columns, where)
    if resolved is None:
        return CatalogReading((), tuple(problems + column_problems), None, where)
    if not columns.filters:
        found = filterable_columns(header, [raw for _, raw in rows], resolved)
        resolved = replace(resolved, filter_fields=resolved.filter_fields + found)
    text_columns = [resolved.fields.get(name, name) for name in resolved.text_fields] if columns.text else []
    items: list[Item] = []
    first_row_of: dict[str, int] = {}
    for row, raw in rows:
        record = _record_for(raw, resolved)
        before = len(problems)
        item = item_from_record(record, where, row, problems)
        if text_columns and all(_is_empty(record.get(name)) for name in resolved.text_fields):
            problems.append(
                RowProblem(where, row, text_columns[0], f"empty text: nothing to embed in {', '.join(text_columns)}")
            )
        if item is None or len(problems) > before:
            continue
        if item.id in first_row_of:
            problems.append(
                RowProblem(where, row, "id", f"duplicate id {item.id!r} (first on row {first_row_of[item.id]})")
            )
            continue
        if item.id in existing_ids:
            problems.append(RowProblem(where, row, "id", f"id {item.id!r} is already in the index"))
            continue
        first_row_of[item.id] = row
        items.append(item)
    if not items and not problems:
        problems.append(RowProblem(where, 0, "-", "catalogue has no items"))
    return CatalogReading(tuple(items), tuple(sorted(problems, key=lambda p: p.row)), resolved, where)


def load_catalog(path: str | Path, columns: ColumnMap = ColumnMap()) -> Catalog:
    """Read and validate a catalogue; raise CatalogError listing every bad row and field."""
    reading = read_catalog(path, columns)
    if reading.problems:
        raise CatalogError(list(reading.problems))
    return reading.catalog()


def read_item_rows(path: str | Path, source: str = "", columns: ResolvedColumns | None = None) -> Catalog:
    """Items saved by `item_record` (one JSON object per line, already validated), in order."""
    problems: list[RowProblem] = []
    items = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                item = item_from_record(json.loads(line), str(path), number, problems)
                if item is not None:
                    items.append(item)
    if problems:
        raise CatalogError(problems)
    return Catalog(items, source=source or str(path), columns=columns)
