"""The FAISS item index: embed item text, build, save with a manifest, reload, detect staleness, search.

An index folder holds `index.faiss`, `ids.json` (row -> item id) and `manifest.json` (embedding
model, dimension, catalogue hash, the text recipe). `open_index` reuses a folder only when its
manifest matches the catalogue and the embedder; otherwise it rebuilds and says why.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import faiss
import numpy as np
from tqdm.auto import tqdm

from retrieval.catalog import Catalog, Item
from retrieval.embeddings import Embedder

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
TEXT_RECIPE = "title (year). genres. directed by directors. starring cast. synopsis keywords"


def item_text(item: Item) -> str:
    """The text that is embedded for an item.

    Example: Item(id="m1", title="Alien", year=1979, genres=("horror",), synopsis="A crew meets a creature.")
             -> "Alien (1979). horror. A crew meets a creature."
    """
    parts = [item.label]
    if item.genres:
        parts.append(", ".join(item.genres))
    if item.directors:
        parts.append("Directed by " + ", ".join(item.directors))
    if item.cast:
        parts.append("Starring " + ", ".join(item.cast))
    if item.synopsis:
        parts.append(item.synopsis.rstrip("."))
    if item.keywords:
        parts.append(", ".join(item.keywords))
    return ". ".join(parts) + "."


@dataclass(frozen=True)
class Manifest:
    """What an index was built from; a mismatch with the current setup means the index is stale."""

    embedding_model: str
    dimension: int
    catalog_hash: str
    item_count: int
    text_recipe: str = TEXT_RECIPE
    index_type: str = "flat"
    format_version: int = FORMAT_VERSION
    built_at: str = ""
    build_seconds: float = 0.0

    def mismatch(self, other: "Manifest") -> str | None:
        """Why this saved manifest does not fit `other` (the wanted one), or None if it fits."""
        for name in ("format_version", "embedding_model", "dimension", "catalog_hash", "text_recipe"):
            if getattr(self, name) != getattr(other, name):
                return f"{name} differs (index has {getattr(self, name)!r}, wanted {getattr(other, name)!r})"
        return None


class StaleIndexError(RuntimeError):
    """A saved index does not match the catalogue or embedding model it is asked to serve."""


class IndexMissingError(FileNotFoundError):
    """No saved index at the given folder."""


class ItemIndex:
    """A FAISS inner-product index over normalized item vectors, row-aligned with a catalogue."""

    def __init__(self, catalog: Catalog, index: faiss.Index, manifest: Manifest):
        if index.ntotal != len(catalog):
            raise StaleIndexError(f"index has {index.ntotal} vectors, catalogue has {len(catalog)} items")
        self.catalog = catalog
        self.manifest = manifest
        self._index = index
        self._row_of = {item.id: row for row, item in enumerate(catalog.items)}
        self.vectors = index.reconstruct_n(0, index.ntotal)

    @classmethod
    def build(cls, catalog: Catalog, embedder: Embedder, batch_size: int = 64, progress: bool = True) -> "ItemIndex":
        started = time.perf_counter()
        texts = [item_text(item) for item in catalog.items]
        chunks = []
        with tqdm(total=len(texts), desc="Embedding items", unit="item", disable=not progress) as bar:
            for start in range(0, len(texts), batch_size):
                chunks.append(embedder.encode(texts[start : start + batch_size], batch_size=batch_size))
                bar.update(len(chunks[-1]))
        vectors = np.vstack(chunks).astype(np.float32)
        index = faiss.IndexFlatIP(embedder.dimension)
        index.add(vectors)
        manifest = Manifest(
            embedding_model=embedder.name,
            dimension=embedder.dimension,
            catalog_hash=catalog.content_hash(),
            item_count=len(catalog),
            built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            build_seconds=round(time.perf_counter() - started, 3),
        )
        return cls(catalog, index, manifest)

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._index, str(folder / "index.faiss"))
        (folder / "ids.json").write_text(json.dumps([item.id for item in self.catalog.items]))
        # The manifest goes last: a folder without one is never mistaken for a finished index.
        (folder / "manifest.json").write_text(json.dumps(asdict(self.manifest), indent=2))

    @classmethod
    def load(cls, folder: str | Path, catalog: Catalog, wanted: Manifest) -> "ItemIndex":
        folder = Path(folder)
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            raise IndexMissingError(f"no index at {folder}")
        try:
            saved = Manifest(**json.loads(manifest_path.read_text()))
        except (TypeError, json.JSONDecodeError) as error:
            raise StaleIndexError(f"unreadable manifest {manifest_path}: {error}") from error
        reason = saved.mismatch(wanted)
        if reason:
            raise StaleIndexError(reason)
        ids = json.loads((folder / "ids.json").read_text())
        if ids != [item.id for item in catalog.items]:
            raise StaleIndexError("item ids differ from the catalogue")
        index = faiss.read_index(str(folder / "index.faiss"), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        return cls(catalog, index, saved)

    def row_of(self, item_id: str) -> int:
        return self._row_of[item_id]

    def vector_of(self, item_id: str) -> np.ndarray:
        return self.vectors[self._row_of[item_id]]

    def search(self, query: np.ndarray, k: int, allowed_rows: Sequence[int] | None = None) -> list[tuple[Item, float]]:
        """The k nearest items to a normalized query vector, only among `allowed_rows` when given."""
        if allowed_rows is not None and len(allowed_rows) == 0:
            return []
        params = None
        if allowed_rows is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed_rows, dtype=np.int64)))
        k = min(k, self._index.ntotal if allowed_rows is None else len(allowed_rows))
        scores, rows = self._index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        return [(self.catalog.items[row], float(score)) for row, score in zip(rows[0], scores[0]) if row >= 0]


def wanted_manifest(catalog: Catalog, embedder: Embedder) -> Manifest:
    """The manifest an index for this catalogue and embedder must have to be reused."""
    return Manifest(
        embedding_model=embedder.name,
        dimension=embedder.dimension,
        catalog_hash=catalog.content_hash(),
        item_count=len(catalog),
    )


def open_index(catalog: Catalog, embedder: Embedder, folder: str | Path, progress: bool = True) -> ItemIndex:
    """Load the index in `folder` if it matches; otherwise build it, save it and say why."""
    try:
        return ItemIndex.load(folder, catalog, wanted_manifest(catalog, embedder))
    except IndexMissingError:
        log.info("no index at %s: building one for %d items", folder, len(catalog))
    except StaleIndexError as reason:
        log.warning("index at %s is stale (%s): rebuilding", folder, reason)
    index = ItemIndex.build(catalog, embedder, progress=progress)
    index.save(folder)
    log.info("index saved to %s (%d items, %.1f s)", folder, len(catalog), index.manifest.build_seconds)
    return index
