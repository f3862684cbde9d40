"""Reranking recalled candidates with the dialogue's signals: similarity, liked and disliked items, popularity, co-occurrence.

The score is a weighted sum of signals, each in roughly [-1, 1]; the weights are settings.
Hard constraints are not the reranker's job: the retriever never returns a filtered-out item.
The collaborative signal comes from a `CollaborativeSignal` (e.g. collaborative.ItemCooccurrence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from retrieval.retriever import ScoredItem


@runtime_checkable
class CollaborativeSignal(Protocol):
    """Scores of items that people who liked the given items also interacted with."""

    def scores_for(self, liked: Sequence[str]) -> dict[str, float]: ...


@dataclass(frozen=True)
class RerankWeights:
    semantic: float = 1.0
    liked: float = 0.35
    disliked: float = 0.35
    popularity: float = 0.05
    collaborative: float = 0.3


class Reranker:
    """rank(candidates, liked vectors, disliked vectors) -> candidates sorted by the combined score."""

    def __init__(
        self,
        vector_of: Callable[[str], np.ndarray],
        weights: RerankWeights = RerankWeights(),
        popularity: dict[str, float] | None = None,
    ):
        self.vector_of = vector_of
        self.weights = weights
        self.popularity = popularity or {}

    def rank(
        self,
        candidates: Sequence[ScoredItem],
        liked: Sequence[str] = (),
        disliked: Sequence[str] = (),
        collaborative: dict[str, float] | None = None,
    ) -> list[ScoredItem]:
        if not candidates:
            return []
        matrix = np.vstack([self.vector_of(c.item.id) for c in candidates])

        def closeness(ids: Sequence[str]) -> np.ndarray:
            if not ids:
                return np.zeros(len(candidates))
            return (matrix @ np.vstack([self.vector_of(i) for i in ids]).T).max(axis=1)

        liked_score, disliked_score = closeness(liked), closeness(disliked)
        collaborative = collaborative or {}
        ranked = []
        for row, candidate in enumerate(candidates):
            signals = {
                "semantic": candidate.signals.get("semantic", candidate.score),
                "liked": float(liked_score[row]),
                "disliked": float(disliked_score[row]),
                "popularity": self.popularity.get(candidate.item.id, 0.0),
                "collaborative": collaborative.get(candidate.item.id, 0.0),
            }
            w = self.weights
            score = (
                w.semantic * signals["semantic"]
                + w.liked * signals["liked"]
                - w.disliked * signals["disliked"]
                + w.popularity * signals["popularity"]
                + w.collaborative * signals["collaborative"]
            )
            ranked.append(ScoredItem(candidate.item, float(score), signals))
        ranked.sort(key=lambda scored: scored.score, reverse=True)
        return ranked
