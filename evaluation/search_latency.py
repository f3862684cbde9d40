"""The search's cost per turn at ReDial scale: `python -m evaluation.search_latency --data DIR --items DIR [--ranker DIR] [--limit N]`.

Replays validation dialogues (never test) and times, per recommender turn, the two halves of
`ItemSearch`: the request's query vector and filter mask (`context`: MiniLM on one torch
thread), and the ranking proper (`rank_candidates`: every source's recall, fusion, features and
the ranker). Prints the median and 95th percentile of each and the machine's load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from evaluation.redial import ITEMS_ENV, prepare, replay
from evaluation.system import ExactTitleMatcher, engine_over, one_torch_thread, with_sequential


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.search_latency", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder holding redial/ (and iard/)")
    parser.add_argument(
        "--items", type=Path, default=os.environ.get(ITEMS_ENV) or None, help="ReDial item-text index folder"
    )
    parser.add_argument("--ranker", default="none", help="learned ranker folder or 'none'")
    parser.add_argument(
        "--sequential", default="none", help="sequential model folder (finetune.redial_sequential) or 'none'"
    )
    parser.add_argument("--limit", type=int, default=120, help="validation dialogues to replay")
    args = parser.parse_args(argv)
    setup = prepare(args.data, "validation", args.limit, items=args.items)
    options, _ = with_sequential(None, args.sequential)
    engine = engine_over(setup.index, setup.embedder, setup.ease, ranker=args.ranker, options=options)
    turns = list(
        replay(setup.evaluated, setup.universe, ExactTitleMatcher(setup.universe.catalog.items), engine.people)
    )
    encode_ms, rank_ms = [], []
    with one_torch_thread():
        for turn in turns:
            request = engine.search_request(turn.state, engine.plan(turn.state, turn.reading))
            started = time.perf_counter()
            context = engine.search.context(request)
            encoded = time.perf_counter()
            engine.search.rank_candidates(context)
            rank_ms.append((time.perf_counter() - encoded) * 1000)
            encode_ms.append((encoded - started) * 1000)
    print(
        f"{len(turns)} turns over {len(setup.index.catalog)} items, sources "
        f"{', '.join(source.name for source in engine.search.sources)}, ranker {engine.search.ranker.name}, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    for name, values in (("query vector + filter mask", encode_ms), ("sources + fusion + features + ranker", rank_ms)):
        print(f"{name:40} p50 {np.median(values):6.1f} ms   p95 {np.percentile(values, 95):6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
