"""Prompt rendering for the planner and the explainer, and the templated fallbacks. Pure text functions.

Prompts stay compact: a small model on a CPU pays for every prompt token.
"""

from __future__ import annotations

import re

from chat.state import DialogueState
from chat.tools import CALL_PREFIX, TOOL_DESCRIPTION
from retrieval.catalog import Catalog, Item

PLANNER_SYSTEM = "You turn a movie request into one catalogue search. " + TOOL_DESCRIPTION
EXPLAINER_SYSTEM = (
    "You are a friendly film recommender. For each numbered film, write one short sentence saying why it "
    "fits the request. Use only the facts given. Do not name any other film."
)
# What can start markup inside a bold label on a list line: emphasis, code, links, HTML, strikethrough, maths,
# an entity ("&lt;"), an autolink ("http://", "www.", "a@b.c"). "&" before a space, ":" in "Mission: Impossible"
# and "(" of "(1979)" stay as they are, so labels read the same to the model.
_LABEL_MARKUP = re.compile(r"[\\`*_\[\]<>~$|@]|&(?=#?\w+;)|:(?=//)|(?<=www)\.", re.IGNORECASE)


def item_card(item: Item) -> str:
    """One compact line that the LLM sees for an item.

    Example: Item(id="alien-1979", title="Alien", year=1979, genres=("horror", "science fiction"),
                  directors=("Ridley Scott",), keywords=("tense", "space"))
             -> "Alien (1979) | horror, science fiction | dir. Ridley Scott | tense, space"
    """
    parts = [item.label]
    if item.genres:
        parts.append(", ".join(item.genres))
    if item.directors:
        parts.append("dir. " + ", ".join(item.directors[:2]))
    if item.cast:
        parts.append("with " + ", ".join(item.cast[:2]))
    if item.keywords:
        parts.append(", ".join(item.keywords[:5]))
    card = " | ".join(parts)
    if item.synopsis:
        card += f"\n   {item.synopsis}"
    return card


def state_summary(state: DialogueState, catalog: Catalog) -> str:
    """What the person wants so far, in a few short lines.

    Example: liked Alien, wants horror, avoids gore ->
             "Liked: Alien (1979)\\nWants: horror\\nAvoid: gore"
    """
    lines = []
    if state.liked:
        lines.append("Liked: " + "; ".join(catalog[i].label for i in state.liked if i in catalog))
    if state.disliked:
        lines.append("Disliked: " + "; ".join(catalog[i].label for i in state.disliked if i in catalog))
    wants = sorted(state.genres_wanted) + list(state.preferences[:2])
    if wants:
        lines.append("Wants: " + ", ".join(wants))
    if state.year_min or state.year_max:
        lines.append(f"Years: {state.year_min or 'any'}-{state.year_max or 'any'}")
    avoid = sorted(state.genres_avoided | state.avoid_terms)
    if avoid:
        lines.append("Avoid: " + ", ".join(avoid))
    return "\n".join(lines)


def planner_messages(state: DialogueState, catalog: Catalog, message: str) -> tuple[list[dict], str]:
    """Messages for the planning step and the assistant prefix the model continues from."""
    user = f"{state_summary(state, catalog)}\nLatest message: {message[:300]}".strip()
    return [{"role": "system", "content": PLANNER_SYSTEM}, {"role": "user", "content": user}], CALL_PREFIX


def request_summary(state: DialogueState, catalog: Catalog, message: str) -> str:
    summary = state_summary(state, catalog)
    return f"{summary}\nThey said: {message[:300]}" if summary else f"They said: {message[:300]}"


def explainer_messages(state: DialogueState, catalog: Catalog, message: str, items: list[Item]) -> list[dict]:
    cards = "\n".join(f"{n}. {item_card(item)}" for n, item in enumerate(items, start=1))
    user = f"Request:\n{request_summary(state, catalog, message)}\n\nFilms:\n{cards}"
    return [{"role": "system", "content": EXPLAINER_SYSTEM}, {"role": "user", "content": user}]


def markdown_label(text: str) -> str:
    """A title for a Markdown reply: characters that could start markup are backslash-escaped, so it renders as written.

    Example: "M*A*S*H (1970)" -> "M\\*A\\*S\\*H (1970)";  "<b>Up</b>" -> "\\<b\\>Up\\</b\\>";
             "Mission: Impossible (1996)" and "Thelma & Louise (1991)" -> unchanged
    """
    return _LABEL_MARKUP.sub(lambda match: "\\" + match.group(), text)


SCORER_SYSTEM = "You judge whether a film suits a person's request. Answer yes or no."
SCORE_ANSWERS = ("yes", "no")


def scorer_messages(state: DialogueState, catalog: Catalog, message: str, item: Item) -> list[dict]:
    """Messages for the LLM scorer: does this one film suit the request? The model answers yes or no.

    The request comes first and the film last, so the candidates of one turn share the prompt's start.
    """
    user = f"Request:\n{request_summary(state, catalog, message)}\n\nFilm: {item_card(item)}\nDoes it suit them?"
    return [{"role": "system", "content": SCORER_SYSTEM}, {"role": "user", "content": user}]


def item_line_prefix(number: int, item: Item) -> str:
    """The start of an item's line in the reply, its label bold and escaped; the model writes the reason after it."""
    return f"{number}. **{markdown_label(item.label)}**: "


def reason_prefixes(items: list[Item], stand_ins: list[str]) -> list[str]:
    """The assistant prefixes from which the model writes every item's reason in one batch: for each item,
    the lines before it with stand-in reasons, then its own line's start. (Given its line's start alone,
    the small model tends to describe item 1 again.)

    Example: [Alien, Heat], ["A 1979 horror film.", "A 1995 crime film."] ->
             ["1. **Alien (1979)**: ", "1. **Alien (1979)**: A 1979 horror film.\\n2. **Heat (1995)**: "]
    """
    prefixes, before = [], ""
    for number, (item, stand_in) in enumerate(zip(items, stand_ins), start=1):
        prefixes.append(before + item_line_prefix(number, item))
        before = prefixes[-1] + stand_in + "\n"
    return prefixes


_COUNT_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _era(year_min: int | None, year_max: int | None) -> str:
    """A year range as a person says it.

    Example: (1990, 1999) -> "from the 90s";  (None, 1977) -> "made before 1978";  (2010, None) -> "from 2010 on";
             (1985, 1985) -> "from 1985";  (1980, 1995) -> "from 1980 to 1995"
    """
    if year_min is not None and year_max is not None:
        if year_min == year_max:
            return f"from {year_min}"
        if year_min % 10 == 0 and year_max == year_min + 9:
            return f"from the {year_min % 100:02d}s" if 1900 <= year_min < 2000 else f"from the {year_min}s"
        return f"from {year_min} to {year_max}"
    if year_max is not None:
        return f"made before {year_max + 1}"
    return f"from {year_min} on" if year_min is not None else ""


def _spoken_list(words: list[str], last: str = "and") -> str:
    """Example: ["gore"] -> "gore";  ["gore", "zombies", "clowns"] -> "gore, zombies or clowns" (last="or")"""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {last} {words[-1]}"


def intro_line(state: DialogueState, catalog: Catalog, count: int) -> str:
    """The opening sentence of a reply with recommendations, built from the state alone: it names every stated
    constraint and liked film, in words a person would use, and its wording changes from turn to turn.

    Example: liked Alien, wants horror, before 1978, no gore, first turn ->
             "Since you liked Alien, here are three horror films made before 1978, with no gore:"
    """
    what = " and ".join(sorted(state.genres_wanted))
    films = f"{what} films" if what else "films"
    number = _COUNT_WORDS[count] if count < len(_COUNT_WORDS) else str(count)
    picks = f"one {what + ' film' if what else 'pick'}" if count == 1 else f"{number} {films}"
    details = [_era(state.year_min, state.year_max)]
    if state.runtime_max:
        details.append(f"under {state.runtime_max} minutes")
    people = {person.lower(): person for item in catalog.items for person in (*item.cast, *item.directors)}
    things = sorted(state.genres_avoided) + sorted(t for t in state.avoid_terms if t not in people)
    avoided_people = [people[t] for t in sorted(state.avoid_terms) if t in people]
    avoided = ([f"with no {_spoken_list(things, 'or')}"] if things else []) + (
        [f"without {_spoken_list(avoided_people, 'or')}"] if avoided_people else [])
    if avoided:
        details.append(" and ".join(avoided))
    described = ", ".join(d for d in details if d)
    described = f", {described}" if described.startswith("with") else f" {described}" if described else ""
    liked = _spoken_list([catalog[i].title for i in state.liked[-2:] if i in catalog]) if state.liked else ""
    turn = len(state.shown) // max(count, 1)  # a different wording each turn, the same for the same state
    if liked:
        frames = (f"Since you liked {liked}, here {'is' if count == 1 else 'are'} {picks}{described}:",
                  f"If {liked} hit the spot, try {'this' if count == 1 else 'these'}: {picks}{described}.",
                  f"For a fan of {liked}, I found {picks}{described}:",
                  f"More in the spirit of {liked}: {picks}{described}.")
    else:
        frames = (f"Here {'is' if count == 1 else 'are'} {picks}{described}:",
                  f"Try {'this' if count == 1 else 'these'}: {picks}{described}.",
                  f"I found {picks}{described}:",
                  f"Some ideas for you, {picks}{described}:" if count > 1 else f"One idea for you: {picks}{described}.")
    return frames[turn % len(frames)]


def template_reason(item: Item, state: DialogueState, catalog: Catalog) -> str:
    """A plain, factual reason built only from the item's card and the state.

    Example: horror film by John Carpenter, wanted horror ->
             "A 1982 horror, science fiction film by John Carpenter: paranoid, claustrophobic, tense."
    """
    what = ", ".join(item.genres[:3]) or "film"
    by = f" by {item.directors[0]}" if item.directors else ""
    year = f"{item.year} " if item.year else ""
    article = "An" if (year or what)[:1].lower() in "aeiou8" else "A"
    sentence = f"{article} {year}{what} film{by}"
    wanted = set(state.genres_wanted)
    mood = [k for k in item.keywords if k not in wanted][:3]
    if mood:
        sentence += ": " + ", ".join(mood)
    shared = [catalog[i].title for i in state.liked if i in catalog and set(catalog[i].genres) & set(item.genres)]
    if shared:
        sentence += f", in the vein of {shared[-1]}"
    return sentence + "."


def clarifying_question() -> str:
    return (
        "Happy to help! To point you to something good: what's a film you loved recently, "
        "or what are you in the mood for (a genre, an era, something to avoid)?"
    )
