"""Reading ReDial dialogues (Li et al. 2018, CC BY 4.0), also as IARD annotates them, and mapping their movies to items.

A ReDial file has one dialogue per line; `@123` in a message marks a mention of movie 123, named
"Title (Year)" in the dialogue's `movieMentions` or in `movies_with_mentions.csv`. IARD (Hayati
et al.) keeps copies of ReDial training dialogues in one JSON file, mentions written
"@123 <Title (Year)>". Both are read as `corpora.dialogues.Dialogue`s. Mentions are mapped to
catalogue items by normalized title and year (title alone when it is unambiguous: `MovieMapper`).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

from chat.titles import normalize_title
from corpora.dialogues import Dialogue, Turn, add_message
from retrieval.catalog import Catalog

_MENTION = re.compile(r"@(\d+)")
_IARD_MENTION = re.compile(r"@(\d+)\s*<([^>]*)>")
_NAME_YEAR = re.compile(r"^(.*?)\s*\((\d{4})\)\s*$")


def split_name(name: str) -> tuple[str, int | None]:
    """Example: "Alien  (1979)" -> ("Alien", 1979);  "Alien" -> ("Alien", None)"""
    match = _NAME_YEAR.match(" ".join(name.split()))
    return (match.group(1), int(match.group(2))) if match else (" ".join(name.split()), None)


def read_movie_names(path: str | Path) -> dict[str, str]:
    """`movies_with_mentions.csv`: ReDial movie id -> "Title (Year)"."""
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["movieId"]: row["movieName"] for row in csv.DictReader(handle)}


def render_mentions(text: str, names: dict[str, str]) -> str:
    """Example: ("I loved @1", {"1": "Alien  (1979)"}) -> "I loved Alien (1979)"; an unnamed id reads "a movie"."""
    return _MENTION.sub(lambda mention: " ".join(str(names.get(mention.group(1)) or "a movie").split()), text)


def read_dialogues(path: str | Path, movie_names: dict[str, str] | None = None) -> Iterator[Dialogue]:
    """A ReDial file's dialogues, consecutive messages of one speaker merged into one turn."""
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
                add_message(
                    turns, role, render_mentions(message["text"], names), tuple(_MENTION.findall(message["text"]))
                )
            yield Dialogue(str(raw["conversationId"]), tuple(turns))


def read_iard_dialogues(path: str | Path) -> Iterator[Dialogue]:
    """IARD's annotated ReDial dialogues, mentions written "@id <Title (Year)>".

    Example utterance: "Yes, how about @187028 <It  (2017)>  ?" -> Turn("recommender", "Yes, how about It (2017)  ?", ("187028",))
    """
    with open(path, encoding="utf-8") as handle:
        records = json.load(handle)
    for conversation_id, record in records.items():
        utterances = sorted(record["dialogue_info"].values(), key=lambda u: u["utterance_pos"])
        turns: list[Turn] = []
        for utterance in utterances:
            text = utterance["utterance_text"]
            ids = tuple(match.group(1) for match in _IARD_MENTION.finditer(text))
            role = "seeker" if utterance["role"] == "seeker" else "recommender"
            add_message(turns, role, _IARD_MENTION.sub(lambda m: " ".join(m.group(2).split()), text), ids)
        yield Dialogue(str(conversation_id), tuple(turns))


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
