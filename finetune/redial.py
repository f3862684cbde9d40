"""Reading ReDial dialogues (Li et al. 2018, CC BY 4.0) and mapping their movie mentions to catalogue items.

A ReDial file has one dialogue per line; `@123` in a message marks a mention of movie 123, named
"Title (Year)" in the dialogue's `movieMentions` or in `movies_with_mentions.csv`. Mentions are
mapped to catalogue items by normalized title and year (title alone when it is unambiguous).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from chat.state import DialogueState, record_shown, update_state
from chat.titles import TitleMatcher, normalize_title
from chat.understanding import clean_message, read_message
from retrieval.catalog import Catalog

_MENTION = re.compile(r"@(\d+)")
_NAME_YEAR = re.compile(r"^(.*?)\s*\((\d{4})\)\s*$")


@dataclass(frozen=True)
class Turn:
    role: str  # "seeker" or "recommender"
    text: str  # mentions rendered as "Title (Year)"
    movie_ids: tuple[str, ...]  # ReDial movie ids mentioned in this turn


@dataclass(frozen=True)
class Dialogue:
    id: str
    turns: tuple[Turn, ...]


def split_name(name: str) -> tuple[str, int | None]:
    """Example: "Alien  (1979)" -> ("Alien", 1979);  "Alien" -> ("Alien", None)"""
    match = _NAME_YEAR.match(" ".join(name.split()))
    return (match.group(1), int(match.group(2))) if match else (" ".join(name.split()), None)


def read_movie_names(path: str | Path) -> dict[str, str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["movieId"]: row["movieName"] for row in csv.DictReader(handle)}


def read_dialogues(path: str | Path, movie_names: dict[str, str] | None = None) -> Iterator[Dialogue]:
    """Dialogues with consecutive messages of one speaker merged into one turn."""
    movie_names = movie_names or {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            raw = json.loads(line)
            names = {**movie_names, **(raw.get("movieMentions") or {})}
            seeker = raw["initiatorWorkerId"]
            turns: list[Turn] = []
            for message in raw["messages"]:
                role = "seeker" if message["senderWorkerId"] == seeker else "recommender"
                ids = tuple(_MENTION.findall(message["text"]))
                text = _MENTION.sub(lambda m: " ".join(str(names.get(m.group(1)) or "a movie").split()), message["text"])
                if turns and turns[-1].role == role:
                    last = turns[-1]
                    turns[-1] = Turn(role, f"{last.text} {text}", last.movie_ids + ids)
                else:
                    turns.append(Turn(role, text, ids))
            yield Dialogue(str(raw["conversationId"]), tuple(turns))


class MovieMapper:
    """ReDial movie id -> catalogue item id, by normalized title and year."""

    def __init__(self, catalog: Catalog, movie_names: dict[str, str]):
        by_title_year: dict[tuple[str, int | None], str] = {}
        by_title: dict[str, list[str]] = {}
        for item in catalog:
            key = normalize_title(item.title)
            by_title_year[(key, item.year)] = item.id
            by_title.setdefault(key, []).append(item.id)
        self.mapping: dict[str, str] = {}
        for movie_id, name in movie_names.items():
            title, year = split_name(name)
            key = normalize_title(title)
            item_id = by_title_year.get((key, year))
            if item_id is None and year is None and len(by_title.get(key, [])) == 1:
                item_id = by_title[key][0]
            if item_id:
                self.mapping[movie_id] = item_id

    def item_id(self, movie_id: str) -> str | None:
        return self.mapping.get(movie_id)


@dataclass(frozen=True)
class RecommendationTurn:
    """A recommender turn that names catalogue films, with the dialogue state the seeker's words built up to it."""

    dialogue_id: str
    state: DialogueState
    message: str  # the seeker's latest message
    novel: tuple[str, ...]  # catalogue items recommended here and not mentioned earlier in the dialogue
    mentioned: tuple[str, ...]  # every catalogue item recommended here


def recommendation_turns(dialogues: Iterable[Dialogue], mapper: MovieMapper, catalog: Catalog, titles: TitleMatcher,
                         people: frozenset[str]) -> Iterator[RecommendationTurn]:
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
