"""Retrying a turn (or editing its message) undoes it: the session is as it was before it, the logged turn is kept but
marked retried, its replacement takes its turn index, and a store made before the mark existed gets it when opened."""

import sqlite3

from chat.logs import LogStore


def run(engine, session, message):
    return [update.result for update in engine.respond(session, message)][-1]


def test_a_retried_turn_is_replaced_in_the_state_and_the_log(engine, log_store):
    session = engine.new_session()
    run(engine, session, "I loved Alien, something scary")
    after_first = session.state
    first_id = session.last_turn_id
    run(engine, session, "a comedy from the 90s")
    assert session.state != after_first

    assert engine.rewind(session)
    assert session.state == after_first and session.turn_index == 1 and session.last_turn_id == first_id
    assert not engine.rewind(session)  # only the latest turn
    retried = run(engine, session, "a western")
    assert "comedy" not in session.state.wanted("genres") and "western" in session.state.wanted("genres")

    kept = log_store.turns(session_id=session.id)
    assert [t["user_text"] for t in kept] == ["I loved Alien, something scary", "a western"]
    assert [t["turn_index"] for t in kept] == [1, 2] and kept[-1]["id"] == retried.turn_id
    everything = log_store.turns(session_id=session.id, include_retried=True)
    assert [(t["user_text"], t["retried"]) for t in everything] == [
        ("I loved Alien, something scary", False),
        ("a comedy from the 90s", True),
        ("a western", False),
    ]


def test_a_new_session_or_a_seeded_history_has_nothing_to_retry(engine):
    assert not engine.rewind(engine.new_session())


def test_a_store_made_before_retries_were_marked_gets_the_column(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:  # the turns table as it was before `retried`
        connection.executescript("""
            create table sessions (id varchar(64) primary key, started_at datetime, client varchar(32),
                model_id varchar(300), adapter_id varchar(300), app_version varchar(32));
            create table turns (id integer primary key autoincrement, session_id varchar(64) references sessions(id),
                turn_index integer, created_at datetime, user_text text, reply text, kind varchar(32), tool_call json,
                candidates json, shown json, guard json, state json, timings_ms json, total_ms float, error text);
            insert into sessions values ('s1', '2026-01-01 00:00:00', 'engine', 'm', 'a', '0.1');
            insert into turns (session_id, turn_index, created_at, user_text, reply, kind, candidates, shown, guard,
                state, timings_ms, total_ms, error)
                values ('s1', 0, '2026-01-01 00:00:00', 'hi', 'hello', 'small_talk', '[]', '[]', '[]', '{}', '{}', 1, '');
        """)
    store = LogStore(f"sqlite:///{path}")
    assert [(t["user_text"], t["retried"]) for t in store.turns()] == [("hi", False)]
    turn = store.append_turn("s1", 1, "a comedy", "try these", "recommend")
    store.mark_retried(turn)
    assert [t["user_text"] for t in store.turns()] == ["hi"]
    assert len(LogStore(f"sqlite:///{path}").turns(include_retried=True)) == 2  # opening it again changes nothing
