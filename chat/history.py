"""A watch history a person brings: a CSV of rated titles matched to catalogue items, in the order they were watched.

Read formats: Letterboxd's export (`ratings.csv`, `diary.csv`, `watched.csv`: Date, Name,
Year, Letterboxd URI, Rating[, Watched Date]), IMDb's ratings export (Const, Your Rating,
Date Rated, Title, ..., Year, ...) and any CSV or TSV with a title column and optional year,
rating and date columns (names detected, case-insensitive). Ratings are put on a 0-5 scale
(a file whose ratings go above 5 is taken as out of 10); rated 3.5 or more of 5 is "liked",
2 or less "disliked". Rows are ordered by date (rows without one keep their file order,
after the dated ones), as a sequential recommender wants them.

Matching: the title's normalized forms (`chat.titles.title_aliases`: case, punctuation, a
leading article) against the catalogue's, then the year: the same year, else one year apart
(release years differ between sources), else the only candidate when the row has no year.
What does not match is returned, so the person can be told which titles were not found
(`history_reply` writes that message).
"""

from __future__ import annotations

import csv
import datetime
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from chat.titles import title_aliases
from chat.wording import Wording
from retrieval.catalog import Catalog, Item

TITLE_NAMES = ("title", "name", "movie", "film", "movie title", "film title", "original title")
YEAR_NAMES = ("year", "release year")
RATING_NAMES = ("rating", "your rating", "my rating", "stars", "score")
DATE_NAMES = ("watched date", "date watched", "date rated", "watched", "date", "rated at", "logged date")
LIKED_AT, DISLIKED_AT = 3.5, 2.0  # on the 0-5 scale
NAMED_IN_REPLY = 3  # matched titles a reply names
LISTED_UNMATCHED = 20  # unmatched titles a reply lists before "and N more"


class HistoryError(ValueError):
    """A history file that cannot be read: missing, not a CSV/TSV, or without a title column or titles.

    str() is "path: reason"; `reason` alone suits a person who knows which file they gave.
    """

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


@dataclass(frozen=True)
class RatedTitle:
    """One row of a history file; `rating` on the 0-5 scale, None when the row has none."""

    line: int  # 1-based line of the file (the header is line 1)
    title: str
    year: int | None
    rating: float | None
    watched: datetime.date | None

    @property
    def label(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title


@dataclass(frozen=True)
class HistoryMatch:
    """The rows matched to catalogue items (oldest first) and the rows that were not."""

    matched: tuple[tuple[RatedTitle, str], ...]  # (row, item id)
    unmatched: tuple[RatedTitle, ...]

    def item_ids(self) -> list[str]:
        """Every matched item once, oldest first (a rewatch keeps its first place)."""
        return list(dict.fromkeys(item_id for _, item_id in self.matched))

    def liked_ids(self) -> list[str]:
        """The items whose latest rating is LIKED_AT or more, oldest first."""
        return [i for i, rating in self._latest_ratings().items() if rating >= LIKED_AT]

    def disliked_ids(self) -> list[str]:
        """The items whose latest rating is DISLIKED_AT or less, oldest first."""
        return [i for i, rating in self._latest_ratings().items() if rating <= DISLIKED_AT]

    def _latest_ratings(self) -> dict[str, float]:
        """Item id -> its latest rating (a rewatch may change the mind), in the order the items were first rated."""
        ratings: dict[str, float] = {}
        for row, item_id in self.matched:
            if row.rating is not None:
                ratings[item_id] = row.rating
        return ratings


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    bare = [re.sub(r"[\s_\-]+", " ", name.strip().lower()) for name in header]
    return next((bare.index(name) for name in names if name in bare), None)


def _year(text: str) -> int | None:
    """Example: _year("1979") -> 1979;  _year("1979-05-25") -> 1979;  _year("") -> None"""
    found = re.match(r"\s*(\d{4})", text or "")
    return int(found.group(1)) if found else None


def _date(text: str) -> datetime.date | None:
    """Example: _date("2024-03-01") -> date(2024, 3, 1);  _date("01/03/2024") -> None (ambiguous: not guessed)"""
    try:
        return datetime.date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        return None


def _number(text: str) -> float | None:
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    return value if value > 0 else None  # Letterboxd writes no rating as empty; IMDb never 0


def read_history(path: str | Path) -> list[RatedTitle]:
    """The rated titles of a history file, oldest first (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise HistoryError(path, "file not found")
    if zipfile.is_zipfile(path):  # Letterboxd exports arrive zipped
        raise HistoryError(path, "a zip archive; bring one CSV from it, e.g. ratings.csv or diary.csv")
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as error:
        raise HistoryError(path, f"cannot be read ({error.strerror})") from error
    if "\x00" in text:
        raise HistoryError(path, "not a text file; export your ratings or diary as CSV")
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") or ("\t" in text.split("\n", 1)[0]) else ","
    try:
        rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
    except csv.Error as error:
        raise HistoryError(path, f"not a readable CSV ({error})") from error
    if not rows:
        raise HistoryError(path, "empty file")
    header = rows[0]
    title = _column(header, TITLE_NAMES)
    if title is None:
        raise HistoryError(path, f"needs a title column (e.g. Title or Name); header is {header[:8]}")
    year, rating, date = (_column(header, names) for names in (YEAR_NAMES, RATING_NAMES, DATE_NAMES))

    def cell(row: list[str], column: int | None) -> str:
        return row[column] if column is not None and column < len(row) else ""

    read = [
        RatedTitle(line, row[title].strip(), _year(cell(row, year)), _number(cell(row, rating)), _date(cell(row, date)))
        for line, row in enumerate(rows[1:], start=2)
        if len(row) > title and row[title].strip()
    ]
    if not read:
        raise HistoryError(path, f"no titles under its {header[title]!r} column")
    if any(r.rating is not None and r.rating > 5 for r in read):  # IMDb: out of 10
        read = [
            RatedTitle(r.line, r.title, r.year, None if r.rating is None else r.rating / 2, r.watched) for r in read
        ]
    return sorted(read, key=lambda r: (r.watched is None, r.watched or datetime.date.min, r.line))


def match_history(rows: Iterable[RatedTitle], items: Iterable[Item]) -> HistoryMatch:
    """Each row's catalogue item by title and year (see the module docstring), keeping the rows' order.

    Example: rows "Alien" 1979 and "Nope" 2022, a catalogue holding Alien (1979)
             -> matched [(Alien row, "alien-1979")], unmatched [Nope row]
    """
    by_alias: dict[str, list[Item]] = {}
    for item in items:
        for alias in title_aliases(item.title):
            by_alias.setdefault(alias, []).append(item)
    matched, unmatched = [], []
    for row in rows:
        candidates = list(
            {item.id: item for alias in title_aliases(row.title) for item in by_alias.get(alias, [])}.values()
        )
        chosen = _by_year(candidates, row.year)
        if chosen is None:
            unmatched.append(row)
        else:
            matched.append((row, chosen.id))
    return HistoryMatch(tuple(matched), tuple(unmatched))


def _by_year(candidates: list[Item], year: int | None) -> Item | None:
    if year is None:
        return candidates[0] if len(candidates) == 1 else None
    for distance in (0, 1):
        close = [item for item in candidates if item.year is not None and abs(item.year - year) == distance]
        if close:
            return close[0]
    return None


def history_reply(history: HistoryMatch, catalog: Catalog, wording: Wording = Wording()) -> str:
    """What the person is told after bringing a history: how many titles matched, a few of them, what was not found;
    the items are called what `wording` calls them.

    Example: Alien (1979) rated 5 matched, "Nope" (2022) not ->
             "Found 1 of your 2 titles in the catalogue: Alien (1979). I'll count 1 as a film you liked, and won't
             suggest it again.\nNot found: Nope (2022)."
    """
    ids = history.item_ids()
    total = len(ids) + len(history.unmatched)
    if not ids:
        which = f"None of the {total} titles in your history is" if total > 1 else "The title in your history is not"
        text = f"{which} in the catalogue, so I know no more than before."
    else:
        liked, disliked = history.liked_ids(), history.disliked_ids()
        latest_first = ids if len(ids) <= NAMED_IN_REPLY else (liked or ids)[-NAMED_IN_REPLY:][::-1]
        named = [catalog[i].label for i in latest_first if i in catalog]
        found = f"Found {len(ids)} of your {total} titles in the catalogue"
        text = (
            f"{found}: {', '.join(named)}."
            if len(ids) <= NAMED_IN_REPLY
            else f"{found}, among them {', '.join(named)}."
        )

        def called(count: int) -> str:
            return wording.a_noun if count == 1 else wording.plural

        counted = [f"{len(liked)} as {called(len(liked))} you liked"] if liked else []
        counted += [f"{len(disliked)} as {called(len(disliked))} you didn't"] if disliked else []
        again = "it" if len(ids) == 1 else "either" if len(ids) == 2 else f"any of the {len(ids)}"
        text += (
            f" I'll count {' and '.join(counted)}, and won't suggest {again} again."
            if counted
            else f" I won't suggest {again} again."
        )
    if history.unmatched:
        listed = "; ".join(row.label for row in history.unmatched[:LISTED_UNMATCHED])
        more = len(history.unmatched) - LISTED_UNMATCHED
        text += f"\nNot found: {listed}" + (f"; and {more} more." if more > 0 else ".")
    return text
