"""A SASRec over ReDial dialogues' mention sequences: `python -m finetune.redial_sequential --data DIR --out DIR`.

Each train dialogue is one history: the movies mentioned in it, by either side, in the order
they were first mentioned (the order the engine feeds the sequential source: every item
mentioned so far, oldest first). A tenth of the dialogues, chosen by a hash of their id, is
held out whole for early stopping: SASRec (`retrieval.train_sequential.train`) learns from the
other dialogues' full sequences and is scored on every next mention of the held-out ones.
The vocabulary is the movies (ReDial movie ids, the item ids of the index built from the
ReDial item text) that occur in the training sequences; the engine gives other items no
sequential score.

`--split validation` learns from the train dialogues minus the validation split
(`evaluation.redial_splits`), for choosing and measuring on validation; `--split test` (the
default) learns from every train dialogue, for the test run and the product. Test dialogues
are never read. The model is written to `OUT/all`; put it in an index folder's `sequential/`
and the search uses it. `--folds N` also writes `OUT/fold-1` .. `OUT/fold-N`, each learned
without that fold's dialogues (`redial_splits.fold_of`), for `finetune.train_ranker --sequential OUT`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from corpora.dialogues import Dialogue
from corpora.redial import read_movie_names
from evaluation.redial import find_folder
from evaluation.redial_splits import fit_and_evaluated, fold_of
from retrieval.ranking import Histories
from retrieval.ranking.sequential import SasrecConfig, SequentialModelError, SequentialRecommender
from retrieval.train_sequential import TrainingConfig, TrainingReport, train

log = logging.getLogger("finetune.redial_sequential")

HELD_OUT_SHARE = 0.1
FOLDS_FILE = "folds.json"
MODEL = SasrecConfig(items=1, hidden=64, blocks=2, heads=1, max_length=50, dropout=0.3)
TRAINING = TrainingConfig(epochs=100, patience=8, batch_size=64, learning_rate=2e-3, weight_decay=0.1)


@dataclass(frozen=True)
class HeldOutHistories(Histories):
    """Histories where whole sequences are held out for validation instead of each sequence's last items."""

    held_out: frozenset[str] = frozenset()

    def train(self) -> list[tuple[str, ...]]:
        return [sequence for user, sequence in zip(self.users, self.sequences) if user not in self.held_out]

    def validation(self) -> list[tuple[str, tuple[str, ...], str]]:
        """(user, history, next item) for every position after the first of each held-out sequence."""
        return [
            (user, sequence[:position], sequence[position])
            for user, sequence in zip(self.users, self.sequences)
            if user in self.held_out
            for position in range(1, len(sequence))
        ]

    def test(self) -> list[tuple[str, tuple[str, ...], str]]:
        return []


def is_held_out(dialogue_id: str, share: float = HELD_OUT_SHARE) -> bool:
    digest = hashlib.sha256(("sasrec:" + dialogue_id).encode()).digest()
    return int.from_bytes(digest[:4], "big") < share * 2**32


def dialogue_histories(ids: Sequence[str], sequences: Sequence[Sequence[str]]) -> HeldOutHistories:
    """One history per dialogue (sequences of two or more items); the vocabulary is the training sequences' items.

    Held-out items the training sequences never hold are dropped from the held-out sequences (nothing could score them).
    """
    kept = [(dialogue_id, tuple(sequence)) for dialogue_id, sequence in zip(ids, sequences) if len(sequence) > 1]
    held = frozenset(dialogue_id for dialogue_id, _ in kept if is_held_out(dialogue_id))
    vocabulary = sorted({item for dialogue_id, sequence in kept if dialogue_id not in held for item in sequence})
    known = set(vocabulary)
    kept = [
        (dialogue_id, sequence if dialogue_id not in held else tuple(i for i in sequence if i in known))
        for dialogue_id, sequence in kept
    ]
    return HeldOutHistories(tuple(d for d, _ in kept), tuple(s for _, s in kept), tuple(vocabulary), held)


def train_on_sequences(
    ids: Sequence[str],
    sequences: Sequence[Sequence[str]],
    model: SasrecConfig = MODEL,
    training: TrainingConfig = TRAINING,
    progress: bool = True,
) -> tuple[SequentialRecommender, TrainingReport]:
    """A SASRec on the dialogues' mention sequences, early-stopped on the held-out dialogues."""
    histories = dialogue_histories(ids, sequences)
    config = SasrecConfig(**{**asdict(model), "items": len(histories.items)})
    threads = torch.get_num_threads()
    try:
        recommender, report = train(histories, config, training, progress)
    finally:
        torch.set_num_threads(threads)  # train() sets its own; the caller's search keeps its setting
    recommender.metadata = {
        "model": "SASRec (Kang & McAuley 2018) over ReDial mention sequences",
        "data": {
            "dialogues": len(histories.users),
            "held_out_dialogues": len(histories.held_out),
            "sha256": hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16],
        },
        "training": asdict(training),
        "report": asdict(report),
        "versions": {"torch": torch.__version__, "numpy": np.__version__},
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return recommender, report


def fold_models(folder: Path, folds: int) -> list[SequentialRecommender]:
    """The models of `--folds N --out folder`: fold-1 .. fold-N, then all; refuses another fold count."""
    found = json.loads((folder / FOLDS_FILE).read_text()) if (folder / FOLDS_FILE).is_file() else {}
    if found.get("folds") != folds:
        raise SequentialModelError(
            f"{folder}: needs models for {folds} folds (finetune.redial_sequential --folds {folds})"
        )
    return [SequentialRecommender.load(folder / f"fold-{fold + 1}") for fold in range(folds)] + [
        SequentialRecommender.load(folder / "all")
    ]


def mention_sequences(dialogues: Sequence[Dialogue], names: dict[str, str]) -> list[list[str]]:
    """Each dialogue's known movie ids in the order they were first mentioned."""
    return [[m for m in dict.fromkeys(m for turn in d.turns for m in turn.movie_ids) if m in names] for d in dialogues]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m finetune.redial_sequential", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="ReDial folder, or a folder holding redial/ and iard/")
    parser.add_argument("--out", type=Path, required=True, help="folder for the model (OUT/all) and the fold models")
    parser.add_argument(
        "--split",
        choices=("validation", "test"),
        default="test",
        help="validation: learn from train minus validation; test (the default): from every train dialogue",
    )
    parser.add_argument(
        "--folds", type=int, default=0, help="also one model per fold, learned without it (default 0: none)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    try:
        folder = find_folder(args.data, "redial", "movies_with_mentions.csv")
        names = read_movie_names(folder / "movies_with_mentions.csv")
        fit, _ = fit_and_evaluated(args.split, folder, names)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sequences = mention_sequences(fit, names)
    parts = [
        (f"fold-{fold + 1}", [n for n, d in enumerate(fit) if fold_of(d.id, args.folds) != fold])
        for fold in range(args.folds)
    ] + [("all", list(range(len(fit))))]
    for name, kept in parts:
        recommender, report = train_on_sequences([fit[n].id for n in kept], [sequences[n] for n in kept])
        recommender.metadata["split"] = args.split
        recommender.save(args.out / name)
        log.info(
            "%s: best epoch %d of %d, held-out %s, %.0f s",
            name,
            report.best_epoch,
            report.epochs_run,
            report.validation,
            report.seconds,
        )
    (args.out / FOLDS_FILE).write_text(json.dumps({"folds": args.folds, "split": args.split}) + "\n")
    log.info("saved to %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
