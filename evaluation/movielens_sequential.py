"""MovieLens-100k next-item benchmark of the interaction models: SASRec, EASE, transitions, co-occurrence, popularity and their blend.

Two splits of `ml-100k.inter`:
- `llamarec` (LlamaRec's public preprocessing, `retrieval.ranking.sequences`): users and items with at
  least 5 ratings, re-counted until both hold (943 users, 1,349 items); each history ordered
  by (timestamp, item id).
- `loo` (the project's older protocol): no filter (all 1,682 items); equal timestamps in file order.
In both, each user's last item is the test target, the second-to-last the validation target,
and the rest is all that any model learns from. The validation targets are ranked with the
training items as history; the test targets with every item but the last as history. Every
target is ranked against all items outside the user's history.

Everything that is chosen is chosen on the validation targets: SASRec's early stopping,
EASE's l2 and recency decay, the transitions' decay and the blend weights (coordinate ascent
over a grid, NDCG@10). The test targets are ranked once, at the end, by the chosen systems.
The ablation re-tunes the blend without each part, on validation again.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evaluation import baselines, item_scores
from evaluation.movielens import HeldOutUser, MovielensRun
from evaluation.redial import find_folder
from retrieval.ranking import Histories, ordered_histories, read_interactions
from retrieval.ranking.sequential import SequentialRecommender
from retrieval.train_sequential import TrainingConfig, file_sha256, ranking_scores, target_ranks, train

log = logging.getLogger("evaluation.movielens_sequential")

SPLITS = ("llamarec", "loo")
PROTOCOLS = {
    "llamarec": "LlamaRec's preprocessing: 5-core users and items, histories by (timestamp, item id); last item test, "
    "second-to-last validation; ranked against all items outside the history",
    "loo": "no filter, histories by timestamp (ties in file order); last item test, second-to-last validation; "
    "ranked against all items outside the history",
}
LIST_LENGTH = 50
PARTS = ("sasrec", "ease", "transitions", "popularity")
LABELS = {
    "blend": "blend: SASRec + EASE + transitions + popularity (weights tuned on validation)",
    "sasrec": "SASRec alone (ours, torch)",
    "ease": "EASE, recency-weighted history",
    "transitions": "first-order transitions",
    "cooccurrence": "item-item co-occurrence, whole history",
    "popularity": "popularity (training sequences)",
    **{f"without_{part}": f"blend without {part}" for part in PARTS},
}
EASE_L2 = (100.0, 250.0, 500.0, 1000.0)
EASE_DECAY = (1.0, 0.995, 0.98, 0.95)
TRANSITION_DECAY = (0.0, 0.3, 0.6)
WEIGHT_GRID = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0)


@dataclass
class SequentialRun:
    split: str
    validation: MovielensRun
    test: MovielensRun
    chosen: dict  # hyperparameters and weights picked on validation
    training: dict  # SASRec's training report
    info: dict = field(default_factory=dict)

    def summary(self) -> dict:
        return {
            "benchmark": "movielens-100k, interaction models",
            "split": self.split,
            "protocol": PROTOCOLS[self.split],
            "validation": self.validation.summary(),
            "test": self.test.summary(),
            "chosen": self.chosen,
            "sasrec_training": self.training,
            **self.info,
        }


def top_lists(
    scores: np.ndarray, histories: Sequence[Sequence[int]], ids: Sequence[str], k: int = LIST_LENGTH
) -> list[list[str]]:
    """Each row's k best item ids outside its history; equal scores in vocabulary order.

    Example: top_lists(np.array([[0.1, 0.9, 0.5]]), [[1]], ["a", "b", "c"], 2) -> [["c", "a"]]
    """
    masked = scores.astype(np.float64, copy=True)
    for row, history in enumerate(histories):
        masked[row, list(history)] = -np.inf
    order = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    return [[ids[i] for i in row if np.isfinite(masked[number, i])] for number, row in enumerate(order)]


def validation_ndcg(scores: np.ndarray, targets: np.ndarray) -> float:
    """Mean NDCG@10 of standardized (history at -inf) rows for one target index each."""
    return ranking_scores(target_ranks(scores, targets))["ndcg@10"]


def tune_weights(
    parts: dict[str, np.ndarray], targets: np.ndarray, fixed_zero: Sequence[str] = (), rounds: int = 3
) -> tuple[dict[str, float], float]:
    """Blend weights by coordinate ascent over WEIGHT_GRID on validation NDCG@10; the first free part starts at 1."""
    free = [name for name in parts if name not in fixed_zero]
    weights = {name: (1.0 if name == free[0] else 0.0) for name in parts}
    best = validation_ndcg(item_scores.blend(parts, weights), targets)
    for _ in range(rounds):
        improved = False
        for name in free:
            for value in WEIGHT_GRID:
                trial = {**weights, name: value}
                if not any(trial.values()):
                    continue
                found = validation_ndcg(item_scores.blend(parts, trial), targets)
                if found > best + 1e-9:
                    best, weights, improved = found, trial, True
        if not improved:
            break
    return weights, best


def load_or_train(
    histories: Histories, model_dir: Path | None, made_here: dict, training: TrainingConfig, progress: bool
) -> tuple[SequentialRecommender, dict]:
    """A saved SASRec when it was trained on this very file, split and vocabulary, else a new one trained here.

    `made_here`: the data file's sha256, min_count and ties_by_item_id, as the training command records them.
    """
    if model_dir is not None:
        recommender = SequentialRecommender.load(model_dir)
        made = recommender.metadata.get("data", {})
        if any(made.get(key) != value for key, value in made_here.items()) or list(recommender.items) != list(
            histories.items
        ):
            raise ValueError(f"{model_dir}: trained on other data or another split than this benchmark's")
        return recommender, {**recommender.metadata.get("report", {}), "loaded_from": model_dir.name}
    recommender, report = train(histories, training=training, progress=progress)
    return recommender, {
        "best_epoch": report.best_epoch,
        "epochs_run": report.epochs_run,
        "validation": report.validation,
        "seconds": report.seconds,
        "threads": training.threads,
        "validation_ndcg@10_curve": list(report.curve),
    }


def run(
    data: Path,
    split: str = "llamarec",
    model_dir: Path | None = None,
    training: TrainingConfig = TrainingConfig(),
    progress: bool = True,
) -> SequentialRun:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    path = find_folder(Path(data), "ml-100k", "ml-100k.inter") / "ml-100k.inter"
    made_here = {
        "sha256": file_sha256(path),
        "min_count": 5 if split == "llamarec" else 1,
        "ties_by_item_id": split == "llamarec",
    }
    histories = ordered_histories(read_interactions(path), made_here["min_count"], made_here["ties_by_item_id"])
    ids, position = list(histories.items), {item_id: n for n, item_id in enumerate(histories.items)}
    train_sequences = [[position[i] for i in s] for s in histories.train()]
    cases = {"validation": histories.validation(), "test": histories.test()}
    recommender, training_report = load_or_train(histories, model_dir, made_here, training, progress)

    mark = time.perf_counter()
    models = {l2: item_scores.InteractionModels.fit(train_sequences, len(ids), l2) for l2 in EASE_L2}
    fit_seconds = time.perf_counter() - mark
    inputs = {name: [[position[i] for i in history] for _, history, _ in rows] for name, rows in cases.items()}
    targets = {name: np.asarray([position[target] for _, _, target in rows]) for name, rows in cases.items()}

    def pick(score: Callable[[item_scores.InteractionModels, float], np.ndarray], grid) -> tuple:
        histories_v = inputs["validation"]
        return max(
            grid,
            key=lambda choice: validation_ndcg(
                item_scores.standardized(score(models[choice[0]], choice[1]), histories_v), targets["validation"]
            ),
        )

    ease_l2, ease_decay = pick(
        lambda m, d: m.ease_scores(inputs["validation"], d), itertools.product(EASE_L2, EASE_DECAY)
    )
    _, transition_decay = pick(
        lambda m, d: m.transition_scores(inputs["validation"], d), [(EASE_L2[0], d) for d in TRANSITION_DECAY]
    )
    fitted = models[ease_l2]

    seconds: dict[str, dict[str, float]] = {"validation": {}, "test": {}}
    raw: dict[str, dict[str, np.ndarray]] = {"validation": {}, "test": {}}
    scorers = {
        "sasrec": lambda rows: recommender.score_histories([[ids[i] for i in h] for h in rows]),
        "ease": lambda rows: fitted.ease_scores(rows, ease_decay),
        "transitions": lambda rows: fitted.transition_scores(rows, transition_decay),
        "popularity": fitted.popularity_scores,
    }
    parts: dict[str, dict[str, np.ndarray]] = {"validation": {}, "test": {}}
    for name, rows in inputs.items():
        for part, scorer in scorers.items():
            mark = time.perf_counter()
            raw[name][part] = scorer(rows)
            parts[name][part] = item_scores.standardized(raw[name][part], rows)
            seconds[name][part] = time.perf_counter() - mark

    weights, validation_best = tune_weights(parts["validation"], targets["validation"])
    ablations = {
        f"without_{part}": tune_weights(parts["validation"], targets["validation"], fixed_zero=(part,))[0]
        for part in PARTS
    }

    popularity = baselines.PopularityRanker([[ids[i] for i in s] for s in train_sequences])
    cooccurrence = baselines.cooccurrence_from_baskets([[ids[i] for i in s] for s in train_sequences], set(ids))

    runs = {}
    for name, rows in cases.items():
        users = [HeldOutUser(user, history, (), target) for user, history, target in rows]
        rankings: dict[str, list[list[str]]] = {}
        for part in PARTS:
            rankings[part] = top_lists(raw[name][part], inputs[name], ids)
        for system, chosen in {"blend": weights, **ablations}.items():
            mark = time.perf_counter()
            rankings[system] = top_lists(item_scores.blend(parts[name], chosen), inputs[name], ids)
            seconds[name][system] = time.perf_counter() - mark + sum(seconds[name][p] for p, w in chosen.items() if w)
        mark = time.perf_counter()
        rankings["cooccurrence"] = [
            baselines.cooccurrence_ranking(cooccurrence, u.history, popularity, LIST_LENGTH, set(u.history))
            for u in users
        ]
        seconds[name]["cooccurrence"] = time.perf_counter() - mark
        order = ["blend", "sasrec", "ease", "transitions", "cooccurrence", "popularity", *ablations]
        runs[name] = MovielensRun(
            users, {s: rankings[s] for s in order}, seconds[name], "blend", protocol=PROTOCOLS[split], labels=LABELS
        )

    chosen = {
        "ease_l2": ease_l2,
        "ease_decay": ease_decay,
        "transition_decay": transition_decay,
        "blend_weights": weights,
        "blend_validation_ndcg@10": validation_best,
        "ablation_weights": ablations,
    }
    info = {
        "users": len(histories.users),
        "items": len(ids),
        "interactions": sum(len(s) for s in histories.sequences),
        "interaction_models_fit_seconds": round(fit_seconds, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "sasrec_ms_per_single_user": round(single_user_ms(recommender, [h for _, h, _ in cases["test"]]), 2),
        "machine": f"{os.cpu_count()} CPU cores",
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    return SequentialRun(split, runs["validation"], runs["test"], chosen, training_report, info)


def single_user_ms(recommender: SequentialRecommender, histories: Sequence[Sequence[str]], users: int = 100) -> float:
    """Mean milliseconds of one `top(history, 50)` call, one user at a time (what a chat turn pays)."""
    sample = list(histories)[:users]
    mark = time.perf_counter()
    for history in sample:
        recommender.top(history, LIST_LENGTH, exclude=set(history))
    return 1000 * (time.perf_counter() - mark) / max(len(sample), 1)


METRIC_COLUMNS = ("recall@1", "recall@5", "recall@10", "recall@20", "ndcg@10")


def table_lines(summary: dict) -> list[str]:
    """A markdown table: test metrics with 95% intervals, and validation R@10 / NDCG@10, per system."""
    test, validation = summary["test"], summary["validation"]
    lines = [
        "| system | R@1 | R@5 | R@10 | R@20 | NDCG@10 | R@10 95% CI | NDCG@10 95% CI | validation R@10 | validation NDCG@10 | ms / user |",
        "| --- |" + " ---: |" * 5 + " --- | --- |" + " ---: |" * 3,
    ]
    rows = {
        test["system"]: (test["metrics"], validation["metrics"]),
        **{scores["label"]: (scores, validation["baselines"][name]) for name, scores in test["baselines"].items()},
    }
    for label, (scores, checked) in rows.items():
        low, high = scores["recall@10_ci95"]
        nlow, nhigh = scores["ndcg@10_ci95"]
        lines.append(
            f"| {label} | "
            + " | ".join(f"{scores[c]:.4f}" for c in METRIC_COLUMNS)
            + f" | [{low:.3f}, {high:.3f}] | [{nlow:.3f}, {nhigh:.3f}] | {checked['recall@10']:.4f} "
            f"| {checked['ndcg@10']:.4f} | {scores['ms_per_user']:.2f} |"
        )
    return lines


def print_report(summary: dict) -> None:
    print(
        f"MovieLens-100k, split {summary['split']}: {summary['users']} users, {summary['items']:,} items, "
        f"{summary['interactions']:,} interactions ({summary['seconds']} s on {summary['machine']}, 1-minute load "
        f"average {summary['load_average_1min'][0]} at the start, {summary['load_average_1min'][1]} at the end)"
    )
    print(f"protocol: {summary['protocol']}")
    for line in table_lines(summary):
        print(line)
    print(f"chosen on validation: {summary['chosen']}")
    print(
        f"SASRec training: {summary['sasrec_training']}; one user's top 50: {summary['sasrec_ms_per_single_user']} ms"
    )


def markdown_lines(summary: dict, command: str) -> list[str]:
    """A report section from one run's summary: protocol, the table, what validation chose, training time and cost."""
    chosen, trained = summary["chosen"], summary["sasrec_training"]
    weights = ", ".join(f"{name} {value:g}" for name, value in chosen["blend_weights"].items())
    return [
        f"Produced by `{command}` ({summary['seconds']:.0f} s on {summary['machine']}, 1-minute load average "
        f"{summary['load_average_1min'][0]} at the start and {summary['load_average_1min'][1]} at the end: the machine was shared). "
        f"{summary['users']} users, {summary['items']:,} items, {summary['interactions']:,} ratings. Protocol: {summary['protocol']}. "
        "Test columns rank each user's last item once; the validation columns (second-to-last item, training items as "
        "history) are where every choice below was made. R@10 intervals are Wilson, NDCG@10 bootstrap (95%).",
        "",
        *table_lines(summary),
        "",
        f"Chosen on validation: EASE l2 {chosen['ease_l2']:g}, recency decay {chosen['ease_decay']:g}; transitions decay "
        f'{chosen["transition_decay"]:g}; blend weights (of per-user standardized scores) {weights}. The "blend without" rows '
        "re-tune the weights on validation without that part (the ablation).",
        f"SASRec: best validation epoch {trained.get('best_epoch')} of {trained.get('epochs_run')}, trained in "
        f"{trained.get('seconds')} s with {trained.get('threads')} torch thread(s); one user's top 50, one request at a "
        f"time: {summary['sasrec_ms_per_single_user']} ms. The ms / user column is the batched cost of scoring all test "
        "users (a blend pays for its parts).",
    ]
