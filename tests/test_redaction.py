"""Redaction before storage: a table of what must survive (years, ranges, runtimes, prices, ids, titles) and what must go.

Both through `redact` and through a real SQLite store and every export format, since the `sft`
export is what fine-tuning reads: text eaten here is text the model is later taught.
"""

import csv
import json

import pytest

from chat.logs import EXPORT_FORMATS, LogStore, export_logs, redact

MUST_SURVIVE = [
    "Something from 1990-1999, please",
    "Something from 1990–1999, please",
    "anything between 1990 to 1999",
    "the 1990s, 1980s or '70s",
    "films from 1990 1995 2001 and 2010",
    "under 96 min",
    "a 96-minute thriller, 2 hours at most",
    "it costs $12.99 or £7.50 or 12.99 EUR",
    "IMDb id tt0111161",
    "item-1234-5678 and SKU 1234-5678",
    "2001: A Space Odyssey (1968)",
    "Ocean's 11 and Ocean's Eleven (2001)",
    "12 Angry Men, Apollo 13, Blade Runner 2049, Fahrenheit 451, 1917",
    "I watched it on 2024-01-31 and again on 31.01.2024",
    "ISBN 978-0-306-40615-7",
    "ISBN-10: 0-306-40615-2",
    "isbn 9780306406157",
    "rated 4.5 out of 5 by 1,234,567 people",
    "the year 2024-2025 season, 3-2 win, 10-15 minutes",
    "version 1.2.3 of the app, room 237",
    "between 19:30 and 21:45 on 12/25",
]

MUST_GO = [
    ("mail me at a.b@c.org please", "mail me at [email] please"),
    ("write to first.last+films@mail.example.co.uk.", "write to [email]."),
    ("call +1 415 555 0132 tonight", "call [phone] tonight"),
    ("call (415) 555-0132 tonight", "call [phone] tonight"),
    ("call 415-555-0132 tonight", "call [phone] tonight"),
    ("call 415.555.0132 tonight", "call [phone] tonight"),
    ("call 415 555 0132 tonight", "call [phone] tonight"),
    ("call 1-800-555-0199 tonight", "call [phone] tonight"),
    ("call +1 (555) 123-4567 tonight", "call [phone] tonight"),
    ("call +1-415-555-0132.", "call [phone]."),
    ("ring +44 20 7946 0958 tonight", "ring [phone] tonight"),
    ("ring +44 (0)20 7946 0958 tonight", "ring [phone] tonight"),
    ("ring 020 7946 0958 tonight", "ring [phone] tonight"),
    ("ring (020) 7946 0958 tonight", "ring [phone] tonight"),
    ("text 07700 900123 tonight", "text [phone] tonight"),
    ("text 07700900123 tonight", "text [phone] tonight"),
    ("appelle le 01 23 45 67 89 ce soir", "appelle le [phone] ce soir"),
    ("ruf +49 30 12345678 an", "ruf [phone] an"),
    ("my number is 4155550132", "my number is [phone]"),
    ("my number is 555-0132", "my number is [phone]"),
    ("call me on 555 0132 after 1999", "call me on [phone] after 1999"),
    ("+1 415 555 0132, films from 1990-1999", "[phone], films from 1990-1999"),
]


@pytest.mark.parametrize("text", MUST_SURVIVE)
def test_non_personal_numbers_survive(text):
    assert redact(text) == text


@pytest.mark.parametrize("text, redacted", MUST_GO)
def test_emails_and_phone_numbers_go(text, redacted):
    assert redact(text) == redacted


def test_every_export_keeps_the_year_range_and_drops_the_phone_number(tmp_path):
    store = LogStore(f"sqlite:///{tmp_path / 'log.db'}")
    store.ensure_session("s", "test", "m", "a", "0")
    store.append_turn(
        "s",
        1,
        "a comedy from 1990-1999, call me on 415-555-0132",
        "Here are three from 1990-1999 (96 min):",
        "recommend",
        shown=[{"id": "tt0111161", "title": "Ocean's 11", "year": 1960, "genres": [], "why": "x"}],
        explanations=[
            {
                "position": 1,
                "item_id": "tt0111161",
                "prefix": "1. Ocean's 11 (1960): ",
                "prompt": [{"role": "user", "content": "1990-1999, call me on 415-555-0132"}],
                "draft": "Call 415-555-0132 for more from 1990-1999.",
                "shown": "A heist (96 min).",
                "problems": ["states a year the card does not support"],
            }
        ],
    )
    turn = store.turns()[0]
    assert turn["user_text"] == "a comedy from 1990-1999, call me on [phone]"
    assert turn["reply"] == "Here are three from 1990-1999 (96 min):"
    for export_format in EXPORT_FORMATS:
        out = tmp_path / f"export.{export_format}"
        assert export_logs(store, export_format, out) == 1
        text = out.read_text(encoding="utf-8")
        assert "1990-1999" in text and "96 min" in text and "[phone]" in text, export_format  # pairs: the guard's
        assert "415" not in text and "0132" not in text, export_format
    (record,) = [json.loads(line) for line in (tmp_path / "export.sft").read_text().splitlines()]
    assert record["messages"][-1]["content"] == "Here are three from 1990-1999 (96 min):"
    (row,) = csv.DictReader((tmp_path / "export.csv").open(encoding="utf-8"))
    assert row["reply"] == "Here are three from 1990-1999 (96 min):"


def test_the_tool_call_and_state_are_redacted_too(tmp_path):
    store = LogStore(f"sqlite:///{tmp_path / 'log.db'}")
    store.ensure_session("s", "test", "m", "a", "0")
    call = {
        "text": '<tool_call>{"query": "comedy 1990-1999 415-555-0132"}</tool_call>',
        "valid": True,
        "model_output": 'comedy 1990-1999 415-555-0132"',
    }
    store.append_turn(
        "s",
        1,
        "hi",
        "ok",
        "recommend",
        tool_call=call,
        shown=[{"id": "tt0111161", "title": "Heat"}],
        state={"preferences": ["comedy a.b@c.org"], "year_min": 1990, "shown": ["tt0111161"]},
    )
    turn = store.turns()[0]
    assert turn["tool_call"] == {
        "text": '<tool_call>{"query": "comedy 1990-1999 [phone]"}</tool_call>',
        "valid": True,
        "model_output": 'comedy 1990-1999 [phone]"',
    }
    assert turn["state"] == {"preferences": ["comedy [email]"], "year_min": 1990, "shown": ["tt0111161"]}
    (record,) = [json.loads(line) for line in _export(store, "sft", tmp_path).splitlines()]
    assert record["tool_call"] == '<tool_call>{"query": "comedy 1990-1999 [phone]"}</tool_call>'


def _export(store, export_format, tmp_path):
    out = tmp_path / f"export.{export_format}"
    export_logs(store, export_format, out)
    return out.read_text(encoding="utf-8")
