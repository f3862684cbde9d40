"""What the catalogue's items are called ("film", "book", "game") and the canned replies that name them.

One `Wording` per app, from the settings `item_noun` and `item_noun_plural`; the film demo is the
default, and its texts are exactly the ones the shipped adapter was trained with. Prompts,
templates and canned replies take their nouns from here, so a books catalogue never says "film".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Wording:
    noun: str = "film"
    plural: str = "films"

    def __post_init__(self) -> None:
        for name in ("noun", "plural"):
            value = getattr(self, name)
            if not value.strip() or any(ch in value for ch in "\n*_[]<>`"):
                raise ValueError(
                    f"item_{name if name == 'noun' else 'noun_plural'}: a plain word is needed, got {value!r}"
                )

    @property
    def a_noun(self) -> str:
        """The noun with its article. Example: "film" -> "a film";  "album" -> "an album" """
        return f"{'an' if self.noun[:1].lower() in 'aeiou' else 'a'} {self.noun}"

    @property
    def is_film(self) -> bool:
        return self.noun == "film"

    def nothing_heard(self) -> str:
        return f"I didn't catch anything there. Tell me {self.a_noun} you like or what you're in the mood for."

    def english_only(self) -> str:
        return (
            f"Sorry, I can only chat in English for now. Tell me {self.a_noun} you enjoyed, "
            "or a genre you're in the mood for."
        )

    def about_me(self) -> str:
        era = ", a genre, an era" if self.is_film else ", a kind"
        return (
            f"I'm {self.a_noun} recommender: tell me {self.plural} you love or hate{era} or "
            "things to avoid, and I'll suggest a few with reasons."
        )

    def clarifying_question(self) -> str:
        kinds = "a genre, an era, something to avoid" if self.is_film else f"a kind of {self.noun}, something to avoid"
        return (
            f"Happy to help! To point you to something good: what's {self.a_noun} you loved recently, "
            f"or what are you in the mood for ({kinds})?"
        )

    def no_results(self, constraints: str) -> str:
        return (
            f"I couldn't find anything new in the catalogue matching {constraints}. "
            f"Could you loosen one of those, or tell me another {self.noun} you like?"
        )

    def relaxed(self, constraints: str, dropped: str) -> str:
        """The note before the nearest items when nothing met every constraint."""
        return f"I couldn't find anything new in the catalogue matching all of {constraints}, so I left out {dropped}."
