"""Prompt rendering for the planner and the explainer, and the templated fallbacks. Pure text functions.

Prompts stay compact: a small model on a CPU pays for every prompt token. What the items are
called comes from a `chat.wording.Wording` (the film demo's by default, word for word the
prompts the shipped adapter was trained on); an item's card and templated reason hold whatever
fields its catalogue has (author, price, pages, players), never "film" for a book.
"""

from __future__ import annotations

import re

from chat.state import DialogueState
from chat.tools import CALL_PREFIX, TOOL_DESCRIPTION
from chat.wording import Wording
from retrieval.catalog import Catalog, Item
from retrieval.field_kinds import PERSON_FIELDS, UNITS
from retrieval.filters import GENRES, YEAR, FieldCondition, number

FILM = Wording()

PLANNER_SYSTEM = "You turn a movie request into one catalogue search. " + TOOL_DESCRIPTION
EXPLAINER_SYSTEM = (
    "You are a friendly film recommender. For each numbered film, write one short sentence saying why it "
    "fits the request. Use only the facts given. Do not name any other film."
)
# What can start markup inside a bold label on a list line: emphasis, code, links, HTML, strikethrough, maths,
# an entity ("&lt;"), an autolink ("http://", "www.", "a@b.c"). "&" before a space, ":" in "Mission: Impossible"
# and "(" of "(1979)" stay as they are, so labels read the same to the model.
_LABEL_MARKUP = re.compile(r"[\\`*_\[\]<>~$|@]|&(?=#?\w+;)|:(?=//)|(?<=www)\.", re.IGNORECASE)


def _amount(value: float) -> str:
    """Example: 287.0 -> "287";  16.67 -> "16.67" """
    return f"{value:g}" if value.is_integer() else f"{value:.2f}"


def card_facts(item: Item) -> list[str]:
    """The item's fields beyond the film ones, as short phrases for its card and its templated reason.

    Example: extra {"author": "Beatrix Wren", "pages": 287, "price": 16.67} -> ["by Beatrix Wren", "287 pages", "price 16.67"];
             extra {"mechanics": ["cooperative"], "min_players": 1, "max_players": 4, "age": 10}
             -> ["mechanics: cooperative", "1-4 players", "ages 10+"]
    """
    facts = []
    extra = item.extra
    for name, value in extra.items():
        amount = number(value)
        if name in ("min_players", "max_players"):
            low, high = number(extra.get("min_players")), number(extra.get("max_players"))
            if name == "min_players" or low is None:
                players = [_amount(v) for v in (low, high) if v is not None]
                facts.append(f"{'-'.join(dict.fromkeys(players))} players")
        elif name in PERSON_FIELDS and isinstance(value, str) and value.strip():
            facts.append(f"by {value.strip()}")
        elif amount is not None and UNITS.get(name) == "currency":
            facts.append(f"{name.replace('_', ' ')} {_amount(amount)}")
        elif amount is not None and UNITS.get(name) == "years":
            facts.append(f"ages {_amount(amount)}+")
        elif amount is not None and UNITS.get(name) in ("minutes", "pages"):
            facts.append(f"{_amount(amount)} {UNITS[name]}")
        elif amount is not None:
            facts.append(f"{name.replace('_', ' ')} {_amount(amount)}")
        elif isinstance(value, (list, tuple)) and value:
            facts.append(f"{name.replace('_', ' ')}: {', '.join(str(v) for v in value[:4])}")
        elif isinstance(value, str) and 0 < len(value.strip()) <= 60:
            facts.append(f"{name.replace('_', ' ')}: {value.strip()}")
    return facts


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
    parts += card_facts(item)
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
    wants = list(dict.fromkeys(state.wanted_categories() + list(state.preferences[:2])))  # "crime" said once
    if wants:
        lines.append("Wants: " + ", ".join(wants))
    year_min, year_max = state.bounds(YEAR)
    if year_min or year_max:
        lines.append(f"Years: {year_min or 'any'}-{year_max or 'any'}")
    limits = [f"under {c.maximum:g} min" for c in state.wishes("runtime")] + limit_words(state.others())
    if limits:
        lines.append("Limits: " + ", ".join(limits))
    avoid = sorted(state.excluded_categories() | state.avoid_terms)
    if avoid:
        lines.append("Avoid: " + ", ".join(avoid))
    return "\n".join(lines)


def limit_words(conditions: tuple[FieldCondition, ...]) -> list[str]:
    """The numeric conditions as a person says them.

    Example: (pages ..299, price ..15) -> ["under 300 pages", "price at most 15"];
             (min_players ..4, max_players 4..) -> ["for 4 players"]
    """
    ranges = {c.field: c for c in conditions if c.is_range and not c.exclude}
    words = []
    fewest, most = ranges.get("min_players"), ranges.get("max_players")
    if fewest and most and fewest.maximum is not None and fewest.maximum == most.minimum:
        words.append(f"for {_amount(fewest.maximum)} players")
        ranges = {name: c for name, c in ranges.items() if name not in ("min_players", "max_players")}
    for name, c in ranges.items():
        unit = UNITS.get(name, "")
        named = name.replace("_", " ")
        if c.minimum is None and unit in ("pages", "minutes"):
            words.append(
                f"under {_amount(c.maximum + 1)} {unit}"
                if float(c.maximum).is_integer()
                else f"at most {_amount(c.maximum)} {unit}"
            )
        elif c.minimum is None:
            words.append(f"{named} at most {_amount(c.maximum)}")
        elif c.maximum is None:
            words.append(f"{named} at least {_amount(c.minimum)}")
        else:
            words.append(f"{named} {_amount(c.minimum)} to {_amount(c.maximum)}")
    return words


def planner_messages(
    state: DialogueState, catalog: Catalog, message: str, wording: Wording = FILM
) -> tuple[list[dict], str]:
    """Messages for the planning step and the assistant prefix the model continues from."""
    user = f"{state_summary(state, catalog)}\nLatest message: {message[:300]}".strip()
    system = PLANNER_SYSTEM if wording.is_film else PLANNER_SYSTEM.replace("movie", wording.noun)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}], CALL_PREFIX


def request_summary(state: DialogueState, catalog: Catalog, message: str) -> str:
    summary = state_summary(state, catalog)
    return f"{summary}\nThey said: {message[:300]}" if summary else f"They said: {message[:300]}"


def _worded(text: str, wording: Wording) -> str:
    """A film prompt's text for another catalogue. Example: ("a film recommender", books) -> "a book recommender" """
    if wording.is_film:
        return text
    for film, noun in (
        ("films", wording.plural),
        ("Films", wording.plural.capitalize()),
        ("film", wording.noun),
        ("Film", wording.noun.capitalize()),
    ):
        text = re.sub(rf"\b{film}\b", noun, text)
    return text


def explainer_messages(
    state: DialogueState, catalog: Catalog, message: str, items: list[Item], wording: Wording = FILM
) -> list[dict]:
    cards = "\n".join(f"{n}. {item_card(item)}" for n, item in enumerate(items, start=1))
    user = f"Request:\n{request_summary(state, catalog, message)}\n\n{wording.plural.capitalize()}:\n{cards}"
    return [{"role": "system", "content": _worded(EXPLAINER_SYSTEM, wording)}, {"role": "user", "content": user}]


def markdown_label(text: str) -> str:
    """A title for a Markdown reply: characters that could start markup are backslash-escaped, so it renders as written.

    Example: "M*A*S*H (1970)" -> "M\\*A\\*S\\*H (1970)";  "<b>Up</b>" -> "\\<b\\>Up\\</b\\>";
             "Mission: Impossible (1996)" and "Thelma & Louise (1991)" -> unchanged
    """
    return _LABEL_MARKUP.sub(lambda match: "\\" + match.group(), text)


SCORER_SYSTEM = "You judge whether a film suits a person's request. Answer yes or no."
SCORE_ANSWERS = ("yes", "no")


def scorer_messages(
    state: DialogueState, catalog: Catalog, message: str, item: Item, wording: Wording = FILM
) -> list[dict]:
    """Messages for the LLM scorer: does this one film suit the request? The model answers yes or no.

    The request comes first and the film last, so the candidates of one turn share the prompt's start.
    """
    noun = wording.noun.capitalize()
    user = f"Request:\n{request_summary(state, catalog, message)}\n\n{noun}: {item_card(item)}\nDoes it suit them?"
    return [{"role": "system", "content": _worded(SCORER_SYSTEM, wording)}, {"role": "user", "content": user}]


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
    for position, (item, stand_in) in enumerate(zip(items, stand_ins), start=1):
        prefixes.append(before + item_line_prefix(position, item))
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


def intro_line(state: DialogueState, catalog: Catalog, count: int, wording: Wording = FILM) -> str:
    """The opening sentence of a reply with recommendations, built from the state alone: it names every stated
    constraint and liked film, in words a person would use, and its wording changes from turn to turn.

    Example: liked Alien, wants horror, before 1978, no gore, first turn ->
             "Since you liked Alien, here are three horror films made before 1978, with no gore:"
    """
    what = " and ".join(state.wanted_categories())
    films = f"{what} {wording.plural}" if what else wording.plural
    number = _COUNT_WORDS[count] if count < len(_COUNT_WORDS) else str(count)
    picks = f"one {what + ' ' + wording.noun if what else 'pick'}" if count == 1 else f"{number} {films}"
    details = [_era(*state.bounds(YEAR))]
    details += [f"under {c.maximum:g} minutes" for c in state.wishes("runtime")]
    # "price at most 15" follows a noun as "with price at most 15"; "under 300 pages" and "for 4 players" read as they are
    details += [w if w.startswith(("under ", "at most ", "for ")) else f"with {w}" for w in limit_words(state.others())]
    people = {person.lower(): person for item in catalog.items for person in (*item.cast, *item.directors)}
    excluded = state.excluded_categories()
    things = sorted(excluded) + sorted(t for t in state.avoid_terms if t not in people and t not in excluded)
    avoided_people = [people[t] for t in sorted(state.avoid_terms) if t in people]
    avoided = ([f"with no {_spoken_list(things, 'or')}"] if things else []) + (
        [f"without {_spoken_list(avoided_people, 'or')}"] if avoided_people else []
    )
    if avoided:
        details.append(" and ".join(avoided))
    described = ", ".join(d for d in details if d)
    described = f", {described}" if described.startswith("with") else f" {described}" if described else ""
    liked = _spoken_list([catalog[i].title for i in state.liked[-2:] if i in catalog]) if state.liked else ""
    turn = len(state.shown) // max(count, 1)  # a different wording each turn, the same for the same state
    if liked:
        frames = (
            f"Since you liked {liked}, here {'is' if count == 1 else 'are'} {picks}{described}:",
            f"If {liked} hit the spot, try {'this' if count == 1 else 'these'}: {picks}{described}.",
            f"For a fan of {liked}, I found {picks}{described}:",
            f"More in the spirit of {liked}: {picks}{described}.",
        )
    else:
        frames = (
            f"Here {'is' if count == 1 else 'are'} {picks}{described}:",
            f"Try {'this' if count == 1 else 'these'}: {picks}{described}.",
            f"I found {picks}{described}:",
            f"Some ideas for you, {picks}{described}:" if count > 1 else f"One idea for you: {picks}{described}.",
        )
    return frames[turn % len(frames)]


_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_OPENING = re.compile(r"^(?:in|on|at|during|after|when|while|as)\b[^,]{3,60},\s*", re.IGNORECASE)


_CLAUSE_START = frozenset({"that", "which", "who", "while", "as", "and", "but", "when", "until", "before", "after"})


def description_gist(text: str, max_words: int = 16) -> str:
    """A description's first sentence without its scene-setting opening, cut before a clause when it is long: a card
    fact for a reason.

    Example: "In a small market town, a widowed florist follows a trail of anonymous letters that every neighbour
             pretends not to have received. A cozy whodunit." -> "a widowed florist follows a trail of anonymous letters"
    """
    first = _SENTENCE.split(text.strip(), maxsplit=1)[0].rstrip(".!?")
    first = _OPENING.sub("", first) or first
    words = first.split()
    if len(words) > max_words:
        cuts = [i for i in range(5, max_words) if words[i].lower() in _CLAUSE_START or words[i - 1].endswith(",")]
        words = words[: cuts[-1] if cuts else max_words - 2]
    gist = " ".join(words).rstrip(",;:")
    return gist[:1].lower() + gist[1:] if gist[:2] != gist[:2].upper() else gist


# How a templated reason ties an item to a liked one of its genres: the first is the stand-in wording of the batch
# prompt the adapter was trained on; the others vary a reply's later lines.
LIKED_TIES = ("in the vein of {}", "a good follow-up to {}", "one to pair with {}")
# The words before a liked title in LIKED_TIES and in the trained reasons ("for fans of Alien"): what the model writes
# after them must be a liked title (`chat.llm.WritingRules.lead_ins`).
TITLE_LEAD_INS = (" fans of", " vein of", " follow-up to", " pair with")


def template_reason(
    item: Item, state: DialogueState, catalog: Catalog, wording: Wording = FILM, variant: int = 0
) -> str:
    """A plain, factual reason built only from the item's card and the state: its year, categories and people,
    its other fields (author, pages, price, players), then its keywords or the gist of its description, and its tie
    to a liked item (`LIKED_TIES[variant]`, cycled).

    Example: horror film by John Carpenter, wanted horror ->
             "A 1982 horror, science fiction film by John Carpenter: paranoid, claustrophobic, tense."
             a 2019 crime fiction book by Beatrix Wren, 287 pages, price 16.67 ->
             "A 2019 crime fiction book by Beatrix Wren: a widowed florist follows a trail of anonymous letters;
              287 pages, price 16.67."
    """
    what = ", ".join(item.genres[:3])
    facts = card_facts(item)
    by = f" by {item.directors[0]}" if item.directors else ""
    by = by or next((f" {fact}" for fact in facts if fact.startswith("by ")), "")
    others = [fact for fact in facts if not fact.startswith("by ")][:2]
    year = f"{item.year} " if item.year else ""
    article = "An" if (year or what or wording.noun)[:1].lower() in "aeiou8" else "A"
    sentence = f"{article} {year}{what + ' ' if what else ''}{wording.noun}{by}"
    wanted = state.wanted(GENRES)
    mood = [k for k in item.keywords if k not in wanted][:3]
    if mood:
        sentence += ": " + ", ".join(mood)
    elif item.synopsis:
        sentence += ": " + description_gist(item.synopsis)
    if others:  # after the description: "1-4 players: players rebuild..." would say a word twice
        sentence += "; " + ", ".join(others)
    shared = [catalog[i].title for i in state.liked if i in catalog and set(catalog[i].genres) & set(item.genres)]
    if shared:
        sentence += ", " + LIKED_TIES[variant % len(LIKED_TIES)].format(shared[-1])
    return sentence + "."
