"""Ranking fused candidates: the Ranker interface and the weighted fallback used when no trained ranker is given.

A ranker scores the rows of a candidate feature matrix (`features.FEATURES`); higher is
better. `WeightedRanker` adds reciprocal rank fusion over the sources (each source's weight
is a setting) to closeness to liked items and distance from disliked ones. The learned ranker
(`learned.LightGBMRanker`) has the same interface. Hard constraints are not a ranker's
job: no source ever recalls a filtered-out item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from retrieval.ranking.features import FEATURES, RRF_K, SOURCES


class Ranker(Protocol):
    name: str

    def score(self, features: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class RerankWeights:
    """Fusion weight of each source, and how much closeness to liked and disliked items moves an item.

    Defaults chosen on the ReDial validation dialogues (docs/benchmarks.md).
    """

    semantic: float = 0.5
    liked: float = 0.0
    disliked: float = 0.0
    popularity: float = 0.5
    collaborative: float = 1.0
    sequential: float = 0.0

    @property
    def fusion(self) -> dict[str, float]:
        return {
            "dense": self.semantic,
            "collaborative": self.collaborative,
            "popularity": self.popularity,
            "sequential": self.sequential,
        }


class WeightedRanker:
    """Weighted reciprocal rank fusion of the sources' ranks (times RRF_K, so a first place is worth about its weight),
    plus liked * closeness to liked items, minus disliked * closeness to disliked items (missing counts 0)."""

    name = "weights"

    def __init__(self, weights: RerankWeights = RerankWeights()):
        self.weights = weights
        self._column = {name: position for position, name in enumerate(FEATURES)}

    def score(self, features: np.ndarray) -> np.ndarray:
        w = self.weights
        fused = sum(
            np.nan_to_num(weight / (RRF_K + features[:, self._column[f"{name}_rank"]]), nan=0.0)
            for name, weight in w.fusion.items()
            if name in SOURCES
        )
        values = np.nan_to_num(features, nan=0.0)
        return (
            RRF_K * fused
            + w.liked * values[:, self._column["liked_similarity"]]
            - w.disliked * values[:, self._column["disliked_similarity"]]
        )
