"""Simple rankers the system is compared with: popularity, item co-occurrence, embedding similarity, repeating earlier mentions.

Each one returns a ranked list of item ids, best first, at most k long, never holding an
excluded id. They learn only from what they are given (the benchmarks pass training data
only). Co-occurrence and EASE are the project's own `retrieval.ranking.collaborative.ItemItemModel`
(cosine of the sets of users, or dialogues, that mention two items; or EASE's closed form), so
the "collaborative-only" baselines and the engine's collaborative source are the same statistics.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Iterable, Sequence

import numpy as np

from retrieval.ranking.collaborative import EASE_LAMBDA, NEIGHBOURS, Interactions, ItemItemModel

log = logging.getLogger(__name__)


class PopularityRanker:
    """Items by how many baskets (dialogues, users) hold them; ties by id so the order is stable.

    Example: PopularityRanker([["a", "b"], ["b"], ["b", "c"]]).top(2) -> ["b", "a"]
             PopularityRanker([["a", "b"], ["b"], ["b", "c"]]).top(2, exclude={"b"}) -> ["a", "c"]
    """

    def __init__(self, baskets: Iterable[Iterable[str]]):
        self.counts: Counter[str] = Counter()
        for basket in baskets:
            self.counts.update(set(basket))
        self.order = sorted(self.counts, key=lambda item_id: (-self.counts[item_id], item_id))

    def top(self, k: int, exclude: Collection[str] = frozenset()) -> list[str]:
        ranked = []
        for item_id in self.order:
            if item_id not in exclude:
                ranked.append(item_id)
                if len(ranked) == k:
                    break
        return ranked


def model_from_baskets(
    baskets: Sequence[Sequence[str]],
    known_ids: Collection[str],
    method: str = "ease",
    ease_lambda: float = EASE_LAMBDA,
    neighbours: int = NEIGHBOURS,
) -> ItemItemModel:
    """An item-item model where each basket (a dialogue's mentioned items, a user's items) is one "user"."""
    users = [str(number) for number, basket in enumerate(baskets) for _ in basket]
    items = [item_id for basket in baskets for item_id in basket]
    interactions = Interactions(np.asarray(users, dtype=str), np.asarray(items, dtype=str), None, None, "baskets")
    model, report = ItemItemModel.build(
        interactions, known_ids, method=method, ease_lambda=ease_lambda, neighbours=neighbours
    )
    log.info("item-item model: %s", report.summary())
    return model


def cooccurrence_from_baskets(baskets: Sequence[Sequence[str]], known_ids: Collection[str]) -> ItemItemModel:
    """Item-item co-occurrence (cosine) where each basket is one "user": the classic baseline."""
    return model_from_baskets(baskets, known_ids, method="cosine")


def cooccurrence_ranking(
    model: ItemItemModel,
    seeds: Sequence[str],
    popularity: PopularityRanker,
    k: int,
    exclude: Collection[str] = frozenset(),
    weights: Sequence[float] | None = None,
) -> list[str]:
    """Items by their (weighted) item-item score from the seeds; the rest of the k places filled by popularity.

    Without seeds (nothing mentioned yet) this is the popularity ranking.
    """
    scores = model.weighted_scores(list(seeds), weights) if seeds else np.zeros(0)
    positive = np.flatnonzero(scores > 0)
    order = positive[
        np.lexsort((-np.asarray([popularity.counts.get(model.names[i], 0) for i in positive]), -scores[positive]))
    ]
    return filled([model.names[i] for i in order if model.names[i] not in exclude][:k], popularity, k, exclude)


def filled(
    ranked: Sequence[str], popularity: PopularityRanker, k: int, exclude: Collection[str] = frozenset()
) -> list[str]:
    """The ranking's first k, its empty places filled with the most popular items it and `exclude` do not hold.

    Example: filled(["c"], PopularityRanker([["a", "b"], ["b"]]), 3) -> ["c", "b", "a"]
    """
    ranked = list(ranked)[:k]
    if len(ranked) < k:
        ranked += popularity.top(k - len(ranked), exclude=set(ranked) | set(exclude))
    return ranked


def repeat_ranking(earlier: Sequence[str], k: int) -> list[str]:
    """The items mentioned earlier, most recent first: the "just say it again" baseline.

    Example: repeat_ranking(["a", "b", "a", "c"], 50) -> ["c", "a", "b"]
    """
    return list(dict.fromkeys(reversed(earlier)))[:k]


def embedding_rankings(
    query_vectors: np.ndarray,
    item_vectors: np.ndarray,
    item_ids: Sequence[str],
    k: int,
    excludes: Sequence[Collection[str]],
    chunk: int = 512,
) -> list[list[str]]:
    """For each normalized query vector, the k items of highest cosine similarity that it does not exclude."""
    rankings: list[list[str]] = []
    for start in range(0, len(query_vectors), chunk):
        scores = query_vectors[start : start + chunk] @ item_vectors.T
        for row, exclude in zip(scores, excludes[start : start + chunk]):
            wanted = min(len(row), k + len(exclude))
            best = np.argpartition(-row, wanted - 1)[:wanted] if wanted < len(row) else np.arange(len(row))
            best = best[np.argsort(-row[best], kind="stable")]
            rankings.append([item_ids[i] for i in best if item_ids[i] not in exclude][:k])
    return rankings
