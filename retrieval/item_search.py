"""One item search as the chat engine runs it: recall under filters and exclusions, then rerank with liked items and co-occurrence.

Shared by the search command (`python -m retrieval.search`) and the LangChain adapters, so both
return what the engine would consider for the same request. Everything comes from an index
folder: the items, the vectors, the embedding model's name and the collaborative scores.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from retrieval.collaborative import ItemCooccurrence
from retrieval.embeddings import Embedder, SentenceTransformerEmbedder, model_for_name
from retrieval.index import ItemIndex, StaleIndexError
from retrieval.rerank import CollaborativeSignal, Reranker
from retrieval.retriever import FaissRetriever, ScoredItem, SearchRequest

CANDIDATES_K = 50  # as the engine: recall this many, rerank, keep the best k


@dataclass(frozen=True)
class ItemSearch:
    retriever: FaissRetriever
    reranker: Reranker
    collaborative: CollaborativeSignal | None = None
    candidates_k: int = CANDIDATES_K

    @classmethod
    def from_folder(cls, folder: str | Path, embedder: Embedder | None = None, threads: int | None = None) -> "ItemSearch":
        """Open an index folder; the embedder defaults to the model named in its manifest."""
        index = ItemIndex.open(folder)
        if embedder is None:
            embedder = SentenceTransformerEmbedder(model_for_name(index.manifest.embedding_model), threads=threads)
        if embedder.name != index.manifest.embedding_model:
            raise StaleIndexError(f"index was built with {index.manifest.embedding_model!r}, not {embedder.name!r}")
        return cls(FaissRetriever(index, embedder), Reranker(index.vector_of), ItemCooccurrence.load(folder))

    @property
    def index(self) -> ItemIndex:
        return self.retriever.index

    def unknown_ids(self, request: SearchRequest) -> list[str]:
        """Liked ids the index does not hold (the retriever would silently ignore them)."""
        return [item_id for item_id in request.liked if item_id not in self.index.catalog]

    def run(self, request: SearchRequest) -> list[ScoredItem]:
        """The k best items for the request, reranked as the chat engine reranks its candidates."""
        candidates = self.retriever.search(replace(request, k=max(request.k, self.candidates_k)))
        collaborative = None
        if self.collaborative is not None and request.liked:
            collaborative = self.collaborative.scores_for(request.liked)
        return self.reranker.rank(candidates, liked=request.liked, collaborative=collaborative)[: request.k]
