"""`python -m chat.logs` against a real SQLite file: exports in each format and filter, stats, purge, errors."""

import csv
import datetime as dt
import json
import subprocess
import sys

import pytest
from conftest import ROOT
from sqlalchemy import update
from sqlalchemy.orm import Session

from chat.logs import main
from chat.logs.reports import feedback_by_turn, turn_label
from chat.logs.store import LogStore, SessionRow

NOW = dt.datetime.now(dt.UTC)
OLD = NOW - dt.timedelta(days=40)


def shown(*ids):
    return [
        {"id": item_id, "title": item_id.title(), "year": 1990, "genres": ["drama"], "why": "because"}
        for item_id in ids
    ]


def tool_call(query):
    return {
        "text": f'<tool_call>{{"name": "search_items", "arguments": {{"query": "{query}"}}}}</tool_call>',
        "valid": True,
    }


def add_session(store, session_id, started_at):
    store.ensure_session(session_id, "test", "model", "none", "0")
    with Session(store.engine) as db, db.begin():
        db.execute(update(SessionRow).where(SessionRow.id == session_id).values(started_at=started_at))


@pytest.fixture
def db(tmp_path):
    """Three conversations: an old liked one, a recent one (clarify, liked turn, disliked turn), a recent neutral one."""
    path = tmp_path / "conversations.db"
    store = LogStore(f"sqlite:///{path}")
    add_session(store, "old", OLD)
    t = store.append_turn(
        "old",
        1,
        "I loved Alien",
        "Try these",
        "recommend",
        shown=shown("a1"),
        tool_call=tool_call("alien"),
        timings_ms={"total": 100.0},
        created_at=OLD,
    )
    store.record_feedback("old", "like", "a1", t)

    add_session(store, "recent", NOW - dt.timedelta(hours=2))
    store.append_turn(
        "recent",
        1,
        "hi",
        "What do you like?",
        "clarify",
        timings_ms={"total": 10.0},
        created_at=NOW - dt.timedelta(hours=2),
    )
    t2 = store.append_turn(
        "recent",
        2,
        "a 90s comedy",
        "Here are three",
        "recommend",
        shown=shown("c1", "c2", "c3"),
        tool_call=tool_call("comedy"),
        timings_ms={"total": 300.0},
        created_at=NOW - dt.timedelta(hours=1),
    )
    store.record_feedback("recent", "like", "c2", t2)
    store.record_feedback("recent", "like", "", t2)
    t3 = store.append_turn(
        "recent",
        3,
        "something else",
        "How about these",
        "recommend",
        shown=shown("d1", "d2"),
        tool_call=tool_call("comedy else"),
        timings_ms={"total": 500.0},
        created_at=NOW - dt.timedelta(minutes=30),
    )
    store.record_feedback("recent", "like", "d2", t3)
    store.record_feedback("recent", "not_interested", "d1", t3)

    add_session(store, "neutral", NOW - dt.timedelta(minutes=10))
    store.append_turn(
        "neutral",
        1,
        "a western",
        "Saddle up",
        "recommend",
        shown=shown("w1"),
        tool_call=tool_call("western"),
        timings_ms={"total": 200.0},
        created_at=NOW - dt.timedelta(minutes=10),
    )
    store.engine.dispose()
    return path


def run(*argv):
    return main([str(arg) for arg in argv])


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_labels_from_feedback():
    assert turn_label({"m1": "like"}) == "positive"
    assert turn_label({"m1": "like", "": "dislike"}) == "negative"
    assert turn_label({"m2": "not_interested"}) == "negative"
    assert turn_label({}) == "neutral"


def test_item_feedback_without_a_turn_goes_to_the_latest_turn_that_showed_it():
    turns = [{"id": 1, "session_id": "s", "shown": shown("x")}, {"id": 2, "session_id": "s", "shown": shown("y")}]
    feedback = [
        {"id": 1, "session_id": "s", "turn_id": None, "item_id": "x", "kind": "dislike"},
        {"id": 2, "session_id": "s", "turn_id": None, "item_id": "", "kind": "like"},
    ]
    assert feedback_by_turn(turns, feedback) == {1: {"x": "dislike"}}


def test_sft_export_has_one_example_per_recommendation_turn_with_its_history(db, tmp_path, capsys):
    out = tmp_path / "out" / "sft.jsonl"
    assert run("export", "--db", f"sqlite:///{db}", "--format", "sft", "--out", out) == 0
    assert "wrote 4 sft records" in capsys.readouterr().out
    examples = {(e["session_id"], e["turn_index"]): e for e in read_jsonl(out)}
    assert set(examples) == {("old", 1), ("recent", 2), ("recent", 3), ("neutral", 1)}
    liked = examples[("recent", 2)]
    assert set(liked) == {"session_id", "turn_index", "messages", "shown", "tool_call", "feedback", "label"}
    assert liked["messages"] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "What do you like?"},
        {"role": "user", "content": "a 90s comedy"},
        {"role": "assistant", "content": "Here are three"},
    ]
    assert liked["shown"] == ["c1", "c2", "c3"]
    assert liked["tool_call"].startswith("<tool_call>") and '"comedy"' in liked["tool_call"]
    assert liked["feedback"] == {"c2": "like", "": "like"} and liked["label"] == "positive"
    mixed = examples[("recent", 3)]
    assert len(mixed["messages"]) == 6 and mixed["messages"][-1]["content"] == "How about these"
    assert mixed["feedback"] == {"d2": "like", "d1": "not_interested"} and mixed["label"] == "negative"
    assert examples[("neutral", 1)]["label"] == "neutral" and examples[("neutral", 1)]["feedback"] == {}


def test_only_positive_keeps_liked_turns_and_drops_ones_with_negative_feedback(db, tmp_path):
    out = tmp_path / "positive.jsonl"
    assert run("export", "--db", db, "--format", "sft", "--out", out, "--only-positive") == 0
    assert sorted((e["session_id"], e["turn_index"]) for e in read_jsonl(out)) == [("old", 1), ("recent", 2)]


def test_since_selects_recent_turns_and_keeps_their_history(db, tmp_path):
    since = (NOW - dt.timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M")
    out = tmp_path / "since.jsonl"
    assert run("export", "--db", db, "--format", "sft", "--out", out, "--since", since) == 0
    examples = read_jsonl(out)
    assert [(e["session_id"], e["turn_index"]) for e in examples] == [("recent", 3), ("neutral", 1)]
    assert len(examples[0]["messages"]) == 6
    day = (NOW - dt.timedelta(days=1)).date().isoformat()
    assert run("export", "--db", db, "--format", "jsonl", "--out", out, "--since", day) == 0
    assert {r["session_id"] for r in read_jsonl(out)} == {"recent", "neutral"}


def test_jsonl_has_every_turn_with_text_items_and_feedback(db, tmp_path):
    out = tmp_path / "turns.jsonl"
    assert run("export", "--db", db, "--format", "jsonl", "--out", out) == 0
    records = read_jsonl(out)
    assert len(records) == 5
    clarify = next(r for r in records if r["kind"] == "clarify")
    assert clarify["shown"] == [] and clarify["tool_call"] == "" and clarify["label"] == "neutral"
    turn = next(r for r in records if r["session_id"] == "recent" and r["turn_index"] == 2)
    assert turn["user_text"] == "a 90s comedy" and turn["reply"] == "Here are three"
    assert [s["id"] for s in turn["shown"]] == ["c1", "c2", "c3"] and turn["shown"][0]["title"] == "C1"
    assert turn["feedback"] == {"c2": "like", "": "like"} and turn["total_ms"] == 300.0
    assert dt.datetime.fromisoformat(turn["created_at"]).tzinfo is not None


def test_csv_has_one_row_per_turn(db, tmp_path):
    out = tmp_path / "turns.csv"
    assert run("export", "--db", db, "--format", "csv", "--out", out, "--only-positive") == 0
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["session_id"], r["turn_index"]) for r in rows] == [("old", "1"), ("recent", "2")]
    assert rows[1]["shown"] == "c1|c2|c3" and json.loads(rows[1]["feedback"]) == {"c2": "like", "": "like"}
    assert rows[1]["label"] == "positive" and rows[1]["user_text"] == "a 90s comedy"


def test_stats_report_counts_like_rate_top_items_and_latency(db, capsys):
    assert run("stats", "--db", db, "--json") == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["sessions"] == 3 and stats["turns"] == 5
    assert stats["turns_by_kind"] == {"recommend": 4, "clarify": 1}
    assert stats["feedback_by_kind"] == {"like": 4, "not_interested": 1}
    assert stats["like_rate"] == 0.8
    assert stats["liked_turn_rate"] == 0.75  # old 1, recent 2 and recent 3 had a like; neutral 1 did not
    assert stats["latency_ms"] == {"p50": 200.0, "p95": 460.0, "max": 500.0}
    assert len(stats["top_shown"]) == 7 and stats["top_shown"][0] == {"id": "a1", "title": "A1 (1990)", "count": 1}
    assert {row["id"] for row in stats["top_liked"]} == {"a1", "c2", "d2"}
    assert sum(day["turns"] for day in stats["turns_per_day"]) == 5
    assert run("stats", "--db", db) == 0
    text = capsys.readouterr().out
    assert "sessions          3" in text and "p50 200 ms, p95 460 ms" in text and "80% of feedback" in text


def test_purge_deletes_old_sessions_with_their_turns_and_feedback(db, capsys):
    assert run("purge", "--db", db, "--older-than", 30) == 0
    assert "deleted 1 sessions, 1 turns, 1 feedback events" in capsys.readouterr().out
    store = LogStore(f"sqlite:///{db}")
    assert store.counts() == {"sessions": 2, "turns": 4, "feedback": 4}
    assert {t["session_id"] for t in store.turns()} == {"recent", "neutral"}
    assert run("purge", "--db", db, "--older-than", 0) == 0
    assert store.counts() == {"sessions": 0, "turns": 0, "feedback": 0}


def test_a_missing_sqlite_file_is_an_error_and_is_not_created(tmp_path, capsys):
    missing = tmp_path / "typo.db"
    assert run("stats", "--db", missing) == 2
    assert "no log store" in capsys.readouterr().err and not missing.exists()


def test_bad_since_date_is_a_usage_error(db, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        run("export", "--db", db, "--format", "sft", "--out", tmp_path / "x", "--since", "last tuesday")
    assert exit_info.value.code == 2


def test_runs_as_a_module_with_help_for_each_command(db, tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "chat.logs", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0 and all(word in completed.stdout for word in ("export", "stats", "purge"))
    out = tmp_path / "m.jsonl"
    completed = subprocess.run(
        [sys.executable, "-m", "chat.logs", "export", "--db", str(db), "--format", "sft", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert len(read_jsonl(out)) == 4


def test_engine_conversation_exports_as_sft_examples(engine, log_store, tmp_path):
    """The rows the real engine writes (with fakes for the models) make sft examples with the engine's tool call."""
    session = engine.new_session()
    results = []
    for text in ["I loved Alien, a horror film but nothing gory", "something older"]:
        results.append([u.result for u in engine.respond(session, text)][-1])
    engine.feedback(session, "like", results[-1].items[0].item.id)
    out = tmp_path / "engine.jsonl"
    assert run("export", "--db", log_store.url, "--format", "sft", "--out", out, "--only-positive") == 0
    [example] = read_jsonl(out)
    assert example["session_id"] == session.id and example["turn_index"] == 2
    assert [m["role"] for m in example["messages"]] == ["user", "assistant"] * 2
    assert example["messages"][-1]["content"] == results[-1].reply
    assert example["shown"] == [s.item.id for s in results[-1].items]
    assert example["tool_call"] == results[-1].tool_call["text"]
    assert example["feedback"] == {results[-1].items[0].item.id: "like"}


def test_pairs_from_rejected_reasons_and_from_liked_against_disliked_replies(
    catalog, index, embedder, log_store, tmp_path
):
    """Two engines (an LLM explainer whose second reason the guard rejects, and templates) answer the same
    message; thumbs on the replies and the guard's rejection become pairs; replaying a conversation adds none."""
    from conftest import make_engine
    from fakes import ScriptedChatModel

    good, bad = (
        "a fine pick for tonight with a strong mood",
        "Just like Psycho, a tense and gripping story for tonight.",
    )
    results = {}
    for name, thumb in (("llm", "dislike"), ("template", "like"), ("llm again", "dislike")):
        llm = None if name == "template" else ScriptedChatModel(['funny films"', good, bad, good])
        engine = make_engine(catalog, index, embedder, llm, log_store)
        session = engine.new_session()
        results[name] = [u.result for u in engine.respond(session, "a comedy please")][-1]
        engine.feedback(session, thumb)
    out = tmp_path / "pairs.jsonl"
    assert run("export", "--db", log_store.url, "--format", "pairs", "--out", out) == 0
    pairs = read_jsonl(out)
    assert sorted(p["kind"] for p in pairs) == ["guard", "guard", "reply"]  # items 2 (another film) and 3 (a repeat)
    guard, repeat = (p for p in pairs if p["kind"] == "guard")
    second, third = results["llm"].items[1:]
    assert guard["item_id"] == second.item.id and guard["rejected"] == bad and guard["chosen"] == second.why
    assert guard["prefix"].endswith(f"2. **{second.item.label}**: ") and "not shown" in guard["note"]
    assert guard["prompt"][-1]["role"] == "user" and "Films:" in guard["prompt"][-1]["content"]
    assert repeat["item_id"] == third.item.id and repeat["rejected"] == good and repeat["chosen"] == third.why
    reply = next(p for p in pairs if p["kind"] == "reply")
    assert reply["prompt"] == [{"role": "user", "content": "a comedy please"}] and reply["prefix"] == ""
    assert reply["chosen"] == results["template"].reply and reply["rejected"] == results["llm"].reply


def test_only_positive_is_refused_for_pairs(db, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        run("export", "--db", f"sqlite:///{db}", "--format", "pairs", "--out", tmp_path / "p.jsonl", "--only-positive")
    assert exit_info.value.code == 2
