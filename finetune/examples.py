"""SFT examples rendered by the same prompt code the engine uses at inference, so training and serving cannot drift.

Three tasks, one record shape each ({"task", "messages", "source", "conversation_id"}):
- plan: planner prompt -> the `search_items` call (`chat.tools.render_call`)
- explain: explainer prompt with the item cards -> "1. **Title (Year)**: reason" lines, exactly the
  text the engine asks the model to continue, item by item. It also keeps what the engine's explain
  step needs to ask again (`finetune.evaluate`): the dialogue state (`state_record`), the message and
  the item ids.
- score: scorer prompt for one candidate -> "yes" (the film the dialogue's recommender chose) or
  "no" (another film retrieved for the same request), as in TALLRec; the LLM reranker reads the
  probability of "yes".
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import fields, is_dataclass

from pydantic import TypeAdapter, ValidationError

from chat import prompts
from chat.guard import reason_problems
from chat.state import DialogueState
from chat.titles import TitleMatcher
from chat.tools import SearchCall, render_call
from retrieval.catalog import Catalog, Item


def plan_example(
    state: DialogueState, catalog: Catalog, message: str, call: SearchCall, source: str, conversation_id: str
) -> dict:
    messages, _prefix = prompts.planner_messages(state, catalog, message)
    return {
        "task": "plan",
        "source": source,
        "conversation_id": conversation_id,
        "messages": messages + [{"role": "assistant", "content": render_call(call)}],
    }


def explain_target(items: Sequence[Item], reasons: Sequence[str]) -> str:
    """The assistant text for an explain example.

    Example: ([Item("m1", "Alien", 1979)], ["Tense and claustrophobic."]) -> "1. **Alien (1979)**: Tense and claustrophobic."
    """
    return "\n".join(
        prompts.item_line_prefix(n, item) + reason for n, (item, reason) in enumerate(zip(items, reasons), 1)
    )


def explain_example(
    state: DialogueState,
    catalog: Catalog,
    message: str,
    items: Sequence[Item],
    reasons: Sequence[str],
    source: str,
    conversation_id: str,
) -> dict:
    messages = prompts.explainer_messages(state, catalog, message, list(items))
    return {
        "task": "explain",
        "source": source,
        "conversation_id": conversation_id,
        "messages": messages + [{"role": "assistant", "content": explain_target(items, reasons)}],
        "state": state_record(state),
        "message": message,
        "item_ids": [item.id for item in items],
    }


def state_record(state: DialogueState) -> dict:
    """The state as plain JSON values, sets sorted (the same state always writes the same record).

    Example: DialogueState(liked=("alien-1979",), avoid_terms=frozenset({"gore"})) -> {"liked": ["alien-1979"], ...,
             "avoid_terms": ["gore"], ...}
    """
    return _plain(state)


def state_from_record(record: dict) -> DialogueState:
    """The state `state_record` wrote. Raises ValueError naming the field that does not fit."""
    try:
        return _STATE.validate_python(record)
    except ValidationError as error:
        problem = error.errors()[0]
        raise ValueError(f"state.{'.'.join(map(str, problem['loc']))}: {problem['msg']}") from error


_STATE = TypeAdapter(DialogueState)


def _plain(value):
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def score_example(
    state: DialogueState, catalog: Catalog, message: str, item: Item, suits: bool, source: str, conversation_id: str
) -> dict:
    yes, no = prompts.SCORE_ANSWERS
    return {
        "task": "score",
        "source": source,
        "conversation_id": conversation_id,
        "messages": prompts.scorer_messages(state, catalog, message, item)
        + [{"role": "assistant", "content": yes if suits else no}],
    }


def grounded(
    reason: str,
    item: Item,
    state: DialogueState,
    shown: Sequence[Item],
    catalog: Catalog,
    titles: TitleMatcher,
    people: frozenset[str],
    earlier: Sequence[str] = (),
) -> bool:
    """True when a training reason would pass the engine's guard: we never teach what the guard rejects."""
    allowed = {i.id for i in shown} | set(state.liked) | set(state.disliked)
    return not reason_problems(reason, item, allowed, titles, catalog, people, tuple(earlier))


def split_of(conversation_id: str, eval_fraction: float) -> str:
    """A stable split by conversation, never by turn: the same id always lands in the same split."""
    bucket = int(hashlib.sha256(conversation_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "eval" if bucket < eval_fraction else "train"
