"""Varied, grounded one-sentence reasons built from an item's card and the dialogue state, for training targets.

Every fact comes from the card (genres, director, lead cast, keywords) or from what the person
said (liked titles, things avoided), so a model trained on them learns to explain without
inventing. Wording varies so it learns a style, not one template.
"""

from __future__ import annotations

import random

from chat.state import DialogueState
from retrieval.catalog import Catalog, Item

# Content flags describe what is in a film, not its mood; they make poor selling points.
CONTENT_FLAGS = {"gore", "zombies", "vampires", "serial killer", "graphic violence", "subtitles", "black and white", "silent",
                 "musical numbers", "animals", "aliens", "monsters", "dinosaurs", "ghosts", "supernatural"}

TEMPLATES = [
    "{Mood} and {mood2}, this {genre} from {director} fits what you asked for.",
    "{A_mood} {genre} with {lead} in the lead, directed by {director}.",
    "{Director} keeps it {mood} and {mood2}; {a_genre} pick worth your evening{liked_clause}.",
    "{Lead} stars in this {mood} {genre}{liked_clause}.",
    "If you want something {mood}, this {genre} delivers, with {lead} and a {mood2} streak.",
    "It is {mood} and {mood2}{avoid_clause}, {a_genre} by {director}.",
    "{Mood}, {mood2} {genre} from {director}{liked_clause}.",
    "Expect {a_mood} {genre} built around {theme}{avoid_clause}.",
]


def with_article(word: str) -> str:
    """The word with its indefinite article. Example: "atmospheric" -> "an atmospheric"""
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def _moods(item: Item) -> list[str]:
    return [k for k in item.keywords if k not in CONTENT_FLAGS] or list(item.genres) or ["memorable"]


def natural_reason(item: Item, state: DialogueState, catalog: Catalog, rng: random.Random) -> str:
    """One grounded sentence for `item`; `rng` picks the wording.

    Example: (The Shining card, liked The Thing) -> "An atmospheric horror with Jack Nicholson in the lead, directed by Stanley Kubrick."
    """
    moods = _moods(item)
    mood, mood2 = rng.sample(moods, 2) if len(moods) >= 2 else (moods[0], moods[0])
    wanted = [g for g in item.genres if g in state.genres_wanted]
    genre = (wanted or list(item.genres) or ["film"])[0]
    director = item.directors[0] if item.directors else "its director"
    lead = item.cast[0] if item.cast else "a strong cast"
    liked = [catalog[i].title for i in state.liked if i in catalog and set(catalog[i].genres) & set(item.genres)]
    liked_clause = f", for fans of {liked[-1]}" if liked and rng.random() < 0.7 else ""
    avoid = sorted(state.avoid_terms)
    avoid_clause = f", with no {avoid[0]}" if avoid and rng.random() < 0.7 else ""
    themes = [k for k in item.keywords if k not in CONTENT_FLAGS and k not in (mood, mood2)]
    template = rng.choice(TEMPLATES if themes else [t for t in TEMPLATES if "{theme}" not in t])
    text = template.format(
        mood=mood, mood2=mood2, Mood=mood[:1].upper() + mood[1:], genre=genre, director=director,
        Director=director, lead=lead, Lead=lead, liked_clause=liked_clause, avoid_clause=avoid_clause,
        theme=themes[0] if themes else "", a_genre=with_article(genre),
        A_mood=with_article(mood).capitalize(), a_mood=with_article(mood),
    )
    return text
