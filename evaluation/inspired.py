"""INSPIRED zero-shot transfer: `python -m evaluation.inspired --data DIR --items DIR [--ranker DIR] [--json]`.

The INSPIRED dev dialogues (Hayati et al. 2020, `inspired/dev.tsv`) ranked by systems learned
from ReDial train dialogues only: nothing learns from INSPIRED. Each recommender turn that names
a movie of the ReDial item universe (matched by title and year, `corpora.redial.MovieMapper`)
is a case, replayed as the ReDial benchmark replays its dialogues (`evaluation.redial.replay`),
scored under the novel protocol beside popularity and EASE alone. Movies INSPIRED names that are
not in the ReDial universe (many are from 2019, after ReDial) cannot be targets and are counted.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import re
import sys
import time
from pathlib import Path

from tqdm.auto import tqdm

from corpora.dialogues import Dialogue, Turn, add_message
from corpora.redial import MovieMapper
from evaluation import baselines
from evaluation.catalogs import RedialCatalog
from evaluation.redial import ITEMS_ENV, BenchmarkRun, engine_rankings, prepare, print_table, replay, timed
from evaluation.system import LIST_LENGTH, ExactTitleMatcher, engine_over, with_sequential
from retrieval.ranking import seed_weights

log = logging.getLogger("evaluation.inspired")

_NAME = re.compile(r"[^;]+?\(\d{4}\)")


def read_inspired(path: Path) -> list[Dialogue]:
    """dev.tsv as Dialogues whose mention ids are the movie names ("Title (Year)"); consecutive rows of a speaker merged."""
    csv.field_size_limit(10**9)
    dialogues: dict[str, list[Turn]] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            role = "seeker" if row["speaker"] == "SEEKER" else "recommender"
            names = tuple(" ".join(name.split()) for name in _NAME.findall(row.get("movies") or ""))
            text = row["text"].replace("QUOTATION_MARK", '"')
            turns = dialogues.setdefault(row["dialog_id"], [])
            add_message(turns, role, text, names)
    return [Dialogue(dialogue_id, tuple(turns)) for dialogue_id, turns in dialogues.items()]


def run(
    data: Path, items: Path, ranker: object = "none", progress: bool = True, embedder=None, sequential: object = "none"
) -> tuple[BenchmarkRun, dict]:
    started = time.perf_counter()
    options, sequential = with_sequential(None, sequential)
    # "test" makes the models learn from every ReDial train dialogue; its one test dialogue read is not used
    setup = prepare(data, "test", 1, items=items, embedder=embedder, progress=progress)
    inspired = read_inspired(Path(data) / "inspired" / "dev.tsv")
    names = {name: name for d in inspired for t in d.turns for name in t.movie_ids}
    mapper = MovieMapper(setup.universe.catalog, names)
    universe = RedialCatalog(setup.universe.catalog, mapper.mapping, 0)
    engine = engine_over(setup.index, setup.embedder, setup.ease, ranker=ranker, options=options)
    turns = list(
        replay(
            tqdm(inspired, desc="replay", leave=False, disable=not progress),
            universe,
            ExactTitleMatcher(universe.catalog.items),
            engine.people,
        )
    )
    decay = engine.search.options.recency_decay
    popularity = setup.popularity

    def ease_ranking(turn) -> list[str]:
        seeds, weights = seed_weights(turn.earlier, decay)
        return baselines.cooccurrence_ranking(
            setup.ease, seeds, popularity, LIST_LENGTH, set(turn.earlier), weights=weights
        )

    systems = {
        "system": timed("system", lambda: engine_rankings(engine, turns, lambda t: t.state, "system")),
        "popularity": timed("popularity", lambda: [popularity.top(LIST_LENGTH, set(t.earlier)) for t in turns]),
        "ease": timed("ease", lambda: [ease_ranking(t) for t in turns]),
    }
    recommended = [name for d in inspired for t in d.turns if t.role == "recommender" for name in t.movie_ids]
    coverage = {
        "recommended_mentions": len(recommended),
        "in_redial_universe": sum(name in mapper.mapping for name in recommended),
        "train_dialogues_redial": len(setup.baskets),
    }
    result = BenchmarkRun(
        "inspired",
        "dev",
        turns,
        systems,
        "system",
        {
            "coverage": coverage,
            "search": {
                "ranker": engine.search.ranker.name,
                "sources": [source.name for source in engine.search.sources],
            },
        },
        time.perf_counter() - started,
    )
    return result, coverage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.inspired", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder holding redial/, iard/ and inspired/")
    parser.add_argument(
        "--items",
        type=Path,
        default=os.environ.get(ITEMS_ENV) or None,
        help=f"index folder built from the ReDial item text (env {ITEMS_ENV})",
    )
    parser.add_argument("--ranker", default="none", help="learned ranker folder or 'none'")
    parser.add_argument(
        "--sequential", default="none", help="sequential model folder (finetune.redial_sequential) or 'none'"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.items is None:
        parser.error(f"--items is required (or set {ITEMS_ENV})")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result, _ = run(args.data, args.items, args.ranker, sequential=args.sequential)
    summary = result.summary("novel")
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_table(summary)
        print(f"coverage: {summary['coverage']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
