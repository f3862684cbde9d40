"""FAISS vector search of one kind (exact flat, HNSW graph or IVF lists): choose, build, search under a row mask, save, memory-map.

Rows are numbered 0..n-1 in the order vectors were added; vectors are L2-normalized, so the
inner product is the cosine similarity. `auto` is exact flat search up to EXACT_UP_TO vectors
(a few ms per query on a laptop core) and IVF beyond (it trains in seconds and adds new vectors
without rebuilding). Search under a mask always returns min(k, allowed rows) results: when the
mask leaves at most EXACT_SUBSET_ROWS rows their vectors are compared directly, and an
approximate search that comes back short is redone exactly over the allowed rows.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

INDEX_TYPES = ("auto", "flat", "hnsw", "ivf")
EXACT_UP_TO = 50_000  # auto picks exact flat search up to this many vectors (~2.5 ms a query here)
EXACT_SUBSET_ROWS = 20_000  # a filter leaving at most this many rows is searched exactly
TRAINING_POINTS_PER_LIST = 64  # IVF k-means sample size per list (faiss warns under 39)
FILTERED_WIDENING_CAP = 8  # under a filter, approximate search widens by up to this factor


@dataclass(frozen=True)
class IndexSpec:
    """The FAISS index kind and its knobs; recorded in the index manifest."""

    kind: str = "flat"
    hnsw_m: int = 32  # graph links per node
    ef_construction: int = 80
    ef_search: int = 128  # candidates kept while searching the graph
    nlist: int = 0  # IVF lists (k-means centroids)
    nprobe: int = 0  # IVF lists scanned per query

    def __post_init__(self) -> None:
        if self.kind not in INDEX_TYPES[1:]:
            raise ValueError(f"index kind must be one of {INDEX_TYPES[1:]}, got {self.kind!r}")
        if self.kind == "ivf" and not 1 <= self.nprobe <= self.nlist:
            raise ValueError(f"ivf needs 1 <= nprobe <= nlist, got nprobe={self.nprobe}, nlist={self.nlist}")

    def as_dict(self) -> dict:
        return asdict(self)


def choose_spec(requested: str, count: int) -> IndexSpec:
    """The index for `count` vectors: `requested` kind, or for `auto` exact up to EXACT_UP_TO and IVF beyond.

    Example: choose_spec("auto", 10_000).kind -> "flat";  choose_spec("auto", 1_000_000) -> ivf, 1000 lists, nprobe 62
    """
    if requested not in INDEX_TYPES:
        raise ValueError(f"--index-type must be one of {', '.join(INDEX_TYPES)}, got {requested!r}")
    kind = requested if requested != "auto" else ("flat" if count <= EXACT_UP_TO else "ivf")
    if kind != "ivf":
        return IndexSpec(kind=kind)
    nlist = max(1, min(int(math.sqrt(count)), count // 39))
    nprobe = min(nlist, max(nlist // 16, 16))  # 1/16 of the lists, at least 16: recall@50 >= 0.95 in the benchmark
    return IndexSpec(kind="ivf", nlist=nlist, nprobe=nprobe)


def _contiguous(vectors: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, vectors.shape[-1])


class VectorIndex:
    """One FAISS index with rows 0..n-1; search(query, k, allowed mask) -> (rows, scores), best first."""

    def __init__(self, index: faiss.Index, spec: IndexSpec):
        self._index = index
        self.spec = spec
        if spec.kind == "ivf":
            index.nprobe = spec.nprobe
            index.make_direct_map()  # so vector(row) works
        elif spec.kind == "hnsw":
            index.hnsw.efSearch = spec.ef_search

    @classmethod
    def empty(cls, dimension: int, spec: IndexSpec, training: np.ndarray | None = None) -> VectorIndex:
        """A new index; IVF needs `training` vectors (about TRAINING_POINTS_PER_LIST per list) for its k-means."""
        if spec.kind == "flat":
            index = faiss.IndexFlatIP(dimension)
        elif spec.kind == "hnsw":
            index = faiss.IndexHNSWFlat(dimension, spec.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = spec.ef_construction
        else:
            if training is None or len(training) < spec.nlist:
                raise ValueError(f"an IVF index with {spec.nlist} lists needs at least {spec.nlist} training vectors")
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, spec.nlist, faiss.METRIC_INNER_PRODUCT)
            index.cp.min_points_per_centroid = 1  # small catalogues: no warning, the sample is what it is
            index.train(_contiguous(training))
        return cls(index, spec)

    @classmethod
    def build(cls, vectors: np.ndarray, spec: IndexSpec, seed: int = 0) -> VectorIndex:
        vectors = _contiguous(vectors)
        training = None
        if spec.kind == "ivf":
            wanted = min(len(vectors), spec.nlist * TRAINING_POINTS_PER_LIST)
            rows = np.sort(np.random.default_rng(seed).choice(len(vectors), size=wanted, replace=False))
            training = vectors[rows]
        index = cls.empty(vectors.shape[1], spec, training)
        index.add(vectors)
        return index

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def add(self, vectors: np.ndarray) -> None:
        """Append rows count..count+len(vectors)-1."""
        self._index.add(_contiguous(vectors))

    def vector(self, row: int) -> np.ndarray:
        return self._index.reconstruct(int(row))

    def vectors(self) -> np.ndarray:
        """All vectors, rows in order: a view of FAISS's own (maybe memory-mapped) storage where it has one."""
        storage = self._flat_storage()
        if storage is not None and self.count:
            return faiss.rev_swig_ptr(storage.get_xb(), self.count * self.dimension).reshape(self.count, self.dimension)
        if not self.count:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._index.reconstruct_n(0, self.count)

    def _flat_storage(self) -> faiss.IndexFlat | None:
        if self.spec.kind == "flat":
            return self._index
        if self.spec.kind == "hnsw":
            return faiss.downcast_index(self._index.storage)
        return None

    # ----- search -----------------------------------------------------------------------

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The rows (and scores) of the k nearest vectors to `query`, only among rows where `allowed` is True."""
        query = _contiguous(query)
        allowed_count = self.count if allowed is None else int(np.count_nonzero(allowed))
        k = min(k, allowed_count)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if allowed is not None and allowed_count <= EXACT_SUBSET_ROWS:
            return self._search_rows(query, k, np.flatnonzero(allowed))
        selector = None
        if allowed is not None and allowed_count < self.count:
            bitmap = np.packbits(np.asarray(allowed, dtype=bool), bitorder="little")  # alive until we return
            selector = faiss.IDSelectorBitmap(self.count, faiss.swig_ptr(bitmap))
        if self.spec.kind == "flat":
            return self._search_exact(query, k, selector)
        fraction = allowed_count / self.count
        rows, scores = self._run(query, k, self._approximate_params(k, selector, fraction))
        if len(rows) < k:  # the graph or the probed lists held too few allowed rows
            return self._search_exact(query, k, selector)
        return rows, scores

    def _approximate_params(self, k: int, selector: faiss.IDSelector | None, fraction: float) -> faiss.SearchParameters:
        # A filter that keeps a fraction f of the rows needs ~1/f times the candidates for the same recall.
        widen = min(FILTERED_WIDENING_CAP, 1.0 / max(fraction, 1e-9))
        if self.spec.kind == "hnsw":
            return faiss.SearchParametersHNSW(sel=selector, efSearch=int(max(k, self.spec.ef_search) * widen))
        return faiss.SearchParametersIVF(sel=selector, nprobe=min(self.spec.nlist, math.ceil(self.spec.nprobe * widen)))

    def _search_rows(self, query: np.ndarray, k: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact search among a few rows: gather their vectors and take the best inner products."""
        storage = self._flat_storage()
        if storage is not None:
            vectors = self.vectors()[rows]
        else:
            vectors = self._index.reconstruct_batch(rows.astype(np.int64))
        # FAISS's own kernel, not numpy's BLAS: it keeps to FAISS's thread setting.
        scores, best = faiss.knn(query, np.ascontiguousarray(vectors), k, metric=faiss.METRIC_INNER_PRODUCT)
        return rows[best[0]].astype(np.int64), scores[0]

    def _search_exact(
        self, query: np.ndarray, k: int, selector: faiss.IDSelector | None
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.spec.kind == "ivf":  # every list scanned: exact
            return self._run(query, k, faiss.SearchParametersIVF(sel=selector, nprobe=self.spec.nlist), self._index)
        params = faiss.SearchParameters(sel=selector) if selector is not None else None
        return self._run(query, k, params, self._flat_storage())

    def _run(self, query: np.ndarray, k: int, params: faiss.SearchParameters | None, index: faiss.Index | None = None):
        scores, rows = (self._index if index is None else index).search(query, k, params=params)
        keep = rows[0] >= 0
        return rows[0][keep], scores[0][keep]

    # ----- files ------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write atomically: a reader that memory-mapped the old file keeps a valid mapping."""
        path = Path(path)
        temporary = path.with_name(path.name + ".tmp")
        faiss.write_index(self._index, str(temporary))
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: str | Path, spec: IndexSpec, mmap: bool = True) -> VectorIndex:
        """Read an index; flat and HNSW vectors are memory-mapped read-only by default (pages load on use).

        IVF lists are read into memory: FAISS can map them (OnDiskInvertedLists), but its
        per-list locking made queries 3-10x slower in our benchmark.
        """
        flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if mmap and spec.kind != "ivf" else 0
        return cls(faiss.read_index(str(path), flags), spec)
