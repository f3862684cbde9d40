"""Every candidate source keeps the same contract: at most k allowed rows, best first, never an excluded or filtered-out item."""

import numpy as np
import pytest

from retrieval.collaborative import Interactions, ItemItemModel
from retrieval.filters import ItemFilter
from retrieval.item_search import ItemSearch, SearchOptions
from retrieval.retriever import FaissRetriever, SearchRequest
from retrieval.sources import CollaborativeSource, DenseSource, PopularitySource, seed_weights


@pytest.fixture
def model(catalog):
    ids = [item.id for item in catalog.items]
    users = [f"u{n // 3}" for n in range(3 * len(ids))]
    items = [ids[(n * 7 + n // 3) % len(ids)] for n in range(3 * len(ids))]  # overlapping baskets of three
    built, _ = ItemItemModel.build(Interactions(np.asarray(users), np.asarray(items), None, None, "test"), set(ids),
                                   ease_lambda=1.0)
    return built


@pytest.fixture(params=["dense", "collaborative", "popularity"])
def source(request, index, embedder, model):
    return {"dense": lambda: DenseSource(FaissRetriever(index, embedder)),
            "collaborative": lambda: CollaborativeSource(model, index),
            "popularity": lambda: PopularitySource(model, index)}[request.param]()


def test_a_source_returns_only_allowed_rows_best_first(source, index, embedder, model):
    liked = index.catalog.items[0].id
    request = SearchRequest("space creature", liked=(liked,), mentioned=(liked, index.catalog.items[1].id),
                            filters=ItemFilter(year_min=1970), exclude=frozenset({liked}))
    search = ItemSearch.open(index, embedder, SearchOptions(collaborative=model, ranker="none"))
    context = search.context(request)
    hits = source.recall(context, k=5)
    assert 0 < len(hits.rows) <= 5 and len(hits.rows) == len(set(hits.rows.tolist()))
    assert all(context.allowed[row] for row in hits.rows)
    assert list(hits.scores) == sorted(hits.scores, reverse=True)


def test_seed_weights_keep_each_item_once_at_its_latest_mention():
    assert seed_weights(["a", "b", "a", "c"], 0.5) == (["b", "a", "c"], [0.25, 0.5, 1.0])
    assert seed_weights([], 0.5) == ([], [])
