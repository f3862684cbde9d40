"""The item index: embed item text, build, add to, save with a manifest, reload, detect staleness, search.

An index folder is self-contained:

    index.faiss     the FAISS index (flat, HNSW or IVF; see vector_index.py), memory-mapped on load
    items.jsonl     the indexed items, row-aligned with the vectors (so search needs only the folder)
    ids.json        row -> item id (a cheap check against a catalogue file)
    manifest.json   embedding model, dimension, catalogue hash and source, column mapping, the text
                    recipe with an example, filterable fields with their kinds and vocabularies, index type
                    and parameters; written last

Two ways to open a folder. `open_index` is for a folder the app owns (its cache under var/): it
reuses the folder only when its manifest matches the catalogue and the embedder, and otherwise
rebuilds it and says why. `open_named_index` is for a folder a person named (`--index`): it is
used with the catalogue it was built from (the manifest's source and hash), an explicit catalogue
that disagrees is an error naming both, and a stale folder is an error saying how to rebuild it:
it is rebuilt in place only when asked (`rebuild=True`). Items added later (`ItemIndex.add`,
`build_index --add`) keep the folder valid for the catalogue it was first built from.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from retrieval.catalog import (
    DEFAULT_TEXT_FIELDS,
    Catalog,
    ColumnMap,
    Item,
    ResolvedColumns,
    item_record,
    load_catalog,
    read_catalog,
    read_item_rows,
)
from retrieval.embeddings import Embedder
from retrieval.field_kinds import CatalogFields, describe_fields
from retrieval.filter_columns import BUILTIN_FILTER_FIELDS, FilterColumns, filter_mask
from retrieval.filters import ItemFilter
from retrieval.text_recipe import DEFAULT_RECIPE, RECIPE_NOTE, TextRecipe
from retrieval.vector_index import IndexSpec, VectorIndex, choose_spec

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
TEXT_RECIPE = DEFAULT_RECIPE.describe()
MANIFEST, VECTORS, ITEMS, IDS = "manifest.json", "index.faiss", "items.jsonl", "ids.json"


def item_text(item: Item) -> str:
    """The text embedded for an item under the default recipe.

    Example: Item(id="m1", title="Alien", year=1979, genres=("horror",), synopsis="A crew meets a creature.")
             -> "Alien (1979). horror. A crew meets a creature."
    """
    return DEFAULT_RECIPE.text(item)


def recipe_for(catalog: Catalog) -> TextRecipe:
    return TextRecipe(catalog.columns.text_fields) if catalog.columns else DEFAULT_RECIPE


@dataclass(frozen=True)
class Manifest:
    """What an index was built from; a mismatch with the current setup means the index is stale."""

    embedding_model: str
    dimension: int
    catalog_hash: str  # of the catalogue the index was built from; items added later do not change it
    item_count: int
    text_recipe: str = TEXT_RECIPE
    text_fields: tuple[str, ...] = DEFAULT_TEXT_FIELDS
    text_note: str = RECIPE_NOTE
    text_example: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # Item field -> catalogue column
    filter_fields: tuple[str, ...] = BUILTIN_FILTER_FIELDS
    field_kinds: tuple[dict, ...] = ()  # each filterable field's kind and vocabulary or range (`retrieval.field_kinds`)
    catalog_source: str = ""
    added_sources: tuple[str, ...] = ()
    added_items: int = 0
    skipped_rows: int = 0
    index_type: str = "flat"
    index_params: dict = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    built_at: str = ""
    build_seconds: float = 0.0

    def mismatch(self, other: Manifest) -> str | None:
        """Why this saved manifest does not fit `other` (the wanted one), or None if it fits."""
        for name in ("format_version", "embedding_model", "dimension", "catalog_hash", "text_recipe"):
            if getattr(self, name) != getattr(other, name):
                return f"{name} differs (index has {getattr(self, name)!r}, wanted {getattr(other, name)!r})"
        return None

    @property
    def spec(self) -> IndexSpec:
        return IndexSpec(**self.index_params) if self.index_params else IndexSpec(kind=self.index_type)

    @property
    def resolved_columns(self) -> ResolvedColumns:
        return ResolvedColumns(
            fields=dict(self.columns), text_fields=self.text_fields, filter_fields=self.filter_fields
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Raises TypeError or ValueError for a manifest this code cannot read (an older or newer format)."""
        record = json.loads(text)
        if not isinstance(record, dict):
            raise ValueError("manifest is not a JSON object")
        tuples = {f.name for f in fields(cls) if str(f.type).startswith("tuple")}
        return cls(**{key: tuple(value) if key in tuples else value for key, value in record.items()})


class StaleIndexError(RuntimeError):
    """A saved index does not match the catalogue or embedding model it is asked to serve."""


class IndexMissingError(FileNotFoundError):
    """No saved index at the given folder."""


class IndexCatalogConflictError(StaleIndexError):
    """An explicit catalogue is not the one the named index folder was built from."""


def read_manifest(folder: str | Path) -> Manifest:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise IndexMissingError(f"no index at {folder}")
    try:
        return Manifest.from_json(path.read_text())
    except (TypeError, ValueError) as error:
        raise StaleIndexError(f"unreadable manifest {path}: {error}") from error


def load_catalog_for_index(catalog_path: str | Path, folder: str | Path) -> Catalog:
    """The catalogue read with the column mapping its index in `folder` was built with (--id, --text, ...).

    When there is no such index, or the file no longer fits that mapping, columns are detected
    afresh (and the index will be rebuilt). Raises CatalogError for invalid rows.
    """
    saved = saved_column_map(folder, catalog_path)
    if saved is not None:
        reading = read_catalog(catalog_path, saved)
        if not reading.problems:
            return reading.catalog()
        log.info(
            "catalogue %s no longer fits the columns of the index in %s: detecting them afresh", catalog_path, folder
        )
    return load_catalog(catalog_path)


def saved_column_map(folder: str | Path, catalog_path: str | Path) -> ColumnMap | None:
    """The column mapping an index in `folder` was built with, if it was built from this very catalogue file."""
    try:
        manifest = read_manifest(folder)
    except (IndexMissingError, StaleIndexError):
        return None
    if not manifest.catalog_source or not manifest.columns:
        return None
    if Path(manifest.catalog_source).resolve() != Path(catalog_path).resolve():
        return None
    return manifest.resolved_columns.as_column_map()


def embed_items(
    items: Sequence[Item], embedder: Embedder, recipe: TextRecipe, batch_size: int = 64, progress: bool = True
) -> np.ndarray:
    """Vectors of the items' recipe texts, batch by batch under a progress bar."""
    texts = [recipe.text(item) for item in items]
    chunks = []
    with tqdm(total=len(texts), desc="Embedding items", unit="item", disable=not progress) as bar:
        for start in range(0, len(texts), batch_size):
            chunks.append(embedder.encode(texts[start : start + batch_size], batch_size=batch_size))
            bar.update(len(chunks[-1]))
    if not chunks:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.vstack(chunks).astype(np.float32)


def _field_kinds(items: Sequence[Item], names: Sequence[str]) -> tuple[dict, ...]:
    return tuple(CatalogFields(describe_fields(items, names)).records())


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


class ItemIndex:
    """FAISS vectors of a catalogue's items, row-aligned with it, with columns for filtering."""

    def __init__(self, catalog: Catalog, vectors: VectorIndex, manifest: Manifest):
        if vectors.count != len(catalog):
            raise StaleIndexError(f"index has {vectors.count} vectors, catalogue has {len(catalog)} items")
        self.catalog = catalog
        self.manifest = manifest
        self._vectors = vectors
        self._row_of = {item.id: row for row, item in enumerate(catalog.items)}
        self.columns = FilterColumns(catalog.items, manifest.filter_fields, manifest.columns)

    @property
    def recipe(self) -> TextRecipe:
        return TextRecipe(self.manifest.text_fields)

    @cached_property
    def fields(self) -> CatalogFields:
        """The filterable fields' kinds: the manifest's, or worked out from the items for an index saved without them."""
        if self.manifest.field_kinds:
            return CatalogFields.from_records(self.manifest.field_kinds)
        return CatalogFields(describe_fields(self.catalog.items, self.manifest.filter_fields))

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        embedder: Embedder,
        batch_size: int = 64,
        progress: bool = True,
        index_type: str = "auto",
        skipped_rows: int = 0,
    ) -> ItemIndex:
        started = time.perf_counter()
        recipe = recipe_for(catalog)
        vectors = embed_items(catalog.items, embedder, recipe, batch_size, progress)
        spec = choose_spec(index_type, len(catalog))
        vector_index = VectorIndex.build(vectors, spec)
        manifest = replace(
            wanted_manifest(catalog, embedder),
            text_example=recipe.text(catalog.items[0]) if len(catalog) else "",
            field_kinds=_field_kinds(catalog.items, wanted_manifest(catalog, embedder).filter_fields),
            skipped_rows=skipped_rows,
            index_type=spec.kind,
            index_params=spec.as_dict(),
            built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            build_seconds=round(time.perf_counter() - started, 3),
        )
        return cls(catalog, vector_index, manifest)

    def add(self, new: Catalog, embedder: Embedder, batch_size: int = 64, progress: bool = True) -> None:
        """Embed only the new items with this index's recipe and append them; the old vectors stay as they are."""
        if embedder.name != self.manifest.embedding_model or embedder.dimension != self.manifest.dimension:
            raise StaleIndexError(
                f"index was built with {self.manifest.embedding_model!r} ({self.manifest.dimension} dims), "
                f"not {embedder.name!r} ({embedder.dimension} dims)"
            )
        taken = [item.id for item in new.items if item.id in self._row_of]
        if taken:
            raise ValueError(f"{len(taken)} item id(s) already in the index, e.g. {taken[0]!r}")
        vectors = embed_items(new.items, embedder, self.recipe, batch_size, progress)
        self._vectors.add(vectors)
        self.catalog = Catalog(self.catalog.items + new.items, source=self.catalog.source, columns=self.catalog.columns)
        self._row_of = {item.id: row for row, item in enumerate(self.catalog.items)}
        self.columns = FilterColumns(self.catalog.items, self.manifest.filter_fields, self.manifest.columns)
        self.__dict__.pop("centre", None)
        self.__dict__.pop("fields", None)
        self.manifest = replace(
            self.manifest,
            item_count=len(self.catalog),
            added_sources=self.manifest.added_sources + (new.source,),
            added_items=self.manifest.added_items + len(new),
            field_kinds=_field_kinds(self.catalog.items, self.manifest.filter_fields),
        )

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self._vectors.save(folder / VECTORS)
        _write_atomic(
            folder / ITEMS,
            "".join(json.dumps(item_record(item), ensure_ascii=False) + "\n" for item in self.catalog.items),
        )
        _write_atomic(folder / IDS, json.dumps([item.id for item in self.catalog.items]))
        # The manifest goes last: a folder without one is never mistaken for a finished index.
        _write_atomic(folder / MANIFEST, self.manifest.to_json())

    @classmethod
    def load(cls, folder: str | Path, catalog: Catalog, wanted: Manifest, mmap: bool = True) -> ItemIndex:
        """The index in `folder` for `catalog`, if it was built from it with the wanted embedder and recipe."""
        folder = Path(folder)
        saved = read_manifest(folder)
        reason = saved.mismatch(wanted)
        if reason:
            raise StaleIndexError(reason)
        try:
            ids = json.loads((folder / IDS).read_text())
        except (OSError, ValueError) as error:
            raise StaleIndexError(f"unreadable {IDS}: {error}") from error
        if ids[: len(catalog)] != [item.id for item in catalog.items]:
            raise StaleIndexError("item ids differ from the catalogue")
        if len(ids) != len(catalog):
            if len(ids) != len(catalog) + saved.added_items:
                raise StaleIndexError(f"{IDS} has {len(ids)} ids for {len(catalog)} + {saved.added_items} items")
            added = read_item_rows(folder / ITEMS).items[len(catalog) :]
            catalog = Catalog(catalog.items + added, source=catalog.source, columns=catalog.columns)
        return cls(catalog, VectorIndex.load(folder / VECTORS, saved.spec, mmap=mmap), saved)

    @classmethod
    def open(cls, folder: str | Path, mmap: bool = True) -> ItemIndex:
        """The index in `folder` with the items saved beside it: no catalogue file needed."""
        folder = Path(folder)
        manifest = read_manifest(folder)
        if manifest.format_version != FORMAT_VERSION:
            raise StaleIndexError(
                f"index format {manifest.format_version}, this code reads {FORMAT_VERSION}: rebuild it"
            )
        catalog = read_item_rows(folder / ITEMS, source=manifest.catalog_source, columns=manifest.resolved_columns)
        return cls(catalog, VectorIndex.load(folder / VECTORS, manifest.spec, mmap=mmap), manifest)

    # ----- lookups and search -----------------------------------------------------------

    def row_of(self, item_id: str) -> int:
        return self._row_of[item_id]

    def vector_of(self, item_id: str) -> np.ndarray:
        return self._vectors.vector(self._row_of[item_id])

    @property
    def vectors(self) -> np.ndarray:
        """All item vectors, row-aligned with the catalogue (a view of the memory-mapped file where possible)."""
        return self._vectors.vectors()

    @cached_property
    def centre(self) -> np.ndarray:
        """The mean item vector: the query when nothing is known yet."""
        return np.mean(self.vectors, axis=0).astype(np.float32)

    def allowed(self, filters: ItemFilter, exclude: frozenset[str] = frozenset()) -> np.ndarray | None:
        """A row mask of the items the filter allows and that are not excluded; None when nothing is ruled out."""
        if filters.is_empty and not exclude:
            return None
        mask = np.ones(len(self.catalog), dtype=bool) if filters.is_empty else filter_mask(filters, self.columns)
        rows = [self._row_of[item_id] for item_id in exclude if item_id in self._row_of]
        mask[rows] = False
        return mask

    def search(
        self, query: np.ndarray, k: int, allowed_rows: np.ndarray | Sequence[int] | None = None
    ) -> list[tuple[Item, float]]:
        """The k nearest items to a normalized query vector, only among allowed rows (a mask or row numbers) when given."""
        mask = None
        if allowed_rows is not None:
            allowed_rows = np.asarray(allowed_rows)
            if allowed_rows.dtype == bool:
                mask = allowed_rows
            else:
                mask = np.zeros(len(self.catalog), dtype=bool)
                mask[allowed_rows.astype(np.int64)] = True
        rows, scores = self._vectors.search(query, k, mask)
        return [(self.catalog.items[row], float(score)) for row, score in zip(rows, scores)]


def wanted_manifest(catalog: Catalog, embedder: Embedder) -> Manifest:
    """The manifest an index for this catalogue and embedder must have to be reused."""
    columns = catalog.columns
    return Manifest(
        embedding_model=embedder.name,
        dimension=embedder.dimension,
        catalog_hash=catalog.content_hash(),
        item_count=len(catalog),
        text_recipe=recipe_for(catalog).describe(),
        text_fields=recipe_for(catalog).fields,
        columns=dict(columns.fields) if columns else {},
        filter_fields=tuple(dict.fromkeys((*BUILTIN_FILTER_FIELDS, *(columns.filter_fields if columns else ())))),
        catalog_source=str(Path(catalog.source).resolve()) if catalog.source else "",
    )


def open_index(catalog: Catalog, embedder: Embedder, folder: str | Path, progress: bool = True) -> ItemIndex:
    """Load the index in `folder` if it matches; otherwise build it, save it and say why."""
    try:
        return ItemIndex.load(folder, catalog, wanted_manifest(catalog, embedder))
    except IndexMissingError:
        log.info("no index at %s: building one for %d items", folder, len(catalog))
    except StaleIndexError as reason:
        log.warning("index at %s is stale (%s): rebuilding", folder, reason)
    return _build_and_save(catalog, embedder, Path(folder), progress)


def _rebuild_hint(folder: Path, source: str) -> str:
    return (
        f"rebuild it with `python -m retrieval.build_index --catalog {source or 'FILE'} --out {folder}` "
        f"(with the column flags it was built with), build into a new folder, or pass --rebuild-index"
    )


def _build_and_save(catalog: Catalog, embedder: Embedder, folder: Path, progress: bool) -> ItemIndex:
    index = ItemIndex.build(catalog, embedder, progress=progress)
    index.save(folder)
    log.info("index saved to %s (%d items, %.1f s)", folder, len(catalog), index.manifest.build_seconds)
    return index


def open_named_index(
    folder: str | Path,
    embedder: Embedder,
    catalog_path: str | Path | None,
    default_catalog: str | Path,
    rebuild: bool = False,
    progress: bool = True,
) -> ItemIndex:
    """The index in a folder a person named, with the catalogue it was built from.

    catalog_path: a catalogue the person gave explicitly, or None for the index's own (the source
    in its manifest; the items saved in the folder when that file is gone). A folder without an
    index is built from `catalog_path` or else `default_catalog`. A stale folder, or an explicit
    catalogue other than the one it was built from, raises StaleIndexError (IndexCatalogConflictError
    for the latter) saying why and how to rebuild; with `rebuild` it is rebuilt from the catalogue
    in place instead.
    """
    folder = Path(folder)
    try:
        saved = read_manifest(folder)
    except IndexMissingError:
        catalog = load_catalog(catalog_path or default_catalog)
        log.info("no index at %s: building one for %d items from %s", folder, len(catalog), catalog.source)
        return _build_and_save(catalog, embedder, folder, progress)
    source = saved.catalog_source
    if catalog_path is None and not (source and Path(source).is_file()):
        log.info(
            "index %s: its catalogue %s is not here; using the %d items saved in the folder",
            folder,
            source or "(not recorded)",
            saved.item_count,
        )
        if (saved.embedding_model, saved.dimension) != (embedder.name, embedder.dimension):
            raise StaleIndexError(
                f"index {folder} was built with {saved.embedding_model!r} ({saved.dimension} dims), "
                f"not {embedder.name!r} ({embedder.dimension} dims): pass --embedding-model"
            )
        return ItemIndex.open(folder)
    chosen = Path(catalog_path or source)
    catalog = load_catalog_for_index(chosen, folder)
    same_file = bool(source) and chosen.resolve() == Path(source).resolve()
    if catalog_path is not None and not same_file and catalog.content_hash() != saved.catalog_hash:
        if not rebuild:
            raise IndexCatalogConflictError(
                f"--catalog {catalog_path} is not the catalogue the index in --index {folder} was built from "
                f"({source or 'not recorded'}): drop --catalog to use the index's own, give --index a new folder "
                f"to build one for {catalog_path}, or pass --rebuild-index to replace {folder}"
            )
        log.warning("rebuilding %s from %s, as asked (it was built from %s)", folder, catalog_path, source)
        return _build_and_save(catalog, embedder, folder, progress)
    try:
        return ItemIndex.load(folder, catalog, wanted_manifest(catalog, embedder))
    except StaleIndexError as reason:
        if not rebuild:
            why = f"{chosen} has changed since it was built" if "catalog_hash" in str(reason) else str(reason)
            raise StaleIndexError(f"index {folder} is stale ({why}): {_rebuild_hint(folder, source)}") from reason
        log.warning("index at %s is stale (%s): rebuilding, as asked", folder, reason)
    return _build_and_save(catalog, embedder, folder, progress)
