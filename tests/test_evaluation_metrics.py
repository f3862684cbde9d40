"""The evaluation's metric functions and baselines on tiny hand-made inputs."""

import math

import numpy as np
import pytest

from evaluation import baselines, metrics


def test_rank_and_recall_count_only_targets_inside_the_cutoff():
    assert metrics.rank_of(["a", "b", "c"], "b") == 2
    assert metrics.rank_of(["a"], "z") is None
    assert metrics.recall_at_k([1, 4, None, 12], 10) == 0.5
    assert metrics.recall_at_k([1, 4, None, 12], 1) == 0.25
    assert math.isnan(metrics.recall_at_k([], 10))
    assert metrics.recall_curve([1, 4, None], [1, 5]) == pytest.approx([1 / 3, 2 / 3])


def test_ndcg_of_one_target_discounts_by_log_rank():
    assert metrics.ndcg_at_k(1, 10) == 1.0
    assert metrics.ndcg_at_k(3, 10) == pytest.approx(0.5)
    assert metrics.ndcg_at_k(10, 10) == pytest.approx(1 / math.log2(11))
    assert metrics.ndcg_at_k(11, 10) == 0.0
    assert metrics.ndcg_at_k(None, 10) == 0.0


def test_wilson_interval_matches_known_values_and_stays_inside_0_1():
    low, high = metrics.wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = metrics.wilson_interval(5, 10)
    assert (low, high) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    low, high = metrics.wilson_interval(10, 10)
    assert high == pytest.approx(1.0) and 0.7 < low < 0.75
    assert all(math.isnan(v) for v in metrics.wilson_interval(0, 0))


def test_bootstrap_interval_holds_the_mean_and_widens_when_clusters_are_correlated():
    assert metrics.bootstrap_interval([1, 1, 1, 1]) == (1.0, 1.0)
    values = [0, 1] * 100
    low, high = metrics.bootstrap_interval(values, seed=1)
    assert low < 0.5 < high and high - low < 0.2
    # the same values, but each cluster holds ten equal samples: far fewer independent units
    clusters = [i // 10 for i in range(200)]
    correlated = [float((i // 10) % 2) for i in range(200)]
    c_low, c_high = metrics.bootstrap_interval(correlated, clusters, seed=1)
    assert c_high - c_low > high - low
    assert metrics.bootstrap_interval(values, seed=3) == metrics.bootstrap_interval(values, seed=3)


def test_recall_summary_gives_each_cutoff_a_value_and_an_interval():
    summary = metrics.recall_summary([1, 2, None, 30], (1, 10, 50))
    assert summary["recall@1"] == 0.25 and summary["recall@10"] == 0.5 and summary["recall@50"] == 0.75
    for k in (1, 10, 50):
        low, high = summary[f"recall@{k}_ci95"]
        assert 0.0 <= low <= summary[f"recall@{k}"] <= high <= 1.0
    clustered = metrics.recall_summary([1, 2, None, 30], (10,), clusters=["d1", "d1", "d2", "d2"])
    assert clustered["recall@10"] == 0.5


def test_popularity_counts_each_basket_once_and_skips_excluded_items():
    ranker = baselines.PopularityRanker([["a", "b", "b"], ["b"], ["b", "c"]])
    assert ranker.counts["b"] == 3
    assert ranker.top(2) == ["b", "a"]
    assert ranker.top(2, exclude={"b"}) == ["a", "c"]
    assert ranker.top(10) == ["b", "a", "c"]


def test_cooccurrence_ranks_items_seen_with_the_seeds_then_fills_with_popularity():
    baskets = [
        ["alien", "aliens"],
        ["alien", "aliens"],
        ["alien", "the-thing"],
        ["heat", "ronin"],
        ["heat", "ronin"],
        ["heat", "ronin"],
        ["toy-story"],
    ]
    popularity = baselines.PopularityRanker(baskets)
    signal = baselines.cooccurrence_from_baskets(baskets, {i for b in baskets for i in b})
    ranked = baselines.cooccurrence_ranking(signal, ["alien"], popularity, 4, exclude={"alien"})
    assert ranked[:2] == ["aliens", "the-thing"]
    assert len(ranked) == 4 and "alien" not in ranked
    assert baselines.cooccurrence_ranking(signal, [], popularity, 2) == popularity.top(2)


def test_repeat_ranking_lists_earlier_mentions_most_recent_first():
    assert baselines.repeat_ranking(["a", "b", "a", "c"], 50) == ["c", "a", "b"]
    assert baselines.repeat_ranking([], 50) == []


def test_embedding_rankings_return_the_nearest_items_that_are_not_excluded():
    items = np.eye(4, dtype=np.float32)
    queries = np.asarray([[1, 0.5, 0, 0], [0, 0, 0, 1]], dtype=np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    ranked = baselines.embedding_rankings(queries, items, ["a", "b", "c", "d"], 2, [set(), {"d"}])
    assert ranked[0] == ["a", "b"]
    assert "d" not in ranked[1] and len(ranked[1]) == 2
