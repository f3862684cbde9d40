"""One contract for the log store, run against every database it supports: a SQLite file and a real PostgreSQL server.

The PostgreSQL server is a throwaway cluster started by the fixture (Debian's postgresql,
installed by `make test-deps`) on a Unix socket, so nothing listens on the network.
"""

import datetime as dt
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading

import pytest

from chat.logs import LogStore


def _as_postgres_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres_url():
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not binaries:
        pytest.skip("PostgreSQL server binaries are installed by `make test-deps`")
    bin_dir = os.path.dirname(binaries[-1])
    root = tempfile.mkdtemp(prefix="logstore-pg-")
    os.chmod(root, 0o777)
    data, sockets = os.path.join(root, "data"), os.path.join(root, "sockets")
    os.makedirs(sockets, mode=0o777)
    os.chmod(sockets, 0o777)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    with socket.socket() as probe:  # a free port number names the socket file
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subprocess.run(
        _as_postgres_user([f"{bin_dir}/initdb", "-D", data, "-U", "postgres", "--auth=trust"]),
        check=True,
        capture_output=True,
    )
    options = f"-k {sockets} -p {port} -c listen_addresses=''"
    subprocess.run(
        _as_postgres_user(
            [f"{bin_dir}/pg_ctl", "-D", data, "-o", options, "-w", "-l", os.path.join(root, "log"), "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={sockets}&port={port}"
    finally:
        subprocess.run(
            _as_postgres_user([f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop"]), capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return LogStore(f"sqlite:///{tmp_path / 'logs.db'}")
    url = request.getfixturevalue("postgres_url")
    store = LogStore(url)
    store.delete_sessions([row["session_id"] for row in store.turns()] + ["s1", "s2"])
    return store


def test_turns_and_feedback_round_trip(store):
    store.ensure_session("s1", "test", "model", "adapter", "1.0")
    store.ensure_session("s1", "test", "model", "adapter", "1.0")  # seen twice, stored once
    first = store.append_turn(
        "s1",
        1,
        "a horror film, mail me at x@y.org",
        "Here are 3 picks",
        "recommend",
        tool_call={"text": "<tool_call>...</tool_call>", "valid": True},
        shown=[{"id": "alien-1979"}],
        timings_ms={"total": 12.5},
    )
    store.record_feedback("s1", "dislike", "alien-1979", first)
    turns = store.turns("s1")
    assert [t["user_text"] for t in turns] == ["a horror film, mail me at [email]"]
    assert turns[0]["tool_call"]["valid"] is True and turns[0]["total_ms"] == 12.5
    assert [(f["item_id"], f["kind"], f["turn_id"]) for f in store.feedback("s1")] == [("alien-1979", "dislike", first)]
    assert store.counts() == {"sessions": 1, "turns": 1, "feedback": 1}


def test_purge_removes_old_sessions_with_their_rows(store):
    store.ensure_session("s1", "test", "m", "a", "1")
    store.append_turn("s1", 1, "hi", "hello", "clarify")
    store.record_feedback("s1", "like")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    counts = store.purge_older_than(5, now=later)
    assert (counts.sessions, counts.turns, counts.feedback) == (1, 1, 1)
    assert store.counts() == {"sessions": 0, "turns": 0, "feedback": 0}


def test_concurrent_writers_lose_no_turn(store):
    for session in ("s1", "s2"):
        store.ensure_session(session, "test", "m", "a", "1")

    def write(session: str) -> None:
        for turn in range(1, 26):
            store.append_turn(session, turn, f"message {turn}", "reply", "recommend")

    writers = [threading.Thread(target=write, args=(s,)) for s in ("s1", "s2")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    for session in ("s1", "s2"):
        assert [t["turn_index"] for t in store.turns(session)] == list(range(1, 26))


def test_explanations_are_stored_with_their_turn_and_purged_with_it(store):
    store.ensure_session("s1", "test", "m", "a", "1")
    prompt = [{"role": "user", "content": "Request: horror, call me on +1 415 555 0132"}]
    turn = store.append_turn(
        "s1",
        1,
        "horror",
        "Here are 2 picks",
        "recommend",
        explanations=[
            {
                "position": 1,
                "item_id": "alien-1979",
                "prompt": prompt,
                "prefix": "1. **Alien (1979)**: ",
                "draft": "Like The Thing.",
                "shown": "A 1979 horror film.",
                "problems": ["names another film"],
            },
            {
                "position": 2,
                "item_id": "heat-1995",
                "prompt": prompt,
                "prefix": "2. **Heat (1995)**: ",
                "draft": "A tense crime film.",
                "shown": "A tense crime film.",
                "problems": [],
            },
        ],
    )
    rows = store.explanations("s1")
    assert [(r["turn_id"], r["position"], r["item_id"], r["problems"]) for r in rows] == [
        (turn, 1, "alien-1979", ["names another film"]),
        (turn, 2, "heat-1995", []),
    ]
    assert rows[0]["prompt"][0]["content"] == "Request: horror, call me on [phone]"  # redacted like the turn
    assert rows[0]["draft"] == "Like The Thing." and rows[0]["shown"] == "A 1979 horror film."
    store.delete_sessions(["s1"])
    assert store.explanations("s1") == [] and store.counts()["turns"] == 0


def test_a_store_made_before_explanations_gains_them_on_open(tmp_path):
    from sqlalchemy import create_engine, inspect

    from chat.logs.store import FeedbackRow, SessionRow, TurnRow

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_engine(url)
    for table in (SessionRow, TurnRow, FeedbackRow):
        table.__table__.create(old)
    old.dispose()
    store = LogStore(url)
    assert "explanations" in inspect(store.engine).get_table_names()
    store.ensure_session("s1", "test", "m", "a", "1")
    store.append_turn(
        "s1",
        1,
        "horror",
        "picks",
        "recommend",
        explanations=[
            {"position": 1, "item_id": "x", "prompt": [], "prefix": "", "draft": "d", "shown": "s", "problems": ["p"]}
        ],
    )
    assert len(store.explanations()) == 1
