"""The learned ranker: LambdaRank learns from labelled groups, saves with its metadata, and the search loads it or falls back."""

import json

import numpy as np
import pytest

from retrieval.item_search import ItemSearch, SearchOptions
from retrieval.ranking import FEATURES, WeightedRanker
from retrieval.ranking.learned import LightGBMRanker, RankerUnavailableError, RankingGroups, train
from retrieval.retriever import SearchRequest

LIKED = FEATURES.index("liked_similarity")


def groups(seed: int, count: int = 60, size: int = 20) -> RankingGroups:
    """Groups where the one positive has the highest liked_similarity; the other features are noise."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(count * size, len(FEATURES))).astype(np.float32)
    labels = np.zeros(count * size, dtype=np.float32)
    for group in range(count):
        rows = slice(group * size, (group + 1) * size)
        best = group * size + int(np.argmax(features[rows, LIKED]))
        labels[best] = 1
    return RankingGroups(features, labels, np.full(count, size))


@pytest.fixture(scope="module")
def ranker():
    params = {"num_leaves": 4, "min_data_in_leaf": 5, "learning_rate": 0.2, "num_threads": 1}
    return train(groups(0), groups(1), params, rounds=30, early_stopping=10, meta={"data_hash": "test"})


def test_lambdarank_learns_which_feature_marks_the_positive(ranker):
    test = groups(2)
    scores = ranker.score(test.features).reshape(len(test.group_sizes), -1)
    top = scores.argmax(axis=1)
    assert (
        test.labels.reshape(len(test.group_sizes), -1)[np.arange(len(top)), top] == 1
    ).mean() > 0.5  # chance: 1 in 20
    assert ranker.meta["features"] == list(FEATURES) and ranker.meta["lightgbm_version"]
    assert ranker.meta["importance_gain"]["liked_similarity"] == max(ranker.meta["importance_gain"].values())


def test_saved_ranker_loads_back_and_one_for_other_features_is_refused(ranker, tmp_path):
    ranker.save(tmp_path / "r")
    loaded = LightGBMRanker.load(tmp_path / "r")
    features = groups(3).features
    assert np.allclose(loaded.score(features), ranker.score(features))
    meta = json.loads((tmp_path / "r" / "ranker.json").read_text())
    (tmp_path / "r" / "ranker.json").write_text(json.dumps({**meta, "features": ["something_else"]}))
    with pytest.raises(RankerUnavailableError, match="other features"):
        LightGBMRanker.load(tmp_path / "r")


def test_search_loads_the_index_folders_ranker_and_falls_back_to_weights(ranker, tmp_path, index, embedder):
    folder = tmp_path / "idx"
    index.save(folder)
    assert isinstance(ItemSearch.from_folder(folder, embedder).ranker, WeightedRanker)
    ranker.save(folder / "ranker")
    search = ItemSearch.from_folder(folder, embedder)
    assert search.ranker.name == "lightgbm"
    results = search.run(SearchRequest("space creature", k=5))
    assert len(results) == 5 and [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    assert isinstance(
        ItemSearch.from_folder(folder, embedder, options=SearchOptions(ranker="none")).ranker, WeightedRanker
    )
