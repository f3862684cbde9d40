"""The system under test over an evaluation catalogue: the chat engine with a cached MiniLM index, without showing or logging.

It is the engine the app serves (the one `ItemSearch`: dense, collaborative and popularity
sources under the dialogue's hard constraints, fused and ranked), assembled by
`ItemSearch.open` from the app's own settings as `chat.assemble.build_engine` does, but over a
catalogue made in memory, with the benchmark's own collaborative model and ranker, and with an index cached in the evaluation's
cache folder (`var/eval/` by default, git-ignored; rebuilt when the catalogue or the embedding
model changes, as the app's index is). Benchmarks call `ChatEngine.rank`, which plans,
recalls and reranks; nothing is explained, shown or logged.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np

from chat.engine import ChatEngine, EngineSettings
from chat.llm import ChatModel, offline_by_default
from chat.settings import PROJECT_ROOT, Settings
from chat.titles import TitleMatcher
from retrieval.catalog import Catalog, Item
from retrieval.embeddings import Embedder, SentenceTransformerEmbedder, model_for_name, one_torch_thread  # noqa: F401 (used by redial, movielens)
from retrieval.index import ItemIndex, open_index
from retrieval.item_search import ItemSearch, SearchOptions

log = logging.getLogger(__name__)

DEFAULT_CACHE = PROJECT_ROOT / "var" / "eval"
LIST_LENGTH = 50  # every system ranks 50 items per turn


class ExactTitleMatcher(TitleMatcher):
    """The chat's title finder without its typo matching.

    Benchmark dialogues render every mention as the exact "Title (Year)", so typo matching
    would add nothing there but time.
    """

    def __init__(self, items: Iterable[Item]):
        super().__init__(items, fuzzy=False)


class QueryCache:
    """An embedder that encodes each distinct text once: the variants of one benchmark run ask for the same queries.

    Only the first system to encode a query pays for it, so later variants' ms per turn leave the encoding out.
    """

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self.name, self.dimension = embedder.name, embedder.dimension
        self._vectors: dict[str, np.ndarray] = {}

    def encode(self, texts, batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            self._vectors.update(
                zip(missing, self.embedder.encode(missing, batch_size=batch_size, show_progress=show_progress))
            )
        return (
            np.vstack([self._vectors[text] for text in texts]) if texts else np.zeros((0, self.dimension), np.float32)
        )


def load_embedder(model: str | None = None) -> SentenceTransformerEmbedder:
    """The app's embedder, or `model` (an index manifest's name, e.g. a fine-tuned encoder's folder)."""
    offline_by_default()
    return SentenceTransformerEmbedder(model_for_name(model) if model else Settings().embedding_model)


def load_llm() -> ChatModel:
    """The app's default local model and adapter (`Settings()` defaults: SmolLM2-135M, adapters/default if present)."""
    from chat.llm.local import LocalChatModel

    offline_by_default()
    settings = Settings()
    return LocalChatModel.from_settings(settings)


def project_path(path: str) -> str:
    """A path inside the project written relative to it (reports must not carry this machine's folders).

    Example: str(PROJECT_ROOT / "adapters" / "default") -> "adapters/default";  "none" -> "none"
    """
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return path


def cached_index(catalog: Catalog, embedder: Embedder, cache_dir: Path, name: str, progress: bool = True) -> ItemIndex:
    """The index of an evaluation catalogue in `cache_dir/name`, built on first use and whenever it is stale."""
    return open_index(catalog, embedder, Path(cache_dir) / name, progress=progress)


def engine_over(
    index: ItemIndex,
    embedder: Embedder,
    collaborative: object,
    llm: ChatModel | None = None,
    ranker: object = "none",
    options: SearchOptions | None = None,
) -> ChatEngine:
    """The engine over an index: the LLM plans when one is given, the dialogue-state rules plan otherwise.

    `collaborative` (an ItemItemModel, a path, or None) and `ranker` (a ranker, a folder, or "none")
    replace the app's; everything else of the search comes from `options` (default: the app's settings).
    """
    options = replace(options or Settings().search_options, collaborative=collaborative or "none", ranker=ranker)
    settings = EngineSettings(
        candidates_k=LIST_LENGTH,
        planner="llm" if llm is not None else "rules",
        explainer="template",
        model_id=getattr(llm, "name", "none"),
    )
    return ChatEngine(index.catalog, ItemSearch.open(index, embedder, options), llm, None, settings)


def with_sequential(options: SearchOptions | None, sequential: object) -> tuple[SearchOptions | None, object]:
    """The search options with a sequential model (a folder is loaded), and the model; "none" changes nothing."""
    if sequential is None or sequential == "none":
        return options, "none"
    from retrieval.ranking.sequential import SequentialRecommender

    model = sequential if isinstance(sequential, SequentialRecommender) else SequentialRecommender.load(sequential)
    return replace(options or Settings().search_options, sequential=model), model


def add_run_arguments(parser: argparse.ArgumentParser, llm_help: str) -> None:
    """The flags every benchmark CLI shares: --limit, --llm, --cache, --json."""
    parser.add_argument("--llm", action="store_true", help=llm_help)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="folder for the cached item index")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def parse_checked(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    return args
