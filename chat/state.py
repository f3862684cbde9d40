"""Dialogue state: what the person likes, dislikes and rules out, and what they have already been shown.

`update_state(state, reading, catalog)` is pure: it returns a new state. A newly stated genre or
era replaces the old one (people refine); avoided things accumulate (people rarely un-ban).
Every constraint, on the demo's genres, era and runtime as on the catalogue's other fields, is a
`FieldCondition`: a new wanted one on a field replaces the old one on it, exclusions accumulate. `relaxations` names the states with one wanted
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
from retrieval.filters import (
    GENRES,
    YEAR,
    Constraints,
    FieldCondition,
    ItemFilter,
    field_values,
    number,
    wish_kind,
    year_range,
)

DEFAULT_OLDER_BEFORE = 1980
DEFAULT_NEWER_AFTER = 2010
MAX_PREFERENCES = 4
# A brought history's latest liked and disliked items that count as taste. Searches blend every liked item's vector
# and prompts list them all: hundreds would blur the one and overflow the other. The rest is still `watched`.
HISTORY_TASTE_ITEMS = 50


@dataclass(frozen=True)
class DialogueState(Constraints):
    liked: tuple[str, ...] = ()
    disliked: tuple[str, ...] = ()
    watched: tuple[str, ...] = ()  # a brought history's items, in watch order: never recommended
    # Every wanted and avoided constraint: genres, era, runtime and the catalogue's other fields (price, mechanics).
    conditions: tuple[FieldCondition, ...] = ()
    avoid_terms: frozenset[str] = frozenset()
    shown: tuple[str, ...] = ()
    last_shown: tuple[str, ...] = ()
    rejected: frozenset[str] = frozenset()
    preferences: tuple[str, ...] = ()  # newest first
    mentioned: tuple[str, ...] = ()  # every item named by the person or shown to them, oldest first, repeats kept

    @property
    def excluded(self) -> frozenset[str]:
        """Items never to show again: already shown, rejected, named by the person or in their watch history."""
        return (
            frozenset(self.shown)
            | self.rejected
            | frozenset(self.liked)
            | frozenset(self.disliked)
            | frozenset(self.watched)
        )

    def filters(self) -> ItemFilter:
        return ItemFilter(self.conditions, self.avoid_terms)

    @property
    def knows_something(self) -> bool:
        """Enough to search on: a liked item, a constraint or a stated preference."""
        return bool(self.liked or self.conditions or self.preferences or self.shown or self.avoid_terms)

    def query_text(self) -> str:
        """The text to embed: wanted genres plus the latest stated preferences."""
        parts = [" ".join(sorted(self.wanted(GENRES)))] + list(self.preferences)
        return " ".join(p for p in parts if p).strip()


def _at(positions: tuple[int, ...], shown: tuple[str, ...]) -> list[str]:
    return [shown[p] for p in positions if -len(shown) <= p < len(shown)]


def _lower_than_shown(name: str, shown: Sequence[str], catalog: Catalog) -> FieldCondition | None:
    """'Shorter' or 'cheaper' on field `name`: below the middle of the items just shown, else of the whole catalogue.

    Example: pages of the books just shown 250, 300, 420 -> pages ..299
    """
    values = sorted(
        v
        for v in (
            number(field_values(catalog[i], name)[0]) if field_values(catalog[i], name) else None
            for i in shown
            if i in catalog
        )
        if v is not None
    )
    kind = describe_field(catalog.items, name) if not values else None
    middle = median(values) if values else kind.median if kind is not None else None
    if middle is None:
        return None
    limit = middle - 1 if float(middle).is_integer() and middle >= 10 else middle * 0.9
    return FieldCondition(name, maximum=round(limit, 2), missing_passes=True)


def merge_conditions(old: tuple[FieldCondition, ...], new: Sequence[FieldCondition]) -> tuple[FieldCondition, ...]:
    """The conditions after new ones are stated: new wanted ones replace the wanted ones on their field; exclusions
    add up, one per field, less any value now wanted; a wanted value that is excluded is dropped.

    Example: (price ..20, mechanics != bluffing) + (price ..15,) -> (mechanics != bluffing, price ..15)
             (genres=horror, genres!=comedy) + (genres=comedy,) -> (genres=comedy,)
             (genres=horror,) + (genres!=horror,) -> (genres!=horror,)
    """
    replaced = {c.field for c in new if not c.exclude}
    kept = [c for c in old if c.exclude or c.field not in replaced]
    merged: dict[tuple, FieldCondition] = {}
    for c in (*kept, *new):
        key = (c.field, c.missing_passes) if c.exclude and not c.is_range else (c,)
        earlier = merged.get(key)
        merged[key] = replace(c, any_of=earlier.any_of | c.any_of) if earlier is not None else c
    now_wanted = {(c.field, value) for c in new if not c.exclude and not c.is_range for value in c.any_of}
    excluded = {
        (c.field, value)
        for c in merged.values()
        if c.exclude and not c.is_range
        for value in c.any_of
        if (c.field, value) not in now_wanted
    }
    result = []
    for c in merged.values():
        if not c.is_range:
            blocked = now_wanted if c.exclude else excluded
            values = frozenset(value for value in c.any_of if (c.field, value) not in blocked)
            if not values:
                continue
            c = replace(c, any_of=values) if values != c.any_of else c
        result.append(c)
    return tuple(result)


_RELAXED_LAST: tuple[str | None, ...] = (None, "runtime", "years")


def relaxations(state: DialogueState) -> list[tuple[str, DialogueState]]:
    """Each wanted constraint the state holds, described, with the state without it: the numbers first, then the
    era, then the categories (the wished genres together); last, when there are several, the state without any of
    them. What the person wants avoided is never relaxed.

    Example: wants horror from the 2020s -> [("2020-2029", the state without the years), ("horror", without the genre)]
    """
    wanted = [c for c in state.conditions if not c.exclude]
    ranges = sorted((c for c in wanted if c.is_range), key=lambda c: _RELAXED_LAST.index(wish_kind(c)))
    genres = tuple(c for c in wanted if wish_kind(c) == "genre")
    groups = [(c,) for c in ranges] + ([genres] if genres else [])
    groups += [(c,) for c in wanted if not c.is_range and wish_kind(c) != "genre"]
    options = [
        (ItemFilter(group).describe(), replace(state, conditions=tuple(c for c in state.conditions if c not in group)))
        for group in groups
    ]
    if len(options) > 1:
        none_wanted = replace(state, conditions=tuple(c for c in state.conditions if c.exclude))
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

    year_min, year_max = reading.bounds(YEAR) if reading.wishes("years") else state.bounds(YEAR)
    shown_years = sorted(catalog[i].year for i in state.last_shown if i in catalog and catalog[i].year)
    middle = shown_years[len(shown_years) // 2] if shown_years else None
    if reading.older:  # older than the typical film just shown
        year_max = middle - 1 if middle else DEFAULT_OLDER_BEFORE - 1
        year_min = None if year_min is not None and year_min > year_max else year_min
    if reading.newer:
        year_min = middle + 1 if middle else DEFAULT_NEWER_AFTER
        year_max = None if year_max is not None and year_max < year_min else year_max

    wanted_genres = reading.wanted(GENRES)
    # A change of genre starts the wish list afresh: "scary" from a horror request is no help for a comedy.
    preferences = () if wanted_genres and wanted_genres != state.wanted(GENRES) else state.preferences
    if reading.preference_text:
        preferences = (reading.preference_text, *preferences)[:MAX_PREFERENCES]
    lowered = [c for c in (_lower_than_shown(name, state.last_shown, catalog) for name in reading.lower) if c]
    conditions = merge_conditions(state.conditions, [*reading.conditions, *lowered])
    conditions = tuple(c for c in conditions if wish_kind(c) != "years") + year_range(year_min, year_max)
    return replace(
        state,
        liked=tuple(liked),
        disliked=tuple(disliked),
        conditions=conditions,
        avoid_terms=state.avoid_terms | reading.avoid_terms,
        rejected=state.rejected | newly_rejected,
        preferences=preferences,
        mentioned=state.mentioned + tuple(dict.fromkeys((*reading.liked, *reading.disliked))),
    )


def record_shown(state: DialogueState, item_ids: list[str]) -> DialogueState:
    return replace(
        state,
        shown=state.shown + tuple(item_ids),
        last_shown=tuple(item_ids),
        mentioned=state.mentioned + tuple(item_ids),
    )


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
    return replace(
        state,
        disliked=disliked,
        rejected=state.rejected | {item_id},
        liked=tuple(i for i in state.liked if i != item_id),
    )


def add_history(
    state: DialogueState, liked: Sequence[str], disliked: Sequence[str], watched: Sequence[str]
) -> DialogueState:
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
        mentioned=tuple(i for i in watched if i not in set(disliked))
        + state.mentioned,  # seeds the collaborative model
    )
