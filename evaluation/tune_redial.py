"""Choosing the search's hyperparameters on the ReDial validation split: `python -m evaluation.tune_redial --data DIR [--items DIR]`.

Everything here learns from the train dialogues minus validation and is scored on the validation
dialogues (novel protocol, `evaluation.redial_splits`); the test split is never read.
1. EASE's lambda and the recency decay of the seeds, scored by EASE alone (popularity filling
   the list), over the validation turns' `@id` mentions (no text needed)
2. with `--items`: the weighted ranker's fusion weights (dense, EASE, popularity) and its
   liked-closeness weight, scored by the whole engine (rules planner) on the validation turns
Prints one table per stage, best first; the chosen values are the defaults in
`retrieval.ranking.collaborative.EASE_LAMBDA`, `retrieval.ranking.sources.RECENCY_DECAY` and
`retrieval.ranking.weighted.RerankWeights`.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
from dataclasses import replace
from pathlib import Path

from chat.settings import Settings
from corpora.dialogues import Dialogue
from corpora.redial import read_movie_names
from evaluation import baselines, metrics
from evaluation.redial import ITEMS_ENV, engine_rankings, find_folder, prepare, replay
from evaluation.redial_splits import fit_and_evaluated
from evaluation.system import LIST_LENGTH, ExactTitleMatcher, engine_over
from retrieval.ranking import RerankWeights, seed_weights

log = logging.getLogger("evaluation.tune_redial")

LAMBDAS = (20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0)
DECAYS = (0.5, 0.7, 0.85, 1.0)
FUSION_GRID = {"semantic": (0.5, 1.0), "collaborative": (1.0,), "popularity": (0.0, 0.5, 1.0), "liked": (0.0,)}


def mention_turns(dialogues: list[Dialogue]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(mentions before, novel targets) for every recommender turn with a novel mention, from the `@id` marks alone.

    Example: turns s:"@1", r:"@2 @1" -> [(("1",), ("2",))]
    """
    cases = []
    for dialogue in dialogues:
        earlier: list[str] = []
        for turn in dialogue.turns:
            novel = tuple(i for i in dict.fromkeys(turn.movie_ids) if i not in earlier)
            if turn.role == "recommender" and novel:
                cases.append((tuple(earlier), novel))
            earlier += turn.movie_ids
    return cases


def recall(rankings: list[list[str]], cases, k: int) -> float:
    hits = total = 0
    for ranking, (_, targets) in zip(rankings, cases):
        top = set(ranking[:k])
        hits += sum(t in top for t in targets)
        total += len(targets)
    return hits / total if total else float("nan")


def tune_collaborative(data: Path) -> list[dict]:
    folder = find_folder(data, "redial", "movies_with_mentions.csv")
    names = read_movie_names(folder / "movies_with_mentions.csv")
    fit, evaluated = fit_and_evaluated("validation", folder, names)
    baskets = [list(dict.fromkeys(m for turn in d.turns for m in turn.movie_ids if m in names)) for d in fit]
    popularity = baselines.PopularityRanker(baskets)
    cases = mention_turns(evaluated)
    rows = []
    for lam in LAMBDAS:
        model = baselines.model_from_baskets(baskets, set(names), "ease", lam)
        for decay in DECAYS:
            rankings = []
            for earlier, _ in cases:
                seeds, weights = seed_weights(earlier, decay)
                rankings.append(
                    baselines.cooccurrence_ranking(model, seeds, popularity, LIST_LENGTH, set(earlier), weights)
                )
            rows.append(
                {
                    "ease_lambda": lam,
                    "recency_decay": decay,
                    "recall@10": recall(rankings, cases, 10),
                    "recall@50": recall(rankings, cases, 50),
                }
            )
    return sorted(rows, key=lambda r: (-r["recall@10"], -r["recall@50"]))


def tune_fusion(data: Path, items: Path, limit: int | None) -> list[dict]:
    setup = prepare(data, "validation", limit, items=items)
    base = engine_over(setup.index, setup.embedder, setup.ease)
    turns = list(replay(setup.evaluated, setup.universe, ExactTitleMatcher(setup.universe.catalog.items), base.people))
    samples = [(number, target) for number, turn in enumerate(turns) for target in turn.novel]
    rows = []
    for values in itertools.product(*FUSION_GRID.values()):
        weights = RerankWeights(**dict(zip(FUSION_GRID, values)))
        options = replace(Settings().search_options, weights=weights)
        engine = engine_over(setup.index, setup.embedder, setup.ease, options=options)
        rankings = engine_rankings(engine, turns, lambda t: t.state, "fusion grid")
        ranks = [metrics.rank_of(rankings[number], target) for number, target in samples]
        rows.append(
            {
                **dict(zip(FUSION_GRID, values)),
                "recall@10": metrics.recall_curve(ranks, [10])[0],
                "recall@50": metrics.recall_curve(ranks, [50])[0],
            }
        )
        log.info("%s", rows[-1])
    return sorted(rows, key=lambda r: (-r["recall@10"], -r["recall@50"]))


def print_rows(title: str, rows: list[dict], top: int = 10) -> None:
    print(title)
    for row in rows[:top]:
        print(
            "  "
            + "  ".join(
                f"{key} {value:.4f}" if isinstance(value, float) and key.startswith("recall") else f"{key} {value:g}"
                for key, value in row.items()
            )
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.tune_redial", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", type=Path, required=True, help="ReDial folder or a folder holding redial/ (and iard/)"
    )
    parser.add_argument(
        "--items",
        type=Path,
        default=None,
        help=f"index folder of the ReDial item text (env {ITEMS_ENV}); without it only stage 1 runs",
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N validation dialogues in stage 2")
    parser.add_argument("--skip-collaborative", action="store_true", help="run stage 2 only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if not args.skip_collaborative:
        print_rows(
            "stage 1: EASE lambda x recency decay (EASE alone, validation, novel)", tune_collaborative(args.data)
        )
    if args.items:
        print_rows(
            "stage 2: weighted ranker (engine, validation, novel)", tune_fusion(args.data, args.items, args.limit)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
