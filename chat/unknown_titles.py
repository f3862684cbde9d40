"""Titles a person named that the catalogue does not hold, so a reply can say so before it offers its picks.

A stretch of a message reads as a title when it is written as one: capitalised words before a year in brackets
("Zorblax Returns (2031)") or capitalised words in double quotes ("The Glorp"). It is unknown when no catalogue title
was found in it (`chat.titles.TitleMatcher`, typos included).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chat.titles import TitleMention

_WORD = r"[A-Z0-9][\w'’:&.!?-]*"
_SMALL = r"(?:of|the|a|an|and|in|on|to|at|for|from|with|de|la|le|du|von)"
_BEFORE_YEAR = re.compile(rf"{_WORD}(?:\s+(?:{_WORD}|{_SMALL}))*\s*\((?:18|19|20)\d\d\)")
_QUOTED = re.compile(r"[\"“]([A-Z0-9][^\"”\n]{1,80})[\"”]")
# Words that open a request rather than a title ("Recommend Zorblax Returns (2031)").
_LEADS = frozenset(
    [
        "recommend",
        "recommends",
        "suggest",
        "find",
        "show",
        "give",
        "watch",
        "watched",
        "loved",
        "love",
        "liked",
        "like",
        "enjoyed",
        "hated",
        "saw",
        "seen",
        "try",
        "something",
        "anything",
        "more",
        "films",
        "movies",
        "similar",
        "i",
        "i've",
        "me",
        "my",
        "we",
        "and",
        "or",
        "but",
        "also",
        "maybe",
    ]
)


def _without_lead(text: str, start: int) -> tuple[str, int]:
    """The stretch with the request words before it removed. Example: ("Recommend Zorblax (2031)", 0) -> ("Zorblax
    (2031)", 10)"""
    while True:
        word, _, rest = text.partition(" ")
        if not rest or word.lower().strip(",.:;!?") not in _LEADS:
            return text, start
        start += len(text) - len(rest.lstrip())
        text = rest.lstrip()


def unknown_titles(text: str, mentions: Sequence[TitleMention]) -> list[str]:
    """The titles written as titles in `text` that overlap no catalogue mention, as written, in order.

    Example: ("recommend Zorblax Returns (2031) or Alien (1979)", [mention of Alien at 36..48])
             -> ["Zorblax Returns (2031)"]
    """
    found: list[tuple[int, str]] = []
    for match in _BEFORE_YEAR.finditer(text):
        stretch, start = _without_lead(match.group(), match.start())
        found.append((start, stretch))
    found += [(match.start(1), match.group(1).strip()) for match in _QUOTED.finditer(text)]
    unknown = []
    for start, stretch in sorted(found):
        end = start + len(stretch)
        if not any(mention.start < end and start < mention.end for mention in mentions) and stretch not in unknown:
            unknown.append(stretch)
    return unknown


def not_in_catalogue_note(titles: Sequence[str]) -> str:
    """What a reply says first when titles the person named are not in the catalogue ("" when there are none).

    Example: ["Zorblax Returns (2031)"] -> "Zorblax Returns (2031) is not in the catalogue, so I can't go by it."
    """
    if not titles:
        return ""
    if len(titles) == 1:
        return f"{titles[0]} is not in the catalogue, so I can't go by it."
    return f"{', '.join(titles[:-1])} and {titles[-1]} are not in the catalogue, so I can't go by them."
