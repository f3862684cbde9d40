"""The "under the hood" view, for a person: a turn's search call, top candidates with each signal, guard notes, timings.

Markdown, every catalogue or model text escaped (`chat.markdown_text`). The app shows it only when the settings ask
for it or to a signed-in admin.
"""

from __future__ import annotations

import json

from chat.engine import TurnResult
from chat.markdown_text import markdown_text
from chat.tools import TOOL_NAME, ToolCallError, parse_call
from retrieval.catalog import Catalog

SIGNAL_HEADINGS = {
    "semantic": "text match",
    "collaborative": "people who liked the same",
    "popularity": "popularity",
    "fused": "fused rank",
    "liked": "like the liked",
    "disliked": "like the disliked",
    "llm_yes": "LLM yes",
}
TIMING_HEADINGS = {
    "understand": "read the message",
    "plan": "plan the search",
    "search": "search and rank",
    "llm_rerank": "LLM rerank",
    "first_token": "first words shown",
    "explain": "write the reasons",
    "total": "whole turn",
}


def _number(value: object) -> str:
    """Example: 0.123456 -> "0.123"; 3 -> "3"; None -> "" """
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)


def readable_call(text: str) -> str:
    """A logged tool call as a function call, for a code span.

    Example: '<tool_call>{"name": "search_items", "arguments": {"query": "space", "year_min": 1970}}</tool_call>'
             -> 'search_items(query="space", year_min=1970)'
    """
    try:
        arguments = parse_call(text).arguments()
    except ToolCallError:
        return text.replace("`", "'")
    shown = ", ".join(f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in arguments.items())
    return f"{TOOL_NAME}({shown})".replace("`", "'")


def candidates_table(candidates: list[dict], catalog: Catalog, shown: set[str], rows: int = 10) -> str:
    """The top candidates as a Markdown table: rank, title, the ranker's score and each signal, shown ones marked."""
    signals = list(dict.fromkeys(key for row in candidates[:rows] for key in row if key not in ("id", "score")))
    head = ["#", "title", "score", *(SIGNAL_HEADINGS.get(name, name) for name in signals)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for rank, row in enumerate(candidates[:rows], start=1):
        item_id = str(row.get("id", ""))
        title = catalog[item_id].label if item_id in catalog else item_id
        mark = " (shown)" if item_id in shown else ""
        cells = [
            str(rank),
            markdown_text(title) + mark,
            _number(row.get("score")),
            *(_number(row.get(s)) for s in signals),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def turn_report(result: TurnResult | None, catalog: Catalog) -> str:
    """What happened in a turn, for a person to read. Empty before the turn has finished."""
    if result is None:
        return ""
    parts = [f"**Kind of reply:** {markdown_text(result.kind)}"]
    if result.tool_call:
        call = result.tool_call
        validity = {
            True: "written by the LLM",
            False: "repaired from the conversation",
            None: "built from the conversation",
        }
        parts.append(
            f"**Search call** ({validity.get(call.get('valid'))}):\n\n`{readable_call(str(call.get('text', '')))}`"
        )
        if call.get("model_output"):
            parts.append(f"LLM wrote: {markdown_text(str(call['model_output']))}")
    if result.candidates:
        shown = {shown_item.item.id for shown_item in result.items}
        parts.append(
            f"**Top candidates** of {len(result.candidates)} kept:\n\n"
            + candidates_table(result.candidates, catalog, shown)
        )
    notes = "\n".join(f"- {markdown_text(note)}" for note in result.guard_notes)
    parts.append(f"**Guard notes:**\n\n{notes}" if notes else "**Guard notes:** none")
    timings = " · ".join(
        f"{TIMING_HEADINGS.get(name, markdown_text(name))} {ms:.0f} ms" for name, ms in result.timings_ms.items()
    )
    parts.append(f"**Timings:** {timings}")
    if result.error:
        parts.append(f"**Error:** {markdown_text(result.error)}")
    return "\n\n".join(parts)
