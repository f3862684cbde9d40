"""Training the learned ranker on ReDial train dialogues: `python -m finetune.train_ranker --data DIR --items DIR --out DIR`.

1. The train dialogues minus validation (`evaluation.redial_splits`) are cut into `--folds`
   folds by dialogue. For each fold, EASE and popularity are learned from the other folds only
   (out of fold, so a dialogue's own mentions never feed its features), the engine's own
   `ItemSearch` recalls and fuses candidates for each of its recommender turns, and every
   candidate gets its features (`retrieval.ranking.features.FEATURES`) and label (1: a movie the
   recommender mentions here for the first time). With `--sequential DIR`, a SASRec over the other
   folds' mention sequences (`finetune.redial_sequential --split validation --folds N --out DIR`,
   trained beforehand) is a fourth source and feature too.
2. The validation dialogues get the same, with EASE (and SASRec) learned from all of the train part.
3. LightGBM LambdaRank trains on (1) and stops early on NDCG@10 of (2); recall@10/50 on the
   validation turns is printed for the learned ranker beside the weighted fallback, and with
   `--sequential` beside a ranker trained on the same rows without the sequential source (its
   candidates and features taken out; saved in `OUT/without_sequential`), which says whether
   the sequential model helps.
   With `--grid name=v1,v2 ...` one ranker is trained per combination of LightGBM parameters on
   the same rows, and the one with the best validation recall (mean of @10 and @50) is kept;
   every combination's scores go into `ranker.json` (`grid`). With `--refit-all` the chosen
   parameters then train once more on the train and validation rows together, for the best
   iteration's number of rounds (more data for the model that is measured on test; its
   validation scores are those of the model before the refit).
4. The model is saved in `--out` (ranker.txt + ranker.json: features, LightGBM version, the hash
   of the dialogues and the item index, parameters, validation scores). The engine loads it
   with `--ranker-model DIR` (or from `ranker/` in the index folder).
The test split is never read.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from chat.settings import Settings
from corpora.dialogues import Dialogue
from evaluation import baselines
from evaluation.redial import ITEMS_ENV, RedialSetup, prepare, replay
from evaluation.redial_splits import fold_of, is_validation
from evaluation.system import ExactTitleMatcher, engine_over, one_torch_thread
from finetune.redial_sequential import fold_models
from retrieval.embeddings import Embedder
from retrieval.ranking import FEATURES, SOURCES, WeightedRanker
from retrieval.ranking.learned import RankingGroups, train

log = logging.getLogger("finetune.train_ranker")

WITHOUT_SEQUENTIAL = "without_sequential"  # with --sequential, the ranker trained without it is saved in OUT/this


@dataclass(frozen=True)
class TrainRankerArgs:
    data: Path
    items: Path | None  # None: the open universe (ReDial's movie names joined with the demo catalogue)
    out: Path
    folds: int = 4
    rounds: int = 400
    early_stopping: int = 40
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_data_in_leaf: int = 40
    limit: int | None = None
    sequential: Path | None = None  # finetune.redial_sequential --split validation --folds N --out DIR
    candidates_per_source: int | None = None  # None: the app's setting
    grid: tuple[tuple[str, tuple], ...] = ()  # LightGBM parameter -> values to try, e.g. (("num_leaves", (7, 31)),)
    refit_all: bool = False
    iard: bool = True  # False: the ReDial train parts alone (IARD's terms are research-only)

    def __post_init__(self) -> None:
        if self.folds < 2:
            raise ValueError(f"folds: at least 2, got {self.folds}")
        if self.rounds < 1 or self.early_stopping < 1:
            raise ValueError("rounds and early_stopping: at least 1")

    def params(self) -> dict:
        return {
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": 0.9,
            "bagging_fraction": 0.9,
            "bagging_freq": 1,
            "seed": 0,
            "num_threads": 2,
        }

    def combinations(self) -> list[dict]:
        """The parameters of every ranker to try: the base ones with each combination of the grid's values.

        Example: grid (("num_leaves", (7, 31)),) -> [{..., "num_leaves": 7}, {..., "num_leaves": 31}]
        """
        names = [name for name, _ in self.grid]
        return [
            {**self.params(), **dict(zip(names, values))}
            for values in itertools.product(*(values for _, values in self.grid))
        ]


def parse_grid(texts: list[str]) -> tuple[tuple[str, tuple], ...]:
    """`name=v1,v2` strings as (name, values) pairs, numbers as numbers.

    Example: ["num_leaves=7,31", "objective=lambdarank,rank_xendcg"]
             -> (("num_leaves", (7, 31)), ("objective", ("lambdarank", "rank_xendcg")))
    """

    def value(text: str):
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        return text

    grid = []
    for text in texts:
        name, equals, values = text.partition("=")
        if not equals or not name.strip() or not values.strip():
            raise ValueError(f"grid: write name=v1,v2 (a LightGBM parameter and its values), got {text!r}")
        grid.append((name.strip(), tuple(value(v.strip()) for v in values.split(",") if v.strip())))
    return tuple(grid)


def groups_for(
    setup: RedialSetup,
    dialogues: list[Dialogue],
    model,
    progress: bool,
    sequential: object = "none",
    per_source: int | None = None,
) -> tuple[RankingGroups, list[int]]:
    """Feature rows and labels for each recommender turn of the dialogues, with EASE/popularity `model` (and a sequential model).

    Also returns each turn's number of novel targets (those the candidates missed count too, for recall).
    """
    options = replace(Settings().search_options, sequential=sequential)
    options = replace(options, candidates_per_source=per_source) if per_source else options
    engine = engine_over(setup.index, setup.embedder, model, options=options)
    titles = ExactTitleMatcher(setup.universe.catalog.items)
    parts, targets = [], []
    with one_torch_thread():
        for turn in tqdm(
            list(replay(dialogues, setup.universe, titles, engine.people)),
            desc="features",
            unit="turn",
            leave=False,
            disable=not progress,
        ):
            if not turn.novel:
                continue
            request = engine.search_request(turn.state, engine.plan(turn.state, turn.reading))
            ranked = engine.search.rank_candidates(engine.search.context(request))
            ids = [setup.index.catalog.items[row].id for row in ranked.candidates.rows]
            labels = np.asarray([float(i in turn.novel) for i in ids], dtype=np.float32)
            parts.append(RankingGroups(ranked.features, labels, np.asarray([len(ids)])))
            targets.append(len(turn.novel))
    return RankingGroups.concatenate(parts), targets


def without_source(groups: RankingGroups, name: str) -> RankingGroups:
    """The groups as if the source had not been there: its columns unknown, the candidates only it recalled gone.

    Example: a turn whose rows were recalled by (dense), (sequential), (dense, sequential) keeps rows 1 and 3.
    """
    others = [FEATURES.index(f"{source}_rank") for source in SOURCES if source != name]
    keep = ~np.isnan(groups.features[:, others]).all(axis=1)
    features = groups.features[keep].copy()
    features[:, [FEATURES.index(f"{name}_rank"), FEATURES.index(f"{name}_score")]] = np.nan
    kept_before = np.concatenate([[0], np.cumsum(keep)])  # kept rows before each row (and at the end)
    ends = np.cumsum(groups.group_sizes)
    sizes = kept_before[ends] - kept_before[ends - groups.group_sizes]
    return RankingGroups(features, groups.labels[keep], sizes[sizes > 0])


def recall_at(groups: RankingGroups, scores: np.ndarray, targets: list[int], k: int) -> float:
    """Novel targets found in each turn's top k by `scores`, over all novel targets of the turns."""
    hits, start = 0, 0
    for size in groups.group_sizes:
        order = np.argsort(-scores[start : start + size], kind="stable")[:k]
        hits += int(groups.labels[start : start + size][order].sum())
        start += size
    return hits / sum(targets) if targets else float("nan")


def data_hash(setup: RedialSetup) -> str:
    digest = hashlib.sha256()
    for dialogue in sorted(setup.fit + setup.evaluated, key=lambda d: d.id):
        digest.update(dialogue.id.encode())
    digest.update(setup.index.manifest.catalog_hash.encode())
    return digest.hexdigest()[:16]


def main_with(args: TrainRankerArgs, progress: bool = True, embedder: Embedder | None = None) -> dict:
    """Train and save the ranker; `embedder` replaces MiniLM (tests pass a fake). Returns the saved metadata."""
    started = time.perf_counter()
    setup = prepare(args.data, "validation", args.limit, items=args.items, embedder=embedder, iard=args.iard)
    fit = setup.fit[: args.limit * 4] if args.limit else setup.fit
    known = {item.id for item in setup.universe.catalog}
    sequential_models = fold_models(args.sequential, args.folds) if args.sequential else None
    parts, train_targets = [], []
    for fold in range(args.folds):
        held = [d for d in fit if fold_of(d.id, args.folds) == fold]
        rest = [d for d in setup.fit if fold_of(d.id, args.folds) != fold]
        baskets = [
            [i for i in dict.fromkeys(setup.universe.item_id(m) for t in d.turns for m in t.movie_ids) if i]
            for d in rest
        ]
        model = baselines.model_from_baskets(baskets, known, "ease")
        sequential = sequential_models[fold] if sequential_models else "none"
        log.info("fold %d: %d dialogues, EASE from %d others", fold + 1, len(held), len(rest))
        groups, targets = groups_for(setup, held, model, progress, sequential, args.candidates_per_source)
        parts.append(groups)
        train_targets += targets
    training = RankingGroups.concatenate(parts)
    sequential = sequential_models[-1] if sequential_models else "none"
    validation, valid_targets = groups_for(
        setup, setup.evaluated, setup.ease, progress, sequential, args.candidates_per_source
    )
    assert not any(is_validation(d.id) for d in setup.fit)
    log.info(
        "train: %d turns, %d rows; validation: %d turns, %d rows",
        len(training.group_sizes),
        len(training.labels),
        len(validation.group_sizes),
        len(validation.labels),
    )
    meta = {
        "data_hash": data_hash(setup),
        "dialogues": "ReDial train parts" + (" and IARD's extra train dialogues" if args.iard else " only"),
        "train_dialogues": len(fit),
        "validation_dialogues": len(setup.evaluated),
        "train_turns": len(training.group_sizes),
        "validation_turns": len(validation.group_sizes),
        "items": setup.index.manifest.catalog_source.rsplit("/", 1)[-1],
        "folds": args.folds,
        "candidates_per_source": args.candidates_per_source or Settings().candidates_per_source,
        "candidate_recall": round(float(validation.labels.sum()) / sum(valid_targets), 4) if valid_targets else None,
    }
    tried = []  # (validation recall @10 + @50, the ranker, its parameters)
    for params in tqdm(args.combinations(), desc="grid", unit="ranker", disable=not progress or not args.grid):
        ranker = train(training, validation, params, args.rounds, args.early_stopping, meta)
        recall = {
            f"recall@{k}": round(recall_at(validation, ranker.score(validation.features), valid_targets, k), 4)
            for k in (10, 50)
        }
        ranker.meta["grid_point"] = {
            "params": {name: params[name] for name, _ in args.grid},
            "best_iteration": ranker.meta["best_iteration"],
            **recall,
        }
        tried.append((sum(recall.values()), ranker, params))
    _, ranker, params = max(tried, key=lambda entry: entry[0])  # the first of equals
    if args.grid:
        ranker.meta["grid"] = [entry[1].meta.pop("grid_point") for entry in tried]
    scored = [
        ("learned", validation, ranker.score(validation.features)),
        ("weighted", validation, WeightedRanker().score(validation.features)),
    ]
    if args.sequential:
        plain = without_source(validation, "sequential")
        alone = train(without_source(training, "sequential"), plain, params, args.rounds, args.early_stopping, meta)
        scored.append(("learned_without_sequential", plain, alone.score(plain.features)))
        alone.meta["validation_recall"] = {
            "recall@10": round(recall_at(plain, scored[-1][2], valid_targets, 10), 4),
            "recall@50": round(recall_at(plain, scored[-1][2], valid_targets, 50), 4),
        }
        alone.save(args.out / WITHOUT_SEQUENTIAL)
    scores = {
        name: {f"recall@{k}": round(recall_at(groups, values, valid_targets, k), 4) for k in (10, 50)}
        for name, groups, values in scored
    }
    ranker.meta["validation_recall"] = scores
    if args.refit_all:
        ranker = refit(ranker, RankingGroups.concatenate([training, validation]), params)
    ranker.meta["seconds"] = round(time.perf_counter() - started, 1)
    ranker.save(args.out)
    return ranker.meta


def refit(ranker, rows: RankingGroups, params: dict):
    """The ranker trained again on `rows` with the same parameters for its best iteration's rounds, its metadata kept."""
    rounds = ranker.meta["best_iteration"]
    again = train(rows, None, params, rounds, rounds, ranker.meta)
    again.meta = {
        **ranker.meta,
        "refit": {"turns": len(rows.group_sizes), "rows": len(rows.labels), "rounds": rounds},
        "importance_gain": again.meta["importance_gain"],
    }
    return again


def parse_args(argv: list[str] | None = None) -> TrainRankerArgs:
    import os

    parser = argparse.ArgumentParser(
        prog="python -m finetune.train_ranker",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--data", type=Path, required=True, help="ReDial folder, or a folder holding redial/ and iard/")
    parser.add_argument(
        "--items",
        type=Path,
        default=os.environ.get(ITEMS_ENV) or None,
        help=f"index folder built from the ReDial item text (env {ITEMS_ENV}); without it, the open "
        "universe: ReDial's movie names joined with the demo catalogue, all openly licensed, so the "
        "ranker may ship (data/ranker)",
    )
    parser.add_argument("--out", type=Path, default=Path("var") / "ranker" / "redial", help="folder for the ranker")
    defaults = TrainRankerArgs(Path(), Path(), Path())
    parser.add_argument("--folds", type=int, default=defaults.folds, help="out-of-fold parts of the train dialogues")
    parser.add_argument("--rounds", type=int, default=defaults.rounds, help="most boosting rounds")
    parser.add_argument(
        "--early-stopping",
        type=int,
        default=defaults.early_stopping,
        help="stop after this many rounds without a better validation NDCG@10",
    )
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--num-leaves", type=int, default=defaults.num_leaves)
    parser.add_argument("--min-data-in-leaf", type=int, default=defaults.min_data_in_leaf)
    parser.add_argument(
        "--limit", type=int, default=None, help="only N validation and 4N train dialogues (a smoke run)"
    )
    parser.add_argument(
        "--sequential",
        type=Path,
        default=None,
        help="SASRec folder of finetune.redial_sequential "
        "--split validation --folds N (one model per fold and one for all): a source and feature, "
        "compared with a ranker without it",
    )
    parser.add_argument(
        "--candidates-per-source",
        type=int,
        default=None,
        help="candidates each source recalls per turn (default: the app's candidates_per_source)",
    )
    parser.add_argument(
        "--grid",
        nargs="+",
        default=[],
        metavar="NAME=V1,V2",
        help="LightGBM parameters to search on validation, e.g. num_leaves=7,15,31 "
        "min_data_in_leaf=20,100 objective=lambdarank,rank_xendcg: one ranker per combination, the "
        "best validation recall kept",
    )
    parser.add_argument(
        "--refit-all",
        action="store_true",
        help="train the chosen ranker once more on train and validation rows together",
    )
    parser.add_argument(
        "--no-iard",
        dest="iard",
        action="store_false",
        help="leave out IARD's extra train dialogues (research-only terms): the ReDial train parts alone (CC BY 4.0), "
        "for a ranker that ships",
    )
    args = parser.parse_args(argv)
    try:
        grid = parse_grid(args.grid)
    except ValueError as error:
        parser.error(str(error))
    return TrainRankerArgs(
        args.data,
        args.items,
        args.out,
        args.folds,
        args.rounds,
        args.early_stopping,
        args.learning_rate,
        args.num_leaves,
        args.min_data_in_leaf,
        args.limit,
        args.sequential,
        args.candidates_per_source,
        grid,
        args.refit_all,
        args.iard,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    meta = main_with(args)
    print(
        json.dumps(
            {
                key: meta[key]
                for key in (
                    "best_iteration",
                    "validation",
                    "validation_recall",
                    "candidate_recall",
                    "grid",
                    "refit",
                    "data_hash",
                    "train_turns",
                    "validation_turns",
                    "seconds",
                )
                if key in meta
            },
            indent=2,
        )
    )
    print(f"saved to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
