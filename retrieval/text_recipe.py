"""The embedded text of an item: which fields, in which order, and how they are joined.

A recipe is a list of Item fields (known film fields or extra columns). Each non-empty field
becomes one part; parts are joined by ". " and the text ends with ".". Lists are joined by
", "; directors and cast get "Directed by" / "Starring"; a year right after the title is folded
into it ("Alien (1979)"). `describe()` writes the recipe as a template, which the index
manifest records so anyone can see what was embedded.
"""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.catalog import DEFAULT_TEXT_FIELDS, Item

_LEADS = {"directors": "Directed by ", "cast": "Starring ", "runtime_min": ""}
_TAILS = {"runtime_min": " min"}


def _part(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v).strip() for v in value if str(v).strip())
    return str(value).strip().rstrip(".").strip()


@dataclass(frozen=True)
class TextRecipe:
    """Fields embedded for each item, in order.

    Example: TextRecipe(("title", "year", "genres", "synopsis")).text(
                 Item(id="m1", title="Alien", year=1979, genres=("horror",), synopsis="A crew meets a creature."))
             -> "Alien (1979). horror. A crew meets a creature."
    """

    fields: tuple[str, ...] = DEFAULT_TEXT_FIELDS

    def __post_init__(self) -> None:
        if not self.fields:
            raise ValueError("a text recipe needs at least one field")

    @property
    def _year_in_title(self) -> bool:
        return "title" in self.fields and "year" in self.fields

    def text(self, item: Item) -> str:
        parts = []
        for name in self.fields:
            if name == "year" and self._year_in_title:
                continue
            if name == "title":
                value = item.label if self._year_in_title else item.title
            else:
                value = _part(item.value(name))
            if value:
                parts.append(f"{_LEADS.get(name, '')}{value}{_TAILS.get(name, '')}")
        return ". ".join(parts) + "." if parts else ""

    def describe(self) -> str:
        """The recipe as a template.

        Example: TextRecipe(("title", "year", "cast", "description")).describe()
                 -> "{title} ({year}). Starring {cast}. {description}."
        """
        parts = []
        for name in self.fields:
            if name == "year" and self._year_in_title:
                continue
            slot = "{title} ({year})" if name == "title" and self._year_in_title else "{" + name + "}"
            parts.append(f"{_LEADS.get(name, '')}{slot}{_TAILS.get(name, '')}")
        return ". ".join(parts) + "."


DEFAULT_RECIPE = TextRecipe()
RECIPE_NOTE = "empty fields are left out; lists are joined with ', '; a trailing '.' of a value is dropped"
