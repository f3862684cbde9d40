"""The sentence-transformers embedder encodes a query or two on one torch thread and leaves the count as it was."""

import numpy as np
import torch

from retrieval.embeddings import FEW_TEXTS, SentenceTransformerEmbedder


class ThreadRecordingModel:
    """Stands in for a SentenceTransformer: records the torch thread count each encode ran with."""

    def __init__(self):
        self.threads: list[int] = []

    def encode(self, texts, **options):
        self.threads.append(torch.get_num_threads())
        return np.ones((len(texts), 3), dtype=np.float32)


def embedder_over(model) -> SentenceTransformerEmbedder:
    embedder = SentenceTransformerEmbedder.__new__(SentenceTransformerEmbedder)  # no real model to load
    embedder._model = model
    return embedder


def test_a_few_texts_encode_on_one_thread_and_the_count_is_restored():
    model = ThreadRecordingModel()
    embedder = embedder_over(model)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        embedder.encode(["a tense ghost story"])
        embedder.encode(["text"] * (FEW_TEXTS + 1))
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    assert model.threads == [1, 2]
    assert after == 2
