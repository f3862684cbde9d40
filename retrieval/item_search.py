"""The one search path: candidate sources, fused, then ranked; every caller (engine, search command, LangChain tools, benchmarks) runs this.

    search = ItemSearch.open(index, embedder, SearchOptions(collaborative="var/index/items", ranker="none"))
    search.run(SearchRequest(query="tense heist", liked=("heat-1995",), mentioned=("heat-1995",), k=10))

1. the request's hard filters and exclusions become one row mask, its words and liked items one
   query vector
2. each source (`ranking/sources.py`: dense FAISS, the collaborative item-item model, popularity, and
   the sequential model when the catalogue has one) recalls its `candidates_per_source` best allowed items
3. the union is described by `ranking.features.FEATURES` and ranked by the learned ranker when
   one is loaded, else by the weighted ranker (reciprocal rank fusion plus liked/disliked closeness)
Per-signal values stay on each result (`ScoredItem.signals`) for the "under the hood" view and the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retrieval.embeddings import Embedder, SentenceTransformerEmbedder, model_for_name
from retrieval.index import ItemIndex, StaleIndexError
from retrieval.ranking import (
    FEATURES,
    SOURCES,
    Candidates,
    ItemItemModel,
    LightGBMRanker,
    Ranker,
    RerankWeights,
    WeightedRanker,
    candidate_features,
    fuse,
)
from retrieval.ranking.sources import (
    RECENCY_DECAY,
    CandidateSource,
    CollaborativeSource,
    DenseSource,
    PopularitySource,
    SearchContext,
    SequentialSource,
)
from retrieval.retriever import FaissRetriever, ScoredItem, SearchRequest

log = logging.getLogger(__name__)

CANDIDATES_PER_SOURCE = 100
RANKER_FOLDER = "ranker"
SEQUENTIAL_FOLDER = (
    "sequential"  # an index folder's own sequential model (retrieval.train_sequential --out INDEX/sequential)
)
SIGNALS = {
    "semantic": "dense_score",
    "collaborative": "collaborative_score",
    "popularity": "popularity_score",
    "fused": "fused",
    "liked": "liked_similarity",
    "disliked": "disliked_similarity",
}


class RetrievalError(RuntimeError):
    """A search could not run: the index, the embedder or a model behind a source failed (not the request's fault)."""


@dataclass(frozen=True)
class SearchOptions:
    """How a search is assembled; read once from settings (`chat.settings.Settings.search_options`).

    `collaborative`, `sequential` and `ranker`: a path, "none", or "auto" (the index folder's own, when it
    has one). A model object may be given instead of a path (benchmarks train theirs in memory).
    """

    collaborative: object = "auto"
    ranker: object = "auto"
    sequential: object = "auto"
    weights: RerankWeights = field(default_factory=RerankWeights)
    recency_decay: float = RECENCY_DECAY
    candidates_per_source: int = CANDIDATES_PER_SOURCE
    sources: tuple[str, ...] = SOURCES

    def __post_init__(self) -> None:
        unknown = set(self.sources) - set(SOURCES)
        if unknown:
            raise ValueError(f"sources: unknown {sorted(unknown)}; choose from {SOURCES}")
        if not 0 < self.recency_decay <= 1:
            raise ValueError(f"recency_decay: must be in (0, 1], got {self.recency_decay}")
        if self.candidates_per_source < 1:
            raise ValueError(f"candidates_per_source: must be at least 1, got {self.candidates_per_source}")


@dataclass(frozen=True)
class RankedCandidates:
    """Every fused candidate of one search with its features and final score (train_ranker reads these)."""

    candidates: Candidates
    features: np.ndarray
    scores: np.ndarray


def _collaborative_model(choice: object, folder: Path | None) -> ItemItemModel | None:
    if isinstance(choice, ItemItemModel) or choice is None:
        return choice
    if choice == "none":
        return None
    if choice == "auto":
        return ItemItemModel.load(folder) if folder is not None else None
    model = ItemItemModel.load(Path(str(choice)))
    if model is None:
        raise FileNotFoundError(f"no collaborative model at {choice}")
    return model


def _sequential_model(choice: object, folder: Path | None):
    """The sequential recommender chosen, or None; torch is imported only when one is loaded."""
    if choice is None or choice == "none":
        return None
    if not isinstance(choice, (str, Path)):
        return choice  # a model object
    from retrieval.ranking.sequential import WEIGHTS_FILE, SequentialRecommender

    if choice == "auto":
        if folder is None or not (folder / SEQUENTIAL_FOLDER / WEIGHTS_FILE).is_file():
            return None
        choice = folder / SEQUENTIAL_FOLDER
    return SequentialRecommender.load(Path(str(choice)))


def _ranker(choice: object, folder: Path | None, weights: RerankWeights) -> Ranker:
    if not isinstance(choice, (str, Path)) and choice is not None:
        return choice  # a ranker object
    if choice in (None, "none"):
        return WeightedRanker(weights)
    if choice == "auto":
        if folder is None or not (folder / RANKER_FOLDER).is_dir():
            return WeightedRanker(weights)
        choice = folder / RANKER_FOLDER
    return LightGBMRanker.load(choice)


class ItemSearch:
    def __init__(
        self, retriever: FaissRetriever, sources: list[CandidateSource], ranker: Ranker, options: SearchOptions
    ):
        self.retriever = retriever
        self.sources = sources
        self.ranker = ranker
        self.options = options
        self._collaborative = next((s for s in sources if isinstance(s, CollaborativeSource)), None)
        self._popularity = next((s for s in sources if isinstance(s, PopularitySource)), None)
        self._sequential = next((s for s in sources if isinstance(s, SequentialSource)), None)

    @classmethod
    def open(
        cls,
        index: ItemIndex,
        embedder: Embedder,
        options: SearchOptions = SearchOptions(),
        folder: str | Path | None = None,
    ) -> ItemSearch:
        """The search over an index; "auto" parts come from `folder` (the index folder) when given."""
        folder = Path(folder) if folder is not None else None
        retriever = FaissRetriever(index, embedder)
        model = _collaborative_model(options.collaborative, folder)
        sources: list[CandidateSource] = []
        if "dense" in options.sources:
            sources.append(DenseSource(retriever))
        if model is not None and "collaborative" in options.sources:
            sources.append(CollaborativeSource(model, index, options.recency_decay))
        if model is not None and "popularity" in options.sources and model.counts.any():
            sources.append(PopularitySource(model, index))
        sequential = _sequential_model(options.sequential, folder) if "sequential" in options.sources else None
        if sequential is not None:
            sources.append(SequentialSource(sequential, index))
        return cls(retriever, sources, _ranker(options.ranker, folder, options.weights), options)

    @classmethod
    def from_folder(
        cls,
        folder: str | Path,
        embedder: Embedder | None = None,
        threads: int | None = None,
        options: SearchOptions = SearchOptions(),
    ) -> ItemSearch:
        """Open an index folder; the embedder defaults to the model named in its manifest."""
        index = ItemIndex.open(folder)
        if embedder is None:
            embedder = SentenceTransformerEmbedder(model_for_name(index.manifest.embedding_model), threads=threads)
        if embedder.name != index.manifest.embedding_model:
            raise StaleIndexError(f"index was built with {index.manifest.embedding_model!r}, not {embedder.name!r}")
        return cls.open(index, embedder, options, folder)

    @property
    def index(self) -> ItemIndex:
        return self.retriever.index

    def unknown_ids(self, request: SearchRequest) -> list[str]:
        """Liked ids the index does not hold (the sources would silently ignore them)."""
        return [item_id for item_id in request.liked if item_id not in self.index.catalog]

    def context(self, request: SearchRequest) -> SearchContext:
        """Raises filter_columns.UnknownFilterFieldError for a filter on a field the index cannot filter on."""
        return SearchContext(
            request, self.index.allowed(request.filters, request.exclude), self.retriever.query_vector(request)
        )

    def rank_candidates(self, context: SearchContext) -> RankedCandidates:
        """Recall from every source, fuse, describe and score every candidate (unsorted)."""
        k = self.options.candidates_per_source
        hits = {source.name: source.recall(context, k) for source in self.sources}
        candidates = fuse(hits)
        index, request = self.index, context.request
        items = [index.catalog.items[row] for row in candidates.rows]
        vectors = self._vectors_at(candidates.rows, len(context.vector))
        missing = np.full(len(candidates), np.nan)
        source_scores = {
            "dense": vectors @ context.vector,
            "collaborative": (
                self._collaborative.row_scores(request)[candidates.rows] if self._collaborative else missing
            ),
            "collaborative_last": (
                self._collaborative.last_scores(request)[candidates.rows] if self._collaborative else missing
            ),
            "popularity": self._popularity.scores[candidates.rows] if self._popularity else missing,
            "sequential": self._sequential.row_scores(request)[candidates.rows] if self._sequential else missing,
        }
        known = index.catalog

        def seed_vectors(ids) -> np.ndarray:
            rows = np.asarray([index.row_of(i) for i in dict.fromkeys(ids) if i in known], dtype=np.int64)
            return self._vectors_at(rows, len(context.vector))

        history = request.mentioned or request.liked
        seeds = {
            "liked": seed_vectors(request.liked),
            "disliked": seed_vectors(request.disliked),
            "mentioned": seed_vectors(history),
            "last": seed_vectors(history[-1:]),
        }
        years = [
            known[i].year for i in dict.fromkeys(request.mentioned or request.liked) if i in known and known[i].year
        ]
        features = candidate_features(candidates, context, items, vectors, seeds, source_scores, years)
        scores = self.ranker.score(features) if len(candidates) else np.zeros(0)
        return RankedCandidates(candidates, features, np.asarray(scores, dtype=np.float64))

    def _vectors_at(self, rows: np.ndarray, dimension: int) -> np.ndarray:
        """The item vectors of some index rows: a slice of the stored matrix for exact (flat) indexes."""
        if not len(rows):
            return np.zeros((0, dimension), dtype=np.float32)
        if self.index.manifest.index_type == "flat":
            return np.asarray(self.index.vectors[rows])
        return np.vstack([self.index.vector_of(self.index.catalog.items[row].id) for row in rows])

    def run(self, request: SearchRequest) -> list[ScoredItem]:
        """The k best items for the request, best first. Raises RetrievalError when the index or a model fails, and
        filter_columns.UnknownFilterFieldError (a ValueError) for a filter on a field the index cannot filter on."""
        try:
            ranked = self.rank_candidates(self.context(request))
        except (RuntimeError, MemoryError, OSError) as error:  # FAISS, torch and LightGBM raise these
            raise RetrievalError(f"search failed: {error}") from error
        order = np.argsort(-ranked.scores, kind="stable")[: request.k]
        column = {name: position for position, name in enumerate(FEATURES)}
        results = []
        for position in order:
            values = ranked.features[position]
            signals = {signal: float(np.nan_to_num(values[column[feature]])) for signal, feature in SIGNALS.items()}
            item = self.index.catalog.items[ranked.candidates.rows[position]]
            results.append(ScoredItem(item, float(ranked.scores[position]), signals))
        return results
