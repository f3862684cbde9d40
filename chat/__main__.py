"""Headless CLI: `python -m chat --jsonl` reads one user message per line and writes one JSON object per turn.

All lines on stdin are one conversation. Each output line is
{"reply": str, "items": [{"id", "title", "year", "genres", "why"}], "timings_ms": {"total": float, ...}}.
Logs go to stderr, so stdout stays machine-readable.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from chat.assemble import build_engine
from chat.llm import LLMError
from chat.settings import add_arguments, load_settings
from retrieval.catalog import CatalogError
from retrieval.embeddings import ModelUnavailableError
from retrieval.index import StaleIndexError

CLI_SETTINGS = ("catalog", "index", "rebuild_index", "embedding_model", "base_model", "adapter", "llm", "remote_url", "remote_model",
                "remote_api_key", "dtype", "quantize", "threads", "items_per_reply", "candidates_k", "planner", "explainer",
                "explain_batch", "reranker", "scorer_candidates", "rerank_semantic", "rerank_liked", "rerank_disliked", "rerank_popularity",
                "rerank_collaborative", "log_db", "no_log", "redact")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chat", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--jsonl", action="store_true", required=True, help="read messages from stdin, write JSON lines")
    parser.add_argument("--verbose", action="store_true", help="debug logging on stderr")
    add_arguments(parser, only=CLI_SETTINGS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(args)
        engine = build_engine(settings, progress=False)
    except (CatalogError, ValueError, LLMError, ModelUnavailableError, StaleIndexError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    session = engine.new_session()
    for line in sys.stdin:
        message = line.rstrip("\n")
        result = None
        for update in engine.respond(session, message):
            result = update.result
        sys.stdout.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
