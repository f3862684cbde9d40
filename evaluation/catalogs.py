"""Evaluation catalogues, built in memory from benchmark files: the ReDial movie list (joined with the demo catalogue) and MovieLens items.

Nothing here is written into the project: the benchmarks read the data folder at run time and
only the FAISS index of these catalogues is cached (under `var/eval/`, git-ignored).

ReDial: every row of `movies_with_mentions.csv` is an item. Where the demo catalogue has the
same film (normalized title and year, `corpora.redial.MovieMapper`), the item is the demo
item with its id and its richer fields (genres, people, runtime, synopsis, keywords); the
other items have only a title and a year ("Title (Year)" split). Two ReDial ids that are the
same demo film become one item. MovieLens: `ml-100k.item` (RecBole atomic file), with
"Usual Suspects, The" written "The Usual Suspects" and its genre names in the words the
chat's reader uses ("Sci-Fi" -> "science fiction").
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from corpora.redial import MovieMapper, read_movie_names, split_name
from retrieval.catalog import Catalog, Item

REDIAL_PREFIX = "redial-"
MOVIELENS_GENRES = {"sci-fi": "science fiction", "children's": "family", "film-noir": "film noir", "unknown": ""}
_TRAILING_ARTICLE = re.compile(r"^(.+?), (The|A|An|Il|La|Le|Les|L'|Das|Der|Die|El)( \(.*\))?$")


@dataclass(frozen=True)
class RedialCatalog:
    catalog: Catalog
    item_of: dict[str, str]  # ReDial movie id -> evaluation item id
    joined: int  # ReDial ids whose film is in the demo catalogue

    def item_id(self, movie_id: str) -> str | None:
        """The duck-typed `MovieMapper.item_id`, so `corpora.redial` users accept this catalogue."""
        return self.item_of.get(movie_id)


def redial_catalog(movie_names: dict[str, str], demo: Catalog) -> RedialCatalog:
    """The ReDial movie list as items, demo items where title and year match (see the module docstring).

    Example: names {"111776": "Super Troopers (2001)"}, a demo catalogue without it
             -> one Item(id="redial-111776", title="Super Troopers", year=2001)
    """
    joined = MovieMapper(demo, movie_names).mapping
    items: dict[str, Item] = {}
    item_of: dict[str, str] = {}
    for movie_id, name in movie_names.items():
        if movie_id in joined:
            item = demo[joined[movie_id]]
        else:
            title, year = split_name(name)
            item = Item(id=REDIAL_PREFIX + movie_id, title=title or name, year=year)
        items.setdefault(item.id, item)
        item_of[movie_id] = item.id
    return RedialCatalog(Catalog(items.values(), source="redial-movies"), item_of, len(joined))


def read_redial_catalog(redial_dir: Path, demo: Catalog) -> RedialCatalog:
    return redial_catalog(read_movie_names(redial_dir / "movies_with_mentions.csv"), demo)


def display_title(title: str) -> str:
    """A MovieLens title with its trailing article put back in front.

    Example: "Usual Suspects, The" -> "The Usual Suspects";  "Postino, Il" -> "Il Postino"
             "City of Lost Children, The (Cité des enfants perdus, La)"
             -> "The City of Lost Children (Cité des enfants perdus, La)"
    """
    match = _TRAILING_ARTICLE.match(title.strip())
    if not match:
        return title.strip()
    return f"{match.group(2)} {match.group(1)}{match.group(3) or ''}"


def movielens_genres(field: str) -> tuple[str, ...]:
    """Example: "Action Sci-Fi Children's unknown" -> ("action", "science fiction", "family")"""
    genres = (MOVIELENS_GENRES.get(word.lower(), word.lower()) for word in field.split())
    return tuple(dict.fromkeys(genre for genre in genres if genre))


def movielens_catalog(item_path: Path) -> Catalog:
    """`ml-100k.item` (tab-separated, RecBole headers) as items with id, title, year and genres."""
    items = []
    with open(item_path, encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = [name.split(":", 1)[0] for name in next(reader)]
        for row in reader:
            record = dict(zip(header, row))
            year = record.get("release_year", "").strip()
            items.append(
                Item(
                    id=record["item_id"].strip(),
                    title=display_title(record.get("movie_title", "")) or record["item_id"],
                    year=int(year) if year.isdigit() else None,
                    genres=movielens_genres(record.get("class", "")),
                )
            )
    return Catalog(items, source="ml-100k")
