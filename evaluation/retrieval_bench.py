"""Retrieval benchmark: FAISS flat vs HNSW vs IVF on generated catalogues: build time, latency with filters, recall, memory.

    python -m evaluation.retrieval_bench                        # 10k and 100k items (~2 minutes on 2 cores)
    python -m evaluation.retrieval_bench --sizes 1000000        # 1M items (needs ~4 GB RAM and disk)

Vectors are random unit vectors around random cluster centres (one per 100 items), which lie
around random topic centres (sqrt(clusters) topics), so that, as with sentence embeddings of a
catalogue, items of one cluster have cosine ~0.5, of one topic ~0.25 and otherwise ~0; queries
come from the same distribution. Each
catalogue has a categorical `genre` (20 values) and a numeric `year`, filtered with the same
code the search command uses (`filter_columns.filter_mask` + `VectorIndex.search`):
  broad  = genre any of 5 values (~25% of items)
  narrow = one genre and year 1990..1999 (~0.7% of items)
Every index kind is built in its own process (FAISS on all cores) and queried in another one
(FAISS on one core, one query at a time, after a save and a load as the search command does:
flat and HNSW memory-mapped, IVF in memory), so each peak RSS belongs to that index alone.
Recall@k compares each index's results with the exact flat index's results in the same run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

GENRES = 20
ITEMS_PER_CLUSTER = 100
NOISE = 0.05  # per-dimension noise (of a unit vector in 384 dims) around a centre: cosine ~0.7 to it
CHUNK = 100_000
FILTERS = ("none", "broad", "narrow")


@dataclass(frozen=True)
class Case:
    size: int
    kind: str
    dimension: int
    queries: int
    k: int
    seed: int
    folder: str


def _unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def _centres(case: Case) -> np.ndarray:
    """Cluster centres grouped under topics: clusters of one topic have cosine ~0.5, of two topics ~0."""
    rng = np.random.default_rng([case.seed, 0])
    clusters = max(10, case.size // ITEMS_PER_CLUSTER)
    topics = _unit(rng.standard_normal((max(3, int(np.sqrt(clusters))), case.dimension), dtype=np.float32))
    topic_of = rng.integers(0, len(topics), clusters)
    return _unit(topics[topic_of] + NOISE * rng.standard_normal((clusters, case.dimension), dtype=np.float32))


def vector_chunks(case: Case):
    """The catalogue's vectors, CHUNK rows at a time, the same in every process."""
    centres = _centres(case)
    for start in range(0, case.size, CHUNK):
        rng = np.random.default_rng([case.seed, 1, start])
        count = min(CHUNK, case.size - start)
        labels = rng.integers(0, len(centres), count)
        yield _unit(centres[labels] + NOISE * rng.standard_normal((count, case.dimension), dtype=np.float32))


def query_vectors(case: Case) -> np.ndarray:
    centres = _centres(case)
    rng = np.random.default_rng([case.seed, 2])
    labels = rng.integers(0, len(centres), case.queries)
    return _unit(centres[labels] + NOISE * rng.standard_normal((case.queries, case.dimension), dtype=np.float32))


def item_columns(case: Case):
    from retrieval.filter_columns import FilterColumns

    rng = np.random.default_rng([case.seed, 3])
    genres = rng.integers(0, GENRES, case.size)
    years = rng.integers(1950, 2025, case.size)
    labels = np.array([f"g{n}" for n in range(GENRES)])[genres]
    return FilterColumns.from_arrays(case.size, numbers={"year": years}, categories={"genre": labels})


def item_filter(name: str):
    from retrieval.filters import FieldCondition, ItemFilter

    if name == "broad":
        return ItemFilter((FieldCondition("genre", any_of=frozenset(f"g{n}" for n in range(5))),))
    if name == "narrow":
        return ItemFilter(
            (FieldCondition("genre", any_of=frozenset({"g7"})), FieldCondition("year", minimum=1990, maximum=1999))
        )
    return None


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def build_case(case: Case) -> dict:
    """In a fresh process: build the index chunk by chunk, save it; time and peak memory."""
    from retrieval.vector_index import TRAINING_POINTS_PER_LIST, VectorIndex, choose_spec

    started = time.perf_counter()
    spec = choose_spec(case.kind, case.size)
    chunks = vector_chunks(case)
    first = next(chunks)
    training = first[: spec.nlist * TRAINING_POINTS_PER_LIST] if spec.kind == "ivf" else None
    index = VectorIndex.empty(case.dimension, spec, training)
    index.add(first)
    del first, training
    for chunk in chunks:
        index.add(chunk)
    build_s = time.perf_counter() - started
    path = Path(case.folder) / f"{case.kind}.faiss"
    index.save(path)
    return {
        "build_s": build_s,
        "build_peak_mb": _peak_mb(),
        "file_mb": path.stat().st_size / 2**20,
        "params": spec.as_dict(),
    }


def query_case(case: Case) -> dict:
    """In a fresh process: memory-map the saved index, run every query under every filter; latency, results, memory."""
    import faiss

    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)  # one query on one core, as each request of a busy server gets
    try:
        return _query(case)
    finally:
        faiss.omp_set_num_threads(threads)


def _query(case: Case) -> dict:
    from retrieval.filter_columns import filter_mask
    from retrieval.vector_index import VectorIndex, choose_spec

    queries = query_vectors(case)
    columns = item_columns(case)
    before_mb = _rss_mb()
    index = VectorIndex.load(Path(case.folder) / f"{case.kind}.faiss", choose_spec(case.kind, case.size))
    result: dict = {"rows": {}, "latency_ms": {}, "allowed": {}}
    for name in FILTERS:
        filters = item_filter(name)
        if filters is not None:
            filter_mask(filters, columns)  # build the columns once, as a long-running server has
        index.search(queries[0], case.k, None if filters is None else filter_mask(filters, columns))  # warm up
        latencies, rows = [], []
        for query in queries:
            started = time.perf_counter()
            mask = None if filters is None else filter_mask(filters, columns)
            found, _ = index.search(query, case.k, mask)
            latencies.append((time.perf_counter() - started) * 1000)
            rows.append(found)
        result["rows"][name] = rows
        result["latency_ms"][name] = (float(np.percentile(latencies, 50)), float(np.percentile(latencies, 95)))
        result["allowed"][name] = case.size if filters is None else int(filter_mask(filters, columns).sum())
    result["serve_peak_mb"] = _peak_mb()
    result["index_rss_mb"] = _rss_mb() - before_mb
    return result


def _in_fresh_process(function, case: Case) -> dict:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, case).result()


def recall(found: list[np.ndarray], exact: list[np.ndarray]) -> float:
    """Mean share of the exact top-k found by the approximate search."""
    shares = [len(np.intersect1d(a, e)) / len(e) for a, e in zip(found, exact) if len(e)]
    return float(np.mean(shares)) if shares else 1.0


def run_size(size: int, kinds: list[str], args: argparse.Namespace) -> dict[str, dict]:
    measured: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="retrieval-bench-") as folder:
        for kind in kinds:
            case = Case(size, kind, args.dimension, args.queries, args.k, args.seed, folder)
            print(f"  {size:,} items, {kind}: building ...", file=sys.stderr, flush=True)
            built = _in_fresh_process(build_case, case)
            print(f"  {size:,} items, {kind}: querying ...", file=sys.stderr, flush=True)
            measured[kind] = {**built, **_in_fresh_process(query_case, case)}
            (Path(folder) / f"{kind}.faiss").unlink()
    return measured


def report(size: int, measured: dict[str, dict], k: int) -> str:
    kinds = list(measured)
    exact = measured["flat"]["rows"]
    allowed = measured["flat"]["allowed"]
    lines = [f"{size:,} items" + "".join(f"{kind + (' (exact)' if kind == 'flat' else ''):>20}" for kind in kinds)]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"  {label:<34}" + "".join(f"{cell:>20}" for cell in cells))

    row("build s", [f"{measured[kind]['build_s']:.2f}" for kind in kinds])
    for name in FILTERS:
        share = f" ({allowed[name] / size:.1%})" if name != "none" else ""
        row(
            f"p50 / p95 ms, {name} filter{share}",
            [
                f"{measured[kind]['latency_ms'][name][0]:.2f} / {measured[kind]['latency_ms'][name][1]:.2f}"
                for kind in kinds
            ],
        )
    for name in FILTERS:
        row(
            f"recall@{k}, {name} filter", [f"{recall(measured[kind]['rows'][name], exact[name]):.3f}" for kind in kinds]
        )
    row("index file MB", [f"{measured[kind]['file_mb']:.0f}" for kind in kinds])
    row("peak RSS MB, build", [f"{measured[kind]['build_peak_mb']:.0f}" for kind in kinds])
    row("peak RSS MB, serving", [f"{measured[kind]['serve_peak_mb']:.0f}" for kind in kinds])
    params = {kind: measured[kind]["params"] for kind in kinds if kind != "flat"}
    knobs = "; ".join(
        f"{kind}: M={p['hnsw_m']} efSearch={p['ef_search']}"
        if kind == "hnsw"
        else f"{kind}: nlist={p['nlist']} nprobe={p['nprobe']}"
        for kind, p in params.items()
    )
    if knobs:
        lines.append(f"  ({knobs})")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.retrieval_bench",
        description=__doc__.split("\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000], help="catalogue sizes (default: 10000 100000)"
    )
    parser.add_argument(
        "--types",
        nargs="+",
        default=["hnsw", "ivf"],
        choices=["hnsw", "ivf"],
        help="approximate index kinds compared with exact flat search (default: hnsw ivf)",
    )
    parser.add_argument("--dimension", type=int, default=384, help="vector dimension (default: 384, MiniLM's)")
    parser.add_argument("--queries", type=int, default=200, help="queries per filter (default: 200)")
    parser.add_argument("--k", type=int, default=50, help="results per query (default: 50)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import faiss

    print(
        f"retrieval benchmark: clustered random unit vectors, {args.dimension} dims, {args.queries} queries per filter, "
        f"k={args.k}; faiss {faiss.__version__}, {os.cpu_count()} CPUs"
    )
    started = time.perf_counter()
    for size in args.sizes:
        measured = run_size(size, ["flat", *args.types], args)
        print()
        print(report(size, measured, args.k), flush=True)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
