"""Recognising catalogue titles in free text, tolerant of case, accents, punctuation, a missing year and small typos.

Titles made only of everyday words ("Up", "Heat", "The Thing") are recognised only when the
person capitalised or quoted them, so "the thing is, I like aliens" names no film.

Words are compared as `retrieval.text_keys` folds them, so "Amelie" finds "Amélie" and "Léon"
finds "Leon"; spans point into the text as it was written.

Typo matching compares a stretch of the message only with titles of the same word count that
start with the same letter, so a first-letter typo ("froundhog day") is not forgiven, keeps a
match only when each word is a typo of the title's word (not a different word), and
scores them with rapidfuzz's `fuzz.ratio` (Indel similarity, close to difflib's ratio, computed in
C++): over 10x faster than difflib, so it stays on at 100,000 titles (`python -m evaluation.title_bench`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from retrieval.catalog import Item
from retrieval.text_keys import LETTERS, WORD, fold

_TOKEN = re.compile(rf"{WORD}(?:'{LETTERS})?")
_TEXT_TOKEN = re.compile(rf"{WORD}(?:'{LETTERS})?|&")  # in a message, "&" is the word "and"
_ARTICLES = ("the ", "a ", "an ")

# Everyday words: a title made only of these must be capitalised or quoted to count as a title.
COMMON_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "with",
        "from",
        "by",
        "as",
        "is",
        "it",
        "its",
        "it's",
        "be",
        "was",
        "are",
        "this",
        "that",
        "these",
        "those",
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "me",
        "him",
        "her",
        "us",
        "them",
        "my",
        "your",
        "his",
        "our",
        "their",
        "what",
        "who",
        "how",
        "why",
        "when",
        "where",
        "which",
        "up",
        "down",
        "out",
        "off",
        "over",
        "under",
        "again",
        "once",
        "all",
        "any",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "no",
        "nor",
        "not",
        "only",
        "own",
        "same",
        "so",
        "than",
        "too",
        "very",
        "can",
        "will",
        "just",
        "don",
        "should",
        "now",
        "new",
        "old",
        "good",
        "great",
        "big",
        "little",
        "long",
        "short",
        "high",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "ten",
        "love",
        "life",
        "man",
        "men",
        "woman",
        "women",
        "girl",
        "boy",
        "kid",
        "kids",
        "day",
        "night",
        "home",
        "house",
        "world",
        "time",
        "away",
        "back",
        "get",
        "go",
        "gets",
        "going",
        "run",
        "heat",
        "drive",
        "moon",
        "signs",
        "network",
        "thing",
        "things",
        "others",
        "alien",
        "aliens",
        "ghost",
        "ghosts",
        "monster",
        "monsters",
        "zombie",
        "zombies",
        "vampire",
        "vampires",
        "shark",
        "sharks",
        "dog",
        "dogs",
        "cat",
        "cats",
        "family",
        "friends",
        "friend",
        "war",
        "wars",
        "star",
        "stars",
        "king",
        "queen",
        "city",
        "road",
        "river",
        "sea",
        "fire",
        "ice",
        "dark",
        "light",
        "black",
        "white",
        "red",
        "blue",
        "green",
        "gold",
        "water",
        "war",
        "wall",
        "game",
        "games",
        "play",
        "rush",
        "crash",
        "speed",
        "her",
        "us",
        "it",
        "up",
        "brave",
        "frozen",
        "soul",
        "coco",
        "cars",
        "inside",
        "something",
        "nothing",
        "everything",
        "anything",
        "help",
        "heart",
        "fury",
        "gravity",
        "arrival",
        "fences",
        "room",
        "elf",
        "big",
        "happy",
        "sing",
        "moonlight",
        "sideways",
        "juno",
        "once",
        "cube",
        "vertigo",
        "rope",
        "psycho",
        "birds",
        "jaws",
        "rocky",
        "alone",
    ]
)


def normalize_title(text: str) -> str:
    """Folded words only (lowercase, no accents), '&' read as 'and'.

    Example: "Alien³: Resurrection!" -> "alien resurrection";  "Fast & Furious" -> "fast and furious"
             "Léon: The Professional" -> "leon the professional"
    """
    return " ".join(fold(word) for word in _TOKEN.findall(text.replace("&", " and ").replace("’", "'")))


def title_aliases(title: str) -> set[str]:
    """The normalized forms a person might type: full title, without a leading article, before a colon.

    Example: "The Lord of the Rings: The Fellowship of the Ring"
             -> {"the lord of the rings the fellowship of the ring", "lord of the rings the fellowship of the ring",
                 "the lord of the rings", "lord of the rings"}
             "3:10 to Yuma" -> {"3 10 to yuma"}  (see `_names_a_film`)
    """
    forms = {title}
    if ":" in title and _names_a_film(title.split(":", 1)[0]):
        forms.add(title.split(":", 1)[0])
    aliases = set()
    for form in forms:
        normal = normalize_title(form)
        if normal:
            aliases.add(normal)
        for article in _ARTICLES:
            if normal.startswith(article) and len(normal) > len(article) + 3:
                aliases.add(normal[len(article) :])
    return aliases


def _names_a_film(prefix: str) -> bool:
    """Whether the part of a title before its colon can stand for the film on its own.

    A number ("3" of "3:10 to Yuma"), a scrap under four letters, or one everyday word
    ("Alien" of "Alien: Resurrection") would turn ordinary sentences ("Here are 3 picks")
    into mentions of the film.

    Example: "Kill Bill" -> True;  "3" -> False;  "Alien" -> False;  "The Thing" -> False
    """
    normal = normalize_title(prefix)
    for article in _ARTICLES:
        normal = normal.removeprefix(article)
    letters = sum(ch.isalpha() for ch in prefix)
    return letters >= 4 and not (len(normal.split()) == 1 and normal in COMMON_WORDS)


@dataclass(frozen=True)
class TitleMention:
    item_id: str
    start: int  # character span in the original text
    end: int
    exact: bool


class TitleMatcher:
    """Finds catalogue titles in a message; longest match first, then fuzzy matches for typos.

    `fuzzy` turns typo matching on or off; `fuzzy_cutoff` is the least similarity (0..1) a typo'd stretch
    needs to a title.
    """

    def __init__(self, items: Iterable[Item], fuzzy_cutoff: float = 0.86, fuzzy: bool = True):
        self.fuzzy_cutoff = fuzzy_cutoff
        self._ids_by_alias: dict[str, list[str]] = {}
        self._year_of: dict[str, int | None] = {}
        for item in items:
            self._year_of[item.id] = item.year
            for alias in title_aliases(item.title):
                self._ids_by_alias.setdefault(alias, []).append(item.id)
        self._max_words = max((len(a.split()) for a in self._ids_by_alias), default=1)
        self.fuzzy = fuzzy
        # Typo candidates by (word count, first letter): a stretch of text is compared only with these.
        self._fuzzy_pool: dict[tuple[int, str], list[str]] = {}
        if self.fuzzy:
            for alias in self._ids_by_alias:
                if len(alias) >= 7 and not self.is_everyday(alias):
                    self._fuzzy_pool.setdefault((len(alias.split()), alias[0]), []).append(alias)

    @staticmethod
    def is_everyday(alias: str) -> bool:
        return all(word in COMMON_WORDS or word.isdigit() for word in alias.split())

    def find(self, text: str) -> list[TitleMention]:
        """Every title mentioned in `text`, in order, without overlaps."""
        # Folded token by token, so spans stay those of the text as written.
        tokens = [
            (fold(m.group()).replace("&", "and"), m.start(), m.end())
            for m in _TEXT_TOKEN.finditer(text.replace("’", "'"))
        ]
        mentions: list[TitleMention] = []
        position = 0
        while position < len(tokens):
            found = self._match_at(text, tokens, position)
            if found is None:
                position += 1
                continue
            mention, used = found
            mentions.append(mention)
            position += used
        return mentions

    def _match_at(
        self, text: str, tokens: list[tuple[str, int, int]], position: int
    ) -> tuple[TitleMention, int] | None:
        for length in range(min(self._max_words, len(tokens) - position), 0, -1):
            window = tokens[position : position + length]
            alias = " ".join(t[0] for t in window)
            start, end = window[0][1], window[-1][2]
            ids = self._ids_by_alias.get(alias)
            exact = ids is not None
            if ids is None and len(alias) >= 6:
                close = self._closest(alias, self._fuzzy_pool.get((length, alias[0]), []))
                ids = self._ids_by_alias[close] if close and _typo_of(alias, close) else None
            if not ids:
                continue
            if self.is_everyday(alias) and not _marked_as_title(text, start, end):
                continue
            item_id, used = self._pick_by_year(ids, tokens, position + length)
            return TitleMention(
                item_id, start, tokens[position + length + used - 1][2] if used else end, exact
            ), length + used
        return None

    def _closest(self, alias: str, pool: list[str]) -> str | None:
        """The title alias in `pool` most similar to `alias`, if it reaches the cutoff."""
        best = process.extractOne(alias, pool, scorer=fuzz.ratio, score_cutoff=self.fuzzy_cutoff * 100)
        return best[0] if best else None

    def _pick_by_year(self, ids: list[str], tokens: list[tuple[str, int, int]], after: int) -> tuple[str, int]:
        """Prefer the item whose year follows the title ("Dracula 1931"); consume that year token."""
        if after < len(tokens) and tokens[after][0].isdigit():
            year = int(tokens[after][0])
            for item_id in ids:
                if self._year_of[item_id] == year:
                    return item_id, 1
        return ids[0], 0


def _typo_of(typed: str, title: str) -> bool:
    """Each typed word is a typo of the title's word in its place, never another word: a title followed by "a"
    is not the title's expansion ending in "Duel".

    Example: ("pirates of the coral sea a", "pirates of the coral sea duel") -> False
             ("groundhog dya", "groundhog day") -> True
    """
    return all(fuzz.ratio(said, meant) >= 50 for said, meant in zip(typed.split(), title.split()))


def _marked_as_title(text: str, start: int, end: int) -> bool:
    """The span is quoted, or its words are capitalised (or digits) as a title is."""
    before, after = text[max(0, start - 1) : start], text[end : end + 1]
    if before in "\"'“‘*" and before and after in "\"'”’*" and after:
        return True
    words = _TOKEN.findall(text[start:end])
    significant = [w for w in words if w.lower() not in ("the", "a", "an", "of", "and", "in", "on", "to")] or words
    return all(w[0].isupper() or w[0].isdigit() for w in significant)
