"""The TALLRec-style LLM reranker: the top candidates reordered by the model's probability that each suits the request.

Each of the top `candidates` items gets the scorer prompt (`chat.prompts.scorer_messages`: the
request first, the item last, so one turn's prompts share their start) and the model's P("yes")
becomes its `llm_yes` signal; the top is sorted by it (stable: ties keep the search's order) and
the rest follows unchanged. A scorer failure keeps the search's order and says so in the notes.
"""

from __future__ import annotations

from chat import prompts
from chat.llm import LLMError, YesNoScorer
from chat.state import DialogueState
from chat.wording import Wording
from retrieval.catalog import Catalog
from retrieval.retriever import ScoredItem


class LLMReranker:
    """A `chat.reranking.DialogueReranker` over a `YesNoScorer` (the local backend is one)."""

    name = "llm"

    def __init__(self, scorer: YesNoScorer, catalog: Catalog, wording: Wording = Wording(), candidates: int = 10):
        if candidates < 1:
            raise ValueError(f"scorer_candidates: must be at least 1, got {candidates}")
        self.scorer, self.catalog, self.wording, self.candidates = scorer, catalog, wording, candidates

    def rerank(
        self, ranked: list[ScoredItem], state: DialogueState, message: str, notes: list[str]
    ) -> list[ScoredItem]:
        top = ranked[: self.candidates]
        if not top:
            return ranked
        try:
            chances = self.scorer.yes_probability(
                [prompts.scorer_messages(state, self.catalog, message, s.item, self.wording) for s in top]
            )
        except LLMError as error:
            notes.append(f"scorer error: {error}")
            return ranked
        rescored = [ScoredItem(s.item, s.score, {**s.signals, "llm_yes": chance}) for s, chance in zip(top, chances)]
        rescored.sort(key=lambda s: -s.signals["llm_yes"])  # stable: ties keep the search's order
        return rescored + ranked[len(top) :]
