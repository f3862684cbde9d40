"""The chat's first screen: what the app can do, and example requests made from the catalogue's own titles and fields.

Pure functions of the catalogue (and of its best-known items, as the search ranks them), so a catalogue of books or
board games gets examples that its search can answer, never films it does not hold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from chat.markdown_text import markdown_text
from retrieval.catalog import Catalog, Item


def _decade(year: int) -> str:
    """Example: 1994 -> "90s"; 2004 -> "2000s"."""
    return f"{year // 10 * 10 % 100:02d}s" if year < 2000 else f"{year // 10 * 10}s"


def example_requests(catalog: Catalog, well_known: Sequence[Item] = ()) -> list[str]:
    """Up to four requests this catalogue can answer, each naming only its own titles, genres, eras and lengths.

    well_known: items in the order to prefer them as named examples (best known first); the catalogue's order else.
    Example (the demo catalogue, best known first): ["I loved The Avengers and Die Hard, something like them",
    "A drama from the 80s, no comedy", "Something like Get Out but older", "A romance under 110 minutes"]
    """
    items = list(catalog.items)
    if not items:
        return []
    # A one-word or very short title ("M", "Up") reads as no title in an example.
    picks = [item for item in (*[i for i in well_known if i.id in catalog], *items) if len(item.title) >= 5] or items
    examples = []
    first = picks[0]
    partner = next(
        (item for item in picks[1:] if set(item.genres) & set(first.genres)), picks[1] if len(picks) > 1 else None
    )
    if partner is not None:
        examples.append(f"I loved {first.title} and {partner.title}, something like them")
    genres = [genre for genre, _ in Counter(g for item in items for g in item.genres).most_common()]
    decades = Counter(_decade(item.year) for item in items if item.year).most_common(1)
    if genres and decades:
        decade = decades[0][0]
        in_decade = Counter(g for item in items if item.year and _decade(item.year) == decade for g in item.genres)
        wanted = [genre for genre, _ in in_decade.most_common(2)]
        avoid = f", no {wanted[1]}" if len(wanted) > 1 else ""
        examples.append(f"A {wanted[0]} from the {decade}{avoid}")
    other = next((item for item in picks if not set(item.genres) & set(first.genres) and item.year), None)
    if other is not None:
        years = sorted(item.year for item in items if item.year)
        examples.append(f"Something like {other.title}" + (" but older" if other.year > years[len(years) // 2] else ""))
    runtimes = sorted(item.runtime_min for item in items if item.runtime_min)
    if genres and runtimes:
        limit = round(runtimes[len(runtimes) // 2] / 10) * 10
        examples.append(f"A {genres[min(2, len(genres) - 1)]} under {limit} minutes")
    elif genres:
        examples.append(f"Something {genres[0]}, but nothing like {first.title}")
    return list(dict.fromkeys(examples))


def welcome_markdown(catalog: Catalog, examples: Sequence[str], items_per_reply: int, message: str = "") -> str:
    """The welcome shown in the empty chat: `message` when set, else what the app can do over this catalogue; then the
    examples to try."""
    if not message:
        years = [item.year for item in catalog.items if item.year]
        span = f" from {min(years)} to {max(years)}" if years else ""
        genres = [g for g, _ in Counter(g for item in catalog.items for g in item.genres).most_common(5)]
        kinds = f" ({', '.join(genres)}, ...)" if genres else ""
        message = (
            f"Hi! I suggest titles from a catalogue of {len(catalog.items)}{span}{kinds}. Tell me what you loved, "
            f"what you didn't and what to avoid: each reply offers {items_per_reply} picks with a reason for each. "
            "Like or dislike a pick, or set it aside, and the next picks follow."
        )
    tries = "\n".join(f"- {markdown_text(example)}" for example in examples)
    return f"{markdown_text(message)}\n\n" + (f"Try:\n{tries}" if tries else "")
