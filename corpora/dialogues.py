"""The one shape every conversation corpus is read into: a dialogue of seeker and recommender turns.

Consecutive messages of one speaker form one turn (`add_message`), in every corpus alike.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Turn:
    role: str  # "seeker" or "recommender"
    text: str  # mentions rendered as "Title (Year)"
    movie_ids: tuple[str, ...]  # the corpus's ids of the movies mentioned in this turn


@dataclass(frozen=True)
class Dialogue:
    id: str
    turns: tuple[Turn, ...]


def add_message(turns: list[Turn], role: str, text: str, movie_ids: tuple[str, ...]) -> None:
    """Append a message to `turns`: merged into the last turn when the same speaker spoke it.

    Example: [Turn("seeker", "hi", ())] + ("seeker", "I loved Alien (1979)", ("1",))
             -> [Turn("seeker", "hi I loved Alien (1979)", ("1",))]
    """
    if turns and turns[-1].role == role:
        last = turns[-1]
        turns[-1] = Turn(role, f"{last.text} {text}", last.movie_ids + movie_ids)
    else:
        turns.append(Turn(role, text, movie_ids))
