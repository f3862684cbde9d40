"""Candidate recall: the Retriever interface and the FAISS implementation the chat engine calls.

search(query, liked, filters, exclude, k) embeds the query, blends in the vectors of liked
items, keeps only items the filter allows and that are not excluded, and returns the k nearest
with their similarity. The filter becomes a row mask over the index's columns (milliseconds at
1M items) and is applied inside FAISS (an ID selector), so k results come back whenever k
allowed items exist, however many others were filtered out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from retrieval.catalog import Item
from retrieval.embeddings import Embedder
from retrieval.filters import ItemFilter
from retrieval.index import ItemIndex

QUERY_WEIGHT = 0.6  # share of the query text in the blended query vector when liked items exist


@dataclass
class ScoredItem:
    """An item with its final score and the per-signal scores that made it."""

    item: Item
    score: float
    signals: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchRequest:
    query: str
    liked: tuple[str, ...] = ()
    filters: ItemFilter = ItemFilter()
    exclude: frozenset[str] = frozenset()
    k: int = 50
    disliked: tuple[str, ...] = ()
    mentioned: tuple[str, ...] = ()  # every item named or shown so far, oldest first (seeds the collaborative source)


class Retriever(Protocol):
    def search(self, request: SearchRequest) -> list[ScoredItem]: ...


def blend(
    query_vector: np.ndarray | None, liked_vectors: Sequence[np.ndarray], query_weight: float = QUERY_WEIGHT
) -> np.ndarray:
    """A unit vector mixing the query with the mean of the liked items' vectors."""
    parts = []
    if query_vector is not None:
        parts.append((query_weight if liked_vectors else 1.0) * query_vector)
    if liked_vectors:
        liked = np.mean(np.vstack(liked_vectors), axis=0)
        parts.append((1.0 - query_weight if query_vector is not None else 1.0) * liked)
    vector = np.sum(parts, axis=0)
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm else vector).astype(np.float32)


class FaissRetriever:
    """Semantic recall over an ItemIndex with filters and exclusions."""

    def __init__(self, index: ItemIndex, embedder: Embedder):
        self.index = index
        self.embedder = embedder

    def query_vector(self, request: SearchRequest) -> np.ndarray:
        """The request as one unit vector: its words blended with its liked items (the catalogue's centre when empty)."""
        query_vector = self.embedder.encode([request.query])[0] if request.query.strip() else None
        liked = [self.index.vector_of(i) for i in request.liked if i in self.index.catalog]
        if query_vector is None and not liked:
            query_vector = self.index.centre  # nothing said yet: the catalogue's centre
        return blend(query_vector, liked)

    def search(
        self, request: SearchRequest, vector: np.ndarray | None = None, allowed: np.ndarray | None = None
    ) -> list[ScoredItem]:
        """The k nearest allowed items; `vector` and `allowed` (a row mask) when the caller has them already.

        Raises filter_columns.UnknownFilterFieldError for a filter on a field the index cannot filter on.
        """
        vector = self.query_vector(request) if vector is None else vector
        allowed = self.index.allowed(request.filters, request.exclude) if allowed is None else allowed
        hits = self.index.search(vector, request.k, allowed)
        return [ScoredItem(item, score, {"semantic": score}) for item, score in hits]
