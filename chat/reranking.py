"""The second ranking stage: what a reranker of the search's ranked candidates implements, reading the dialogue.

The search (`retrieval.item_search.ItemSearch`) already orders its candidates by its ranker over
their features (weighted or learned). A dialogue reranker may then reorder them with what only the
conversation holds: the state and the person's words. The engine runs the one `chat.assemble`
chose, or none (the search's order stands). Implementations: `chat.llm_reranker.LLMReranker`.
"""

from __future__ import annotations

from typing import Protocol

from chat.state import DialogueState
from retrieval.retriever import ScoredItem


class DialogueReranker(Protocol):
    """Reorders a turn's ranked candidates; a failure it recovers from is added to `notes` and the order stays."""

    name: str  # the engine times the stage as f"{name}_rerank"

    def rerank(
        self, ranked: list[ScoredItem], state: DialogueState, message: str, notes: list[str]
    ) -> list[ScoredItem]: ...
