"""Headless CLI: `python -m chat --jsonl` reads one user message per line and writes one JSON object per turn.

All lines on stdin are one conversation. Each output line is
{"reply": str, "items": [{"id", "title", "year", "genres", "why"}], "timings_ms": {"total": float, ...}}.
Logs go to stderr, so stdout stays machine-readable.

`--history FILE` seeds the conversation with a watch history (Letterboxd or IMDb export, or a
CSV/TSV with title, year, rating, date: see `chat.history`) before the first message. The first
output line is then the history's, with what it matched and what it did not:
{"reply": str, "items": [], "timings_ms": {...}, "history": {"matched": [{"id", "title", "year"}],
"unmatched": [{"line", "title", "year"}]}}. A file that cannot be read exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from chat.assemble import STARTUP_ERRORS, build_engine
from chat.engine import ChatEngine, ChatSession
from chat.history import HistoryError, match_history, read_history
from chat.settings import add_arguments, load_settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m chat",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--jsonl", action="store_true", required=True, help="read messages from stdin, write JSON lines"
    )
    parser.add_argument("--verbose", action="store_true", help="debug logging on stderr")
    parser.add_argument(
        "--history",
        type=Path,
        help="watch history to start from: Letterboxd or IMDb export, or a "
        "CSV/TSV with title, year, rating, date columns",
    )
    add_arguments(parser, ui=False)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings(args)
        engine = build_engine(settings, progress=False)
    except STARTUP_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    session = engine.new_session()
    if args.history is not None:
        try:
            write_line(seed_history(engine, session, args.history))
        except HistoryError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    for line in sys.stdin:
        message = line.rstrip("\n")
        result = None
        for update in engine.respond(session, message):
            result = update.result
        write_line(result.as_json())
    return 0


def seed_history(engine: ChatEngine, session: ChatSession, path: Path) -> dict:
    """Seeds the session with the history file's matched titles; the output line saying what matched and what did not."""
    history = match_history(read_history(path), engine.catalog.items)
    result = engine.seed_history(session, history)
    matched = [
        {"id": item.id, "title": item.title, "year": item.year}
        for item in (engine.catalog[i] for i in history.item_ids())
    ]
    unmatched = [{"line": row.line, "title": row.title, "year": row.year} for row in history.unmatched]
    return {**result.as_json(), "history": {"matched": matched, "unmatched": unmatched}}


def write_line(record: dict) -> None:
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
