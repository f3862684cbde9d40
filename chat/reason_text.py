"""Varied, grounded one-sentence reasons built from an item's card and tied to the request.

The recipe behind the training targets (`finetune.reasons`) and behind the reasons a person is
shown when the model's was rejected or there is no model (`chat.engine`).

A reason is put together from pieces, each true by construction:
- a tie to what the person said: a liked title and what this item shares with it (director,
  a cast member, a keyword, a genre), a wanted genre, the words of their request, a thing they
  avoid said absent (only when the card itself says so, as in "no gore"), the era they asked for;
- facts from the card: moods and themes (keywords), the director, the lead, the year or decade,
  the start of the synopsis.
Pieces are arranged in many sentence shapes (a lead-in, a main clause, a tail), so the model
learns a style rather than one template. `drawn_reason` draws one until a check passes (the
engine's guard) and it shares no 3-word phrase with the lines before it; `reply_reasons` writes
a whole reply that way. Film words ("film", "biopic") give way to the catalogue's noun.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

from chat.state import DialogueState
from retrieval.catalog import Catalog, Item

# Content flags describe what is in a film, not its mood; they make poor selling points.
CONTENT_FLAGS = {
    "gore",
    "zombies",
    "vampires",
    "serial killer",
    "graphic violence",
    "subtitles",
    "black and white",
    "silent",
    "musical numbers",
    "animals",
    "aliens",
    "monsters",
    "dinosaurs",
    "ghosts",
    "supernatural",
    "no gore",
}
# Plain adjectives that name a mood; words with a mood ending (`_MOOD_ENDING`) need not be listed.
MOODS = {
    "tense",
    "dark",
    "bleak",
    "intense",
    "absurd",
    "bittersweet",
    "gentle",
    "clever",
    "paranoid",
    "heartfelt",
    "deadpan",
    "fun",
    "funny",
    "quirky",
    "witty",
    "gritty",
    "scary",
    "creepy",
    "silly",
    "twisty",
    "raunchy",
    "dreamy",
    "zany",
    "campy",
    "lonely",
    "talky",
    "epic",
    "surreal",
    "grim",
    "raw",
    "warm",
    "sweet",
    "eerie",
    "moody",
    "offbeat",
    "moving",
    "inspiring",
    "disturbing",
    "unsettling",
    "charming",
    "heartbreaking",
    "harrowing",
    "sweeping",
    "exciting",
    "brooding",
    "haunting",
    "shocking",
    "heartwarming",
    "uplifting",
    "life-affirming",
    "awe-inspiring",
    "swashbuckling",
    "gripping",
    "thrilling",
    "touching",
    "absorbing",
    "chilling",
    "compelling",
    "romantic",
    "tragic",
}
NOT_MOODS = {
    "survival",
    "music",
    "magic",
    "general",
    "detective",
    "ensemble",
    "parody",
    "family",
    "mystery",
    "memory",
    "british",
    "jewish",
    "amish",
    "irish",
    "spanish",
    "military",
    "naval",
    "medieval",
    "classic",
    "psychic",
    "festival",
    "animal",
    "trial",
    "arrival",
    "revival",
    "rival",
    "disney",
    "immigrant",
    "celebrity",
    "romance",
    "english",
    "scottish",
    "swedish",
    "danish",
    "polish",
    "turkish",
    "finnish",
    "comic",
    "mechanic",
    "agent",
    "parent",
    "student",
    "president",
    "servant",
    "giant",
    "elephant",
    "tyrant",
    "restaurant",
    "tournament",
}
_MOOD_ENDING = re.compile(r"(?:ful|ous|ive|ical|ional|ual|ntal|ic|ish|less|ent|ant|-burn|-good|-paced|-hearted)$")
# Genres that read badly as a noun on their own ("a sport", "a horror").
GENRE_NOUNS = {
    "sport": "sports film",
    "history": "history film",
    "family": "family film",
    "war": "war film",
    "animation": "animated film",
    "crime": "crime film",
    "action": "action film",
    "horror": "horror film",
    "science fiction": "science fiction film",
    "biography": "biopic",
    "documentary": "documentary",
}
_NOT_SAID = {
    "something",
    "anything",
    "film",
    "films",
    "movie",
    "movies",
    "similar",
    "instead",
    "please",
    "like",
    "want",
    "the",
    "and",
    "but",
    "not",
    "with",
    "from",
    "more",
    "less",
    "really",
    "kind",
    "sort",
    "good",
    "tonight",
    "this",
    "that",
    "your",
}
MAX_ATTEMPTS = 60
MAX_SYNOPSIS_WORDS = 16
_STORY_OPENERS = {
    "a",
    "an",
    "the",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
}  # a clause that can follow "the story:"

Accept = Callable[[str, Item, Sequence[str]], bool]


def with_article(word: str) -> str:
    """The word with its indefinite article. Example: "atmospheric" -> "an atmospheric"""
    return ("an " if word[:1].lower() in "aeiou8" else "a ") + word


def is_mood(keyword: str) -> bool:
    """Whether a keyword reads as a mood ("it is tense"), not a theme ("it is about journalism").

    Example: "tense" -> True;  "slow-burn" -> True;  "atmospheric" -> True;  "journalism" -> False;  "haunted house" -> False
    """
    word = keyword.lower()
    if " " in word or word in NOT_MOODS or word in CONTENT_FLAGS:
        return False
    return word in MOODS or bool(_MOOD_ENDING.search(word))


def genre_noun(genre: str, noun: str = "film") -> str:
    """Example: "sport" -> "sports film";  "drama" -> "drama";  ("crime", "book") -> "crime book" """
    named = GENRE_NOUNS.get(genre, genre)
    if noun == "film" or not named.endswith(("film", "biopic", "documentary")):
        return named
    return f"{genre} {noun}" if not named.endswith(" film") else named[: -len("film")] + noun


def _moods(item: Item) -> list[str]:
    return [k for k in item.keywords if is_mood(k)]


def _themes(item: Item) -> list[str]:
    return [k for k in item.keywords if not is_mood(k) and k not in CONTENT_FLAGS and not k.startswith("no ")]


def synopsis_start(item: Item) -> str:
    """The synopsis up to its first comma, in lower case; "" when too long or when it does not open with an article or a number.

    Example: "A struggling writer takes a winter job at a hotel, where ..." -> "a struggling writer takes a winter job at a hotel"
    """
    head = re.split(r",|;| while | where | but ", item.synopsis, maxsplit=1)[0].strip().rstrip(".")
    if not head or len(head.split()) > MAX_SYNOPSIS_WORDS:
        return ""
    first = head.split()[0]
    return first.lower() + head[len(first) :] if first.lower() in _STORY_OPENERS else ""


def _shared_with(item: Item, liked: Item) -> list[str]:
    """Tails saying what an item truly shares with a liked one: its director, a lead, a mood or a theme of both cards.

    Example: (The Fog, The Thing; both by John Carpenter, both "isolation") ->
             [", from John Carpenter, who also made The Thing", ", with the isolation of The Thing"]
    """
    shared = []
    for director in [d for d in item.directors if d in liked.directors][:1]:
        shared.append(f", from {director}, who also made {liked.title}")
    for actor in [a for a in item.cast[:3] if a in liked.cast[:4]][:1]:
        shared.append(f", with {actor}, as in {liked.title}")
    for keyword in [k for k in item.keywords if k in liked.keywords][:2]:
        if is_mood(keyword):
            shared.append(f", as {keyword} as {liked.title}")
        elif keyword in _themes(item):
            shared.append(f", with the {keyword} of {liked.title}")
    return shared


def _said_words(state: DialogueState) -> list[str]:
    """The words of the person's stated preferences that could describe a film. Example: ("something scary",) -> ["scary"]"""
    return [
        w
        for text in state.preferences[:2]
        for w in re.findall(r"[a-z][a-z-]+", text.lower())
        if w not in _NOT_SAID and len(w) > 2
    ]


def _ties(item: Item, state: DialogueState, catalog: Catalog, noun: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Lead-ins with their separator (("If you liked Alien", ", ")) and tails (", the horror you asked for") that tie
    the item to the request; each is true of the item's card."""
    leads: list[tuple[str, str]] = []
    tails: list[str] = []
    for liked in [catalog[i] for i in state.liked[-2:] if i in catalog]:
        tails += _shared_with(item, liked)
        common = [g for g in item.genres if g in liked.genres]
        if common:
            leads += [
                (f"If {liked.title} worked for you", ", "),
                (f"For a fan of {liked.title}", ", "),
                (f"Since you liked {liked.title}", ", "),
                (f"After {liked.title}", ", try this: "),
            ]
            tails += [
                f", a good follow-up to {liked.title}",
                f", another {genre_noun(common[0], noun)} to pair with {liked.title}",
            ]
    wanted = [genre_noun(g, noun) for g in item.genres if g in state.wanted("genres")]
    if wanted:
        leads += [
            (f"You asked for {with_article(wanted[0])}", ": "),
            (f"As {with_article(wanted[0])} pick", ", "),
            (f"On the {wanted[0]} front", ", "),
            (f"Keeping to {wanted[0]}", ", "),
            (f"If {with_article(wanted[0])} is what you are after", ", "),
        ]
        tails += [
            f", the {wanted[0]} you asked for",
            f", right in the {wanted[0]} you wanted",
            f", which fits your {wanted[0]} request",
            f", just the {wanted[0]} you had in mind",
        ]
    keywords = set(item.keywords)
    for word in _said_words(state):
        if word in keywords and is_mood(word):
            leads += [(f"You wanted something {word}", ": "), (f"For something {word}", ", ")]
            tails += [f", as {word} as you asked", f", and {word}, just as you wanted"]
        elif word in keywords:
            tails += [f", with the {word} you asked for"]
    for term in sorted(state.avoid_terms):
        if f"no {term}" in keywords:  # an absence only the card can vouch for
            tails += [f", and no {term}, as you wanted", f", with no {term}"]
    if any(state.bounds("year")) and item.year:
        tails += [f", from {item.year}, inside the years you gave", f", made in {item.year} as you asked"]
    return leads, tails


def _cores(item: Item, rng: random.Random, noun: str) -> list[str]:
    """Main clauses from the card, in lower case (a lead-in may come before them) and all true of it."""
    genre = genre_noun(rng.choice(item.genres), noun) if item.genres else noun
    moods, themes = _moods(item), _themes(item)
    mood, mood2 = (rng.sample(moods, 2) if len(moods) >= 2 else (moods * 2)[:2]) if moods else ("", "")
    theme = rng.choice(themes) if themes else ""
    cores = []
    if mood:
        cores += [f"this is {with_article(mood)} {genre}", f"expect something {mood}"]
        if mood2 != mood:
            cores += [
                f"it is {mood} and {mood2} from start to finish",
                f"this {genre} is {mood} and {mood2}",
                f"expect {with_article(mood)}, {mood2} {genre}",
            ]
    if theme:
        cores += [f"this {genre} is about {theme}", f"expect {theme} at the heart of {with_article(genre)}"]
        if mood:
            cores += [
                f"it is {with_article(mood)} {genre} about {theme}",
                f"expect {theme} and {with_article(mood)} tone",
            ]
    for director in item.directors[:1]:
        cores += [f"{director} directs this {genre}", f"it is {with_article(genre)} directed by {director}"]
        if mood:
            cores += [f"{director} keeps it {mood}", f"this {genre} from {director} is {mood} throughout"]
        if theme:
            cores += [f"{director} turns {theme} into {with_article(genre)}"]
    for lead in item.cast[:1]:
        cores += [f"{lead} stars in this {genre}", f"{lead} leads the cast"]
        if mood:
            cores += [f"{lead} leads {with_article(mood)} {genre}", f"{lead} carries this {mood} {genre}"]
    if item.year:
        cores += [f"it is {with_article(genre)} from {item.year}"]
        if mood:
            cores += [f"this {item.year} {genre} stays {mood}"]
    story = synopsis_start(item)
    if story:
        cores += [f"the story: {story}"] + ([f"{story}, and it is {mood}"] if mood else [])
    return cores or [f"this is {with_article(genre)}"]


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def natural_reason(
    item: Item, state: DialogueState, catalog: Catalog, rng: random.Random, tie: bool = True, noun: str = "film"
) -> str:
    """One grounded sentence for `item`, tied to the request when the request gives something to tie to (and `tie`).

    Example: (The Shining card, liked Alien, wants horror) ->
             "Since you liked Alien, Stanley Kubrick keeps it atmospheric, the horror film you asked for."
    """
    leads, tails = _ties(item, state, catalog, noun) if tie else ([], [])
    core = rng.choice(_cores(item, rng, noun))
    if item.year and str(item.year) in core:
        tails = [tail for tail in tails if str(item.year) not in tail]
    shape = rng.random()
    if leads and (shape < 0.4 or not tails):
        lead, separator = rng.choice(leads)
        return f"{lead}{separator}{core}."
    if tails and shape < 0.85:
        return f"{_capitalized(core)}{rng.choice(tails)}."
    if leads and tails:
        lead, separator = rng.choice(leads)
        return f"{lead}{separator}{core}{rng.choice(tails)}."
    return f"{_capitalized(core)}."


def says_a_word_twice(text: str) -> bool:
    """Whether a longer word, or one of its kin (the same first five letters), comes back in one sentence.

    Example: "A funny comedy, and funny, as you wanted" -> True;  "Bill Murray leads a romantic romance" -> True
    """
    stems = [w[:5] for w in re.findall(r"[a-z][a-z'-]+", text.lower()) if len(w) > 3 and w not in _NOT_SAID]
    return len(set(stems)) < len(stems)


def _trigrams(text: str) -> set[tuple[str, ...]]:
    tokens = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(tokens[i : i + 3]) for i in range(len(tokens) - 2)}


def drawn_reason(
    item: Item,
    state: DialogueState,
    catalog: Catalog,
    rng: random.Random,
    accept: Accept,
    earlier: Sequence[str] = (),
    noun: str = "film",
) -> str | None:
    """A reason for `item` passing `accept(reason, item, earlier)` and sharing no 3-word phrase with `earlier` (the
    reply's lines before it); None when no draw passed.

    The ties to a request are few, so the later lines of a reply may run out of fresh ones: after half the
    draws, reasons without a tie are drawn too.
    """
    used = set().union(*map(_trigrams, earlier)) if earlier else set()
    for attempt in range(MAX_ATTEMPTS):
        draft = natural_reason(
            item, state, catalog, rng, tie=attempt < MAX_ATTEMPTS // 2 or rng.random() < 0.5, noun=noun
        )
        if not _trigrams(draft) & used and not says_a_word_twice(draft) and accept(draft, item, earlier):
            return draft
    return None


def reply_reasons(
    items: Sequence[Item], state: DialogueState, catalog: Catalog, rng: random.Random, accept: Accept
) -> list[str | None]:
    """A reason for each item of one reply (`drawn_reason`, against the reasons before it); None where no draw passed."""
    reasons: list[str | None] = []
    for item in items:
        reasons.append(drawn_reason(item, state, catalog, rng, accept, [r for r in reasons if r]))
    return reasons
