"""After the index, before the reply: candidate sources, the models behind them, fusion, features and the rankers.

    sources.py        each source recalls its best allowed items: dense FAISS, collaborative, popularity, sequential
    collaborative.py  the item-item model (EASE or cosine) and popularity, from interactions
    sequences.py      each user's items in time order (k-core filter, leave-last-two split)
    sequential.py     SASRec: next-item scores for an ordered history (torch; not re-exported here)
    features.py       the sources' candidates fused (reciprocal rank) and described by one feature row each
    weighted.py       the Ranker interface and the weighted fallback
    learned.py        the LightGBM LambdaRank ranker: train, save with metadata, load

`retrieval.item_search.ItemSearch` runs them in that order. This package builds on the index layer
(`retrieval.index`, `retrieval.retriever`) and the index layer never imports it.
"""

from retrieval.ranking.collaborative import (
    EASE_LAMBDA,
    Interactions,
    InteractionsError,
    ItemItemModel,
    read_interactions,
)
from retrieval.ranking.features import FEATURES, RRF_K, SOURCES, Candidates, candidate_features, fuse
from retrieval.ranking.learned import LightGBMRanker, RankerUnavailableError, RankingGroups
from retrieval.ranking.sequences import Histories, ordered_histories
from retrieval.ranking.sources import RECENCY_DECAY, CandidateSource, Hits, SearchContext, seed_weights
from retrieval.ranking.weighted import Ranker, RerankWeights, WeightedRanker

__all__ = [
    "EASE_LAMBDA",
    "FEATURES",
    "RECENCY_DECAY",
    "RRF_K",
    "SOURCES",
    "CandidateSource",
    "Candidates",
    "Histories",
    "Hits",
    "Interactions",
    "InteractionsError",
    "ItemItemModel",
    "LightGBMRanker",
    "Ranker",
    "RankerUnavailableError",
    "RankingGroups",
    "RerankWeights",
    "SearchContext",
    "WeightedRanker",
    "candidate_features",
    "fuse",
    "ordered_histories",
    "read_interactions",
    "seed_weights",
]
