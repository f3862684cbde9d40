"""Reason quality: `python -m evaluation.reason_quality [--variants templates,none,adapters/default] [--limit N] [--json FILE]`.

The scripted conversations of the grounding suite (`evaluation/grounding_conversations.json`)
are played through the engine once per variant: `templates` (reasons from the card alone),
`none` (the base model writes the reasons) or an adapter folder (base model + that adapter). The
planner is the dialogue-state rules in every variant, so all of them explain the same items and
only the reasons differ. Over the reasons a person is shown it reports:

- llm_kept_rate: reasons the LLM wrote that the guard let through / reasons shown (None for templates)
- false_fact_reasons: shown reasons stating something that is not on the item's card, by a
  check written apart from `chat.guard` and stricter than it (`unsupported_facts`): every number,
  year and decade, every capitalized name and every genre word must be on the card (its title,
  year, runtime, genres, people, synopsis, keywords) or be a title the person named
- reply_without_repeat_rate: replies in which no phrase of 3 words stands in two of the lines
- cross_turn_repeat_rate: reasons sharing a 3-word phrase with a reason shown earlier in the conversation
- tied_rate: reasons that tie the item to something the person said: a liked title, a wanted
  genre, a word of what they asked for ("scary", "heist"), or a thing they avoid said as absent
  ("no gore"); llm_tied_rate: the same over the LLM-written reasons the guard kept (templates name
  the genre, so they nearly always tie)
- mean_words: words per reason
- rejected_by: for the LLM's drafts the guard rejected, how many were rejected for each kind of
  problem (`problem_kind`; a draft may have several), with the first drafts of each kind in the JSON

The metric functions are pure and take hand-made inputs too: `finetune.build_data` scores its
training reasons with the same `ReasonTally`.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from chat.guard import DECADE_WORDS
from chat.state import DialogueState
from retrieval.catalog import Catalog, Item

log = logging.getLogger("evaluation.reason_quality")

# Words that name a genre, other than the genre's own name.
GENRE_FORMS = {
    "science fiction": ("sci-fi", "scifi"),
    "animation": ("animated", "cartoon"),
    "biography": ("biopic", "biographical"),
    "comedy": ("comedic", "comedies"),
    "romance": ("romantic", "rom-com", "romcom"),
    "history": ("historical",),
    "sport": ("sports",),
    "documentary": ("documentaries",),
    "thriller": ("thrillers",),
    "western": ("westerns",),
    "musical": ("musicals",),
    "adventure": ("adventures",),
    "fantasy": ("fantasies",),
    "mystery": ("mysteries",),
    "horror": ("horrors",),
    "war": ("wartime",),
}
_CONNECTORS = {"of", "the", "and", "de", "da", "del", "di", "du", "van", "von", "der", "le", "la", "a", "in", "on"}
# Words that open a sentence without naming anything, beyond those the catalogue's own text uses in lower case.
_OPENERS = {
    "a",
    "an",
    "the",
    "this",
    "that",
    "it",
    "its",
    "if",
    "for",
    "with",
    "from",
    "by",
    "in",
    "on",
    "as",
    "like",
    "unlike",
    "expect",
    "here",
    "there",
    "you",
    "your",
    "i",
    "we",
    "fans",
    "lovers",
    "anyone",
    "one",
    "another",
    "both",
    "set",
    "told",
    "made",
    "shot",
    "directed",
    "starring",
    "featuring",
    "perfect",
    "great",
    "ideal",
    "think",
    "imagine",
    "picture",
    "where",
    "when",
    "what",
    "why",
    "how",
    "who",
    "just",
    "still",
    "also",
    "and",
    "but",
    "or",
    "so",
    "yet",
    "no",
    "not",
    "more",
    "less",
    "much",
    "very",
    "all",
    "some",
    "any",
    "each",
    "every",
    "few",
    "many",
    "most",
    "best",
    "good",
    "fine",
    "nice",
    "same",
    "such",
    "my",
    "our",
    "their",
    "his",
    "her",
    "these",
    "those",
    "is",
    "are",
    "was",
    "were",
    "be",
    "has",
    "have",
    "had",
    "do",
    "does",
    "did",
    "try",
    "watch",
    "see",
    "enjoy",
    "love",
    "loved",
    "liked",
    "wanted",
    "asked",
    "since",
    "after",
    "before",
    "because",
    "although",
    "though",
    "while",
    "once",
    "until",
    "then",
    "now",
    "even",
    "only",
    "right",
    "well",
    "over",
    "under",
    "through",
    "into",
    "about",
    "around",
    "between",
    "without",
    "within",
    "against",
    "during",
    "despite",
    "either",
    "neither",
    "unless",
    "keeping",
    "at",
    "to",
    "up",
    "out",
    "off",
    "down",
}
_STOP = _OPENERS | {
    "something",
    "anything",
    "film",
    "films",
    "movie",
    "movies",
    "please",
    "want",
    "looking",
    "recommend",
    "maybe",
    "kind",
    "sort",
    "tonight",
    "really",
    "else",
    "other",
    "older",
    "newer",
    "recent",
    "options",
    "ones",
    "one",
    "about",
    "of",
    "to",
    "at",
    "me",
    "them",
    "then",
    "than",
    "too",
    "get",
    "give",
}
_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")
_CAP_RUN = re.compile(r"[A-Z][\w'’.-]*(?:\s+(?:(?:" + "|".join(_CONNECTORS) + r")\s+)*[A-Z][\w'’.-]*)*")
# Words whose full stop ends no sentence inside a name ("Mrs. Doubtfire", "Dr. No", "Warner Bros. Pictures").
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "lt", "sgt", "bros", "inc", "vs"}
_SENTENCE_START = re.compile(r"(?:^|[.!?:;—–(\"“]\s*|\s-\s)$")
_NUMBER = re.compile(
    r"(?<![\w.])['’]?(\d+(?:\.\d+)?)(['’]?s)?(?:\s*-?\s*(hours?|hrs?|minutes?|mins?))?\b", re.IGNORECASE
)
_NEGATION = r"\b(?:no|not|without|free of|zero|nothing)\b(?:\s+[\w-]+){0,2}?\s+"


def words(text: str) -> list[str]:
    """Lowercase words. Example: "Tense, grim: Alien's crew" -> ["tense", "grim", "alien's", "crew"]"""
    return _WORD.findall(text.lower().replace("’", "'"))


def trigrams(text: str) -> set[tuple[str, str, str]]:
    """The 3-word phrases of a text. Example: "in the vein of Alien" -> {("in", "the", "vein"), ("the", "vein", "of"), ("vein", "of", "alien")}"""
    tokens = words(text)
    return {tuple(tokens[i : i + 3]) for i in range(len(tokens) - 2)}


def _plain(text: str) -> str:
    """Example: "Jack Nicholson's" -> " jack nicholson " (spaced for whole-word containment)"""
    return " " + " ".join(re.sub(r"['’]s$", "", w) for w in words(text)) + " "


@dataclass(frozen=True)
class Request:
    """What the person asked for, as the tie check reads it."""

    liked_titles: tuple[str, ...] = ()
    named_titles: tuple[str, ...] = ()  # every title the person named (liked or disliked): a reason may name them
    wanted: tuple[str, ...] = ()  # wanted genres and the words of their stated preferences
    avoided: tuple[str, ...] = ()

    @classmethod
    def from_state(cls, state: DialogueState, catalog: Catalog) -> Request:
        """Example: liked Alien, wants horror, said "scary", avoids gore
        -> Request(("Alien",), ("Alien",), ("horror", "scary"), ("gore",))"""
        liked = tuple(catalog[i].title for i in state.liked if i in catalog)
        named = liked + tuple(catalog[i].title for i in state.disliked if i in catalog)
        preference_words = [w for text in state.preferences for w in words(text) if w not in _STOP and len(w) > 2]
        wanted = tuple(dict.fromkeys([*sorted(state.wanted("genres")), *preference_words]))
        return cls(liked, named, wanted, tuple(sorted(state.avoid_terms | state.avoided("genres"))))


@dataclass(frozen=True)
class FactChecker:
    """The strict fact check, with what it needs to know about the whole catalogue."""

    genres: frozenset[str]
    titles: frozenset[str]  # every catalogue title, plain (see `_plain`)
    people: frozenset[str]  # every catalogue person's full name and surname, plain
    common: frozenset[str]  # words the catalogue's free text uses in lower case: a sentence may open with them

    @classmethod
    def of(cls, catalog: Catalog) -> FactChecker:
        people = {
            p
            for item in catalog
            for name in (*item.directors, *item.cast)
            if name.strip()
            for p in (_plain(name), _plain(name.split()[-1]))
        }
        lower = {
            w for item in catalog for w in re.findall(r"\b[a-z][a-z'-]+\b", " ".join((item.synopsis, *item.keywords)))
        }
        return cls(
            frozenset(catalog.genres),
            frozenset(_plain(item.title) for item in catalog),
            frozenset(people),
            frozenset(lower | _OPENERS),
        )


def card_text(item: Item) -> str:
    """Everything an item's card says, as one text: title, year, runtime, genres, people, synopsis, keywords."""
    return " ".join(
        (
            item.label,
            f"{item.runtime_min} minutes" if item.runtime_min else "",
            *item.genres,
            *item.directors,
            *item.cast,
            item.synopsis,
            *item.keywords,
        )
    )


def _number_fits(value: float, suffix: str, unit: str, item: Item, card_plain: str) -> bool:
    """Whether a number said of an item is on its card: its year, decade or runtime, or a number its text states.

    Example: for Alien (1979, 117 min): 1979 -> True;  "70s" -> True;  "2 hours" -> True;  "90 minutes" -> False
    """
    number = f"{value:g}"
    if f" {number} " in card_plain and not unit and not suffix:
        return True
    if suffix:  # a decade: "1970s", "70s"
        decade = int(value) if value >= 100 else int(value) + 1900
        return (
            item.year is not None and item.year // 10 * 10 in (decade, int(value) + 2000)
        ) or f" {number}s " in card_plain
    if unit.startswith(("hour", "hr")):
        return item.runtime_min is not None and abs(value * 60 - item.runtime_min) <= 15
    if unit.startswith("min"):
        return item.runtime_min is not None and abs(value - item.runtime_min) <= 2
    return item.year is not None and value == item.year


def unsupported_facts(reason: str, item: Item, request: Request, checker: FactChecker) -> list[str]:
    """What a reason states about `item` that its card does not hold; empty when every fact is on the card.

    Numbers (years, decades, runtimes, any other), capitalized names and genre words are checked;
    titles the person named may be named. Written apart from `chat.guard`, to catch what it misses.

    Example: for The Shining (1980, horror, dir. Stanley Kubrick, with Jack Nicholson):
             "Kubrick's slow-burn horror with Jack Nicholson." -> []
             "A 1978 thriller from Spielberg." -> ["number 1978", "genre thriller", "name Spielberg"]
    """
    allowed = _plain(" ".join((card_text(item), *request.named_titles)))
    problems = []
    for match in _NUMBER.finditer(reason):
        value, suffix, unit = float(match.group(1)), match.group(2) or "", (match.group(3) or "").lower()
        if not _number_fits(value, suffix, unit, item, allowed):
            problems.append(f"number {match.group().strip()}")
    for word, tens in DECADE_WORDS.items():
        if (
            re.search(rf"\b{word}\b", reason, re.IGNORECASE)
            and (item.year is None or item.year // 10 % 10 != tens)
            and f" {word} " not in allowed
        ):
            problems.append(f"decade {word}")
    spoken = _plain(reason)
    for genre in sorted(checker.genres - set(item.genres)):
        for form in (genre, *GENRE_FORMS.get(genre, ())):
            if _plain(form) in spoken and _plain(form) not in allowed:
                problems.append(f"genre {form}")
                break
    problems += _unsupported_names(reason, allowed, checker)
    return list(dict.fromkeys(problems))


def _name_runs(text: str) -> Iterator[tuple[int, str]]:
    """The runs of capitalized words in `text` (where each starts, the run), split where a sentence ends inside one.

    Example: "from Mel Brooks. If you want, M. Night Shyamalan" -> (5, "Mel Brooks"), (17, "If"), (30, "M. Night Shyamalan")
    """
    for match in _CAP_RUN.finditer(text):
        start = match.start()
        for piece in _sentence_pieces(match.group()):
            start = text.index(piece, start)
            yield start, piece
            start += len(piece)


def _sentence_pieces(run: str) -> list[str]:
    """A run of capitalized words cut after each full stop that ends a sentence: one closing a word longer than an
    initial that is no title. Example: "Mel Brooks. If" -> ["Mel Brooks", "If"];  "Mrs. Doubtfire" -> ["Mrs. Doubtfire"]
    """
    pieces, begin = [], 0
    for stop in re.finditer(r"(\w+)\.\s+", run):
        word = stop.group(1)
        if len(word) > 1 and word.lower() not in _ABBREVIATIONS:
            pieces.append(run[begin : stop.start(1) + len(word)])
            begin = stop.end()
    return [*pieces, run[begin:]]


def _unsupported_names(reason: str, allowed: str, checker: FactChecker) -> list[str]:
    """Capitalized names in a reason that are neither on the card nor titles the person named.

    A word that opens a sentence counts only when the catalogue never writes it in lower case.
    """
    problems = []
    for start, run in _name_runs(reason):
        tokens = run.split()
        if _SENTENCE_START.search(reason[:start]) and tokens[0].lower().strip("'’") in checker.common:
            tokens = tokens[1:]
        while tokens and tokens[0].lower() in _CONNECTORS:
            tokens = tokens[1:]
        if not tokens or (len(tokens) == 1 and tokens[0] == "I"):
            continue
        tokens[-1] = tokens[-1].rstrip(".")
        name = _plain(" ".join(tokens))
        if name in allowed or name.strip().replace(" ", "") == "":
            continue
        if name in checker.titles:
            problems.append(f"title {' '.join(tokens)}")
        elif any(f" {w} " not in allowed for w in name.split() if w not in _CONNECTORS and w not in checker.genres):
            problems.append(f"name {' '.join(tokens)}")
    return problems


def ties(reason: str, request: Request) -> list[str]:
    """What of the person's own request a reason mentions: liked titles, wanted genres or words, avoided things as absent.

    Example: request liked Alien, wants horror, "scary", avoids gore;
             "Scary in the way Alien was, and no gore at all." -> ["Alien", "scary", "no gore"]
    """
    spoken = _plain(reason)
    found = [title for title in request.liked_titles if _plain(title) in spoken]
    for wanted in request.wanted:
        forms = (wanted, *GENRE_FORMS.get(wanted, ()))
        if any(_plain(form) in spoken for form in forms):
            found.append(wanted)
    for avoided in request.avoided:
        if re.search(_NEGATION + re.escape(avoided), reason, re.IGNORECASE):
            found.append(f"no {avoided}")
    return found


# The guard's problem texts, by kind: the specifics (a title, a year, a name) left out.
_PROBLEM_KINDS = (
    (re.compile(r"^names .*, which is not shown$"), "names a catalogue item not shown"),
    (re.compile(r"^names .*, which is not a shown item$"), "names a quoted or dated title not shown"),
    (re.compile(r"^names someone not on the card"), "names someone not on the card"),
    (re.compile(r"^states the year "), "states a year not on the card"),
    (re.compile(r"^places it in another decade"), "places it in another decade"),
    (re.compile(r"^states a runtime"), "states a runtime not on the card"),
    (re.compile(r"^states .* years"), "states a span of years not on the card"),
    (re.compile(r"^states the number "), "states a number not on the card"),
    (re.compile(r"^calls it .*, which is not on the card$"), "calls it a genre not on the card"),
    (
        re.compile(r"^(?:calls .* its director|credits it to|says .* acts in it)"),
        "gives someone a role not on the card",
    ),
)


def problem_kind(problem: str) -> str:
    """The kind of one of the guard's problems, its specifics left out.

    Example: "names Chicago (2002), which is not shown" -> "names a catalogue item not shown";
             "too short to say why" -> "too short to say why"
    """
    return next((kind for pattern, kind in _PROBLEM_KINDS if pattern.search(problem)), problem)


def repeated_phrases(reasons: Sequence[str]) -> set[tuple[str, str, str]]:
    """3-word phrases that stand in two or more of the reasons.

    Example: ["for fans of Alien, tense", "a western, for fans of Alien"] -> {("for", "fans", "of"), ("fans", "of", "alien")}
    """
    seen: set[tuple[str, str, str]] = set()
    repeated: set[tuple[str, str, str]] = set()
    for reason in reasons:
        phrases = trigrams(reason)
        repeated |= phrases & seen
        seen |= phrases
    return repeated


@dataclass(frozen=True)
class ShownReason:
    item: Item
    text: str
    by_llm: bool  # the LLM wrote it and the guard let it through (False: a template)


@dataclass
class ReasonTally:
    """Counts over replies, turned into rates by `summary`. Feed replies in conversation order, one conversation at a time."""

    checker: FactChecker
    replies: int = 0
    replies_without_repeat: int = 0
    reasons: int = 0
    by_llm: int = 0
    false_fact: int = 0
    cross_turn_repeat: int = 0
    tied: int = 0
    tied_by_llm: int = 0
    lengths: list[int] = field(default_factory=list)
    examples: list[dict] = field(default_factory=list)  # shown reasons with false facts, for reading
    rejected_by: Counter = field(default_factory=Counter)  # the guard's rejections of LLM drafts, by problem kind
    rejected_examples: dict[str, list[dict]] = field(default_factory=dict)  # the first few drafts of each kind
    _earlier: set = field(default_factory=set)

    def start_conversation(self) -> None:
        self._earlier = set()

    def add_reply(self, reasons: Sequence[ShownReason], request: Request) -> None:
        self.replies += 1
        self.replies_without_repeat += not repeated_phrases([r.text for r in reasons])
        for reason in reasons:
            self.reasons += 1
            self.by_llm += reason.by_llm
            problems = unsupported_facts(reason.text, reason.item, request, self.checker)
            if problems:
                self.false_fact += 1
                if len(self.examples) < 20:
                    self.examples.append({"item": reason.item.label, "reason": reason.text, "problems": problems})
            phrases = trigrams(reason.text)
            self.cross_turn_repeat += bool(phrases & self._earlier)
            tied = bool(ties(reason.text, request))
            self.tied += tied
            self.tied_by_llm += tied and reason.by_llm
            self.lengths.append(len(reason.text.split()))
        for reason in reasons:
            self._earlier |= trigrams(reason.text)

    def add_rejected(self, item: Item, draft: str, problems: Sequence[str]) -> None:
        """One LLM draft the guard rejected, with the guard's problems."""
        for kind in dict.fromkeys(map(problem_kind, problems)):
            self.rejected_by[kind] += 1
            examples = self.rejected_examples.setdefault(kind, [])
            if len(examples) < 5:
                examples.append({"item": item.label, "draft": draft, "problems": list(problems)})

    def summary(self, llm: bool = True) -> dict:
        def rate(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        return {
            "llm_kept_rate": rate(self.by_llm, self.reasons) if llm else None,
            "false_fact_reasons": self.false_fact,
            "false_fact_rate": rate(self.false_fact, self.reasons),
            "reply_without_repeat_rate": rate(self.replies_without_repeat, self.replies),
            "cross_turn_repeat_rate": rate(self.cross_turn_repeat, self.reasons),
            "tied_rate": rate(self.tied, self.reasons),
            "llm_tied_rate": rate(self.tied_by_llm, self.by_llm) if llm else None,
            "mean_words": round(statistics.mean(self.lengths), 1) if self.lengths else None,
            "replies": self.replies,
            "reasons": self.reasons,
            "false_fact_examples": self.examples,
            "rejected_by": dict(self.rejected_by.most_common()),
            "rejected_examples": self.rejected_examples,
        }


# ----- running the engine -------------------------------------------------------------------


def measure(engine, scripts, progress: bool = True) -> dict:
    """The reason-quality summary of the shown reasons when the scripts are played through `engine`.

    A shown reason counts as the LLM's when the guard accepted the model's draft for it (the turn's
    `explanations`); the others are the engine's fallbacks.
    """
    from tqdm.auto import tqdm

    from evaluation.grounding import final_result

    tally = ReasonTally(FactChecker.of(engine.catalog))
    llm = engine.llm is not None and engine.settings.explainer == "llm"
    turn_s: list[float] = []
    for script in tqdm(
        scripts, desc=engine.settings.adapter_id or "reasons", unit="conversation", leave=False, disable=not progress
    ):
        session = engine.new_session()
        session.logging_enabled = False
        tally.start_conversation()
        for turn in script.turns:
            mark = time.perf_counter()
            result = final_result(engine, session, turn.say)
            turn_s.append(time.perf_counter() - mark)
            if result.kind != "recommend" or result.plan_state is None:
                continue
            state = result.plan_state
            by_llm = {e["item_id"] for e in result.explanations if not e["problems"]}
            shown = [ShownReason(s.item, s.why, s.item.id in by_llm) for s in result.items]
            for explanation in result.explanations:
                if explanation["problems"]:
                    tally.add_rejected(
                        engine.catalog[explanation["item_id"]], explanation["draft"], explanation["problems"]
                    )
            tally.add_reply(shown, Request.from_state(state, engine.catalog))
    return {
        **tally.summary(llm=llm),
        "turns": len(turn_s),
        "median_turn_s": round(statistics.median(turn_s), 2) if turn_s else None,
    }


def run_variant(base, variant: str, settings, scripts, progress: bool = True, constrain: bool = True) -> dict:
    """The scripts through the engine with one explainer variant: "templates", "none" (base model) or an adapter folder;
    `constrain`: the model writes its reasons under the engine's `WritingRules` (its `constrain_reasons` setting)."""
    from chat.engine import ChatEngine
    from chat.llm.local import LocalChatModel
    from chat.settings import PROJECT_ROOT

    started = time.perf_counter()
    adapter = variant if variant in ("templates", "none") or Path(variant).exists() else str(PROJECT_ROOT / variant)
    llm = None if variant == "templates" else LocalChatModel.from_settings(replace(settings, adapter=adapter))
    engine = ChatEngine(
        base.catalog,
        base.search,
        llm,
        None,
        replace(
            base.settings,
            planner="rules",
            explainer="llm" if llm else "template",
            model_id=llm.name if llm else "none",
            adapter_id=variant,
            constrain_reasons=constrain,
        ),
    )
    load_s = time.perf_counter() - started
    return {"variant": variant, **measure(engine, scripts, progress), "load_s": round(load_s, 1)}


DEFAULT_VARIANTS = ("templates", "none", "adapters/default")
LABELS = {"templates": "templates", "none": "base model (`--adapter none`)"}
COLUMNS = (
    ("llm_kept_rate", "LLM reasons kept by the guard"),
    ("false_fact_reasons", "shown reasons with a false fact"),
    ("reply_without_repeat_rate", "replies with no 3-word phrase in two lines"),
    ("cross_turn_repeat_rate", "reasons repeating a phrase of an earlier turn"),
    ("tied_rate", "reasons tied to the person's words"),
    ("llm_tied_rate", "of the kept LLM reasons, tied"),
    ("mean_words", "words / reason"),
)


def table(rows: Iterable[dict]) -> str:
    """A markdown table, one row per variant."""
    lines = [
        "| variant | " + " | ".join(label for _, label in COLUMNS) + " | reasons (turns) | median s / turn |",
        "| --- |" + " ---: |" * (len(COLUMNS) + 2),
    ]
    for row in rows:
        cells = []
        for key, _ in COLUMNS:
            value = row[key]
            cells.append("n/a" if value is None else f"{value:.0%}" if key.endswith("rate") else f"{value}")
        lines.append(
            f"| {LABELS.get(row['variant'], row['variant'])} | "
            + " | ".join(cells)
            + f" | {row['reasons']} ({row['turns']}) | {row['median_turn_s']} |"
        )
    return "\n".join(lines)


def rejection_lines(rows: Iterable[dict]) -> str:
    """Per LLM variant, what the guard rejected the model's drafts for, most often first.

    Example: -> "adapters/default: too short to say why 30, states a year not on the card 12"
    """
    return "\n".join(
        f"{LABELS.get(row['variant'], row['variant'])}: "
        + (", ".join(f"{kind} {count}" for kind, count in row["rejected_by"].items()) or "none")
        for row in rows
        if row["llm_kept_rate"] is not None
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from evaluation.grounding import SCRIPTS
    from evaluation.system import DEFAULT_CACHE

    parser = argparse.ArgumentParser(
        prog="python -m evaluation.reason_quality",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--variants",
        default=",".join(DEFAULT_VARIANTS),
        help="comma-separated: 'templates', 'none' (the base model) or an adapter folder",
    )
    parser.add_argument("--limit", type=int, help="only the first N scripted conversations")
    parser.add_argument("--scripts", type=Path, default=SCRIPTS, help="scripted conversations (JSON)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="folder for the cached demo index")
    parser.add_argument("--threads", type=int, default=0, help="torch threads for the LLM (0: torch's default)")
    parser.add_argument(
        "--unconstrained",
        action="store_true",
        help="the model writes its reasons without the engine's decoding rules (setting constrain_reasons off)",
    )
    parser.add_argument("--json", type=Path, help="also write the rows, with the false-fact examples, here")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    return args


def run(
    variants: Sequence[str],
    cache_dir: Path,
    scripts_path: Path,
    limit: int | None = None,
    threads: int = 0,
    progress: bool = True,
    constrain: bool = True,
) -> dict:
    """Every variant over the scripted conversations (the first `limit` of them); rows ready for `table`."""
    from chat.assemble import build_engine
    from chat.settings import Settings
    from evaluation.grounding import DEMO_CATALOG, load_scripts

    started = time.perf_counter()
    settings = Settings(
        catalog=str(DEMO_CATALOG),
        index=str(Path(cache_dir) / "movies"),
        rebuild_index=True,
        llm="none",
        no_log=True,
        threads=threads,
    )
    base = build_engine(settings, progress=False)
    scripts = load_scripts(scripts_path)[:limit]
    rows = [run_variant(base, variant, settings, scripts, progress, constrain) for variant in variants]
    return {
        "conversations": len(scripts),
        "rows": rows,
        "seconds": round(time.perf_counter() - started, 1),
        "finished": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    for variant in variants:
        if variant not in ("templates", "none") and not (Path(variant) / "adapter_config.json").is_file():
            print(
                f"error: --variants: {variant!r} is neither 'templates', 'none' nor an adapter folder", file=sys.stderr
            )
            return 2
    result = run(variants, args.cache, args.scripts, args.limit, args.threads, constrain=not args.unconstrained)
    result["command"] = "python -m evaluation.reason_quality " + " ".join(argv if argv is not None else sys.argv[1:])
    print(
        f"{result['conversations']} scripted conversations, rules planner, same items for every variant "
        f"({result['seconds']} s)\n"
    )
    print(table(result["rows"]))
    if rejections := rejection_lines(result["rows"]):
        print("\nThe guard's rejections of LLM drafts, by problem (a draft may have several):\n" + rejections)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
