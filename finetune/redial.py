"""ReDial recommender turns replayed into dialogue states: the fine-tuning data's and `finetune.evaluate`'s ReDial turns.

The dialogues come from `corpora.redial` (read and mapped to catalogue items there); here each
seeker turn updates the chat's dialogue state by its own rules, and each recommender turn that
names catalogue films becomes a `RecommendationTurn`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from chat.state import DialogueState, record_shown, update_state
from chat.titles import TitleMatcher
from chat.understanding import clean_message, read_message
from corpora.dialogues import Dialogue
from corpora.redial import MovieMapper
from retrieval.catalog import Catalog


@dataclass(frozen=True)
class RecommendationTurn:
    """A recommender turn that names catalogue films, with the dialogue state the seeker's words built up to it."""

    dialogue_id: str
    state: DialogueState
    message: str  # the seeker's latest message
    novel: tuple[str, ...]  # catalogue items recommended here and not mentioned earlier in the dialogue
    mentioned: tuple[str, ...]  # every catalogue item recommended here


def recommendation_turns(
    dialogues: Iterable[Dialogue], mapper: MovieMapper, catalog: Catalog, titles: TitleMatcher, people: frozenset[str]
) -> Iterator[RecommendationTurn]:
    """Replay each dialogue: seeker turns update the state; recommended films count as shown afterwards."""
    for dialogue in dialogues:
        state, message = DialogueState(), ""
        for turn in dialogue.turns:
            if turn.role == "seeker":
                message = clean_message(turn.text)[0]
                state = update_state(state, read_message(turn.text, titles, people), catalog)
                continue
            mentioned = tuple(dict.fromkeys(i for i in map(mapper.item_id, turn.movie_ids) if i))
            if turn.movie_ids and message:
                novel = tuple(i for i in mentioned if i not in state.excluded)
                yield RecommendationTurn(dialogue.id, state, message, novel, mentioned)
            state = record_shown(state, list(mentioned))
