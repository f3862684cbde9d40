"""Every candidate source keeps the same contract: at most k allowed rows, best first, never an excluded or filtered-out item.

The sequential source is a real SASRec, trained here in seconds on tiny histories that walk the
catalogue in one fixed order, so it has learned "after item i comes item i + 1".
"""

import numpy as np
import pytest

from retrieval.filters import ItemFilter, year_range
from retrieval.item_search import ItemSearch, SearchOptions
from retrieval.ranking import FEATURES, Interactions, ItemItemModel, ordered_histories
from retrieval.ranking.sequential import SasrecConfig
from retrieval.ranking.sources import CollaborativeSource, DenseSource, PopularitySource, SequentialSource, seed_weights
from retrieval.retriever import FaissRetriever, SearchRequest
from retrieval.train_sequential import TrainingConfig, train


@pytest.fixture
def model(catalog):
    ids = [item.id for item in catalog.items]
    users = [f"u{n // 3}" for n in range(3 * len(ids))]
    items = [ids[(n * 7 + n // 3) % len(ids)] for n in range(3 * len(ids))]  # overlapping baskets of three
    built, _ = ItemItemModel.build(
        Interactions(np.asarray(users), np.asarray(items), None, None, "test"), set(ids), ease_lambda=1.0
    )
    return built


@pytest.fixture(scope="module")
def walked():
    """The catalogue's ids in one fixed order, and a SASRec trained on histories that walk that order from each start."""
    from tests.conftest import SMALL_CATALOG

    ids = sorted(row["id"] for row in SMALL_CATALOG)
    users, items, stamps = [], [], []
    for start in range(len(ids)):
        for step in range(8):
            users.append(f"u{start}")
            items.append(ids[(start + step) % len(ids)])
            stamps.append(float(step))
    histories = ordered_histories(
        Interactions(np.asarray(users), np.asarray(items), None, np.asarray(stamps), "walks"), 1
    )
    config = SasrecConfig(items=len(histories.items), hidden=16, blocks=1, max_length=8, dropout=0.0)
    recommender, _ = train(
        histories, config, TrainingConfig(epochs=40, patience=40, learning_rate=1e-2, batch_size=4), progress=False
    )
    return ids, recommender


@pytest.fixture(params=["dense", "collaborative", "popularity", "sequential"])
def source(request, index, embedder, model, walked):
    return {
        "dense": lambda: DenseSource(FaissRetriever(index, embedder)),
        "collaborative": lambda: CollaborativeSource(model, index),
        "popularity": lambda: PopularitySource(model, index),
        "sequential": lambda: SequentialSource(walked[1], index),
    }[request.param]()


def test_a_source_returns_only_allowed_rows_best_first(source, index, embedder, model):
    liked = index.catalog.items[0].id
    request = SearchRequest(
        "space creature",
        liked=(liked,),
        mentioned=(liked, index.catalog.items[1].id),
        filters=ItemFilter(year_range(1970, None)),
        exclude=frozenset({liked}),
    )
    search = ItemSearch.open(index, embedder, SearchOptions(collaborative=model, ranker="none"))
    context = search.context(request)
    hits = source.recall(context, k=5)
    assert 0 < len(hits.rows) <= 5 and len(hits.rows) == len(set(hits.rows.tolist()))
    assert all(context.allowed[row] for row in hits.rows)
    assert list(hits.scores) == sorted(hits.scores, reverse=True)


def test_seed_weights_keep_each_item_once_at_its_latest_mention():
    assert seed_weights(["a", "b", "a", "c"], 0.5) == (["b", "a", "c"], [0.25, 0.5, 1.0])
    assert seed_weights([], 0.5) == ([], [])


def test_the_sequential_source_recalls_what_comes_next_in_the_mentions_order(index, embedder, walked):
    ids, recommender = walked
    search = ItemSearch.open(
        index, embedder, SearchOptions(collaborative="none", ranker="none", sequential=recommender)
    )
    assert [source.name for source in search.sources] == ["dense", "sequential"]

    def first_recalled(mentioned: tuple[str, ...]) -> str:
        hits = search.sources[1].recall(
            search.context(SearchRequest("", mentioned=mentioned, exclude=frozenset(mentioned))), 3
        )
        return index.catalog.items[hits.rows[0]].id

    assert first_recalled((ids[3], ids[4], ids[5])) == ids[6]
    assert first_recalled((ids[10], ids[11])) == ids[12]
    assert first_recalled((ids[11], ids[12])) == ids[13]  # the latest mention decides, not a bag of items


def test_the_sequential_score_is_a_ranking_feature_and_nan_without_a_history(index, embedder, walked):
    ids, recommender = walked
    search = ItemSearch.open(
        index, embedder, SearchOptions(collaborative="none", ranker="none", sequential=recommender)
    )
    column = FEATURES.index("sequential_score")
    ranked = search.rank_candidates(
        search.context(SearchRequest("space", mentioned=ids[:2], exclude=frozenset(ids[:2])))
    )
    rows = ranked.candidates.rows.tolist()
    assert not np.isnan(ranked.features[:, column]).any()
    assert ranked.features[rows.index(index.row_of(ids[2])), column] == ranked.features[:, column].max()
    cold = search.rank_candidates(search.context(SearchRequest("space")))
    assert (
        np.isnan(cold.features[:, column]).all() and np.isnan(cold.features[:, FEATURES.index("sequential_rank")]).all()
    )


def test_an_index_folder_s_own_sequential_model_is_loaded_and_none_turns_it_off(tmp_path, index, embedder, walked):
    walked[1].save(tmp_path / "sequential")
    found = ItemSearch.open(index, embedder, SearchOptions(collaborative="none", ranker="none"), folder=tmp_path)
    assert "sequential" in [source.name for source in found.sources]
    off = ItemSearch.open(
        index, embedder, SearchOptions(collaborative="none", ranker="none", sequential="none"), folder=tmp_path
    )
    assert "sequential" not in [source.name for source in off.sources]
    assert "sequential" not in [s.name for s in ItemSearch.open(index, embedder, SearchOptions(ranker="none")).sources]


def test_the_last_mention_s_collaborative_score_is_a_feature(index, embedder, model):
    search = ItemSearch.open(index, embedder, SearchOptions(collaborative=model, ranker="none"))
    first, last = index.catalog.items[0].id, index.catalog.items[1].id
    ranked = search.rank_candidates(search.context(SearchRequest("", mentioned=(first, last))))
    alone = search.sources[1].row_scores(SearchRequest("", mentioned=(last,)))
    np.testing.assert_allclose(ranked.features[:, FEATURES.index("collaborative_last")], alone[ranked.candidates.rows])
