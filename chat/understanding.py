"""Reading one user message into what it says: liked and disliked titles, wanted and unwanted attributes, eras, rejections.

Rules, not a model: they are fast, predictable and testable, and they give the LLM planner and
the hard constraints a reliable floor. The reading is pure: text in, `Reading` out.

Given the catalogue's fields (`retrieval.field_kinds.CatalogFields`), a message is read onto
fields that exist: a category word in a field's vocabulary is a hard constraint, one that is not
("mystery" where the categories say "crime fiction") stays a soft query word; "shorter",
"cheaper", "under 300 pages", "for 4 players" or "more recent" apply only to a field the
catalogue has (runtime or pages, price, players, year) and are otherwise ignored.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from chat.titles import TitleMatcher
from retrieval.field_kinds import CatalogFields
from retrieval.filters import (
    Constraints,
    FieldCondition,
    genre_exclusion,
    genre_wishes,
    normalize_term,
    runtime_limit,
    year_range,
)
from retrieval.text_keys import fold

MAX_MESSAGE_CHARS = 2000

GENRE_WORDS = {
    "comedy": "comedy",
    "comedies": "comedy",
    "funny": "comedy",
    "hilarious": "comedy",
    "comedic": "comedy",
    "horror": "horror",
    "scary": "horror",
    "frightening": "horror",
    "creepy": "horror",
    "sci fi": "science fiction",
    "scifi": "science fiction",
    "science fiction": "science fiction",
    "animated": "animation",
    "animation": "animation",
    "cartoon": "animation",
    "anime": "animation",
    "documentary": "documentary",
    "documentaries": "documentary",
    "doc": "documentary",
    "western": "western",
    "westerns": "western",
    "musical": "musical",
    "musicals": "musical",
    "war film": "war",
    "war movie": "war",
    "war films": "war",
    "war movies": "war",
    "war drama": "war",
    "romance": "romance",
    "romantic": "romance",
    "love story": "romance",
    "rom com": "romance",
    "thriller": "thriller",
    "thrillers": "thriller",
    "suspense": "thriller",
    "mystery": "mystery",
    "mysteries": "mystery",
    "whodunit": "mystery",
    "crime": "crime",
    "gangster": "crime",
    "heist": "crime",
    "drama": "drama",
    "dramas": "drama",
    "action": "action",
    "adventure": "adventure",
    "adventures": "adventure",
    "fantasy": "fantasy",
    "family": "family",
    "kids": "family",
    "children": "family",
    "biopic": "biography",
    "biography": "biography",
    "biographical": "biography",
    "historical": "history",
    "history": "history",
    "period piece": "history",
    "sport": "sport",
    "sports": "sport",
}
# Words that name content to avoid, mapped to the keyword the catalogue uses.
TERM_WORDS = {
    "gory": "gore",
    "gore": "gore",
    "bloody": "gore",
    "gruesome": "gore",
    "splatter": "gore",
    "blood": "gore",
    "violent": "violence",
    "violence": "violence",
    "subtitles": "subtitles",
    "subtitled": "subtitles",
    "foreign": "subtitles",
    "black and white": "black and white",
    "b w": "black and white",
    "singing": "musical numbers",
    "musical numbers": "musical numbers",
}
NEGATION = re.compile(
    r"\b(no|not|nothing|without|avoid|never|none|hate|hated|dislike|disliked|don't|dont|do not|didn't|didnt|"
    r"did not|can't stand|cannot stand|except|skip|no more|less|isn't|wasn't|not a fan of|boring|awful|terrible)\b"
)
# Cues that negate only what follows them: "animated with no subtitles" still wants animation.
FORWARD_NEGATION = re.compile(r"\b(no|not|nothing|without|avoid|except|less)\b")
# ...unless they follow a verb whose subject came first: "horror is not my thing".
SUBJECT_VERB = re.compile(r"\b(is|are|was|were|am|be|it's|that's|i'm|do|does|did)\s*$")
LIKE_CUE = re.compile(r"\b(love|loved|like|liked|enjoy|enjoyed|adore|adored|favou?rite|fan of|great|amazing)\b")
REJECT_ALL = re.compile(
    r"\b(something else|anything else|other ones?|others|different ones?|none of (these|those|them)|not (these|those)|"
    r"seen (it|them|those|these|that)( all)?|already seen|watched (it|them|those|these)|not that one|not this one|"
    r"not interested|nope|another one|more options|other options)\b"
)
ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "last": -1}
ORDINAL_REF = re.compile(
    r"\b(first|1st|second|2nd|third|3rd|fourth|4th|last) one\b|\bthe (first|1st|second|2nd|third|3rd|fourth|4th|last)\b"
)
GREETING = re.compile(r"^\W*(hi|hello|hey|hiya|yo|good (morning|afternoon|evening)|howdy|sup)\b", re.I)
THANKS = re.compile(r"\b(thanks|thank you|thx|cheers|great thanks|awesome)\b", re.I)
SMALL_TALK = re.compile(r"\b(how are you|who are you|what are you|what can you do|are you a bot|your name)\b", re.I)
DECADE = re.compile(r"\b(?:(?:19|20)?'?(\d)0s|(19|20)(\d)0s)\b")
DECADE_WORDS = {
    "twenties": 1920,
    "thirties": 1930,
    "forties": 1940,
    "fifties": 1950,
    "sixties": 1960,
    "seventies": 1970,
    "eighties": 1980,
    "nineties": 1990,
}
MARKUP = re.compile(r"<tool_call>.*?</tool_call>|<[^<>]{0,300}>|\]\([^()\s]*\)|\bhttps?://\S+", re.S)
YEAR_RANGE = re.compile(r"\b(?:between\s+|from\s+)?((?:19|20)\d\d)\s*(?:-|–|to|and|until|till)\s*((?:19|20)\d\d)\b")
YEAR_RELATION = re.compile(r"\b(before|after|since|from|in|pre|post|older than|newer than)\W{0,2}((?:19|20)\d\d)\b")
RUNTIME = re.compile(
    r"\b(?:under|less than|shorter than|at most|max|no longer than|below)\s+(\d+(?:\.\d+)?)\s*(hours?|hrs?|h|minutes?|mins?|m)\b"
)
AVOID_PHRASE = re.compile(
    r"\b(?:no|nothing with|nothing about|without|avoid|not into|no more|hate)\s+((?:[a-z]+\s?){1,2})"
)
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "i'd",
        "i'll",
        "i'm",
        "i've",
        "if",
        "in",
        "into",
        "is",
        "it",
        "it's",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "that's",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "ok",
        "okay",
        "yes",
        "yeah",
        "please",
        "thanks",
        "thank",
        "hi",
        "hello",
        "hey",
        "maybe",
        "really",
        "tonight",
        "today",
        "good",
        "great",
        "nice",
        "also",
        "something",
        "anything",
        "everything",
        "nothing",
        "one",
        "ones",
        "else",
        "another",
        "give",
        "show",
        "tell",
        "suggest",
        "recommend",
        "recommendation",
        "want",
        "wanted",
        "need",
        "looking",
        "look",
        "find",
        "watch",
        "watching",
        "watched",
        "seen",
        "see",
        "saw",
        "movie",
        "movies",
        "film",
        "films",
        "flick",
        "like",
        "liked",
        "love",
        "loved",
        "enjoy",
        "enjoyed",
        "mood",
        "feel",
        "kind",
        "sort",
        "type",
        "bit",
        "lot",
        "much",
        "many",
        "any",
        "some",
        "new",
        "old",
        "older",
        "newer",
        "recent",
        "classic",
        "first",
        "second",
        "third",
        "last",
        "let's",
        "lets",
        "got",
        "get",
    ]
)
PAGES = re.compile(r"\b(?:under|less than|fewer than|shorter than|at most|max|no more than|below)\s+(\d+)\s*pages?\b")
PRICE = re.compile(
    r"\b(?:under|less than|cheaper than|at most|max|no more than|below)\s+"
    r"(?:[$€£]\s*(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s*(?:dollars?|euros?|pounds?|bucks|usd|eur|gbp|[$€£]))"
)
PLAYERS = re.compile(r"\b(?:for|with)\s+(\d{1,2}|two|three|four|five|six|seven|eight)\s+(?:players?|people|persons?)\b")
PLAYER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
SHORTER = re.compile(r"\bnot too long\b|\bshort(er)?\b|\bquick(er)?\b")
CHEAPER = re.compile(r"\b(cheap|cheaper|inexpensive|affordable|budget|less expensive)\b")
# The fields "shorter" may mean, most specific first; "minutes" phrases mean the first minutes field.
LENGTH_FIELDS = ("runtime_min", "play_minutes", "duration_min", "pages", "page_count")
MINUTES_FIELDS = ("runtime_min", "play_minutes", "duration_min")
# Words that only say which way to move on a field, units and item nouns: no query words.
RELATIVE_WORDS = frozenset(
    {
        "short",
        "shorter",
        "quick",
        "quicker",
        "cheap",
        "cheaper",
        "inexpensive",
        "affordable",
        "budget",
        "page",
        "pages",
        "player",
        "players",
        "hour",
        "hours",
        "minute",
        "minutes",
        "mins",
        "dollars",
        "euros",
        "pounds",
        "bucks",
        "book",
        "books",
        "game",
        "games",
    }
)
STOP_AFTER_NEGATION = {
    "more",
    "too",
    "very",
    "that",
    "this",
    "those",
    "these",
    "one",
    "ones",
    "sure",
    "really",
    "so",
    "much",
    "a",
    "the",
    "any",
    "thanks",
    "idea",
    "clue",
    "problem",
    "worries",
    "way",
}


@dataclass(frozen=True)
class Reading(Constraints):
    """What one message said. Item ids refer to the catalogue; ordinals refer to the last shown list."""

    text: str
    liked: tuple[str, ...] = ()
    disliked: tuple[str, ...] = ()
    # Hard constraints stated: wanted and avoided genres, an era, a most-minutes, the catalogue's other fields.
    conditions: tuple[FieldCondition, ...] = ()
    avoid_terms: frozenset[str] = frozenset()
    older: bool = False
    newer: bool = False
    lower: tuple[str, ...] = ()  # numeric fields to go lower on than what was shown ("shorter" books, "cheaper")
    reject_shown: bool = False
    rejected_positions: tuple[int, ...] = ()
    liked_positions: tuple[int, ...] = ()
    preference_text: str = ""
    greeting: bool = False
    thanks: bool = False
    small_talk: bool = False
    not_english: bool = False
    truncated: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def has_request(self) -> bool:
        """Did the message say anything a search can use?"""
        return bool(
            self.liked
            or self.disliked
            or self.conditions
            or self.avoid_terms
            or self.older
            or self.newer
            or self.lower
            or self.reject_shown
            or self.rejected_positions
            or self.liked_positions
            or self.preference_text
        )


def clean_message(text: str) -> tuple[str, bool]:
    """Strip control characters and collapse whitespace; cut very long messages.

    Example: "hi\\x00 there\\n\\n" -> ("hi there", False)
    """
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text or "")
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > MAX_MESSAGE_CHARS:
        return text[:MAX_MESSAGE_CHARS], True
    return text, False


def _negation_start(clause: str) -> int | None:
    """Where a clause's negation begins: at a forward cue ("no", "without", ...), else at 0; None if it has none.

    Example: "something animated with no subtitles" -> 24;  "horror is not my thing" -> 0;  "i hate gore" -> 0
    """
    first = NEGATION.search(clause)
    if first is None:
        return None
    forward = FORWARD_NEGATION.match(clause, first.start())
    if forward and not SUBJECT_VERB.search(clause[: first.start()]):
        return first.start()
    return 0


def _clauses(lowered: str) -> list[tuple[str, bool]]:
    """Split into clauses and say whether each is negative. 'and' carries polarity on; 'but' and stops reset it.

    A forward cue negates only what follows it, so the words before it stay a clause of their own.

    Example: "i loved x and y, something scary but not gory" -> [("i loved x", False), ("y", False),
             ("something scary", False), ("not gory", True)]
             "something animated with no subtitles" -> [("something animated with", False), ("no subtitles", True)]
    """
    pieces = re.split(r"(\bbut\b|\bhowever\b|\bthough\b|[.!?;]|\band\b|\bor\b|,)", lowered)
    clauses: list[tuple[str, bool]] = []
    carried = False
    for piece in pieces:
        token = piece.strip()
        if not token:
            continue
        if token in ("but", "however", "though", ".", "!", "?", ";"):
            carried = False
            continue
        if token in ("and", "or", ","):
            continue
        start = _negation_start(token)
        if start:
            clauses.append((token[:start].strip(), carried))
            token = token[start:]
        if start is not None:
            carried = True
        elif LIKE_CUE.search(token):
            carried = False
        clauses.append((token, start is not None or carried))
    return clauses


def _find_phrases(text: str, lexicon: dict[str, str]) -> list[tuple[str, int]]:
    """(value, position) for each lexicon phrase in normalized text, longest phrases first, no overlaps."""
    found, taken = [], [False] * (len(text) + 1)
    for phrase in sorted(lexicon, key=len, reverse=True):
        for match in re.finditer(rf"\b{re.escape(phrase)}\b", text):
            if not any(taken[match.start() : match.end()]):
                found.append((lexicon[phrase], match.start()))
                for i in range(match.start(), match.end()):
                    taken[i] = True
    return sorted(found, key=lambda pair: pair[1])


def _years(lowered: str) -> tuple[int | None, int | None]:
    year_min = year_max = None
    for match in DECADE.finditer(lowered):
        if match.group(2):
            start = int(match.group(2) + match.group(3) + "0")
        else:
            digit = int(match.group(1))
            start = (1900 if digit >= 3 else 2000) + digit * 10
        year_min, year_max = start, start + 9
    for word, start in DECADE_WORDS.items():
        if re.search(rf"\b{word}\b", lowered):
            year_min, year_max = start, start + 9
    ranges = list(YEAR_RANGE.finditer(lowered))
    for match in ranges:  # "between 1975 and 1985", "from 1975 to 1985", "1975-1985"
        first, last = sorted((int(match.group(1)), int(match.group(2))))
        year_min, year_max = first, last
    lowered = YEAR_RANGE.sub(" ", lowered) if ranges else lowered
    for relation, year_text in YEAR_RELATION.findall(lowered):
        year = int(year_text)
        if relation in ("before", "pre", "older than"):
            year_max = year - 1
        elif relation in ("after", "post", "newer than"):
            year_min = year + 1
        elif relation == "since":
            year_min = year
        else:  # "from 1994", "in 1994"
            year_min = year_max = year
    return year_min, year_max


def _minutes(lowered: str) -> int | None:
    """A stated most-minutes ("under 2 hours" -> 120, "something short" -> 100), else None."""
    match = RUNTIME.search(lowered)
    if match:
        amount, unit = float(match.group(1)), match.group(2)
        return int(amount * 60) if unit.startswith("h") else int(amount)
    if re.search(r"\bnot too long\b|\bshort(er)?\b", lowered):
        return 120 if "not too long" in lowered else 100
    return None


def _field_numbers(lowered: str, fields: CatalogFields) -> tuple[int | None, list[FieldCondition], list[str]]:
    """(most_minutes, other hard conditions, fields to go lower on) that a message states about fields that exist.

    Example (books with pages and price): "something shorter, under $15" -> (None, [price ..15], ["pages"]);
             (films): "under 2 hours" -> (120, [], [])
    """
    conditions: list[FieldCondition] = []
    lower: list[str] = []
    minutes_field = fields.first_numeric(MINUTES_FIELDS)
    stated = RUNTIME.search(lowered)
    if stated and minutes_field is not None:
        amount = _minutes(lowered)
        if minutes_field.name == "runtime_min":
            return amount, conditions, lower
        conditions.append(FieldCondition(minutes_field.name, maximum=float(amount), missing_passes=True))
    pages = fields.first_numeric(("pages", "page_count"))
    page_match = PAGES.search(lowered)
    if pages is not None and page_match:
        conditions.append(FieldCondition(pages.name, maximum=float(page_match.group(1)), missing_passes=True))
    length = fields.first_numeric(LENGTH_FIELDS)
    if not stated and not page_match and length is not None and SHORTER.search(lowered):
        if length.name == "runtime_min":
            return _minutes(lowered), conditions, lower
        lower.append(length.name)
    price = fields.numeric("price")
    price_match = PRICE.search(lowered)
    if price is not None and price_match:
        conditions.append(
            FieldCondition("price", maximum=float(price_match.group(1) or price_match.group(2)), missing_passes=True)
        )
    elif price is not None and CHEAPER.search(lowered):
        lower.append("price")
    players = PLAYERS.search(lowered)
    if players and fields.numeric("min_players") and fields.numeric("max_players"):
        count = float(PLAYER_WORDS.get(players.group(1)) or players.group(1))
        conditions += [
            FieldCondition("min_players", maximum=count, missing_passes=True),
            FieldCondition("max_players", minimum=count, missing_passes=True),
        ]
    return None, conditions, lower


def _category_phrases(fields: CatalogFields) -> dict[str, tuple[str, str]]:
    """Phrase -> (field, value) for every value of a closed categorical field that the genre words do not already name.

    Example (games): {"cooperative": ("mechanics", "cooperative"), "deck building": ("mechanics", "deck building"), ...}
    """
    named = set(GENRE_WORDS.values())
    return {
        value: (kind.name, value)
        for kind in fields.category_fields()
        for value in kind.values
        if value and not (kind.name == "genres" and value in named)
    }


def _ordinals(lowered: str) -> list[int]:
    positions = []
    for match in ORDINAL_REF.finditer(lowered):
        word = match.group(1) or match.group(2)
        positions.append(ORDINALS[word])
    return positions


def _people_in(normalized: str, people: frozenset[str]) -> set[str]:
    """Names from `people` (normalized, two to four words) that occur in the normalized text."""
    words = normalized.split()
    return {" ".join(words[i : i + n]) for n in (2, 3, 4) for i in range(len(words) - n + 1)} & people


def read_message(
    text: str, titles: TitleMatcher, people: frozenset[str] = frozenset(), fields: CatalogFields | None = None
) -> Reading:
    """Read a message. `people` holds normalized cast and director names, so "not Tom Cruise" can be avoided.

    `fields` are the catalogue's filterable fields; without them the message is read as about films (genres, years
    and runtimes are constraints, whatever the catalogue holds).
    """
    text, truncated = clean_message(text)
    mentions = titles.find(text)
    # Blank out the titles so their words are not read as attributes ("Star Wars" is no war film).
    masked = list(text)
    for mention in mentions:
        masked[mention.start : mention.end] = " " * (mention.end - mention.start)
    masked_text = "".join(masked)
    # A tag or a link is no preference; folded so "no Penelope Cruz" avoids "Penélope Cruz" (`retrieval.text_keys`).
    lowered = fold(MARKUP.sub(" ", masked_text)).replace("’", "'")
    lowered_ranges = re.sub(r"\b((?:19|20)\d\d)\s*[-–]\s*((?:19|20)\d\d)\b", r"\1 to \2", lowered)
    normalized = " ".join(re.findall(r"[a-z0-9']+", lowered_ranges.replace("-", " ")))

    liked, disliked = [], []
    for mention in mentions:
        # Polarity of the clause that holds the title.
        prefix = text[: mention.start].lower()
        clause_start = max(
            prefix.rfind(" but "), prefix.rfind("."), prefix.rfind(";"), prefix.rfind("!"), prefix.rfind("?")
        )
        clause = prefix[clause_start + 1 :]
        negative = bool(NEGATION.search(clause)) and not re.search(r"\bnot only\b", clause)
        target = disliked if negative else liked
        if mention.item_id not in liked and mention.item_id not in disliked:
            target.append(mention.item_id)

    wanted_genres, avoided_genres, terms = set(), set(), set()
    wanted_values: dict[str, set[str]] = {}
    avoided_values: dict[str, set[str]] = {}
    phrases = _category_phrases(fields) if fields is not None else {}
    positive_words = []
    for clause, negative in _clauses(lowered):
        clause_norm = " ".join(re.findall(r"[a-z0-9']+", clause.replace("-", " ")))
        lexicon = {**GENRE_WORDS, **{phrase: phrase for phrase in phrases}}
        for found, _ in _find_phrases(clause_norm, lexicon):
            if found in phrases and found not in GENRE_WORDS.values():
                name, value = phrases[found]
                (avoided_values if negative else wanted_values).setdefault(name, set()).add(value)
            else:
                (avoided_genres if negative else wanted_genres).add(found)
        for term, _ in _find_phrases(clause_norm, TERM_WORDS):
            if negative:
                terms.add(term)
        if negative:
            terms |= _people_in(normalize_term(clause_norm), people)
        if negative:
            for match in AVOID_PHRASE.finditer(clause_norm):
                words = [w for w in match.group(1).split() if w not in STOP_AFTER_NEGATION]
                phrase = " ".join(words)
                if phrase and phrase not in GENRE_WORDS and not any(phrase in g for g in GENRE_WORDS):
                    known = TERM_WORDS.get(phrase) or TERM_WORDS.get(words[0])
                    terms.add(known or normalize_term(phrase))
        else:
            positive_words.append(clause_norm)
    wanted_genres -= avoided_genres
    for name, values in wanted_values.items():  # "crime fiction" said outright is a genre where genres hold it
        if name == "genres":
            wanted_genres |= values - avoided_genres
    for name, values in avoided_values.items():
        if name == "genres":
            avoided_genres |= values
    conditions = [
        FieldCondition(name, any_of=frozenset(values))
        for name, values in sorted(wanted_values.items())
        if name != "genres"
    ]
    conditions += [
        FieldCondition(name, any_of=frozenset(values), exclude=True, missing_passes=True)
        for name, values in sorted(avoided_values.items())
        if name != "genres"
    ]
    terms -= {normalize_term(value) for values in avoided_values.values() for value in values}  # said once, as a field
    if fields is not None:
        # A genre word the catalogue's categories lack is a wish, not a filter: its word stays in the query text;
        # one to avoid is still avoided wherever it is written (`retrieval.filters.avoid_text`).
        vocabulary = fields.vocabulary("genres")
        terms |= {normalize_term(genre) for genre in avoided_genres - vocabulary}
        wanted_genres &= vocabulary
        avoided_genres &= vocabulary

    year_min, year_max = _years(normalized)
    older = bool(re.search(r"\b(older|classic|classics|old school|earlier)\b", normalized)) and year_max is None
    newer = bool(re.search(r"\b(newer|more recent|recent|modern|latest)\b", normalized)) and year_min is None
    if fields is None:
        most_minutes, lower = _minutes(normalized), []
    else:
        most_minutes, more_conditions, lower = _field_numbers(lowered, fields)
        conditions += more_conditions
        if fields.numeric("year") is None:  # no years to constrain: an era is only words
            year_min = year_max = None
            older = newer = False
    ordinal_positions = _ordinals(normalized)
    reject_all = bool(REJECT_ALL.search(normalized))
    rejected_positions, liked_positions = [], []
    if ordinal_positions:
        if re.search(r"\bnot\b|\bno\b|\bseen\b|\bhate|\bdislike", normalized):
            rejected_positions = ordinal_positions
        else:
            liked_positions = ordinal_positions
        reject_all = reject_all and not rejected_positions and "that one" not in normalized

    content_words = [
        w
        for w in " ".join(positive_words).split()
        if w not in STOPWORDS and w not in RELATIVE_WORDS and not w.isdigit()
    ]
    preference = " ".join(w for w in content_words if not re.fullmatch(r"'?\d+s|already|seen", w))

    letters = [ch for ch in text if ch.isalpha()]
    non_latin = sum(1 for ch in letters if ord(ch) > 0x24F)
    words = re.findall(r"[^\W\d_]+", MARKUP.sub(" ", text).lower())  # tags, tool calls and links are not language
    english = sum(1 for w in words if w in STOPWORDS or w in GENRE_WORDS or w in TERM_WORDS)
    understood = wanted_genres or avoided_genres or terms or year_min or year_max or conditions
    not_english = (
        bool(letters)
        and not mentions
        and not understood
        and (non_latin > len(letters) / 2 or (len(words) >= 3 and english / len(words) < 0.25))
    )
    return Reading(
        text=text,
        liked=tuple(liked),
        disliked=tuple(disliked),
        conditions=(
            *genre_wishes(sorted(wanted_genres)),
            *genre_exclusion(avoided_genres),
            *year_range(year_min, year_max),
            *runtime_limit(most_minutes),
            *conditions,
        ),
        avoid_terms=frozenset(terms),
        older=older,
        newer=newer,
        lower=tuple(lower),
        reject_shown=reject_all,
        rejected_positions=tuple(rejected_positions),
        liked_positions=tuple(liked_positions),
        preference_text="" if not_english else preference,
        greeting=bool(GREETING.search(text)),
        thanks=bool(THANKS.search(text)),
        small_talk=bool(SMALL_TALK.search(text)),
        not_english=not_english,
        truncated=truncated,
    )
