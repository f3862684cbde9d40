"""Hard constraints on items: which items a person's stated constraints allow, and why one is not allowed.

Pure functions over Item fields. Terms are compared in a normalized form (lowercase, no
punctuation, a plural 's' dropped), so "Zombies" in a request matches the keyword "zombie".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from retrieval.catalog import Item

_WORD = re.compile(r"[a-z0-9]+")


def normalize_term(text: str) -> str:
    """Lowercase words joined by single spaces, each without a trailing plural 's'.

    Example: "Zombies!" -> "zombie";  "Tom  Cruise" -> "tom cruise"
    """
    words = _WORD.findall(text.lower())
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words)


def _item_terms(item: Item) -> list[str]:
    return [normalize_term(t) for t in (*item.genres, *item.keywords, *item.cast, *item.directors)]


@dataclass(frozen=True)
class ItemFilter:
    """Constraints that every shown item must satisfy. Empty fields constrain nothing."""

    genres_all: frozenset[str] = frozenset()
    genres_none: frozenset[str] = frozenset()
    year_min: int | None = None
    year_max: int | None = None
    runtime_max: int | None = None
    avoid_terms: frozenset[str] = field(default_factory=frozenset)

    def violations(self, item: Item) -> list[str]:
        """Every constraint this item breaks, in words; empty when the item is allowed."""
        broken = []
        genres = set(item.genres)
        for genre in sorted(self.genres_all - genres):
            broken.append(f"not {genre}")
        for genre in sorted(self.genres_none & genres):
            broken.append(f"is {genre}")
        if self.year_min is not None and (item.year is None or item.year < self.year_min):
            broken.append(f"before {self.year_min}")
        if self.year_max is not None and (item.year is None or item.year > self.year_max):
            broken.append(f"after {self.year_max}")
        if self.runtime_max is not None and item.runtime_min is not None and item.runtime_min > self.runtime_max:
            broken.append(f"longer than {self.runtime_max} min")
        if self.avoid_terms:
            # Whole-word containment, so "violence" also catches the keyword "graphic violence".
            text = " " + " | ".join(_item_terms(item)) + " | " + normalize_term(f"{item.title} {item.synopsis}") + " "
            for term in sorted(self.avoid_terms):
                if f" {term} " in text:
                    broken.append(f"has {term}")
        return broken

    def allows(self, item: Item) -> bool:
        return not self.violations(item)

    @property
    def is_empty(self) -> bool:
        return self == ItemFilter()

    def describe(self) -> str:
        """The constraints in short words, for prompts and logs: "horror; 1990-1999; no gore"."""
        parts = []
        if self.genres_all:
            parts.append(" and ".join(sorted(self.genres_all)))
        if self.year_min is not None and self.year_max is not None:
            parts.append(f"{self.year_min}-{self.year_max}" if self.year_min != self.year_max else f"{self.year_min}")
        elif self.year_min is not None:
            parts.append(f"from {self.year_min}")
        elif self.year_max is not None:
            parts.append(f"before {self.year_max + 1}")
        if self.runtime_max is not None:
            parts.append(f"under {self.runtime_max} min")
        parts += [f"no {genre}" for genre in sorted(self.genres_none)]
        parts += [f"no {term}" for term in sorted(self.avoid_terms)]
        return "; ".join(parts)
