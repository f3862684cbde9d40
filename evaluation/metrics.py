"""Ranking metrics and their 95% confidence intervals: pure functions over ranks and hit lists.

A "rank" is the 1-based position of a target in a ranked list, or None when the target is not
in the list at all. Every metric here is computed from ranks, so a list is scored once and
Recall@K for any K (and the curves in the report) come from the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

import numpy as np

Z_95 = 1.959963984540054  # the normal quantile for a two-sided 95% interval


def rank_of(ranked: Sequence[str], target: str) -> int | None:
    """The 1-based position of target in ranked, or None.

    Example: rank_of(["a", "b", "c"], "b") -> 2;  rank_of(["a"], "z") -> None
    """
    for position, item_id in enumerate(ranked, start=1):
        if item_id == target:
            return position
    return None


def hit(rank: int | None, k: int) -> bool:
    """Is a target of this rank in the top k?

    Example: hit(3, 10) -> True;  hit(11, 10) -> False;  hit(None, 50) -> False
    """
    return rank is not None and rank <= k


def recall_at_k(ranks: Sequence[int | None], k: int) -> float:
    """The share of targets ranked in the top k (one target per sample; nan for no samples).

    Example: recall_at_k([1, 4, None, 12], 10) -> 0.5
    """
    if not ranks:
        return math.nan
    return sum(hit(rank, k) for rank in ranks) / len(ranks)


def ndcg_at_k(rank: int | None, k: int) -> float:
    """NDCG@k of one relevant target: 1 / log2(rank + 1) within the top k, else 0.

    Example: ndcg_at_k(1, 10) -> 1.0;  ndcg_at_k(3, 10) -> 0.5;  ndcg_at_k(11, 10) -> 0.0
    """
    return 1.0 / math.log2(rank + 1) if hit(rank, k) else 0.0


def recall_curve(ranks: Sequence[int | None], ks: Sequence[int]) -> list[float]:
    """Recall@k for each k, for a recall@K plot.

    Example: recall_curve([1, 4, None], [1, 5]) -> [0.333..., 0.666...]
    """
    return [recall_at_k(ranks, k) for k in ks]


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion: sound near 0 and 1 and for small n (unlike p +/- z*se).

    Example: wilson_interval(0, 10) -> (0.0, 0.277...);  wilson_interval(5, 10) -> (0.236..., 0.763...)
    """
    if n <= 0:
        return (math.nan, math.nan)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def bootstrap_interval(
    values: Sequence[float],
    clusters: Sequence[Hashable] | None = None,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of a mean; with `clusters`, whole clusters are resampled.

    Samples from one ReDial dialogue are not independent (the same person, the same taste), so
    resampling dialogues rather than turns gives an honest, wider interval. The mean of a
    resample is the sum of its clusters' values over the count of its samples.

    Example: bootstrap_interval([1, 1, 1, 1]) -> (1.0, 1.0)
             bootstrap_interval([0, 1] * 50) -> roughly (0.4, 0.6)
    """
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return (math.nan, math.nan)
    if clusters is None:
        sums, counts = data, np.ones_like(data)
    else:
        _, codes = np.unique(np.asarray([str(c) for c in clusters]), return_inverse=True)
        sums = np.bincount(codes, weights=data)
        counts = np.bincount(codes).astype(float)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(sums), size=(resamples, len(sums)))
    means = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return (float(low), float(high))


def recall_summary(
    ranks: Sequence[int | None], ks: Sequence[int], clusters: Sequence[Hashable] | None = None, seed: int = 0
) -> dict[str, float | list[float]]:
    """{"recall@k": value, "recall@k_ci95": [low, high]} for each k.

    With clusters the interval is a cluster bootstrap; without, the Wilson interval.
    """
    summary: dict[str, float | list[float]] = {}
    for k in ks:
        hits = [1.0 if hit(rank, k) else 0.0 for rank in ranks]
        summary[f"recall@{k}"] = recall_at_k(ranks, k)
        if clusters is None:
            interval = wilson_interval(int(sum(hits)), len(hits))
        else:
            interval = bootstrap_interval(hits, clusters, seed=seed)
        summary[f"recall@{k}_ci95"] = [round(interval[0], 4), round(interval[1], 4)]
    return summary
