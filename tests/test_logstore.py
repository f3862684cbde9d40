"""The log store against a real SQLite file: WAL, redaction, and no lost turns when the process is killed."""

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import text

from chat.logs import LogStore

ROOT = Path(__file__).resolve().parents[1]


def test_sqlite_store_uses_wal(tmp_path):
    store = LogStore(f"sqlite:///{tmp_path / 'l.db'}")
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_stored_text_is_redacted_unless_turned_off(tmp_path):
    store = LogStore(f"sqlite:///{tmp_path / 'l.db'}")
    store.ensure_session("s", "test", "m", "a", "0")
    store.append_turn("s", 1, "I am bob@example.com", "ok", "polite")
    assert store.turns()[0]["user_text"] == "I am [email]"
    plain = LogStore(f"sqlite:///{tmp_path / 'p.db'}", redact_personal_data=False)
    plain.ensure_session("s", "test", "m", "a", "0")
    plain.append_turn("s", 1, "I am bob@example.com", "ok", "polite")
    assert plain.turns()[0]["user_text"] == "I am bob@example.com"


def test_killed_process_loses_no_completed_turn(tmp_path):
    db = tmp_path / "killed.db"
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from chat.logs import LogStore
        store = LogStore("sqlite:///{db}")
        store.ensure_session("s1", "test", "m", "a", "0")
        for turn in range(1, 4):
            store.append_turn("s1", turn, f"message {{turn}}", "reply", "recommend", timings_ms={{"total": 1.0}})
        print("ready", flush=True)
        time.sleep(60)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    store = LogStore(f"sqlite:///{db}")
    assert [t["user_text"] for t in store.turns("s1")] == ["message 1", "message 2", "message 3"]
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
