"""Train the sequential recommender: `python -m retrieval.train_sequential --interactions FILE --out DIR`.

Reads an interactions file (user, item[, rating], timestamp; CSV, TSV, Parquet or RecBole
`.inter`, as `retrieval.ranking.collaborative.read_interactions` reads it), keeps users and items
with at least `--min-count` interactions and orders each history by (timestamp, item id)
(`retrieval.ranking.sequences`). Each user's last item is never used; the second-to-last is the
validation target; the rest trains a SASRec (`retrieval.ranking.sequential`) with cross-entropy over
all items at every position. After each epoch the validation targets are ranked against all
items outside the user's history; training stops when NDCG@10 has not improved for
`--patience` epochs, and the best epoch's weights are saved with metadata (data hash,
hyperparameters, library versions, item vocabulary, validation scores, time).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import math
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from retrieval.ranking import InteractionsError, read_interactions
from retrieval.ranking.sequences import MIN_COUNT, Histories, ordered_histories
from retrieval.ranking.sequential import PAD, SasrecConfig, SasrecNetwork, SequentialRecommender, left_padded

log = logging.getLogger("retrieval.train_sequential")

VALIDATION_K = 10


@dataclass(frozen=True)
class TrainingConfig:
    """How the network is trained."""

    epochs: int = 200
    patience: int = 15
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 0.01
    seed: int = 0
    threads: int = 1  # on a shared 2-core machine one thread ran 4x faster than two

    def __post_init__(self) -> None:
        for name in ("epochs", "patience", "batch_size", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")


@dataclass(frozen=True)
class TrainingReport:
    epochs_run: int
    best_epoch: int
    validation: dict[str, float]  # at the best epoch
    curve: tuple[float, ...]  # validation NDCG@10 after each epoch
    seconds: float
    users: int
    items: int
    interactions: int


def training_windows(sequences: Sequence[Sequence[int]], max_length: int) -> list[list[int]]:
    """Each sequence cut into windows of at most max_length + 1 items, from its end (input = all but last, label = all but first).

    Example: training_windows([[1, 2, 3, 4, 5]], 2) -> [[3, 4, 5], [1, 2, 3]]
             (a window of one item teaches nothing and is left out)
    """
    windows = []
    for sequence in sequences:
        end = len(sequence)
        while end > 1:
            windows.append(list(sequence[max(0, end - max_length - 1) : end]))
            end -= max_length
    return windows


def batches_by_length(
    windows: Sequence[Sequence[int]], batch_size: int, generator: np.random.Generator
) -> list[np.ndarray]:
    """Window numbers in batches of similar length (little padding), the batches in random order.

    Example: lengths [5, 2, 5, 2] with batch_size 2 -> batches {1, 3} and {0, 2}, in either order
    """
    lengths = np.asarray([len(window) for window in windows])
    order = np.lexsort((generator.random(len(lengths)), lengths))
    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    return [batches[i] for i in generator.permutation(len(batches))]


def target_ranks(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """1-based rank of each row's target column; equal scores rank in column order (as a stable sort lists them).

    Example: target_ranks(np.array([[0.5, 0.9, 0.5]]), np.array([2])) -> array([3])
    """
    rows = np.arange(len(targets))
    target_scores = scores[rows, targets][:, None]
    earlier = np.arange(scores.shape[1])[None, :] < np.asarray(targets)[:, None]
    return 1 + (scores > target_scores).sum(axis=1) + ((scores == target_scores) & earlier).sum(axis=1)


def ranks_outside_history(scores: np.ndarray, histories: Sequence[Sequence[int]], targets: Sequence[int]) -> np.ndarray:
    """1-based rank of each target among the items outside its history (item index i is column i - 1).

    Example: ranks_outside_history(np.array([[0.9, 0.5, 0.1]]), [[1]], [2]) -> array([1])
             (item 1 scores highest but is in the history)
    """
    scores = scores.copy()
    for row, history in enumerate(histories):
        scores[row, [index - 1 for index in history]] = -np.inf
    return target_ranks(scores, np.asarray(targets) - 1)


def ranking_scores(ranks: np.ndarray, k: int = VALIDATION_K) -> dict[str, float]:
    """Recall@k and NDCG@k of one target per row from its rank.

    Example: ranking_scores(np.array([1, 3, 20]), 10) -> {"recall@10": 0.667, "ndcg@10": 0.5}
    """
    hits = ranks <= k
    gains = np.where(hits, 1.0 / np.log2(ranks + 1.0), 0.0)
    return {f"recall@{k}": round(float(hits.mean()), 4), f"ndcg@{k}": round(float(gains.mean()), 4)}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def train(
    histories: Histories,
    model: SasrecConfig | None = None,
    training: TrainingConfig = TrainingConfig(),
    progress: bool = True,
) -> tuple[SequentialRecommender, TrainingReport]:
    """A SASRec trained on each user's items but the last two, early-stopped on the second-to-last (see the module docstring)."""
    started = time.perf_counter()
    model = model or SasrecConfig(items=len(histories.items))
    if model.items != len(histories.items):
        raise ValueError(f"model has {model.items} items, the histories {len(histories.items)}")
    torch.manual_seed(training.seed)
    generator = np.random.default_rng(training.seed)
    torch.set_num_threads(training.threads)
    index = {item_id: number + 1 for number, item_id in enumerate(histories.items)}
    train_sequences = [[index[i] for i in sequence] for sequence in histories.train()]
    checks = [([index[i] for i in history], index[target]) for _, history, target in histories.validation()]
    windows = training_windows(train_sequences, model.max_length)
    if not windows or not checks:
        raise ValueError("too few interactions: every user needs at least 4 items to train and validate")

    network = SasrecNetwork(model)
    optimizer = torch.optim.AdamW(network.parameters(), lr=training.learning_rate, weight_decay=training.weight_decay)
    loss_function = nn.CrossEntropyLoss(ignore_index=PAD)
    best: tuple[float, int, dict, dict[str, float]] = (-math.inf, 0, {}, {})
    epochs_run, curve = 0, []
    bar = tqdm(range(1, training.epochs + 1), desc="SASRec epochs", unit="epoch", disable=not progress)
    for epoch in bar:
        epochs_run = epoch
        network.train()
        losses = []
        for rows in batches_by_length(windows, training.batch_size, generator):
            batch = left_padded([windows[i] for i in rows], max(len(windows[i]) for i in rows))
            inputs, labels = batch[:, :-1], batch[:, 1:]
            logits = network.item_scores(network(inputs))
            loss = loss_function(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(network.parameters(), 5.0)
            optimizer.step()
            losses.append(loss.item())
        network.eval()
        recommender = SequentialRecommender(network, histories.items)
        scores = recommender.score_histories([[histories.items[i - 1] for i in history] for history, _ in checks])
        found = ranking_scores(ranks_outside_history(scores, [h for h, _ in checks], [t for _, t in checks]))
        bar.set_postfix(loss=f"{np.mean(losses):.3f}", ndcg=found[f"ndcg@{VALIDATION_K}"])
        curve.append(found[f"ndcg@{VALIDATION_K}"])
        log.debug("epoch %d: loss %.4f, validation %s", epoch, np.mean(losses), found)
        if found[f"ndcg@{VALIDATION_K}"] > best[0]:
            state = {name: tensor.detach().clone() for name, tensor in network.state_dict().items()}
            best = (found[f"ndcg@{VALIDATION_K}"], epoch, state, found)
        elif epoch - best[1] >= training.patience:
            break
    network.load_state_dict(best[2])
    report = TrainingReport(
        epochs_run,
        best[1],
        best[3],
        tuple(curve),
        round(time.perf_counter() - started, 1),
        len(histories.users),
        len(histories.items),
        sum(len(s) for s in histories.sequences),
    )
    return SequentialRecommender(network, histories.items), report


def metadata(source: Path, min_count: int, training: TrainingConfig, report: TrainingReport) -> dict:
    """What a saved model says about how it was made."""
    return {
        "model": "SASRec (Kang & McAuley 2018), cross-entropy over all items",
        "data": {
            "file": source.name,
            "sha256": file_sha256(source),
            "min_count": min_count,
            "ties_by_item_id": True,
            "split": "per user by (timestamp, item id); last item unused, second-to-last validation",
        },
        "training": asdict(training),
        "report": asdict(report),
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__},
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


MODEL_HELP = {
    "hidden": "embedding and attention width",
    "blocks": "self-attention blocks",
    "heads": "attention heads",
    "max_length": "most recent items the model reads",
    "dropout": "dropout rate",
}
TRAINING_HELP = {
    "epochs": "most epochs",
    "patience": "stop after this many epochs without a better validation NDCG@10",
    "batch_size": "training windows per step",
    "learning_rate": "AdamW learning rate",
    "weight_decay": "AdamW weight decay",
    "seed": "random seed",
    "threads": "torch CPU threads",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m retrieval.train_sequential",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--interactions",
        type=Path,
        required=True,
        help="user-item interactions with timestamps: .csv, .tsv, .parquet or RecBole .inter",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for sequential.safetensors and sequential.json")
    parser.add_argument(
        "--min-count", type=int, default=MIN_COUNT, help="keep users and items with at least this many interactions"
    )
    for defaults, helps in ((SasrecConfig(items=1), MODEL_HELP), (TrainingConfig(), TRAINING_HELP)):
        for name, help_text in helps.items():
            value = getattr(defaults, name)
            parser.add_argument("--" + name.replace("_", "-"), type=type(value), default=value, help=help_text)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    try:
        histories = ordered_histories(read_interactions(args.interactions), args.min_count)
        model = SasrecConfig(items=max(len(histories.items), 1), **{name: getattr(args, name) for name in MODEL_HELP})
        training = TrainingConfig(**{name: getattr(args, name) for name in TRAINING_HELP})
        log.info(
            "%d users, %d items, %d interactions after the %d-core filter",
            len(histories.users),
            len(histories.items),
            sum(len(s) for s in histories.sequences),
            args.min_count,
        )
        recommender, report = train(histories, model, training)
    except (InteractionsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    recommender.metadata = metadata(args.interactions, args.min_count, training, report)
    recommender.save(args.out)
    log.info(
        "best epoch %d of %d: validation %s; %.0f s; saved to %s",
        report.best_epoch,
        report.epochs_run,
        report.validation,
        report.seconds,
        args.out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
