"""Command line for the conversation log store: export it, summarise it, purge old conversations.

    python -m chat.logs export --db sqlite:///var/conversations.db --format sft --out logs.sft.jsonl --only-positive
    python -m chat.logs export --db var/conversations.db --format csv --out turns.csv --since 2025-01-31
    python -m chat.logs export --db var/conversations.db --format pairs --out pairs.jsonl   # for finetune.train --method dpo
    python -m chat.logs stats --db var/conversations.db [--json]
    python -m chat.logs purge --db var/conversations.db --older-than 30

--db takes any SQLAlchemy URL, or a path to an SQLite file. The export formats (the `sft` one is
what `finetune.build_data --source logs` reads) are described in `chat/logs/reports.py`.
This module only parses flags and prints; the work is in `chat.logs.reports` and `chat.logs.store`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path

from chat.logs.reports import EXPORT_FORMATS, export_logs, log_stats, stats_text
from chat.logs.store import LogStore, LogStoreError, LogStoreNotFoundError


def database_url(text: str) -> str:
    """A SQLAlchemy URL as given, or a file path turned into an SQLite URL.

    Example: "var/conversations.db" -> "sqlite:///var/conversations.db"
    """
    return text if "://" in text else f"sqlite:///{text}"


def since_date(text: str) -> dt.datetime:
    """An ISO date or date-time; without a zone it is UTC.

    Example: "2025-01-31" -> 2025-01-31 00:00:00+00:00
    """
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD[THH:MM]): {text!r}") from error
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def days(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m chat.logs",
        description=__doc__.split("\n")[0],
        epilog="Run `python -m chat.logs COMMAND --help` for a command's flags.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    db_help = "SQLAlchemy URL of the log store, or a path to its SQLite file"

    export = commands.add_parser(
        "export",
        help="write turns to a file (sft, jsonl, csv or pairs)",
        description="Write logged turns to a file. sft: one example per recommendation turn, "
        "with the conversation so far, for fine-tuning; jsonl/csv: one record per turn; "
        "pairs: preference pairs (prompt, chosen, rejected) for DPO, from reasons the "
        "guard rejected and from liked vs disliked replies to the same conversation.",
    )
    export.add_argument("--db", required=True, type=database_url, help=db_help)
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS, dest="export_format", help="output format")
    export.add_argument("--out", required=True, type=Path, help="file to write (replaced if it exists)")
    export.add_argument(
        "--since",
        type=since_date,
        help="only turns created at or after this ISO date/time (UTC unless a zone is given)",
    )
    export.add_argument(
        "--only-positive",
        action="store_true",
        help="only turns with a like (on the reply or a shown item) and no dislike or not-interested (sft, jsonl, csv)",
    )

    stats = commands.add_parser(
        "stats",
        help="sessions, turns, like rate, top items, latency percentiles",
        description="Summarise the log store.",
    )
    stats.add_argument("--db", required=True, type=database_url, help=db_help)
    stats.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    stats.add_argument("--top", type=int, default=10, help="how many top shown / liked items to list")

    purge = commands.add_parser(
        "purge",
        help="delete conversations older than N days",
        description="Delete the sessions started more than N days ago, with their turns and feedback.",
    )
    purge.add_argument("--db", required=True, type=database_url, help=db_help)
    purge.add_argument(
        "--older-than", required=True, type=days, metavar="DAYS", help="age in days (0 deletes everything)"
    )
    args = parser.parse_args(argv)
    if args.command == "export" and args.export_format == "pairs" and args.only_positive:
        export.error("--only-positive does not apply to --format pairs")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        store = LogStore.open_existing(args.db)
        if args.command == "export":
            written = export_logs(store, args.export_format, args.out, args.since, args.only_positive)
            print(f"wrote {written} {args.export_format} records to {args.out}")
        elif args.command == "stats":
            stats = log_stats(store, top_n=args.top)
            print(json.dumps(stats.as_json(), indent=2) if args.json else stats_text(stats))
        else:
            purged = store.purge_older_than(args.older_than)
            print(f"deleted {purged.sessions} sessions, {purged.turns} turns, {purged.feedback} feedback events")
    except (LogStoreNotFoundError, LogStoreError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
