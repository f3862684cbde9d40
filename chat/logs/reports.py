"""Views of the conversation log for people and for training: export records and usage stats, built from the store's rows.

Used by `python -m chat.logs` and by the app's Logs tab. The functions that take rows are pure;
`export_logs` and `log_stats` only add the reading from a `LogStore`.

Export formats (`sft` and `jsonl` are JSON Lines, one object per line, UTF-8):

sft: one object per turn that showed recommendations. `finetune.build_data --source logs`
reads exactly this, so change it only together with that reader:

    {"session_id": "3f2a...", "turn_index": 2,
     "messages": [{"role": "user", "content": "I loved Alien"},
                  {"role": "assistant", "content": "Here are three ..."},
                  {"role": "user", "content": "something older"},
                  {"role": "assistant", "content": "Going further back ..."}],
     "shown": ["the-thing-1982", "psycho-1960", "the-shining-1980"],
     "tool_call": "<tool_call>{\"name\": \"search_items\", ...}</tool_call>",
     "feedback": {"psycho-1960": "like", "": "dislike"},
     "label": "negative"}

- messages: the conversation up to and including this turn, oldest first, user and assistant
  alternating; the last one is this turn's reply. Text is as stored (redacted when redaction is on).
- shown: the ids of the items the reply recommended, in order.
- tool_call: the search call as `chat.tools.render_call` wrote it for this turn; "" when none.
- feedback: item id -> the latest feedback on it for this turn; the key "" is feedback on the
  whole reply. Kinds: like, dislike, not_interested.
- label: "negative" when any feedback is dislike or not_interested; "positive" when there is a
  like and nothing negative; "neutral" without feedback.

jsonl: one object per turn of any kind: session_id, turn_index, created_at (ISO 8601, UTC),
kind, user_text, reply, shown ([{"id", "title", "year", "genres", "why"}]), tool_call (str),
feedback, label (both as above), total_ms.

csv: the jsonl fields, one row per turn, with a header; shown as item ids joined by "|",
feedback as a JSON object.

pairs: preference pairs for DPO (`finetune.train --method dpo` reads exactly this), one object
per line, each distinct pair once:

    {"kind": "guard", "session_id": "3f2a...", "turn_index": 2, "item_id": "psycho-1960",
     "prompt": [{"role": "system", "content": "..."}, {"role": "user", "content": "Request: ..."}],
     "prefix": "1. **Psycho (1960)**: ",
     "chosen": "A 1960 horror film by Alfred Hitchcock.",
     "rejected": "A chilling tale in the vein of The Thing.",
     "note": "names another film: The Thing"}

- prompt, prefix: the chat messages the model was given and the start of the assistant's text
  it continued; the model's output is `chosen` or `rejected`, continuing `prefix`.
- kind "guard": for one item of a turn, the reason the LLM wrote and the guard rejected
  (rejected) against the one shown in its place (chosen); note: the guard's problems.
- kind "reply": two replies to the same conversation so far (the same earlier turns and the
  same message), one with a thumbs up on the reply (chosen), one with a thumbs down (rejected);
  prompt is that conversation, prefix is "", item_id is "", note names the other session. Two
  replies differ for the same conversation when they come from different models or settings.

Filters: `since` keeps turns created at or after that moment (an sft example's messages still
hold its conversation's earlier turns); `only_positive` keeps turns labelled positive (pairs,
which hold a chosen and a rejected text each, ignore it; the command line refuses the two together).

Feedback belongs to the turn the engine recorded with it (the latest logged turn when it was
given). Item feedback stored without a turn goes to the latest turn of its session that showed
the item; reply feedback without a turn is left out.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from chat.logs.store import LogStore, as_utc

EXPORT_FORMATS = ("sft", "jsonl", "csv", "pairs")
NEGATIVE_FEEDBACK = frozenset({"dislike", "not_interested"})
CSV_FIELDS = (
    "session_id",
    "turn_index",
    "created_at",
    "kind",
    "user_text",
    "reply",
    "shown",
    "tool_call",
    "feedback",
    "label",
    "total_ms",
)
STATS_TURN_COLUMNS = ("id", "session_id", "created_at", "kind", "shown", "total_ms")


# ----- feedback and labels -------------------------------------------------------------------


def turn_label(feedback: Mapping[str, str]) -> str:
    """The training label of a turn from its feedback.

    Examples: {"m1": "like"} -> "positive"; {"m1": "like", "": "dislike"} -> "negative";
              {"m2": "not_interested"} -> "negative"; {} -> "neutral"
    """
    kinds = set(feedback.values())
    if kinds & NEGATIVE_FEEDBACK:
        return "negative"
    return "positive" if "like" in kinds else "neutral"


def shown_ids(turn: Mapping) -> list[str]:
    return [entry["id"] for entry in turn.get("shown") or []]


def feedback_by_turn(turns: Sequence[Mapping], feedback: Iterable[Mapping]) -> dict[int, dict[str, str]]:
    """turn id -> {item id or "": kind}, the latest event per key winning (see the module docstring)."""
    known = {turn["id"] for turn in turns}
    showing: dict[tuple[str, str], int] = {}  # (session, item) -> latest turn that showed it
    for turn in turns:
        for item_id in shown_ids(turn):
            showing[(turn["session_id"], item_id)] = max(turn["id"], showing.get((turn["session_id"], item_id), -1))
    attributed: dict[int, dict[str, str]] = {}
    for event in sorted(feedback, key=lambda row: row["id"]):
        turn_id = event["turn_id"] if event["turn_id"] in known else None
        if turn_id is None and event["item_id"]:
            turn_id = showing.get((event["session_id"], event["item_id"]))
        if turn_id is not None:
            attributed.setdefault(turn_id, {})[event["item_id"]] = event["kind"]
    return attributed


# ----- export --------------------------------------------------------------------------------


def _tool_call_text(turn: Mapping) -> str:
    call = turn.get("tool_call")
    return call.get("text", "") if isinstance(call, dict) else ""


def _iso(moment: dt.datetime | None) -> str:
    return as_utc(moment).isoformat() if moment is not None else ""


def turn_record(turn: Mapping, feedback: Mapping[str, str]) -> dict:
    """The jsonl record of one turn (see the module docstring)."""
    return {
        "session_id": turn["session_id"],
        "turn_index": turn["turn_index"],
        "created_at": _iso(turn.get("created_at")),
        "kind": turn["kind"],
        "user_text": turn["user_text"],
        "reply": turn["reply"],
        "shown": list(turn.get("shown") or []),
        "tool_call": _tool_call_text(turn),
        "feedback": dict(feedback),
        "label": turn_label(feedback),
        "total_ms": float(turn.get("total_ms") or 0.0),
    }


def conversation_turns(turns: Sequence[Mapping]) -> Iterator[tuple[Mapping, list[dict]]]:
    """Each turn with the conversation up to and including its message (user and assistant messages, oldest
    first, the last one this turn's user message), session by session in the order sessions were first seen."""
    conversations: dict[str, list[Mapping]] = {}
    for turn in turns:
        conversations.setdefault(turn["session_id"], []).append(turn)
    for session_turns in conversations.values():
        earlier: list[dict] = []
        for turn in sorted(session_turns, key=lambda t: (t["turn_index"], t["id"])):
            asked = earlier + [{"role": "user", "content": turn["user_text"]}]
            yield turn, asked
            earlier = asked + [{"role": "assistant", "content": turn["reply"]}]


def sft_examples(turns: Sequence[Mapping], feedback: Iterable[Mapping], selected: set[int] | None = None) -> list[dict]:
    """One sft example per turn that showed items (and whose id is in `selected`, when given)."""
    by_turn = feedback_by_turn(turns, feedback)
    examples = []
    for turn, asked in conversation_turns(turns):
        ids = shown_ids(turn)
        if not ids or (selected is not None and turn["id"] not in selected):
            continue
        turn_feedback = by_turn.get(turn["id"], {})
        examples.append(
            {
                "session_id": turn["session_id"],
                "turn_index": turn["turn_index"],
                "messages": asked + [{"role": "assistant", "content": turn["reply"]}],
                "shown": ids,
                "tool_call": _tool_call_text(turn),
                "feedback": dict(turn_feedback),
                "label": turn_label(turn_feedback),
            }
        )
    return examples


def guard_pairs(
    turns: Sequence[Mapping], explanations: Iterable[Mapping], selected: set[int] | None = None
) -> list[dict]:
    """A pair for each LLM reason the guard rejected: the text shown in its place is chosen, the draft rejected."""
    turn_index = {turn["id"]: turn["turn_index"] for turn in turns}
    pairs = []
    for row in explanations:
        if row["turn_id"] not in turn_index or (selected is not None and row["turn_id"] not in selected):
            continue
        if row["problems"] and row["draft"].strip() and row["shown"].strip() and row["draft"] != row["shown"]:
            pairs.append(
                {
                    "kind": "guard",
                    "session_id": row["session_id"],
                    "turn_index": turn_index[row["turn_id"]],
                    "item_id": row["item_id"],
                    "prompt": row["prompt"],
                    "prefix": row["prefix"],
                    "chosen": row["shown"],
                    "rejected": row["draft"],
                    "note": "; ".join(row["problems"]),
                }
            )
    return pairs


def reply_pairs(turns: Sequence[Mapping], feedback: Iterable[Mapping], selected: set[int] | None = None) -> list[dict]:
    """A pair for each liked and disliked reply (thumbs on the whole reply) to the same conversation so far."""
    by_turn = feedback_by_turn(turns, feedback)
    rated: dict[str, dict[str, list[tuple[Mapping, list[dict]]]]] = {}  # conversation -> like/dislike -> turns
    for turn, asked in conversation_turns(turns):
        thumb = by_turn.get(turn["id"], {}).get("")
        if thumb in ("like", "dislike") and (selected is None or turn["id"] in selected):
            key = json.dumps(asked, ensure_ascii=False, sort_keys=True)
            rated.setdefault(key, {}).setdefault(thumb, []).append((turn, asked))
    pairs = []
    for thumbs in rated.values():
        for liked, asked in thumbs.get("like", []):
            for disliked, _ in thumbs.get("dislike", []):
                if liked["reply"] != disliked["reply"]:
                    pairs.append(
                        {
                            "kind": "reply",
                            "session_id": liked["session_id"],
                            "turn_index": liked["turn_index"],
                            "item_id": "",
                            "prompt": asked,
                            "prefix": "",
                            "chosen": liked["reply"],
                            "rejected": disliked["reply"],
                            "note": f"rejected reply from session {disliked['session_id']}",
                        }
                    )
    return pairs


def distinct_pairs(pairs: Iterable[dict]) -> list[dict]:
    """Each (prompt, prefix, chosen, rejected) once, the first seen kept: replayed conversations repeat pairs."""
    seen: set[str] = set()
    kept = []
    for pair in pairs:
        key = json.dumps([pair["prompt"], pair["prefix"], pair["chosen"], pair["rejected"]], ensure_ascii=False)
        if key not in seen:
            seen.add(key)
            kept.append(pair)
    return kept


def export_records(
    turns: Sequence[Mapping],
    feedback: Sequence[Mapping],
    export_format: str,
    since: dt.datetime | None = None,
    only_positive: bool = False,
    explanations: Sequence[Mapping] = (),
) -> list[dict]:
    """The records of an export; `turns` must hold whole conversations (the history and the feedback need them)."""
    if export_format not in EXPORT_FORMATS:
        raise ValueError(f"format: must be one of {', '.join(EXPORT_FORMATS)}, got {export_format!r}")
    selected = {turn["id"] for turn in turns if since is None or as_utc(turn["created_at"]) >= as_utc(since)}
    if export_format == "pairs":
        return distinct_pairs([*guard_pairs(turns, explanations, selected), *reply_pairs(turns, feedback, selected)])
    if export_format == "sft":
        records = sft_examples(turns, feedback, selected)
    else:
        by_turn = feedback_by_turn(turns, feedback)
        records = [turn_record(turn, by_turn.get(turn["id"], {})) for turn in turns if turn["id"] in selected]
    return [record for record in records if not only_positive or record["label"] == "positive"]


def write_export(records: Sequence[Mapping], export_format: str, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        if export_format == "csv":
            writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
            writer.writeheader()
            for record in records:
                writer.writerow(
                    {
                        **record,
                        "shown": "|".join(entry["id"] for entry in record["shown"]),
                        "feedback": json.dumps(record["feedback"], ensure_ascii=False),
                    }
                )
        else:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def export_logs(
    store: LogStore, export_format: str, out: Path, since: dt.datetime | None = None, only_positive: bool = False
) -> int:
    """Write an export of the store to `out`; returns how many records it holds."""
    turns = store.turns(since=since, whole_sessions=True)
    feedback = store.feedback(since=since)
    explanations = store.explanations(since=since) if export_format == "pairs" else []
    records = export_records(turns, feedback, export_format, since, only_positive, explanations)
    write_export(records, export_format, out)
    return len(records)


# ----- stats ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogStats:
    sessions: int
    turns: int
    turns_by_kind: dict[str, int]
    feedback_by_kind: dict[str, int]
    like_rate: float | None  # likes / all feedback events; None without feedback
    liked_turn_rate: float | None  # recommendation turns with a like / recommendation turns
    latency_ms: dict[str, float]  # p50, p95, max of turns.total_ms; empty without turns
    top_shown: list[dict]  # [{"id", "title", "count"}], most shown first
    top_liked: list[dict]  # same shape, counting likes
    turns_per_day: list[dict]  # [{"day": "YYYY-MM-DD", "turns": n}], oldest first

    def as_json(self) -> dict:
        return asdict(self)


def _top(counter: Counter, titles: Mapping[str, str], n: int) -> list[dict]:
    return [
        {"id": item_id, "title": titles.get(item_id, item_id), "count": count}
        for item_id, count in sorted(counter.items(), key=lambda pair: (-pair[1], pair[0]))[:n]
    ]


def compute_stats(sessions: int, turns: Sequence[Mapping], feedback: Sequence[Mapping], top_n: int = 10) -> LogStats:
    """Stats from turn rows (at least STATS_TURN_COLUMNS) and feedback rows."""
    titles: dict[str, str] = {}
    shown: Counter = Counter()
    for turn in turns:
        for entry in turn.get("shown") or []:
            shown[entry["id"]] += 1
            year = f" ({entry['year']})" if entry.get("year") else ""
            titles[entry["id"]] = f"{entry.get('title', entry['id'])}{year}"
    feedback_kinds = Counter(event["kind"] for event in feedback)
    liked = Counter(event["item_id"] for event in feedback if event["kind"] == "like" and event["item_id"])
    recommending = [turn["id"] for turn in turns if turn.get("shown")]
    by_turn = feedback_by_turn(turns, feedback)
    with_like = sum(1 for turn_id in recommending if "like" in by_turn.get(turn_id, {}).values())
    latencies = np.array([float(turn["total_ms"] or 0.0) for turn in turns])
    latency = (
        {
            "p50": round(float(np.percentile(latencies, 50)), 1),
            "p95": round(float(np.percentile(latencies, 95)), 1),
            "max": round(float(latencies.max()), 1),
        }
        if len(latencies)
        else {}
    )
    days = Counter(as_utc(turn["created_at"]).date().isoformat() for turn in turns if turn.get("created_at"))
    total_feedback = sum(feedback_kinds.values())
    return LogStats(
        sessions=sessions,
        turns=len(turns),
        turns_by_kind=dict(Counter(turn["kind"] for turn in turns).most_common()),
        feedback_by_kind=dict(feedback_kinds.most_common()),
        like_rate=round(feedback_kinds["like"] / total_feedback, 4) if total_feedback else None,
        liked_turn_rate=round(with_like / len(recommending), 4) if recommending else None,
        latency_ms=latency,
        top_shown=_top(shown, titles, top_n),
        top_liked=_top(liked, titles, top_n),
        turns_per_day=[{"day": day, "turns": days[day]} for day in sorted(days)],
    )


def log_stats(store: LogStore, top_n: int = 10) -> LogStats:
    """Stats over the whole store, reading only the columns they need."""
    return compute_stats(store.counts()["sessions"], store.turns(columns=STATS_TURN_COLUMNS), store.feedback(), top_n)


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.0%}"


def stats_text(stats: LogStats) -> str:
    """A plain-text report for a terminal."""
    latency = stats.latency_ms
    lines = [
        f"sessions          {stats.sessions}",
        f"turns             {stats.turns}  ({', '.join(f'{k} {v}' for k, v in stats.turns_by_kind.items()) or 'none'})",
        f"feedback          {', '.join(f'{k} {v}' for k, v in stats.feedback_by_kind.items()) or 'none'}",
        "like rate         "
        + (
            f"{_percent(stats.like_rate)} of feedback events are likes"
            if stats.like_rate is not None
            else "n/a (no feedback)"
        ),
        "liked turns       "
        + (
            f"{_percent(stats.liked_turn_rate)} of recommendation turns got a like"
            if stats.liked_turn_rate is not None
            else "n/a (no recommendation turns)"
        ),
        (
            "latency (total)   "
            + (
                f"p50 {latency['p50']:.0f} ms, p95 {latency['p95']:.0f} ms, max {latency['max']:.0f} ms"
                if latency
                else "n/a"
            )
        ),
    ]
    for heading, rows in (("top shown", stats.top_shown), ("top liked", stats.top_liked)):
        lines.append(f"{heading}:" + ("" if rows else " none"))
        lines += [f"  {row['count']:>5}  {row['title']}  [{row['id']}]" for row in rows]
    return "\n".join(lines)


def stats_markdown(stats: LogStats) -> str:
    """The headline figures as Markdown for the app's Logs tab (the tops go to charts there)."""
    latency = stats.latency_ms
    latency_text = f"p50 {latency['p50']:.0f} ms · p95 {latency['p95']:.0f} ms" if latency else "n/a"
    feedback = ", ".join(f"{k} {v}" for k, v in stats.feedback_by_kind.items()) or "none"
    return (
        f"| sessions | turns | like rate | liked turns | turn latency |\n"
        f"| --- | --- | --- | --- | --- |\n"
        f"| {stats.sessions} | {stats.turns} | {_percent(stats.like_rate)} | {_percent(stats.liked_turn_rate)} | {latency_text} |\n\n"
        f"Feedback events: {feedback}. Like rate: share of feedback events that are likes; "
        f"liked turns: share of recommendation turns with at least one like."
    )
