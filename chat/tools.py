"""The search tool-call format: the one place that defines it, renders it and parses it.

The LLM emits exactly one call per turn, on its own line:

    <tool_call>{"name": "search_items", "arguments": {"query": "tense space horror", "genres": ["horror"],
    "year_min": 1970, "year_max": 1989, "avoid": ["gore"]}}</tool_call>

`query` is required; the rest is optional. Two optional arguments came after the adapter was
trained and are written only when the state holds them: `runtime_max` (minutes) and `filters`,
the state's constraints on the catalogue's other fields as `retrieval.filters.FieldCondition`
texts (`"price=..15"`, `"mechanics!=bluffing"`). The model never writes them (it writes the
query alone), so the logged call says every constraint the search held. Inside, a call holds its
constraints as `retrieval.filters.FieldCondition`s, the one form the dialogue state holds them in. At inference the engine asks for the query alone
(`QUERY_PREFIX`, stop at its closing quote) and takes the constraints from the dialogue state;
fine-tuning data holds whole calls, so the model learns them all. The same rendering is used in fine-tuning data, so
training and serving cannot drift apart. A malformed call comes back as a `ToolCallError` whose
message the engine can show to the model or repair from the dialogue state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from retrieval.filters import (
    Constraints,
    FieldCondition,
    FilterSyntaxError,
    genre_wishes,
    runtime_limit,
    whole,
    wish_kind,
    year_range,
)

TOOL_NAME = "search_items"
OPEN, CLOSE = "<tool_call>", "</tool_call>"
CALL_PREFIX = OPEN + '{"name": "' + TOOL_NAME + '", "arguments": '
# The engine asks the model for the query alone: it continues this prefix up to the closing quote,
# and the hard constraints come from the dialogue state. Fewer generated tokens, same format.
QUERY_PREFIX = CALL_PREFIX + '{"query": "'
TOOL_DESCRIPTION = (
    f"{TOOL_NAME}(query: str, genres: list[str] = [], year_min: int = null, year_max: int = null, avoid: list[str] = []) "
    "searches the catalogue. Reply with one line: " + OPEN + '{"name": "' + TOOL_NAME + '", "arguments": {...}}' + CLOSE
)


class ToolCallError(ValueError):
    """The model's text is not a valid search call; the message says what is wrong, in words a model can use."""


@dataclass(frozen=True)
class SearchCall(Constraints):
    """A search: the query, its hard constraints as field conditions, and the words to avoid.

    `arguments()` writes the conditions in the trained format: a wished genre under `genres`, an era under
    `year_min`/`year_max`, a most-minutes under `runtime_max`, any other condition as text under `filters`.
    """

    query: str
    conditions: tuple[FieldCondition, ...] = ()
    avoid: tuple[str, ...] = ()

    @classmethod
    def searching(cls, query: str, conditions: Sequence[FieldCondition], avoid_terms: Iterable[str]) -> SearchCall:
        """The call for a search on these constraints, as logged and trained: the wished genres sorted, the genres
        to avoid among the avoided words.

        Example: ("x", (genres=horror, genres!=comedy), {"gore"}) -> '{"query": "x", "genres": ["horror"],
                 "avoid": ["comedy", "gore"]}'
        """
        genres = sorted((c for c in conditions if wish_kind(c) == "genre"), key=lambda c: sorted(c.any_of))
        rest = [c for c in conditions if wish_kind(c) not in ("genre", "no_genre")]
        avoided = {value for c in conditions if wish_kind(c) == "no_genre" for value in c.any_of}
        return cls(query, (*genres, *rest), tuple(sorted(avoided | set(avoid_terms))))

    def arguments(self) -> dict:
        """The call's JSON arguments. Example: SearchCall("x", year_range(1990, 1999)) -> {"query": "x",
        "year_min": 1990, "year_max": 1999}"""
        genres = [value for c in self.wishes("genre") for value in c.any_of]
        years = next(iter(self.wishes("years")), None)
        runtime = next(iter(self.wishes("runtime")), None)
        args: dict = {"query": self.query}
        if genres:
            args["genres"] = genres
        if years is not None and years.minimum is not None:
            args["year_min"] = whole(years.minimum)
        if years is not None and years.maximum is not None:
            args["year_max"] = whole(years.maximum)
        if self.avoid:
            args["avoid"] = list(self.avoid)
        if runtime is not None:
            args["runtime_max"] = whole(runtime.maximum)
        written = (*self.wishes("genre"), years, runtime)
        filters = [c.text() for c in self.conditions if c not in written]
        if filters:
            args["filters"] = filters
        return args


def render_call(call: SearchCall) -> str:
    """The exact text the model is trained to emit.

    Example: SearchCall("space horror") -> '<tool_call>{"name": "search_items", "arguments": {"query": "space horror"}}</tool_call>'
    """
    return OPEN + json.dumps({"name": TOOL_NAME, "arguments": call.arguments()}) + CLOSE


def _optional_int(value, name: str, example: str = "a year like 1990") -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or not str(value).strip().isdigit():
        raise ToolCallError(f"{name} must be {example}, got {value!r}")
    return int(value)


def _string_list(value, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ToolCallError(f"{name} must be a list of strings")
    return tuple(v.strip().lower() for v in value if v.strip())


def _load_json(body: str, complete: bool = True) -> object:
    """JSON from the call body; a call cut short (missing quote or closing braces) is completed once.

    Example: '{"name": "search_items", "arguments": {"query": "x"' -> the object with both braces closed
    """
    try:
        return json.JSONDecoder().raw_decode(body)[0]
    except json.JSONDecodeError as error:
        first_error = error
    if not complete:
        raise ToolCallError(f"invalid JSON in the call: {first_error.msg}") from first_error
    quotes = len(re.findall(r'(?<!\\)"', body))
    completed = body + ('"' if quotes % 2 else "") + "}" * max(0, body.count("{") - body.count("}"))
    try:
        return json.loads(completed)
    except json.JSONDecodeError:
        raise ToolCallError(f"invalid JSON in the call: {first_error.msg}") from first_error


def parse_call(text: str, strict: bool = False) -> SearchCall:
    """Parse a model's output into a SearchCall; raise ToolCallError naming the problem.

    Accepts text around the call. Unless `strict`, a missing closing tag is fine and a call cut
    short is completed once; `strict` accepts only a complete, well-formed call.
    """
    start = text.find(OPEN)
    if start < 0:
        raise ToolCallError(f"no {OPEN} found")
    body = text[start + len(OPEN) :]
    end = body.find(CLOSE)
    if strict and end < 0:
        raise ToolCallError(f"no closing {CLOSE}")
    body = (body[:end] if end >= 0 else body).strip()
    if not body.startswith("{"):
        raise ToolCallError("the call is not a JSON object")
    payload = _load_json(body, complete=not strict)
    if not isinstance(payload, dict) or payload.get("name") != TOOL_NAME:
        raise ToolCallError(f'the call must name the tool "{TOOL_NAME}"')
    args = payload.get("arguments")
    if not isinstance(args, dict):
        raise ToolCallError("arguments must be an object")
    query = args.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ToolCallError("query must be a non-empty string")
    return SearchCall(" ".join(query.split())[:200], call_conditions(args), _string_list(args.get("avoid"), "avoid"))


def call_conditions(args: dict) -> tuple[FieldCondition, ...]:
    """The hard constraints in a call's arguments, as field conditions; ToolCallError names a bad one.

    Example: {"genres": ["Horror"], "year_max": 1999, "filters": ["price=..15"]} -> (genres=horror, year=..1999,
             price=..15)
    """
    try:
        filters = tuple(FieldCondition.parse(text) for text in _string_list(args.get("filters"), "filters"))
    except FilterSyntaxError as error:
        raise ToolCallError(str(error)) from error
    return (
        *genre_wishes(_string_list(args.get("genres"), "genres")),
        *year_range(_optional_int(args.get("year_min"), "year_min"), _optional_int(args.get("year_max"), "year_max")),
        *runtime_limit(_optional_int(args.get("runtime_max"), "runtime_max", "minutes like 100")),
        *filters,
    )


def parse_query(continuation: str) -> str:
    """The query from a model's continuation of `QUERY_PREFIX` (cut at its closing quote).

    Raises ToolCallError when it is empty, not a JSON string body, or holds JSON or markup
    instead of words. Example: 'tense space horror' -> "tense space horror"; '{"genres": [' -> error
    """
    try:
        query = json.loads('"' + continuation + '"')
    except json.JSONDecodeError as error:
        raise ToolCallError(f"query is not a JSON string: {error.msg}") from error
    if re.search(r"[{}\[\]<>]", query):
        raise ToolCallError("query must be plain words, not JSON or markup")
    query = " ".join(query.split())[:200]
    if not query:
        raise ToolCallError("query must be a non-empty string")
    return query
