"""The grounding guard: text the LLM wrote may name only allowed items and state no year that is not on the card.

Allowed items are the ones shown in this reply and the ones the person named themselves. A
catalogue title outside that set, a quoted or "Title (1999)"-shaped name that is not an allowed
item, a year that is not the item's, markup, a reason that starts over its own line
("1. **Alien (1979)**: ..."), or a degenerate sentence are problems; the engine then falls back
to a templated reason, so such text never reaches the person.
"""

from __future__ import annotations

import difflib
import re

from chat.titles import TitleMatcher, normalize_title, title_aliases
from retrieval.catalog import Catalog, Item
from retrieval.filters import normalize_term

_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_QUOTED = re.compile(r"[\"“*_]([^\"”*_]{2,60})[\"”*_]")
_TITLE_WITH_YEAR = re.compile(r"((?:[A-Z0-9][\w'’:-]*\s?){1,6})\((?:19|20)\d\d\)")
_MARKUP = re.compile(r"<[^>]*>|\[/?[a-z_]+\]|```")
_LIST_NUMBER = re.compile(r"\s*\d{1,2}[.)]\s")
_LEADING_NAME = re.compile(r"\s*[*_\"“]+([^*_\"”]{1,80})[*_\"”]")  # a bold, italic or quoted name at the very start
_LEADING_TITLE_WITH_YEAR = re.compile(r"\s*([^(]{1,80}?)\s*\((?:19|20)\d\d\)")
_TRAILING_YEAR = re.compile(r"\s+(?:19|20)\d\d$")
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
    if _repeats_line_start(text, item):
        problems.append("repeats the start of its line (number or title)")
    allowed_titles = {f" {alias} " for i in allowed if i in catalog for alias in title_aliases(catalog[i].title)}
    for quoted in _QUOTED.findall(text) + _TITLE_WITH_YEAR.findall(text):
        forms = _name_forms(quoted)
        # Whole words of an allowed title ("Fellowship of the Ring"), never a scrap of one ("m" of "The Mummy").
        if forms and not any(f" {form} " in title for form in forms for title in allowed_titles):
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
    plain = re.findall(r"[a-z0-9']+", text.lower())
    doubled = any(a == b and len(a) > 2 for a, b in zip(plain, plain[1:]))  # "a musical musical"
    trigrams = [tuple(plain[i : i + 3]) for i in range(len(plain) - 2)]
    if doubled or len(set(trigrams)) < len(trigrams):  # a phrase said twice: "by Richard Lester, ... by Richard Lester"
        problems.append("repetitive")
    return problems


def _name_forms(name: str) -> set[str]:
    """A name normalized, with and without a trailing year.

    Example: "Alien (1979)" -> {"alien 1979", "alien"};  "1917" -> {"1917"}
    """
    normal = normalize_title(name)
    return {normal, _TRAILING_YEAR.sub("", normal)} - {""}


def _repeats_line_start(text: str, item: Item) -> bool:
    """The reason begins as its line already does (`chat.prompts.item_line_prefix`): with a list number,
    or with the item's own title in bold or quotes, before a colon, or before "(year)".

    Example: for Alien (1979), "1. **Alien**: tense" and "**Alien (1979)** is tense" -> True;
             "A tense, grimy creature feature in space" -> False
    """
    if _LIST_NUMBER.match(text):
        return True
    own = title_aliases(item.title)
    heads = [match.group(1) for match in (_LEADING_NAME.match(text), _LEADING_TITLE_WITH_YEAR.match(text)) if match]
    if ":" in text:
        heads.append(text.split(":", 1)[0])
    return any(form in own for head in heads for form in _name_forms(head))


def unshown_items(reply: str, shown: set[str], mentioned_by_user: set[str], titles: TitleMatcher) -> set[str]:
    """Catalogue items a whole reply names that were neither shown nor named by the person."""
    return named_items(reply, titles) - shown - mentioned_by_user
