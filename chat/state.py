"""Dialogue state: what the person likes, dislikes and rules out, and what they have already been shown.

`update_state(state, reading, catalog)` is pure: it returns a new state. A newly stated genre or
era replaces the old one (people refine); avoided things accumulate (people rarely un-ban).
Constraints on the catalogue's other fields are `FieldCondition`s: a new one on a field replaces
the old one on it, exclusions accumulate. `relaxations` names the states with one wanted
constraint dropped, for a request that nothing meets.
`add_history` seeds a state with a watch history the person brought (`chat.history`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import median

from chat.understanding import Reading
from retrieval.catalog import Catalog
from retrieval.field_kinds import describe_field
from retrieval.filters import FieldCondition, ItemFilter, field_values, number

DEFAULT_OLDER_BEFORE = 1980
DEFAULT_NEWER_AFTER = 2010
MAX_PREFERENCES = 4
# A brought history's latest liked and disliked items that count as taste. Searches blend every liked item's vector
# and prompts list them all: hundreds would blur the one and overflow the other. The rest is still `watched`.
HISTORY_TASTE_ITEMS = 50


@dataclass(frozen=True)
class DialogueState:
    liked: tuple[str, ...] = ()
    disliked: tuple[str, ...] = ()
    watched: tuple[str, ...] = ()  # a brought history's items, in watch order: never recommended
    genres_wanted: frozenset[str] = frozenset()
    genres_avoided: frozenset[str] = frozenset()
    avoid_terms: frozenset[str] = frozenset()
    year_min: int | None = None
    year_max: int | None = None
    runtime_max: int | None = None
    conditions: tuple[FieldCondition, ...] = ()  # constraints on the catalogue's other fields: price, pages, mechanics
    shown: tuple[str, ...] = ()
    last_shown: tuple[str, ...] = ()
    rejected: frozenset[str] = frozenset()
    preferences: tuple[str, ...] = ()  # newest first
    mentioned: tuple[str, ...] = ()  # every item named by the person or shown to them, oldest first, repeats kept

    @property
    def excluded(self) -> frozenset[str]:
        """Items never to show again: already shown, rejected, named by the person or in their watch history."""
        return (frozenset(self.shown) | self.rejected | frozenset(self.liked) | frozenset(self.disliked)
                | frozenset(self.watched))

    def filters(self) -> ItemFilter:
        return ItemFilter(
            genres_all=self.genres_wanted,
            genres_none=self.genres_avoided,
            year_min=self.year_min,
            year_max=self.year_max,
            runtime_max=self.runtime_max,
            avoid_terms=self.avoid_terms,
            fields=self.conditions,
        )

    @property
    def knows_something(self) -> bool:
        """Enough to search on: a liked item, a genre, an era or a stated preference."""
        return bool(
            self.liked or self.genres_wanted or self.preferences or self.year_min or self.year_max
            or self.shown or self.avoid_terms or self.genres_avoided or self.conditions
        )

    def query_text(self) -> str:
        """The text to embed: wanted genres plus the latest stated preferences."""
        parts = [" ".join(sorted(self.genres_wanted))] + list(self.preferences)
        return " ".join(p for p in parts if p).strip()


def _at(positions: tuple[int, ...], shown: tuple[str, ...]) -> list[str]:
    return [shown[p] for p in positions if -len(shown) <= p < len(shown)]


def _lower_than_shown(name: str, shown: Sequence[str], catalog: Catalog) -> FieldCondition | None:
    """'Shorter' or 'cheaper' on field `name`: below the middle of the items just shown, else of the whole catalogue.

    Example: pages of the books just shown 250, 300, 420 -> pages ..299
    """
    values = sorted(v for v in (number(field_values(catalog[i], name)[0]) if field_values(catalog[i], name) else None
                                for i in shown if i in catalog) if v is not None)
    kind = describe_field(catalog.items, name) if not values else None
    middle = median(values) if values else kind.median if kind is not None else None
    if middle is None:
        return None
    limit = middle - 1 if float(middle).is_integer() and middle >= 10 else middle * 0.9
    return FieldCondition(name, maximum=round(limit, 2), missing_passes=True)


def merge_conditions(old: tuple[FieldCondition, ...], new: Sequence[FieldCondition]) -> tuple[FieldCondition, ...]:
    """The conditions after new ones are stated: a new wanted one replaces the wanted one on its field, exclusions add.

    Example: (price ..20, mechanics != bluffing) + (price ..15,) -> (mechanics != bluffing, price ..15)
    """
    replaced = {c.field for c in new if not c.exclude}
    kept = [c for c in old if c.exclude or c.field not in replaced]
    return tuple(dict.fromkeys((*kept, *new)))


def relaxations(state: DialogueState) -> list[tuple[str, DialogueState]]:
    """Each wanted constraint the state holds, described, with the state without it: the numbers first, then the
    era, then the categories; last, when there are several, the state without any of them. What the person wants
    avoided is never relaxed.

    Example: wants horror from the 2020s -> [("2020-2029", the state without the years), ("horror", without the genre)]
    """
    options = [(condition.describe(), replace(state, conditions=tuple(c for c in state.conditions if c != condition)))
               for condition in state.conditions if not condition.exclude and condition.is_range]
    if state.runtime_max is not None:
        options.append((f"under {state.runtime_max} min", replace(state, runtime_max=None)))
    if state.year_min is not None or state.year_max is not None:
        era = ItemFilter(year_min=state.year_min, year_max=state.year_max).describe()
        options.append((era, replace(state, year_min=None, year_max=None)))
    if state.genres_wanted:
        options.append((" and ".join(sorted(state.genres_wanted)), replace(state, genres_wanted=frozenset())))
    options += [(condition.describe(), replace(state, conditions=tuple(c for c in state.conditions if c != condition)))
                for condition in state.conditions if not condition.exclude and not condition.is_range]
    if len(options) > 1:
        none_wanted = replace(state, runtime_max=None, year_min=None, year_max=None, genres_wanted=frozenset(),
                              conditions=tuple(c for c in state.conditions if c.exclude))
        options.append((" and ".join(words for words, _ in options), none_wanted))
    return options


def update_state(state: DialogueState, reading: Reading, catalog: Catalog) -> DialogueState:
    """The state after the person said `reading`."""
    liked = list(state.liked)
    disliked = list(state.disliked)
    for item_id in (*reading.liked, *_at(reading.liked_positions, state.last_shown)):
        if item_id in disliked:
            disliked.remove(item_id)
        if item_id not in liked:
            liked.append(item_id)
    newly_rejected = set(_at(reading.rejected_positions, state.last_shown))
    for item_id in reading.disliked:
        if item_id in liked:
            liked.remove(item_id)
        if item_id not in disliked:
            disliked.append(item_id)
    if reading.reject_shown:
        newly_rejected |= set(state.last_shown)

    year_min, year_max = state.year_min, state.year_max
    if reading.year_min is not None or reading.year_max is not None:
        year_min, year_max = reading.year_min, reading.year_max
    shown_years = sorted(catalog[i].year for i in state.last_shown if i in catalog and catalog[i].year)
    middle = shown_years[len(shown_years) // 2] if shown_years else None
    if reading.older:  # older than the typical film just shown
        year_max = middle - 1 if middle else DEFAULT_OLDER_BEFORE - 1
        year_min = None if year_min is not None and year_min > year_max else year_min
    if reading.newer:
        year_min = middle + 1 if middle else DEFAULT_NEWER_AFTER
        year_max = None if year_max is not None and year_max < year_min else year_max

    genres_wanted = reading.genres_wanted or state.genres_wanted
    genres_avoided = (state.genres_avoided - reading.genres_wanted) | reading.genres_avoided
    genres_wanted = genres_wanted - genres_avoided
    # A change of genre starts the wish list afresh: "scary" from a horror request is no help for a comedy.
    preferences = () if reading.genres_wanted and reading.genres_wanted != state.genres_wanted else state.preferences
    if reading.preference_text:
        preferences = (reading.preference_text, *preferences)[:MAX_PREFERENCES]
    lowered = [c for c in (_lower_than_shown(name, state.last_shown, catalog) for name in reading.lower) if c]
    return replace(
        state,
        liked=tuple(liked),
        disliked=tuple(disliked),
        genres_wanted=frozenset(genres_wanted),
        genres_avoided=frozenset(genres_avoided),
        avoid_terms=state.avoid_terms | reading.avoid_terms,
        year_min=year_min,
        year_max=year_max,
        runtime_max=reading.runtime_max or state.runtime_max,
        conditions=merge_conditions(state.conditions, [*reading.conditions, *lowered]),
        rejected=state.rejected | newly_rejected,
        preferences=preferences,
        mentioned=state.mentioned + tuple(dict.fromkeys((*reading.liked, *reading.disliked))),
    )


def record_shown(state: DialogueState, item_ids: list[str]) -> DialogueState:
    return replace(state, shown=state.shown + tuple(item_ids), last_shown=tuple(item_ids),
                   mentioned=state.mentioned + tuple(item_ids))


def record_replacement(state: DialogueState, set_aside: str, item_id: str) -> DialogueState:
    """A card set aside and filled with another item: the item counts as shown, and takes the set-aside one's place
    among the last shown (so "the second one" still means the second card); appended when that one is not there.
    Example: last_shown ("a", "b", "c"), set_aside "b", item "d" -> last_shown ("a", "d", "c"), shown + ("d",)
    """
    last = state.last_shown
    last = tuple(item_id if i == set_aside else i for i in last) if set_aside in last else last + (item_id,)
    return replace(state, shown=state.shown + (item_id,), last_shown=last, mentioned=state.mentioned + (item_id,))


def record_feedback(state: DialogueState, item_id: str, positive: bool) -> DialogueState:
    """A thumbs up makes an item liked; a thumbs down or 'not interested' rejects and dislikes it."""
    if positive:
        return replace(state, liked=state.liked + (item_id,) if item_id not in state.liked else state.liked)
    disliked = state.disliked + (item_id,) if item_id not in state.disliked else state.disliked
    return replace(state, disliked=disliked, rejected=state.rejected | {item_id},
                   liked=tuple(i for i in state.liked if i != item_id))


def add_history(state: DialogueState, liked: Sequence[str], disliked: Sequence[str], watched: Sequence[str]) -> DialogueState:
    """The state with a brought watch history (oldest first) seeded in before what the conversation said.

    Every item becomes `watched`; the latest HISTORY_TASTE_ITEMS liked and disliked ones become liked and
    disliked. An item the conversation already likes or dislikes keeps that: the person said it since.
    Every item not disliked counts as mentioned before the conversation's mentions (the collaborative seeds).
    Example: liked ("up",) and a history liked ("heat", "up"), disliked ("psycho",), watched ("heat", "psycho", "up", "m")
             -> liked ("heat", "up"), disliked ("psycho",), watched ("heat", "psycho", "up", "m")
    """
    said = set(state.liked) | set(state.disliked)
    return replace(
        state,
        liked=tuple(i for i in liked[-HISTORY_TASTE_ITEMS:] if i not in said) + state.liked,
        disliked=tuple(i for i in disliked[-HISTORY_TASTE_ITEMS:] if i not in said) + state.disliked,
        watched=tuple(dict.fromkeys((*state.watched, *watched))),
        mentioned=tuple(i for i in watched if i not in set(disliked)) + state.mentioned,  # seeds the collaborative model
    )
