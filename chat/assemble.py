"""Building a ready ChatEngine from Settings: catalogue, embedder, index, the item search, LLM, reranker, log store.

Shared by the web app and the headless CLI so both serve exactly the same system. Each implementation
choice (the LLM backend, the dialogue reranker) is made here, by one `match` on its setting.
"""

from __future__ import annotations

import logging

from chat.engine import ChatEngine, EngineSettings
from chat.llm import ChatModel, LLMError, YesNoScorer, offline_by_default
from chat.llm.local import LocalChatModel
from chat.llm_reranker import LLMReranker
from chat.logs import LogStore
from chat.reranking import DialogueReranker
from chat.settings import Settings
from retrieval.catalog import Catalog, CatalogError
from retrieval.embeddings import ModelUnavailableError, SentenceTransformerEmbedder
from retrieval.index import StaleIndexError, load_catalog_for_index, open_index, open_named_index
from retrieval.item_search import ItemSearch

log = logging.getLogger(__name__)

APP_VERSION = "0.1.0"
# What building an engine raises for bad settings or files; a command line prints it as `error: ...` and exits 2.
STARTUP_ERRORS = (CatalogError, ValueError, LLMError, ModelUnavailableError, StaleIndexError)


def build_engine(settings: Settings, progress: bool = True) -> ChatEngine:
    offline_by_default()
    embedder = SentenceTransformerEmbedder(settings.embedding_model, threads=settings.threads or None)
    if settings.index:  # a folder the person named: its own catalogue, never rebuilt unless asked
        index = open_named_index(
            settings.index,
            embedder,
            settings.catalog or None,
            settings.catalog_path,
            rebuild=settings.rebuild_index,
            progress=progress,
        )
    else:  # the app's own folder; an index built from this file by `retrieval.build_index` keeps its column mapping
        catalog = load_catalog_for_index(settings.catalog_path, settings.index_dir)
        index = open_index(catalog, embedder, settings.index_dir, progress=progress)
    embedder.encode(["warm up"])  # the first encode pays one-off set-up costs; keep them out of the first turn
    catalog = index.catalog  # the catalogue plus any items added with `build_index --add`
    llm = build_llm(settings)
    log_store = None if settings.no_log else LogStore(settings.log_db, redact_personal_data=settings.redact)
    engine_settings = EngineSettings(
        items_per_reply=settings.items_per_reply,
        candidates_k=settings.candidates_k,
        planner=settings.planner,
        explainer=settings.explainer,
        explain_batch=settings.explain_batch,
        constrain_reasons=settings.constrain_reasons,
        model_id=llm.name if llm else "none",
        adapter_id=settings.adapter_path or "none",
        app_version=APP_VERSION,
        wording=settings.wording,
    )
    search = ItemSearch.open(index, embedder, settings.search_options)
    log.info("search: sources %s, ranker %s", [source.name for source in search.sources], search.ranker.name)
    return ChatEngine(catalog, search, llm, log_store, engine_settings, build_reranker(settings, llm, catalog))


def build_llm(settings: Settings) -> ChatModel | None:
    """The LLM backend `settings.llm` names; None for "none" (the rules plan, templates explain)."""
    match settings.llm:
        case "local":
            return LocalChatModel.from_settings(settings)
        case "remote":
            from chat.llm.remote import RemoteChatModel

            return RemoteChatModel(settings.remote_url, model=settings.remote_model, api_key=settings.remote_api_key)
        case "none":
            return None


def build_reranker(settings: Settings, llm: ChatModel | None, catalog: Catalog) -> DialogueReranker | None:
    """The dialogue reranker `settings.reranker` names; None for "weights" (the search's own order stands).

    Raises ValueError when the chosen reranker cannot run with this backend.
    """
    match settings.reranker:
        case "weights":
            return None
        case "llm":
            if not isinstance(llm, YesNoScorer):  # the backend's declared capability, checked once at start-up
                raise ValueError(
                    f"reranker: 'llm' needs a backend that scores yes/no answers (llm=local); "
                    f"llm={settings.llm} has none"
                )
            return LLMReranker(llm, catalog, settings.wording, settings.scorer_candidates)
