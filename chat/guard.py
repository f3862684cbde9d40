"""The grounding guard: text the LLM wrote may name only allowed items and state only facts on the item's card.

Allowed items are the ones shown in this reply and the ones the person named themselves. A
catalogue title outside that set, a quoted or "Title (1999)"-shaped name that is not an allowed
item, a year or decade that is not the item's, a runtime ("190 minutes", "2 hours") or an age
("20 years old") the card does not support, a role the card does not give ("directed by", "from"
or "X's film" for someone in the cast; "starring" for a director or someone not on the card),
markup, a line break, two sentences run together ("Nolan.The"), a reason that starts over its own line ("1. **Alien (1979)**: ..."), or a degenerate
sentence are problems; the engine then falls back to a templated reason, so such text never
reaches the person. The card is the item's fields; a decade, a runtime or a count of years that
its title, synopsis or keywords state ("1950s", "a 10-year-old boy") is on it too. A year must be
the item's own, even when the synopsis names another: "1967, a war film from Oliver Stone" reads
as the release year of Platoon (1986), set in 1967. Any other number (a price, a page or player
count, "1.1e") must be one the card holds: a field's value, or a number in its title, synopsis or
keywords. The card's people are its cast and its creators, whatever field names them (directors,
author, designer: `retrieval.field_kinds.creators`), and names may begin with any capital ("Élodie").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from chat.titles import TitleMatcher, normalize_title, title_aliases
from retrieval.catalog import Catalog, Item
from retrieval.field_kinds import creators, people_of
from retrieval.filters import normalize_term, number

# Capital letters of the Latin scripts, for names that start with one ("Élodie", "Øyvind", "Łukasz").
_UPPER = "A-Z" + "".join(ch for ch in map(chr, range(0xC0, 0x250)) if ch.isupper())
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_QUOTED = re.compile(r"[\"“*_]([^\"”*_]{2,60})[\"”*_]")
_TITLE_WITH_YEAR = re.compile(rf"((?:[{_UPPER}0-9][\w'’:-]*\s?){{1,6}})\((?:19|20)\d\d\)")
_MARKUP = re.compile(r"<[^>]*>|\[/?[a-z_]+\]|`")
_RUN_ON = re.compile(r"[a-z]{2}[.!?][\"“'‘]?[A-Z]")  # "from Christopher Nolan.The new year has brought..."
_LINE_BREAK = re.compile("[\n\r\v\f\x85\u2028\u2029]")
_LIST_NUMBER = re.compile(r"\s*\d{1,2}[.)]\s")
_LEADING_NAME = re.compile(r"\s*[*_\"“]+([^*_\"”]{1,80})[*_\"”]")  # a bold, italic or quoted name at the very start
_LEADING_TITLE_WITH_YEAR = re.compile(r"\s*([^(]{1,80}?)\s*\((?:19|20)\d\d\)")
_TRAILING_YEAR = re.compile(r"\s+(?:19|20)\d\d$")
_FILM_WORDS = re.compile(r"\b(?:films?|movies?|cinema|cinematic|watch(?:ing)?)\b", re.IGNORECASE)
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
    noun: str = "film",
) -> list[str]:
    """Why an LLM-written reason for `item` may not be shown; empty when it is fine.

    `people` are the normalized names of everyone in the catalogue: naming one who is not on
    this item's card is stating a fact the card does not hold. `noun` is what the items are: a
    reason that calls a book a film is wrong.
    """
    problems = []
    if noun not in ("film", "movie") and _FILM_WORDS.search(text):
        problems.append("calls it a film, but the catalogue holds no films")
    words = text.split()
    if len(words) < MIN_REASON_WORDS:
        problems.append("too short to say why")
    if len(words) > MAX_REASON_WORDS:
        problems.append("too long")
    if _MARKUP.search(text):
        problems.append("contains markup")
    if _LINE_BREAK.search(text):
        problems.append("breaks the line")
    if _RUN_ON.search(text):
        problems.append("runs two sentences together")
    # The card's own people and keywords are not film titles: "Martin Scorsese" is no "The Martian", "Akira Kurosawa"
    # no "Akira", the keyword "chicago" no "Chicago (2002)".
    for item_id in named_items(_without_phrases(text, (*people_of(item), *item.keywords)), titles) - allowed:
        problems.append(f"names {catalog[item_id].label}, which is not shown")
    if _repeats_line_start(text, item):
        problems.append("repeats the start of its line (number or title)")
    allowed_titles = {f" {alias} " for i in allowed if i in catalog for alias in title_aliases(catalog[i].title)}
    for quoted in _QUOTED.findall(text) + _TITLE_WITH_YEAR.findall(text):
        forms = _name_forms(quoted)
        # Whole words of an allowed title ("Fellowship of the Ring"), never a scrap of one ("m" of "The Mummy").
        if forms and not any(f" {form} " in title for form in forms for title in allowed_titles):
            problems.append(f"names {quoted.strip()!r}, which is not a shown item")
    card_text = _card_text(item)
    allowed_title_words = [catalog[i].title for i in allowed if i in catalog]
    for year in _YEAR.findall(_without_phrases(text, tuple(allowed_title_words))):  # "2001: A Space Odyssey" is a title
        if item.year is None or int(year) != item.year:
            problems.append(f"states the year {year}, which is not on the card")
    problems += _unsupported_numbers(text, item, card_text)
    problems += _numbers_not_on_card(text, item, card_text)
    problems += _unsupported_roles(text, item, people)
    on_card = {normalize_term(name) for name in people_of(item)}
    spoken = " " + normalize_term(text) + " "
    for person in people - on_card:
        if " " in person and f" {person} " in spoken:
            problems.append(f"names someone not on the card ({person})")
    # A genre word inside one of the card's keywords ("cold war", "dysfunctional family") is the keyword, not a genre.
    unkeyworded = _without_phrases(text, item.keywords).lower()
    for genre in catalog.genres - set(item.genres):
        if re.search(rf"\b{re.escape(genre)}\b", unkeyworded):
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


# ----- numbers with units: decades, runtimes, ages -------------------------------------------

DECADE_WORDS = {
    "twenties": 2,
    "thirties": 3,
    "forties": 4,
    "fifties": 5,
    "sixties": 6,
    "seventies": 7,
    "eighties": 8,
    "nineties": 9,
}
_DECADE = re.compile(
    r"\b(1[89]|20)(\d)0[’']?s\b|(?<![\w])[’']?(\d)0[’']?s\b|\b(" + "|".join(DECADE_WORDS) + r")\b", re.IGNORECASE
)
_AGE_BEFORE = re.compile(
    r"\b(?:his|her|their|your|my|our)\s+(?:early\s+|mid\s+|mid-|late\s+)?$", re.IGNORECASE
)  # "in his 50s"
_COUNT_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
}
_COUNTED = "|".join(word for word in _COUNT_WORDS if word not in ("a", "an"))  # "a minute", "a year": no claim
_COUNT = r"\d+(?:\.\d+)?|half an?|an?|" + _COUNTED
_HEDGE = (
    r"(?P<hedge>about|around|roughly|nearly|almost|approximately|some|close to|under|less than|shorter than|"
    r"at most|within|just under|over|more than|longer than|at least|just over|a little over)\s+"
)
_HALF = r"(?:[\s-]+and[\s-]+a[\s-]+half)"
_DURATION = re.compile(
    rf"(?:\b{_HEDGE})?(?:\b(?P<hours>{_COUNT})(?P<half>{_HALF})?[\s-]*(?:hours?|hrs?)\b(?P<half_after>\s+and\s+a\s+half)?"
    rf"(?:,?\s*(?:and\s+)?(?P<extra_minutes>\d+)[\s-]*(?:minutes?|mins?)\b)?"
    rf"|\b(?P<minutes>\d+|{_COUNTED})[\s-]*(?:minutes?|mins?)\b)",
    re.IGNORECASE,
)
_YEARS_COUNT = re.compile(rf"\b(\d+|{_COUNTED})[\s-]+years?\b", re.IGNORECASE)
# (unit, hedge) -> how far a stated runtime may be from the card's, in minutes.
_RUNTIME_SLACK = {
    ("minutes", "plain"): 4,
    ("minutes", "about"): 10,
    ("hours", "plain"): 10,
    ("hours", "about"): 20,
    ("minutes", "under"): 15,
    ("minutes", "over"): 15,
    ("hours", "under"): 30,
    ("hours", "over"): 30,
}
_HEDGE_KIND = {
    "under": "under",
    "less than": "under",
    "shorter than": "under",
    "at most": "under",
    "within": "under",
    "just under": "under",
    "over": "over",
    "more than": "over",
    "longer than": "over",
    "at least": "over",
    "just over": "over",
    "a little over": "over",
}


def _card_text(item: Item) -> str:
    """The card's free text, lowercased: where a decade, a runtime or a count of years may be stated ("1950s")."""
    return " ".join((item.title, item.synopsis, *item.keywords)).lower()


def _count(word: str) -> float:
    """Example: "12" -> 12.0;  "two" -> 2.0;  "half an" -> 0.5"""
    word = word.lower()
    return 0.5 if word.startswith("half") else float(_COUNT_WORDS[word]) if word in _COUNT_WORDS else float(word)


def _decades(text: str) -> set[int]:
    """The decades a text names, as their first year; a two-digit one ("'90s") in both centuries.

    Example: "a 1990s film with an eighties score" -> {1990, 1880, 1980, 2080};  "'70s" -> {1870, 1970, 2070};
             "a man in his 50s" -> set()
    """
    found = set()
    for match in _DECADE.finditer(text):
        century, digit, short, word = match.groups()
        if _AGE_BEFORE.search(text[: match.start()]):
            continue
        if century:
            found.add(int(century) * 100 + int(digit) * 10)
        else:
            tens = int(short) if short else DECADE_WORDS[word.lower()]
            found |= {1800 + tens * 10, 1900 + tens * 10, 2000 + tens * 10}
    return found


def _runtime_fits(claimed_min: float, unit: str, hedge: str, runtime_min: int) -> bool:
    """Whether "about 2 hours" (claimed 120, "hours", "about") may be said of a film of runtime_min minutes.

    Example: 190 minutes for 96 -> False;  "just over 2 hours" for 130 -> True;  "2 hours" for 96 -> False
    """
    kind = _HEDGE_KIND.get(hedge, "about" if hedge else "plain")
    slack = _RUNTIME_SLACK[(unit, kind)]
    if kind == "under":
        return 0 <= claimed_min - runtime_min <= slack
    if kind == "over":
        return 0 <= runtime_min - claimed_min <= slack
    return abs(claimed_min - runtime_min) <= slack


def _unsupported_numbers(text: str, item: Item, card_text: str) -> list[str]:
    """Decades, runtimes and counts of years that the card does not support."""
    problems = []
    said = _decades(text)
    if said and (item.year is None or (item.year // 10) * 10 not in said) and not said & _decades(card_text):
        problems.append(f"places it in another decade than {item.year}, which the card does not say")
    for match in _DURATION.finditer(text):
        hedge = (match.group("hedge") or "").lower()
        if match.group("minutes"):
            claimed, unit = _count(match.group("minutes")), "minutes"
        else:
            half = 0.5 if match.group("half") or match.group("half_after") else 0.0
            claimed = (_count(match.group("hours")) + half) * 60 + float(match.group("extra_minutes") or 0)
            unit = "minutes" if match.group("extra_minutes") else "hours"
        phrase = match.group().strip()
        if phrase.lower() in card_text:
            continue
        if item.runtime_min is None:
            problems.append(f"states a runtime ({phrase}), which is not on the card")
        elif not _runtime_fits(claimed, unit, hedge, item.runtime_min):
            problems.append(f"states a runtime ({phrase}) the card does not support ({item.runtime_min} min)")
    on_card = {_count(count) for count in _YEARS_COUNT.findall(card_text)}
    for count in _YEARS_COUNT.findall(text):
        if _count(count) not in on_card:
            problems.append(f"states {count} years (an age or a span), which is not on the card")
    return problems


# ----- any other number: a price, a page or player count ----------------------------------------

_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)")
_SMALL_COUNT = 12  # "3 friends" may be said of a synopsis's "three friends"; a bare small count is no card fact
_COUNTED_UNIT = re.compile(
    r"\s*(?:\+|-?\s*(?:pages?|players?|dollars?|euros?|pounds?|percent|%|stars?))", re.IGNORECASE
)


def _card_numbers(item: Item, card_text: str) -> set[float]:
    """Every number the card holds: its year, runtime and other fields' values, and the numbers in its free text."""
    values = {float(v) for v in (item.year, item.runtime_min) if v is not None}
    for value in item.extra.values():
        for element in value if isinstance(value, (list, tuple)) else (value,):
            amount = number(element)
            if amount is not None:
                values.add(round(amount, 2))
    values |= {float(match.replace(",", "")) for match in _NUMBER.findall(card_text)}
    return values


def writable_numbers(item: Item, named_titles: Iterable[str] = ()) -> frozenset[str]:
    """The digit runs a reason for `item` may hold, for decoding under `chat.llm.WritingRules`: every number on the
    card (year, runtime, other fields' values, numbers in its title, synopsis and keywords; "16.67" as "16" and "67";
    no year but its own, as the guard reads any year as the release year),
    its decade and the decades its text names, four digits and two, as decades ("1970s", "70s": the digits only
    before an "s"), and the numbers in `named_titles` (the titles a reason may name: "28" of "28 Days Later").

    Example: Alien (1979, 117 min, no numbers in its text) -> {"1979", "117", "1970s", "70s"}
    """
    card_text = _card_text(item)
    values = _card_numbers(item, card_text)
    runs = {run for v in values for run in re.findall(r"\d+", str(int(v)) if v.is_integer() else str(v))}
    runs = {run for run in runs if not _YEAR.fullmatch(run) or int(run) == item.year}  # a year is the item's own
    runs |= set(re.findall(r"\d+", item.title))  # unless it is in the title ("Blade Runner 2049")
    decades = _decades(card_text) | ({item.year // 10 * 10} if item.year is not None else set())
    runs |= {f"{decade}s" for decade in decades} | {f"{decade % 100:02d}s" for decade in decades}
    runs |= {run for title in named_titles for run in re.findall(r"\d+", title)}
    return frozenset(runs)


def _numbers_not_on_card(text: str, item: Item, card_text: str) -> list[str]:
    """Numbers other than years, decades, runtimes and ages that the card does not hold.

    Example: for a book of 287 pages at 16.67: "287 pages, 16.67" -> [];  "1.1e thriller" -> ["states the number 1.1..."]
    """
    checked = _DURATION.sub(" ", _YEARS_COUNT.sub(" ", _DECADE.sub(" ", _YEAR.sub(" ", text))))
    on_card = _card_numbers(item, card_text)
    problems = []
    for match in _NUMBER.finditer(checked):
        amount = float(match.group(1).replace(",", ""))
        bare = amount.is_integer() and amount <= _SMALL_COUNT and not _COUNTED_UNIT.match(checked, match.end())
        if bare or any(abs(amount - value) < 0.005 for value in on_card):
            continue
        problems.append(f"states the number {match.group(1)}, which is not on the card")
    return problems


# ----- roles: who directed it, who is in it ---------------------------------------------------

_NAME = (
    rf"(?P<name>[{_UPPER}](?:\.|[\w'’-]+)(?:\s+(?:(?:de|da|del|della|di|du|van|von|der|den|le|la)\s+)?"
    rf"[{_UPPER}](?:\.|[\w'’-]+)){{0,3}})"
)
_PERFORMANCE = re.compile(
    r"\b(?:performances?|turns?|roles?|acting|cameos?|voices?|presence|portrayal|lead|star|"
    r"played|performed|voiced|narrated|portrayed|acted)\b",
    re.IGNORECASE,
)
# Words before "by" that make the name someone other than the director ("a novel by"): not a claim the card can check.
_NOT_DIRECTING = re.compile(
    r"\b(?:written|novel|book|story|play|score|music|composed|produced|adapted|based|inspired|"
    r"songs?|screenplay|script|photographed|shot)\s*$",
    re.IGNORECASE,
)
_WORK = (
    r"(?:film|movie|picture|classic|masterpiece|debut|feature|production|thriller|comedy|drama|western|epic|direction)"
)
# (pattern, role it claims, whether the phrase is about a person only when the name is someone known,
#  whether the words around it decide the role: "from X" is authorship, "a turn from X" is acting)
_ROLE_CLAIMS = tuple(
    (re.compile(pattern), role, known_only, contextual)
    for pattern, role, known_only, contextual in (
        (rf"\b(?:[Dd]irected|[Hh]elmed) by {_NAME}", "director", False, False),
        (rf"\b[Dd]irector {_NAME}", "director", False, False),
        (rf"(?<![Dd]irected )(?<![Hh]elmed )(?<![Ll]ed )\b(?:from|by) {_NAME}", "director", True, True),
        (rf"\b{_NAME}['’]s(?:\s+[\w-]+){{0,3}}?\s+{_WORK}s?\b", "director", True, True),
        (rf"\b[Aa]n? {_NAME} {_WORK}\b", "director", True, False),
        (rf"\b(?:[Ss]tarring|[Ss]tars|[Ll]ed by|[Cc]o-starring) {_NAME}", "cast", False, False),
        (rf"\b[Ff]eaturing {_NAME}", "cast", True, False),
    )
)


def _name_keys(names: tuple[str, ...]) -> set[str]:
    """Full names and surnames, normalized. Example: ("Boris Karloff",) -> {"boris karloff", "karloff"}"""
    return {
        key
        for name in names
        for key in (normalize_term(name), normalize_term(name.split()[-1]) if name.split() else "")
    } - {""}


def _claimed_role(text: str, match: re.Match) -> str | None:
    """The role "from X", "by X" or "X's ..." gives X: acting after a performance word ("a turn from X", "X's
    performance"), none the card holds after a writing word ("a novel by X"), else directing.

    Example: "a classic from Boris Karloff" -> "director";  "a fine turn from Boris Karloff" -> "cast"
    """
    before = text[: match.start("name")]
    if _PERFORMANCE.search(match.group() + " " + before[-25:].split(".")[-1]):
        return "cast"
    if before.endswith("by ") and _NOT_DIRECTING.search(before[:-3]):
        return None
    return "director"


def _unsupported_roles(text: str, item: Item, people: frozenset[str]) -> list[str]:
    """Role claims the card contradicts or does not hold: "directed by" / "from" / "X's film" for someone who is not
    its director, "starring" for someone not in its cast."""
    on_card = {"director": _name_keys(creators(item)), "cast": _name_keys(item.cast)}
    surnames = {person.split()[-1] for person in people if " " in person}
    problems = []
    for pattern, role, known_only, contextual in _ROLE_CLAIMS:
        for match in pattern.finditer(text):
            claimed = _claimed_role(text, match) if contextual else role
            if claimed is None and not item.directors and creators(item):  # "a novel by X": for a book, its author
                claimed = "director"
            tokens = match.group("name").split()
            # The longest leading run of the capitalized words that is someone known ("Karloff Frankenstein" -> Karloff).
            keys = [normalize_term(" ".join(tokens[:n])) for n in range(len(tokens), 0, -1)]
            key = next(
                (
                    k
                    for k in keys
                    if any(k in names for names in on_card.values()) or k in people or (" " not in k and k in surnames)
                ),
                None,
            )
            if claimed is None or (key is None and known_only):
                continue
            key = key or keys[0]
            if key in on_card[claimed]:
                continue
            name = match.group("name")
            if claimed == "director":
                fact = f"but {name} is in its cast" if key in on_card["cast"] else "which the card does not say"
                problems.append(
                    f"calls {name} its director, {fact}"
                    if item.directors or not creators(item)
                    else f"credits it to {name}, {fact}"
                )
            else:
                fact = f"but {name} is its director" if key in on_card["director"] else "which the card does not say"
                problems.append(f"says {name} acts in it, {fact}")
    return list(dict.fromkeys(problems))


def _without_phrases(text: str, phrases: tuple[str, ...]) -> str:
    """The text with each whole-word occurrence of the phrases (any case) blanked out, longest first.

    Example: ("A film by Martin Scorsese", ("Martin Scorsese",)) -> "A film by  "
    """
    for phrase in sorted(filter(None, phrases), key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", " ", text, flags=re.IGNORECASE)
    return text


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
