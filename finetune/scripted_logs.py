"""Conversation logs made by playing synthetic conversations through the real engine: `python -m finetune.scripted_logs`.

    python -m finetune.scripted_logs --conversations 60 --seed 7 --log-db sqlite:///var/dpo/logs.db

Each conversation of `finetune.synthetic` (from the catalogue, never from benchmark dialogues) is
one session of the engine that the app would build from the same settings (default model and
adapter unless told otherwise), logged like a person's: every turn, and every LLM reason with its
prompt, draft and what the guard let through. No feedback is made up: the logs give guard pairs
(`python -m chat.logs export --format pairs`), thumbs come only from people.
"""

from __future__ import annotations

import argparse
import logging
import sys

from tqdm import tqdm

from chat.assemble import STARTUP_ERRORS, build_engine
from chat.engine import ChatEngine
from chat.settings import add_arguments, load_settings
from finetune.synthetic import conversations

ENGINE_SETTINGS = (
    "catalog",
    "index",
    "embedding_model",
    "base_model",
    "adapter",
    "dtype",
    "quantize",
    "threads",
    "planner",
    "explainer",
    "explain_batch",
    "constrain_reasons",
    "log_db",
)


def play(engine: ChatEngine, count: int, seed: int, max_turns: int) -> dict[str, int]:
    """Plays `count` synthetic conversations, one session each; returns turn counts by kind."""
    kinds: dict[str, int] = {}
    for _, messages in tqdm(
        list(conversations(engine.catalog, count, seed, max_turns)), desc="conversations", unit="conv"
    ):
        session = engine.new_session()
        for message in messages:
            result = [update.result for update in engine.respond(session, message)][-1]
            kinds[result.kind] = kinds.get(result.kind, 0) + 1
    return kinds


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m finetune.scripted_logs",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--conversations", type=int, default=60, help="how many synthetic conversations to play")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic conversations")
    parser.add_argument("--max-turns", type=int, default=3, help="most user messages per conversation")
    add_arguments(parser, only=ENGINE_SETTINGS)
    args = parser.parse_args(argv)
    if args.conversations < 1 or args.max_turns < 1:
        parser.error("--conversations and --max-turns must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings(args)
        engine = build_engine(settings, progress=False)
    except STARTUP_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if engine.log_store is None:
        print("error: logging is off; give --log-db", file=sys.stderr)
        return 2
    kinds = play(engine, args.conversations, args.seed, args.max_turns)
    print(
        f"logged {sum(kinds.values())} turns ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}) to {settings.log_db}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
