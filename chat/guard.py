"""The grounding guard: text the LLM wrote may name only allowed items and state no year that is not on the card.

Allowed items are the ones shown in this reply and the ones the person named themselves. A
catalogue title outside that set, a quoted or "Title (1999)"-shaped name that is not an allowed
item, a year that is not the item's, markup, or a degenerate sentence are problems; the engine
then falls back to a templated reason, so such text never reaches the person.
"""

from __future__ import annotations

import difflib
import re

from chat.titles import TitleMatcher, normalize_title
from retrieval.catalog import Catalog, Item
from retrieval.filters import normalize_term

_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_QUOTED = re.compile(r"[\"“*_]([^\"”*_]{2,60})[\"”*_]")
_TITLE_WITH_YEAR = re.compile(r"((?:[A-Z0-9][\w'’:-]*\s?){1,6})\((?:19|20)\d\d\)")
_MARKUP = re.compile(r"<[^>]*>|\[/?[a-z_]+\]|```")
MIN_REASON_WORDS = 7  # "1931, horror by James Whale." says less than the card does; the template says more
MAX_REASON_WORDS = 45


def named_items(text: str, titles: TitleMatcher) -> set[str]:
    return {mention.item_id for mention in titles.find(text)}


def reason_problems(
    text: str,
    item: Item,
    allowed: set[str],
    titles: TitleMatcher,
    catalog: Catalog,
    people: frozenset[str] = frozenset(),
    earlier: tuple[str, ...] = (),
) -> list[str]:
    """Why an LLM-written reason for `item` may not be shown; empty when it is fine.

    `people` are the normalized names of everyone in the catalogue: naming one who is not on
    this item's card is stating a fact the card does not hold.
    """
    problems = []
    words = text.split()
    if len(words) < MIN_REASON_WORDS:
        problems.append("too short to say why")
    if len(words) > MAX_REASON_WORDS:
        problems.append("too long")
    if _MARKUP.search(text):
        problems.append("contains markup")
    for item_id in named_items(text, titles) - allowed:
        problems.append(f"names {catalog[item_id].label}, which is not shown")
    allowed_titles = {normalize_title(catalog[i].title) for i in allowed if i in catalog}
    for quoted in _QUOTED.findall(text) + _TITLE_WITH_YEAR.findall(text):
        name = normalize_title(quoted)
        if name and name not in allowed_titles and not any(name in t or t in name for t in allowed_titles):
            problems.append(f"names {quoted.strip()!r}, which is not a shown item")
    for year in _YEAR.findall(text):
        if item.year is None or int(year) != item.year:
            problems.append(f"states the year {year}, which is not on the card")
    on_card = {normalize_term(name) for name in (*item.cast, *item.directors)}
    spoken = " " + normalize_term(text) + " "
    for person in people - on_card:
        if " " in person and f" {person} " in spoken:
            problems.append(f"names someone not on the card ({person})")
    for genre in catalog.genres - set(item.genres):
        if re.search(rf"\b{re.escape(genre)}\b", text.lower()):
            problems.append(f"calls it {genre}, which is not on the card")
    for previous in earlier:
        if difflib.SequenceMatcher(None, previous.lower(), text.lower()).ratio() > 0.75:
            problems.append("repeats an earlier reason")
            break
    trigrams = [" ".join(words[i : i + 3]).lower() for i in range(len(words) - 2)]
    if trigrams and len(set(trigrams)) < len(trigrams) * 0.7:
        problems.append("repetitive")
    return problems


def unshown_items(reply: str, shown: set[str], mentioned_by_user: set[str], titles: TitleMatcher) -> set[str]:
    """Catalogue items a whole reply names that were neither shown nor named by the person."""
    return named_items(reply, titles) - shown - mentioned_by_user
