"""Synthetic multi-turn conversations generated from any catalogue: preferences, constraints, negations, follow-ups.

Each conversation is a list of user messages with varied wording. They are played through the
real engine (rules planner, no LLM) to get the state, the search call and the shown items of
every turn; `finetune.build_data` turns those into SFT examples.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from retrieval.catalog import Catalog, Item

AVOID_WORDS = {
    "gore": ["gory", "gore", "too bloody"],
    "zombies": ["zombies"],
    "vampires": ["vampires"],
    "subtitles": ["subtitles"],
    "black and white": ["black and white"],
    "ghosts": ["ghosts"],
    "serial killer": ["serial killers"],
    "musical numbers": ["singing"],
}
GENRE_PHRASES = {
    "science fiction": ["sci-fi", "science fiction"],
    "comedy": ["comedy", "something funny"],
    "horror": ["horror", "something scary"],
    "animation": ["animated film", "animation"],
    "romance": ["romance", "romantic film"],
    "documentary": ["documentary"],
    "biography": ["biopic"],
    "history": ["historical film"],
    "sport": ["sports film"],
    "war": ["war film"],
}
OPENINGS = [
    "I loved {a} and {b}, something {mood} but not {avoid}",
    "a {decade} {genre}, nothing with {avoid}",
    "Can you recommend a {genre} like {a}?",
    "I'm in the mood for something {mood}. I enjoyed {a}.",
    "{genre} please, but no {avoid}",
    "I really liked {a}. Anything similar?",
    "looking for a {genre} from the {decade}",
    "What should I watch if I loved {a} and {b}?",
    "I want a {mood} {genre} tonight",
    "I hated {a}. Give me a good {genre} instead, no {avoid}",
]
FOLLOW_UPS = [
    "something older",
    "something newer",
    "not that one",
    "something else",
    "more like the second one",
    "I've seen those",
    "maybe a {genre} instead",
    "under 2 hours please",
    "none of these, something else",
    "more like the first one",
    "nothing with {avoid} please",
    "something from the {decade}",
]


def _genre_phrase(genre: str, rng: random.Random) -> str:
    return rng.choice(GENRE_PHRASES.get(genre, [genre]))


def _decade(item: Item | None, rng: random.Random) -> str:
    year = item.year if item and item.year else rng.choice(range(1940, 2020, 10))
    return f"{year // 10 * 10 % 100:02d}s" if year < 2000 else f"{year // 10 * 10}s"


def _fill(template: str, catalog: Catalog, rng: random.Random) -> str:
    seeds = rng.sample(catalog.items, 2)
    genre = rng.choice(seeds[0].genres or ("drama",))
    moods = [k for k in seeds[0].keywords if k not in AVOID_WORDS and len(k.split()) == 1] or ["good"]
    avoid = rng.choice(list(AVOID_WORDS))
    title_a, title_b = seeds[0].title, seeds[1].title
    if rng.random() < 0.2:  # people type in lower case, and make typos
        title_a = title_a.lower()
    return template.format(
        a=title_a,
        b=title_b,
        mood=rng.choice(moods),
        avoid=rng.choice(AVOID_WORDS[avoid]),
        genre=_genre_phrase(genre, rng),
        decade=_decade(seeds[0] if rng.random() < 0.6 else None, rng),
    )


def conversations(catalog: Catalog, count: int, seed: int = 0, max_turns: int = 3) -> Iterator[tuple[str, list[str]]]:
    """(conversation id, user messages) pairs; the same seed gives the same conversations."""
    rng = random.Random(seed)
    for number in range(count):
        turns = [_fill(rng.choice(OPENINGS), catalog, rng)]
        for _ in range(rng.randint(0, max_turns - 1)):
            turns.append(_fill(rng.choice(FOLLOW_UPS), catalog, rng))
        yield f"synthetic-{seed}-{number}", turns
