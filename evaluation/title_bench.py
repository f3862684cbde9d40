"""Title-matching benchmark: the chat's typo matching (rapidfuzz) against the difflib matching it replaced, same run.

    python -m evaluation.title_bench                          # 1k, 20k and 100k titles (~1-2 minutes on 2 cores)
    python -m evaluation.title_bench --sizes 100000 --messages 100

Titles are made up from word lists (some with accents: "Café", "Noël", "Señor"), unique, of one
to six words, as a catalogue's are. Each message names one random title with one typo (two
adjacent letters swapped after the first letter, or one letter dropped), written without its
accents half of the time: "I loved the lsat cafe of winter, something like it please". Both
matchers are `chat.titles.TitleMatcher`: the baseline differs only in scoring the same
candidate titles with difflib's `get_close_matches` instead of rapidfuzz. A hit is a message
whose intended title is the one found.
"""

from __future__ import annotations

import argparse
import difflib
import random
import statistics
import sys
import time
from dataclasses import dataclass

from chat.titles import TitleMatcher
from retrieval.catalog import Item
from retrieval.text_keys import fold

_OPENERS = ("the", "the", "", "", "")
_ADJECTIVES = [
    "last",
    "silent",
    "hidden",
    "broken",
    "golden",
    "crimson",
    "distant",
    "quiet",
    "burning",
    "frozen",
    "endless",
    "hollow",
    "wild",
    "bitter",
    "secret",
    "lonely",
    "little",
    "savage",
    "gentle",
    "restless",
    "forgotten",
    "velvet",
    "iron",
    "glass",
    "paper",
    "electric",
    "midnight",
    "northern",
    "sunken",
    "crooked",
    "painted",
    "sleeping",
    "wandering",
    "drowned",
    "scarlet",
    "pale",
]
_NOUNS = [
    "garden",
    "river",
    "harbour",
    "winter",
    "summer",
    "kingdom",
    "mirror",
    "lantern",
    "orchard",
    "island",
    "station",
    "window",
    "letter",
    "promise",
    "shadow",
    "circus",
    "highway",
    "village",
    "stranger",
    "daughter",
    "brother",
    "soldier",
    "dancer",
    "lighthouse",
    "forest",
    "desert",
    "mountain",
    "engine",
    "voyage",
    "archive",
    "theatre",
    "bridge",
    "tower",
    "market",
    "compass",
    "signal",
    "horizon",
    "café",
    "noël",
    "señor",
    "mañana",
    "fiancée",
    "château",
    "über",
    "façade",
    "piñata",
]
_SMALL_WORDS = frozenset({"the", "a", "of", "in", "under", "beyond", "after", "before", "across", "and"})
_LINKS = ("of", "in", "under", "beyond", "after", "before", "across")
_PLACES = (
    "winter",
    "the river",
    "the north",
    "paris",
    "the city",
    "the sea",
    "the valley",
    "the moon",
    "the storm",
    "the past",
    "tomorrow",
    "the night",
    "the south",
    "the hills",
    "the border",
    "the canyon",
    "séville",
    "zürich",
    "kraków",
    "bogotá",
)


def synthetic_titles(count: int, seed: int = 0) -> list[str]:
    """`count` unique made-up titles, the same for the same seed.

    Example: synthetic_titles(3) -> ["Wandering Bridge", "Dancer", "Burning Mirror"]
    """
    rng = random.Random(seed)
    seen: set[str] = set()
    titles: list[str] = []
    while len(titles) < count:
        shape = rng.random()
        words = [rng.choice(_OPENERS), rng.choice(_ADJECTIVES) if rng.random() < 0.7 else "", rng.choice(_NOUNS)]
        if shape < 0.6:
            words += [rng.choice(_LINKS), rng.choice(_PLACES) if rng.random() < 0.5 else rng.choice(_NOUNS)]
        if shape < 0.2:
            words += ["and", rng.choice(_NOUNS)]
        words = " ".join(w for w in words if w).split()
        title = " ".join(w if i > 0 and w in _SMALL_WORDS else w.capitalize() for i, w in enumerate(words))
        if rng.random() < 0.3:
            title += f" {rng.randint(2, 9)}"
        if title.casefold() not in seen:
            seen.add(title.casefold())
            titles.append(title)
    return titles


def with_typo(title: str, rng: random.Random) -> str:
    """The title with one typo in its longest word, never in its first letter, lowercased as people type.

    Example: with_typo("The Silent Harbour", random.Random(1)) -> e.g. "the silent hrabour"
    """
    words = title.lower().split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    position = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5 and word[position] != word[position + 1]:
        word = word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    else:
        word = word[:position] + word[position + 1 :]
    words[longest] = word
    return " ".join(words)


class DifflibTitleMatcher(TitleMatcher):
    """The baseline: the same title finder, scoring typo candidates with difflib, as the chat did before rapidfuzz."""

    def _closest(self, alias: str, pool: list[str]) -> str | None:
        close = difflib.get_close_matches(alias, pool, n=1, cutoff=self.fuzzy_cutoff)
        return close[0] if close else None


@dataclass(frozen=True)
class Measured:
    build_s: float
    per_message_ms: list[float]
    hits: int

    def line(self, label: str) -> str:
        p50 = statistics.median(self.per_message_ms)
        mean = statistics.fmean(self.per_message_ms)
        return (
            f"  {label:<10} build {self.build_s:6.2f} s   per message p50 {p50:8.2f} ms   mean {mean:8.2f} ms   "
            f"max {max(self.per_message_ms):8.2f} ms   hits {self.hits}/{len(self.per_message_ms)}"
        )


def typo_messages(titles: list[str], count: int, seed: int) -> list[tuple[str, int]]:
    """(message, index of the title it names with a typo), `count` of them."""
    rng = random.Random(f"messages {seed}")
    messages = []
    for _ in range(count):
        index = rng.randrange(len(titles))
        typed = with_typo(titles[index], rng)
        if rng.random() < 0.5:
            typed = fold(typed)  # typed without its accents
        messages.append((f"I loved {typed}, something like it please", index))
    return messages


def measure(matcher_type: type[TitleMatcher], items: list[Item], messages: list[tuple[str, int]]) -> Measured:
    started = time.perf_counter()
    matcher = matcher_type(items)
    build_s = time.perf_counter() - started
    per_message_ms, hits = [], 0
    for text, index in messages:
        started = time.perf_counter()
        found = [mention.item_id for mention in matcher.find(text)]
        per_message_ms.append((time.perf_counter() - started) * 1000)
        hits += found == [items[index].id]
    return Measured(build_s, per_message_ms, hits)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.title_bench",
        description=__doc__.split("\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1_000, 20_000, 100_000],
        help="catalogue sizes (default: 1000 20000 100000)",
    )
    parser.add_argument(
        "--messages", type=int, default=50, help="messages per size, the same for both matchers (default: 50)"
    )
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import rapidfuzz

    print(
        f"title matching: one typo'd title per message, {args.messages} messages per size; "
        f"rapidfuzz {rapidfuzz.__version__} against difflib, same titles and messages"
    )
    for size in args.sizes:
        titles = synthetic_titles(size, args.seed)
        items = [Item(id=f"t{i}", title=title) for i, title in enumerate(titles)]
        messages = typo_messages(titles, args.messages, args.seed)
        baseline = measure(DifflibTitleMatcher, items, messages)
        new = measure(TitleMatcher, items, messages)
        ratio = statistics.fmean(baseline.per_message_ms) / statistics.fmean(new.per_message_ms)
        print(f"\n{size:,} titles")
        print(baseline.line("difflib"))
        print(new.line("rapidfuzz"))
        print(f"  rapidfuzz is {ratio:.1f}x faster per message (means)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
