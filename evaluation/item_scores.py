"""Next-item scorers over an item vocabulary, as dense score rows: popularity, EASE, first-order transitions, and their blend.

The interaction-only models the sequential benchmark compares SASRec with and blends it with.
Histories are lists of item indices (0-based columns of the score rows), oldest first. Each
model learns only from the training sequences it is given.

- popularity: how many training sequences hold the item.
- EASE (Steck, WWW 2019): the closed-form item-item regression B = I - P / diag(P), with
  P = (X^T X + l2 I)^-1 over the binary user x item matrix (`retrieval.ranking.collaborative.ease_weights`,
  the engine's own, kept dense here: every weight, negative ones too); a user's row is scored as
  x B, with x weighted by recency (`retrieval.ranking.collaborative.recency_weights`: decay^age, age 0 the newest item).
- transitions: how often item j came right after item i in training, row-normalized, summed
  over the history's last items with weight decay^age (a first-order Markov chain).
- blend: each model's row standardized over the items a user may be shown, then a weighted sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from retrieval.ranking import collaborative

RECENT_ITEMS = 20  # transitions read at most this many of the newest items


def training_matrix(sequences: Sequence[Sequence[int]], items: int) -> sparse.csr_matrix:
    """Binary sequences x items matrix.

    Example: training_matrix([[0, 2], [1]], 3).toarray() -> [[1, 0, 1], [0, 1, 0]]
    """
    rows = np.repeat(np.arange(len(sequences)), [len(s) for s in sequences])
    columns = np.fromiter((i for s in sequences for i in s), dtype=np.int64, count=len(rows))
    matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, columns)), shape=(len(sequences), items))
    matrix.data[:] = 1.0  # a repeated item counts once
    return matrix


def recency_rows(histories: Sequence[Sequence[int]], items: int, decay: float) -> np.ndarray:
    """One row per history, each item weighted decay^age (age 0 the newest); a repeated item keeps its newest weight.

    Example: recency_rows([[0, 2]], 3, 0.5) -> [[0.5, 0.0, 1.0]]
    """
    rows = np.zeros((len(histories), items), dtype=np.float32)
    for row, history in enumerate(histories):
        seeds, weights = collaborative.recency_weights(history, decay)
        rows[row, seeds] = np.asarray(weights, dtype=np.float32)
    return rows


def popularity_scores(sequences: Sequence[Sequence[int]], items: int) -> np.ndarray:
    """How many sequences hold each item."""
    return np.asarray(training_matrix(sequences, items).sum(axis=0)).ravel().astype(np.float32)


def ease_weights(sequences: Sequence[Sequence[int]], items: int, l2: float) -> np.ndarray:
    """EASE's item x item matrix B (zero diagonal), dense."""
    return collaborative.ease_weights(training_matrix(sequences, items), l2)


def transition_probabilities(sequences: Sequence[Sequence[int]], items: int) -> np.ndarray:
    """P(next = j | current = i) from consecutive pairs (rows of items never followed are zero).

    Example: transition_probabilities([[0, 1], [0, 2]], 3)[0] -> [0.0, 0.5, 0.5]
    """
    counts = np.zeros((items, items), dtype=np.float32)
    for sequence in sequences:
        if len(sequence) > 1:
            np.add.at(counts, (np.asarray(sequence[:-1]), np.asarray(sequence[1:])), 1.0)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


@dataclass(frozen=True)
class InteractionModels:
    """The fitted interaction-only models; each `*_scores` gives [len(histories), items]."""

    items: int
    popularity: np.ndarray
    ease: np.ndarray
    transitions: np.ndarray

    @classmethod
    def fit(cls, sequences: Sequence[Sequence[int]], items: int, l2: float) -> InteractionModels:
        return cls(
            items,
            popularity_scores(sequences, items),
            ease_weights(sequences, items, l2),
            transition_probabilities(sequences, items),
        )

    def popularity_scores(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        return np.tile(self.popularity, (len(histories), 1))

    def ease_scores(self, histories: Sequence[Sequence[int]], decay: float) -> np.ndarray:
        return recency_rows(histories, self.items, decay) @ self.ease

    def transition_scores(self, histories: Sequence[Sequence[int]], decay: float) -> np.ndarray:
        recent = [list(history)[-RECENT_ITEMS:] for history in histories]
        return recency_rows(recent, self.items, decay) @ self.transitions


def standardized(scores: np.ndarray, histories: Sequence[Sequence[int]]) -> np.ndarray:
    """Each row as z-scores over the items outside its history; history items at -inf.

    Example: standardized(np.array([[1.0, 2.0, 3.0]]), [[2]]) -> [[-1.0, 1.0, -inf]]
    """
    out = scores.astype(np.float64, copy=True)
    allowed = np.ones(out.shape, dtype=bool)
    for row, history in enumerate(histories):
        allowed[row, list(history)] = False
    count = allowed.sum(axis=1, keepdims=True)
    mean = np.where(allowed, out, 0.0).sum(axis=1, keepdims=True) / count
    spread = np.sqrt(np.where(allowed, (out - mean) ** 2, 0.0).sum(axis=1, keepdims=True) / count)
    out = (out - mean) / np.where(spread > 0, spread, 1.0)
    out[~allowed] = -np.inf
    return out


def blend(parts: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """The weighted sum of standardized score rows (parts with weight 0 are left out; -inf stays -inf).

    Example: blend({"a": np.array([[0.0, 1.0]]), "b": np.array([[1.0, 0.0]])}, {"a": 2.0, "b": 1.0}) -> [[1.0, 2.0]]
    """
    total = None
    for name, weight in weights.items():
        if weight:
            term = weight * parts[name]
            total = term if total is None else total + term
    if total is None:
        raise ValueError("a blend needs at least one part with a weight other than 0")
    return total
