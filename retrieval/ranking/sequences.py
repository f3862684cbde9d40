"""Each user's items in time order, from interactions: the k-core filter and the leave-last-two split of sequential recommendation.

This is the preprocessing of LlamaRec's public code (Yue et al. 2023), which the field's
sequential benchmarks share: keep only items and users with at least `min_count`
interactions, re-counting until both hold (items first, then users, as they do); order each
user's items by (timestamp, item id); the last item is the test target, the second-to-last
the validation target, the rest is training data. Item ids that are all integers are
compared as numbers (as LlamaRec's dense integer ids are), other ids as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.ranking.collaborative import Interactions

MIN_COUNT = 5


@dataclass(frozen=True)
class Histories:
    """Each user's item ids, oldest first, and the item vocabulary (sorted as `item_sort_key` sorts)."""

    users: tuple[str, ...]
    sequences: tuple[tuple[str, ...], ...]
    items: tuple[str, ...]

    def train(self) -> list[tuple[str, ...]]:
        """Every user's items but the last two (what models learn from)."""
        return [sequence[:-2] for sequence in self.sequences]

    def validation(self) -> list[tuple[str, tuple[str, ...], str]]:
        """(user, history, target): the second-to-last item after the training items (users with 3 or more items)."""
        return [
            (user, sequence[:-2], sequence[-2])
            for user, sequence in zip(self.users, self.sequences)
            if len(sequence) > 2
        ]

    def test(self) -> list[tuple[str, tuple[str, ...], str]]:
        """(user, history, target): the last item after all the others (users with 2 or more items)."""
        return [
            (user, sequence[:-1], sequence[-1])
            for user, sequence in zip(self.users, self.sequences)
            if len(sequence) > 1
        ]


def item_sort_key(ids: Sequence[str]) -> np.ndarray:
    """Sort positions of ids: numeric order when every id is an integer, text order otherwise.

    Example: item_sort_key(["10", "9", "100"]) -> array([1, 0, 2])
             item_sort_key(["b", "a"]) -> array([1, 0])
    """
    values = np.asarray(ids, dtype=str)
    if len(values) and all(value.lstrip("-").isdigit() for value in values):
        keys = values.astype(np.int64)
    else:
        keys = values
    order = np.argsort(keys, kind="stable")
    positions = np.empty(len(values), dtype=np.int64)
    positions[order] = np.arange(len(values))
    return positions


def k_core(users: np.ndarray, items: np.ndarray, min_count: int = MIN_COUNT) -> np.ndarray:
    """Which rows survive the iterated filter: items, then users, with at least min_count rows each, until both hold.

    Example: k_core(np.array(["u", "u", "v"]), np.array(["a", "b", "a"]), 2) -> array([False, False, False])
             (item b has one row; dropping it leaves user u with one row; dropping u leaves item a with one)
    """
    keep = np.ones(len(items), dtype=bool)
    while True:
        item_codes, item_counts = np.unique(items[keep], return_inverse=True, return_counts=True)[1:]
        rows = np.flatnonzero(keep)
        keep[rows[item_counts[item_codes] < min_count]] = False
        user_codes, user_counts = np.unique(users[keep], return_inverse=True, return_counts=True)[1:]
        rows = np.flatnonzero(keep)
        keep[rows[user_counts[user_codes] < min_count]] = False
        _, items_left = np.unique(items[keep], return_counts=True)
        _, users_left = np.unique(users[keep], return_counts=True)
        if (items_left >= min_count).all() and (users_left >= min_count).all():
            return keep


def ordered_histories(
    interactions: Interactions, min_count: int = MIN_COUNT, ties_by_item_id: bool = True
) -> Histories:
    """Per-user item sequences after the k-core filter, ordered by (timestamp, item id); users sorted as item ids are.

    With `ties_by_item_id` False, equal timestamps keep the file order instead (the project's
    older leave-one-out protocol). Without timestamps the file order is the time order. Empty user or item cells are dropped
    first; a repeated (user, item) pair stays a repeated step, as in LlamaRec.
    """
    users, items = interactions.users, interactions.items
    present = (users != "") & (items != "")
    users, items = users[present], items[present]
    if interactions.timestamps is not None:
        stamps = np.nan_to_num(interactions.timestamps[present], nan=-np.inf)
    else:
        stamps = np.arange(len(items), dtype=float)
    keep = k_core(users, items, min_count) if min_count > 1 else np.ones(len(items), dtype=bool)
    users, items, stamps = users[keep], items[keep], stamps[keep]
    vocabulary, item_codes = np.unique(items, return_inverse=True)
    item_rank = item_sort_key(vocabulary)[item_codes] if ties_by_item_id else np.arange(len(items))
    user_names, user_codes = np.unique(users, return_inverse=True)
    user_rank = item_sort_key(user_names)[user_codes]
    order = np.lexsort((item_rank, stamps, user_rank))
    users, items, user_rank = users[order], items[order], user_rank[order]
    bounds = np.flatnonzero(np.diff(user_rank)) + 1
    sequences = tuple(tuple(str(item) for item in chunk) for chunk in np.split(items, bounds)) if len(items) else ()
    names = tuple(str(chunk[0]) for chunk in np.split(users, bounds)) if len(users) else ()
    by_key = vocabulary[np.argsort(item_sort_key(vocabulary), kind="stable")]
    return Histories(names, sequences, tuple(str(item) for item in by_key))
