"""Candidate sources: each recalls its best allowed items for a search, with its own score and rank.

A source answers `recall(context, k)` with `Hits` (row numbers of the index, best first, and their
scores). Three sources share the protocol:
- `DenseSource`: FAISS similarity of item text to the request's words and liked items
- `CollaborativeSource`: an item-item model (EASE by default) seeded with every item mentioned so
  far, recent mentions weighted up (weight `recency_decay ** age`, age 0 for the latest)
- `PopularitySource`: the items most people interacted with (a prior for when little is known)
- `SequentialSource`: a sequential recommender (SASRec, `retrieval.ranking.sequential`) reading the items
  mentioned so far in order, oldest first, as a history, scoring what comes next
Every source sees the same `SearchContext`: the request, its row mask (hard filters and
exclusions, computed once) and its query vector. No source ever returns a disallowed row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from retrieval.index import ItemIndex
from retrieval.ranking.collaborative import ItemItemModel, recency_weights
from retrieval.retriever import FaissRetriever, SearchRequest

if TYPE_CHECKING:  # torch is imported only when a sequential model is loaded
    from retrieval.ranking.sequential import SequentialRecommender

RECENCY_DECAY = (
    1.0  # chosen on the ReDial validation dialogues: 0.85 scored one target less, 0.5 fewer (docs/benchmarks.md)
)


@dataclass(frozen=True)
class SearchContext:
    """What every source and the ranker know about one search."""

    request: SearchRequest
    allowed: np.ndarray | None  # row mask; None: every row allowed
    vector: np.ndarray  # the request's unit query vector


@dataclass(frozen=True)
class Hits:
    """A source's answer: index rows best first, with the source's score for each."""

    rows: np.ndarray
    scores: np.ndarray


class CandidateSource(Protocol):
    name: str

    def recall(self, context: SearchContext, k: int) -> Hits: ...


def top_allowed(scores: np.ndarray, allowed: np.ndarray | None, k: int, positive_only: bool = True) -> Hits:
    """The k highest-scoring allowed rows (only rows scoring above 0 when `positive_only`).

    Example: top_allowed(np.array([0.1, 0.9, 0.5, 0.0]), np.array([True, False, True, True]), 5)
             -> Hits(rows=[2, 0], scores=[0.5, 0.1])
    """
    keep = np.ones(len(scores), dtype=bool) if allowed is None else allowed.copy()
    if positive_only:
        keep &= scores > 0
    rows = np.flatnonzero(keep)
    if len(rows) > k:
        rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
    rows = rows[np.argsort(-scores[rows], kind="stable")]
    return Hits(rows, scores[rows].astype(np.float32))


seed_weights = recency_weights  # the collaborative seeds: each mentioned item once, at its latest mention's weight


class DenseSource:
    """FAISS recall: similarity of the item text to the request's words and liked items."""

    name = "dense"

    def __init__(self, retriever: FaissRetriever):
        self.retriever = retriever

    def recall(self, context: SearchContext, k: int) -> Hits:
        hits = self.retriever.index.search(context.vector, k, context.allowed)
        rows = np.asarray([self.retriever.index.row_of(item.id) for item, _ in hits], dtype=np.int64)
        return Hits(rows, np.asarray([score for _, score in hits], dtype=np.float32))


class CollaborativeSource:
    """An item-item model's scores for the items mentioned so far, as index rows."""

    name = "collaborative"

    def __init__(self, model: ItemItemModel, index: ItemIndex, recency_decay: float = RECENCY_DECAY):
        self.model = model
        self.recency_decay = recency_decay
        # model position -> index row (-1 for items the index does not hold)
        self._row_of_position = np.asarray(
            [index.row_of(name) if name in index.catalog else -1 for name in model.names], dtype=np.int64
        )
        self._rows = len(index.catalog)

    def row_scores(self, request: SearchRequest) -> np.ndarray:
        """One score per index row (0 where the model has nothing to say)."""
        return self._scores_from(request.mentioned or request.liked, self.recency_decay)

    def last_scores(self, request: SearchRequest) -> np.ndarray:
        """One score per index row from the latest mention alone (what is mentioned with it), 0 where nothing."""
        history = request.mentioned or request.liked
        return self._scores_from(history[-1:])

    def _scores_from(self, history: Sequence[str], recency_decay: float = 1.0) -> np.ndarray:
        scores = np.zeros(self._rows, dtype=np.float32)
        if not history:
            return scores
        by_position = self.model.history_scores(history, recency_decay)
        known = self._row_of_position >= 0
        scores[self._row_of_position[known]] = by_position[known]
        return scores

    def recall(self, context: SearchContext, k: int) -> Hits:
        return top_allowed(self.row_scores(context.request), context.allowed, k)


class PopularitySource:
    """The most interacted-with allowed items; the score is log(1 + interactions)."""

    name = "popularity"

    def __init__(self, model: ItemItemModel, index: ItemIndex):
        self.scores = np.zeros(len(index.catalog), dtype=np.float32)
        for position, name in enumerate(model.names):
            if name in index.catalog:
                self.scores[index.row_of(name)] = np.log1p(model.counts[position])
        self._order = np.argsort(-self.scores, kind="stable")
        self._order = self._order[self.scores[self._order] > 0]

    def recall(self, context: SearchContext, k: int) -> Hits:
        allowed = context.allowed
        rows = self._order if allowed is None else self._order[allowed[self._order]]
        rows = rows[:k]
        return Hits(rows, self.scores[rows])


class SequentialSource:
    """A sequential recommender's next-item scores after the items mentioned so far (in order), as index rows."""

    name = "sequential"

    def __init__(self, model: SequentialRecommender, index: ItemIndex):
        self.model = model
        # model column -> index row (-1 for items the index does not hold)
        self._row_of_column = np.asarray(
            [index.row_of(item_id) if item_id in index.catalog else -1 for item_id in model.items], dtype=np.int64
        )
        self._rows = len(index.catalog)
        self._latest: tuple[tuple[str, ...], np.ndarray] = (
            (),
            np.zeros(0),
        )  # recall and features ask for the same history

    def row_scores(self, request: SearchRequest) -> np.ndarray:
        """One score per index row; NaN for rows the model does not know, and every row when no item of the history is known."""
        history = tuple(request.mentioned or request.liked)
        latest = self._latest  # read once: another search may replace it meanwhile
        if latest[0] == history and len(latest[1]):
            return latest[1]
        scores = np.full(self._rows, np.nan, dtype=np.float32)
        if not self.model.indices(history):
            return scores
        by_column = self.model.score_histories([history])[0]
        known = self._row_of_column >= 0
        scores[self._row_of_column[known]] = by_column[known]
        scores.setflags(write=False)
        self._latest = (history, scores)
        return scores

    def recall(self, context: SearchContext, k: int) -> Hits:
        scores = self.row_scores(context.request)
        known = ~np.isnan(scores)
        allowed = known if context.allowed is None else known & context.allowed
        return top_allowed(np.nan_to_num(scores, nan=-np.inf), allowed, k, positive_only=False)
