"""Matching keys for text in any language: words lowercased and folded, so "Léon" and "Leon" are one key.

Every comparison of titles, names and terms goes through here (`chat.titles`, `retrieval.filters`,
`chat.understanding`), so a person may type a name with or without its accents and in any case.
Only keys are folded: what is shown keeps its original spelling. Letters of every alphabet are
word letters ("Москва" stays one word); accents are dropped (Unicode NFKD, combining marks
removed), and the few Latin letters with no decomposition (ø, æ, œ, ł, đ, ð, þ, ı) are spelled
out as people type them on an English keyboard.
"""

from __future__ import annotations

import re
import unicodedata

# A letter of any alphabet or an ASCII digit, with the combining marks of text typed decomposed ("e" + U+0301).
# Python's \w also holds numerals that are not digits ("³" of "Alien³", "½", "①"): they separate words, as before.
_NUMERALS = "\u00b2\u00b3\u00b9\u00bc-\u00be\u2070-\u209f\u2150-\u218f\u2460-\u24ff\u2776-\u2793"
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_LETTER = rf"[^\W\d_{_NUMERALS}]"
LETTERS = rf"(?:{_LETTER}[{_MARKS}]*)+"
WORD = rf"(?:(?:{_LETTER}|[0-9])[{_MARKS}]*)+"
_WORD = re.compile(WORD)
_UNDECOMPOSED = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"})


def fold(text: str) -> str:
    """The text casefolded, without accents; punctuation, spacing and other alphabets kept.

    Example: "Léon" -> "leon";  "Les Misérables" -> "les miserables";  "Straße" -> "strasse";
             "Ærø" -> "aero";  "Pokémon: Ｍewtwo" -> "pokemon: mewtwo";  "Москва" -> "москва"
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.translate(_UNDECOMPOSED)


def words(text: str) -> list[str]:
    """The folded words of a text, punctuation dropped.

    Example: "Penélope Cruz, Pedro Almodóvar!" -> ["penelope", "cruz", "pedro", "almodovar"]
             "Alien³ (1992)" -> ["alien", "1992"]
    """
    return [fold(word) for word in _WORD.findall(text)]
