"""Ranking features: one row of numbers per fused candidate, the same for the learned ranker and the weighted fallback.

`candidate_features(candidates, context, parts)` turns the union of every source's hits into a
(candidates x FEATURES) matrix. The features: each source's score for every candidate (not only
the ones it recalled) and its rank (NaN where it did not recall it), the reciprocal-rank fusion
score, similarity to the query and to liked, disliked, all mentioned and the latest mentioned
item, popularity, the collaborative score from the latest mention alone, the sequential model's
score, genre and era match, and how much the dialogue has told so far. Missing values are NaN, which
LightGBM treats as "unknown" and the weighted ranker as 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.catalog import Item
from retrieval.filters import category
from retrieval.ranking.sources import Hits, SearchContext

SOURCES = ("dense", "collaborative", "popularity", "sequential")
RRF_K = 60  # reciprocal rank fusion's constant (Cormack et al. 2009)
# The "fused" feature's fixed source weights: a feature must not move when the weighted ranker's settings do.
FEATURE_FUSION = {"dense": 0.5, "collaborative": 1.0, "popularity": 0.5}
FEATURES = (
    "dense_score",
    "dense_rank",
    "collaborative_score",
    "collaborative_rank",
    "popularity_score",
    "popularity_rank",
    "fused",
    "liked_similarity",
    "disliked_similarity",
    "mentioned_similarity_max",
    "mentioned_similarity_mean",
    "genre_match",
    "genres_known",
    "year_gap",
    "has_synopsis",
    "seed_count",
    "query_words",
    "sequential_score",
    "sequential_rank",
    "collaborative_last",
    "last_similarity",
)


@dataclass(frozen=True)
class Candidates:
    """The union of the sources' hits: index rows, and each source's rank per row (NaN: not recalled by it)."""

    rows: np.ndarray
    ranks: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.rows)


def fuse(hits: dict[str, Hits]) -> Candidates:
    """Every row any source recalled, first seen first, with its 1-based rank in each source.

    Example: fuse({"dense": Hits([4, 2], ...), "popularity": Hits([2, 7], ...)})
             -> rows [4, 2, 7]; ranks dense [1, 2, nan], popularity [nan, 1, 2]
    """
    rows = list(dict.fromkeys(int(row) for h in hits.values() for row in h.rows))
    where = {row: position for position, row in enumerate(rows)}
    ranks = {}
    for name, h in hits.items():
        column = np.full(len(rows), np.nan, dtype=np.float32)
        for rank, row in enumerate(h.rows, start=1):
            column[where[int(row)]] = rank
        ranks[name] = column
    return Candidates(np.asarray(rows, dtype=np.int64), ranks)


def reciprocal_rank(ranks: dict[str, np.ndarray], weights: dict[str, float], k: int = RRF_K) -> np.ndarray:
    """Weighted reciprocal rank fusion: sum over sources of weight / (k + rank); a source that missed a row adds 0.

    Example: ranks {"a": [1, nan]}, weights {"a": 2.0}, k=1 -> [1.0, 0.0]
    """
    total = None
    for name, column in ranks.items():
        part = np.nan_to_num(weights.get(name, 0.0) / (k + column), nan=0.0)
        total = part if total is None else total + part
    return total if total is not None else np.zeros(0)


def _similarity(matrix: np.ndarray, others: np.ndarray) -> np.ndarray:
    return matrix @ others.T if len(others) else np.zeros((len(matrix), 0), dtype=np.float32)


def _genre_match(item: Item, wanted: frozenset[str]) -> float:
    if not wanted or not item.genres:
        return np.nan
    genres = {category(g) for g in item.genres}
    return sum(category(g) in genres for g in wanted) / len(wanted)


def candidate_features(
    candidates: Candidates,
    context: SearchContext,
    items: Sequence[Item],
    vectors: np.ndarray,
    seed_vectors: dict[str, np.ndarray],
    source_scores: dict[str, np.ndarray],
    seed_years: Sequence[int],
) -> np.ndarray:
    """The (candidates x FEATURES) matrix; `items` and `vectors` are the candidates', row-aligned.

    `seed_vectors` holds the vectors of the "liked", "disliked", "mentioned" and "last" (latest mentioned) items
    (empty arrays when none); `source_scores` each source's score for every candidate, and "collaborative_last"
    the collaborative score from the latest mention alone (NaN arrays where a source is absent).
    """
    request = context.request
    n = len(candidates)
    features = np.full((n, len(FEATURES)), np.nan, dtype=np.float32)
    column = {name: position for position, name in enumerate(FEATURES)}
    for name in SOURCES:
        features[:, column[f"{name}_score"]] = source_scores[name]
        features[:, column[f"{name}_rank"]] = candidates.ranks.get(name, np.full(n, np.nan))
    features[:, column["fused"]] = reciprocal_rank(candidates.ranks, FEATURE_FUSION)
    features[:, column["collaborative_last"]] = source_scores["collaborative_last"]
    for name, feature in (
        ("liked", "liked_similarity"),
        ("disliked", "disliked_similarity"),
        ("last", "last_similarity"),
    ):
        similar = _similarity(vectors, seed_vectors[name])
        if similar.shape[1]:
            features[:, column[feature]] = similar.max(axis=1)
    mentioned = _similarity(vectors, seed_vectors["mentioned"])
    if mentioned.shape[1]:
        features[:, column["mentioned_similarity_max"]] = mentioned.max(axis=1)
        features[:, column["mentioned_similarity_mean"]] = mentioned.mean(axis=1)
    wanted = request.filters.wanted("genres")
    features[:, column["genre_match"]] = [_genre_match(item, wanted) for item in items]
    features[:, column["genres_known"]] = [float(bool(item.genres)) for item in items]
    if seed_years:
        centre = float(np.median(seed_years))
        features[:, column["year_gap"]] = [abs(item.year - centre) if item.year else np.nan for item in items]
    features[:, column["has_synopsis"]] = [float(bool(item.synopsis)) for item in items]
    features[:, column["seed_count"]] = len(dict.fromkeys(request.mentioned or request.liked))
    features[:, column["query_words"]] = len(request.query.split())
    return features
