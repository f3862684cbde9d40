"""A bounded soak test of a running web app: simultaneous conversations over loopback, checked against its log file.

It starts nothing: start the app first, then point this at it (loopback addresses only).

    python app.py --llm none --log-db sqlite:///var/soak.db &        # fast engine: rules and templates
    python -m evaluation.soak --db var/soak.db                         # 20 sessions x 5 turns, http://127.0.0.1:7860
    python -m evaluation.soak --sessions 3 --turns 2 --db var/soak.db --json

Each session is its own Gradio client (its own server-side conversation) that sends its turns
one after another through the app's `/respond` endpoint; all sessions run at once. Reported:
- errors: client exceptions, turns past --turn-timeout-s, empty replies, the app's apologies,
  and new log rows whose kind is "error";
- lost log rows: turns answered minus the rows the log file gained (a completed turn is
  committed before its last update is sent, so this must be 0); run it against a log file no
  one else writes to during the soak;
- latency percentiles of whole turns as the client saw them (queueing included).
The whole run is bounded by --time-limit-s; turns not started by then are reported as skipped.
Exit status: 0 when there were no errors and no lost rows, 1 otherwise, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import socket
import sqlite3
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
from gradio_client import Client
from gradio_client.exceptions import AppError
from gradio_client.utils import QueueError, TooManyRequestsError

log = logging.getLogger("soak")

ROOT = Path(__file__).resolve().parents[1]
OPENERS = (
    "I loved Alien and The Thing, something scary but not gory",
    "A 90s comedy, nothing with zombies",
    "Something like Spirited Away for a family evening",
    "A western, under 2 hours, from before 1970",
    "A tense heist thriller, nothing with Tom Cruise",
)
FOLLOW_UPS = ("something older", "not that one", "something else", "something more recent")
APOLOGIES = ("Sorry, something went wrong", "Sorry, I can't search")
# What a turn can fail with on the client side: the app's error, the queue, the connection, a malformed answer.
CLIENT_ERRORS = (AppError, QueueError, TooManyRequestsError, httpx.HTTPError, OSError, ValueError, KeyError)


class NotLoopbackError(ValueError):
    """The target is not this machine."""


def loopback_url(url: str) -> str:
    """The URL, if every address its host resolves to is a loopback address; NotLoopbackError otherwise.

    Examples: "http://127.0.0.1:7860" -> "http://127.0.0.1:7860/"; "http://example.com" -> NotLoopbackError
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotLoopbackError(f"not an http(s) URL with a host: {url!r}")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise NotLoopbackError(f"cannot resolve {parts.hostname!r}: {error}") from error
    addresses = {info[4][0].split("%")[0] for info in infos}
    if not addresses or not all(ipaddress.ip_address(address).is_loopback for address in addresses):
        raise NotLoopbackError(
            f"refusing {parts.hostname!r}: only loopback targets are allowed (it resolves to {sorted(addresses)})"
        )
    return url.rstrip("/") + "/"


def script(session_number: int, turns: int) -> list[str]:
    """The messages of one session: an opener, then follow-ups.

    Example: script(1, 3) -> ["A 90s comedy, nothing with zombies", "something older", "not that one"]
    """
    opener = OPENERS[session_number % len(OPENERS)]
    return [opener] + [FOLLOW_UPS[i % len(FOLLOW_UPS)] for i in range(turns - 1)]


def reply_text(history: list) -> str:
    """The last assistant message of a Chatbot value (content as a string or as a list of text blocks)."""
    if not history:
        return ""
    content = history[-1].get("content", "") if isinstance(history[-1], dict) else ""
    if isinstance(content, list):
        return " ".join(block.get("text", "") for block in content if isinstance(block, dict))
    return str(content)


def percentiles_ms(latencies_s: list[float]) -> dict[str, float]:
    """p50/p95/max in milliseconds; {} without data.

    Example: [1.0, 2.0, 3.0] -> {"p50": 2000.0, "p95": 2900.0, "max": 3000.0}
    """
    if not latencies_s:
        return {}
    values = np.array(latencies_s) * 1000
    return {
        "p50": round(float(np.percentile(values, 50)), 1),
        "p95": round(float(np.percentile(values, 95)), 1),
        "max": round(float(values.max()), 1),
    }


@dataclass
class SoakResult:
    """What the sessions saw; the threads append to it under `lock`."""

    turns_planned: int
    turns_sent: int = 0
    turns_answered: int = 0
    turns_skipped: int = 0
    latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def run_session(
    url: str, messages: list[str], deadline: float, turn_timeout_s: float, result: SoakResult, number: int
) -> None:
    """One conversation, turn after turn, until done, an error, or the deadline."""
    try:
        client = Client(url, verbose=False, download_files=False)
    except CLIENT_ERRORS as error:
        with result.lock:
            result.errors.append(f"session {number}: could not connect: {error}")
            result.turns_skipped += len(messages)
        return
    history: list = []
    for turn, message in enumerate(messages, start=1):
        remaining_s = deadline - time.monotonic()
        if remaining_s <= 0:
            with result.lock:
                result.turns_skipped += len(messages) - turn + 1
            return
        with result.lock:
            result.turns_sent += 1
        started = time.monotonic()
        job = client.submit(message, history, False, api_name="/respond")
        try:
            outputs = job.result(timeout=min(turn_timeout_s, remaining_s))
        except (FutureTimeout, TimeoutError):
            job.cancel()
            with result.lock:
                result.errors.append(
                    f"session {number} turn {turn}: no answer within {min(turn_timeout_s, remaining_s):.0f} s"
                )
                result.turns_skipped += len(messages) - turn
            return
        except CLIENT_ERRORS as error:
            with result.lock:
                result.errors.append(f"session {number} turn {turn}: {type(error).__name__}: {error}")
                result.turns_skipped += len(messages) - turn
            return
        elapsed_s = time.monotonic() - started
        history = outputs[0]
        reply = reply_text(history)
        with result.lock:
            result.turns_answered += 1
            result.latencies_s.append(elapsed_s)
            if not reply.strip() or reply.startswith(APOLOGIES):
                result.errors.append(f"session {number} turn {turn}: bad reply: {reply[:80]!r}")


def sqlite_path(db: str) -> Path:
    return Path(db[len("sqlite:///") :]) if db.startswith("sqlite:///") else Path(db)


def log_rows(db: Path) -> tuple[int, int]:
    """(rows in turns, the highest turn id), read-only; (0, 0) when the file or table does not exist yet."""
    if not db.exists():
        return 0, 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as connection:
        try:
            count, top = connection.execute("select count(*), coalesce(max(id), 0) from turns").fetchone()
        except sqlite3.OperationalError:
            return 0, 0
    return count, top


def error_rows_after(db: Path, after_id: int) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as connection:
        return connection.execute(
            "select count(*) from turns where id > ? and (kind = 'error' or error != '')", (after_id,)
        ).fetchone()[0]


def soak(url: str, db: Path, sessions: int, turns: int, time_limit_s: float, turn_timeout_s: float) -> dict:
    """Run the soak and return the report."""
    rows_before, top_before = log_rows(db)
    result = SoakResult(turns_planned=sessions * turns)
    started = time.monotonic()
    deadline = started + time_limit_s
    with ThreadPoolExecutor(max_workers=sessions, thread_name_prefix="soak") as pool:
        futures = [
            pool.submit(run_session, url, script(number, turns), deadline, turn_timeout_s, result, number)
            for number in range(sessions)
        ]
    for future in futures:
        future.result()  # a bug in this script surfaces here instead of vanishing in a thread
    wall_s = time.monotonic() - started
    rows_after, _ = log_rows(db)
    gained = rows_after - rows_before
    logged_errors = error_rows_after(db, top_before)
    if logged_errors:
        result.errors.append(f"{logged_errors} new log rows record an error")
    return {
        "url": url,
        "db": str(db),
        "sessions": sessions,
        "turns_per_session": turns,
        "turns_planned": result.turns_planned,
        "turns_sent": result.turns_sent,
        "turns_answered": result.turns_answered,
        "turns_skipped": result.turns_skipped,
        "errors": len(result.errors),
        "error_details": result.errors[:20],
        "log_rows_gained": gained,
        "lost_log_rows": max(0, result.turns_answered - gained),
        "extra_log_rows": max(0, gained - result.turns_answered),
        "latency_ms": percentiles_ms(result.latencies_s),
        "wall_s": round(wall_s, 1),
        "turns_per_s": round(result.turns_answered / wall_s, 2) if wall_s > 0 else 0.0,
    }


def report_text(report: dict) -> str:
    latency = report["latency_ms"]
    lines = [
        f"target            {report['url']}  (log file {report['db']})",
        f"sessions x turns  {report['sessions']} x {report['turns_per_session']} = {report['turns_planned']} planned",
        f"turns             {report['turns_sent']} sent, {report['turns_answered']} answered, {report['turns_skipped']} skipped",
        f"errors            {report['errors']}",
        *[f"  - {detail}" for detail in report["error_details"]],
        f"log rows          {report['log_rows_gained']} gained, {report['lost_log_rows']} lost, {report['extra_log_rows']} extra",
        (
            "latency per turn  "
            + (
                f"p50 {latency['p50']:.0f} ms, p95 {latency['p95']:.0f} ms, max {latency['max']:.0f} ms"
                if latency
                else "n/a"
            )
        ),
        f"wall time         {report['wall_s']} s  ({report['turns_per_s']} turns/s)",
    ]
    return "\n".join(lines)


def positive(kind: type):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
        return value

    return parse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.soak",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--url", default="http://127.0.0.1:7860", help="the running app (loopback addresses only)")
    parser.add_argument(
        "--db",
        default=str(ROOT / "var" / "conversations.db"),
        help="the app's SQLite log file (a path or sqlite:/// URL), to count its rows",
    )
    parser.add_argument("--sessions", type=positive(int), default=20, help="simultaneous conversations")
    parser.add_argument("--turns", type=positive(int), default=5, help="turns per conversation")
    parser.add_argument("--time-limit-s", type=positive(float), default=1200.0, help="bound on the whole run")
    parser.add_argument(
        "--turn-timeout-s", type=positive(float), default=300.0, help="bound on one turn, queueing included"
    )
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        url = loopback_url(args.url)
    except NotLoopbackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # A proxy from the environment would carry loopback traffic off this machine.
    host = urlsplit(url).hostname
    bypass = ",".join(filter(None, (os.environ.get("NO_PROXY", ""), host, "localhost", "127.0.0.1", "::1")))
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = bypass
    report = soak(url, sqlite_path(args.db), args.sessions, args.turns, args.time_limit_s, args.turn_timeout_s)
    print(json.dumps(report, indent=2) if args.json else report_text(report))
    return 0 if report["errors"] == 0 and report["lost_log_rows"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
