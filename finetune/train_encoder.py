"""Fine-tuning the sentence encoder on ReDial: `python -m finetune.train_encoder --data DIR --items DIR --out DIR`.

Pairs: for every recommender turn of a ReDial train dialogue that mentions a movie for the
first time, (the dialogue so far, its last `--context-words` words) -> (that movie's text, as the
index in `--items` embedded it: its recipe over title, year, genres, credits, plot). The
encoder (MiniLM by default) learns with sentence-transformers' MultipleNegativesRankingLoss:
every other pair's movie in the batch is a negative (in-batch negatives; a batch never holds
one movie twice). `--split validation` (the default) learns from the train dialogues minus
validation, so the search path can be scored on validation with it; `--split test` from every
train dialogue. Test dialogues are never read.

Output: the model in `--out` (sentence-transformers format, loadable by `build_index
--embedding-model DIR`) and `encoder.json` (base model, pairs, data hash, hyperparameters,
library versions, seconds). Item text of a research-use source (the staged movie_text) makes
the model research-use too: benchmark only, never shipped.
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

log = logging.getLogger("finetune.train_encoder")

CONTEXT_WORDS = 64  # MiniLM reads 256 word pieces; the end of the dialogue names what is asked for


@dataclass(frozen=True)
class EncoderArgs:
    data: Path
    items: Path
    out: Path
    split: str = "validation"
    base_model: str = "default"
    epochs: float = 1.0
    batch_size: int = 32
    learning_rate: float = 2e-5
    context_words: int = CONTEXT_WORDS
    max_pairs: int | None = None
    seed: int = 0
    max_seq_length: int = 128  # word pieces per text; the saved model (and an index built with it) keeps it

    def __post_init__(self) -> None:
        if self.split not in ("validation", "test"):
            raise ValueError(f"split: 'validation' or 'test', got {self.split!r}")
        if self.batch_size < 2:
            raise ValueError(f"batch_size: at least 2 (in-batch negatives), got {self.batch_size}")
        if self.max_seq_length < 16:
            raise ValueError(f"max_seq_length: at least 16, got {self.max_seq_length}")
        if self.epochs <= 0 or self.learning_rate <= 0:
            raise ValueError("epochs and learning_rate: must be positive")


def dialogue_pairs(dialogues, item_text: dict[str, str], context_words: int = CONTEXT_WORDS) -> list[tuple[str, str]]:
    """(last words of the dialogue so far, text of a movie first mentioned in this recommender turn) for every such movie.

    Example: turns s:"I liked @1", r:"try @2" with item_text {"1": "A.", "2": "B."} -> [("Seeker: I liked @1", "B.")]
    """
    pairs = []
    for dialogue in dialogues:
        lines: list[str] = []
        earlier: set[str] = set()
        for turn in dialogue.turns:
            if turn.role == "recommender" and lines:
                context = " ".join(" ".join(lines).split()[-context_words:])
                pairs += [
                    (context, item_text[m])
                    for m in dict.fromkeys(turn.movie_ids)
                    if m in item_text and m not in earlier
                ]
            lines.append(f"{turn.role.capitalize()}: {turn.text}")
            earlier |= set(turn.movie_ids)
    return pairs


def train(args: EncoderArgs, pairs: Sequence[tuple[str, str]], progress: bool = True):
    """The fine-tuned SentenceTransformer (MultipleNegativesRankingLoss, no duplicate movie within a batch)."""
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers

    from retrieval.embeddings import DEFAULT_EMBEDDING_MODEL, default_embedding_path

    base = default_embedding_path() if args.base_model in ("", DEFAULT_EMBEDDING_MODEL) else args.base_model
    model = SentenceTransformer(base, device="cpu")
    model.max_seq_length = args.max_seq_length  # a step costs about linearly in it; titles, credits and plot come first
    data = Dataset.from_dict({"anchor": [a for a, _ in pairs], "positive": [p for _, p in pairs]})
    training = SentenceTransformerTrainingArguments(
        output_dir=str(args.out / "checkpoints"),
        num_train_epochs=args.epochs,
        per_device_train_batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        warmup_steps=0.1,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        save_strategy="no",
        logging_steps=20,
        report_to="none",
        use_cpu=True,
        seed=args.seed,
        disable_tqdm=not progress,
        dataloader_num_workers=0,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=training, train_dataset=data, loss=MultipleNegativesRankingLoss(model)
    )
    trainer.train()
    return model


def main_with(args: EncoderArgs, progress: bool = True) -> dict:
    """Build the pairs, train, save the model and its metadata; returns the metadata."""
    import sentence_transformers
    import torch

    from corpora.redial import read_movie_names
    from evaluation.redial import find_folder
    from evaluation.redial_splits import fit_and_evaluated
    from retrieval.index import ItemIndex

    started = time.perf_counter()
    folder = find_folder(args.data, "redial", "movies_with_mentions.csv")
    names = read_movie_names(folder / "movies_with_mentions.csv")
    fit, _ = fit_and_evaluated(args.split, folder, names)
    index = ItemIndex.open(args.items)
    recipe = index.recipe
    item_text = {item.id: recipe.text(item) for item in index.catalog}
    pairs = dialogue_pairs(fit, item_text, args.context_words)
    if args.max_pairs:
        pairs = pairs[: args.max_pairs]
    if len(pairs) < args.batch_size:
        raise ValueError(f"only {len(pairs)} training pairs: fewer than one batch of {args.batch_size}")
    log.info("%d pairs from %d dialogues", len(pairs), len(fit))
    model = train(args, pairs, progress)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save(str(args.out))
    meta = {
        "loss": "MultipleNegativesRankingLoss (in-batch negatives, no duplicate movie in a batch)",
        "pairs": len(pairs),
        "dialogues": len(fit),
        "split": args.split,
        "data_hash": hashlib.sha256(
            "\n".join(sorted(d.id for d in fit)).encode() + index.manifest.catalog_hash.encode()
        ).hexdigest()[:16],
        "items": index.manifest.catalog_source.rsplit("/", 1)[-1],
        "arguments": {
            k: str(v) if isinstance(v, Path) else v
            for k, v in asdict(args).items()
            if k not in ("data", "items", "out")
        },
        "versions": {"sentence_transformers": sentence_transformers.__version__, "torch": torch.__version__},
        "seconds": round(time.perf_counter() - started, 1),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (args.out / "encoder.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def parse_args(argv: list[str] | None = None) -> EncoderArgs:
    defaults = EncoderArgs(Path(), Path(), Path())
    parser = argparse.ArgumentParser(prog="python -m finetune.train_encoder", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="ReDial folder, or a folder holding redial/ and iard/")
    parser.add_argument("--items", type=Path, required=True, help="index folder whose item texts are the positives")
    parser.add_argument("--out", type=Path, required=True, help="folder for the fine-tuned encoder and encoder.json")
    parser.add_argument(
        "--split",
        choices=("validation", "test"),
        default=defaults.split,
        help="validation (the default): learn from train minus validation; test: from every train dialogue",
    )
    parser.add_argument(
        "--base-model", default=defaults.base_model, help="encoder to start from (default: the app's MiniLM)"
    )
    parser.add_argument(
        "--epochs", type=float, default=defaults.epochs, help=f"passes over the pairs (default: {defaults.epochs:g})"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=defaults.batch_size,
        help=f"pairs per step; the others' movies are the negatives (default: {defaults.batch_size})",
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=defaults.learning_rate,
        help=f"AdamW learning rate (default: {defaults.learning_rate:g})",
    )
    parser.add_argument(
        "--context-words",
        type=int,
        default=defaults.context_words,
        help=f"last words of the dialogue in each anchor (default: {defaults.context_words})",
    )
    parser.add_argument("--max-pairs", type=int, default=None, help="use only the first N pairs (default: all)")
    parser.add_argument("--seed", type=int, default=defaults.seed, help=f"random seed (default: {defaults.seed})")
    parser.add_argument(
        "--max-seq-length",
        type=int,
        default=defaults.max_seq_length,
        help="word pieces per anchor or item text; the saved model keeps it, so an index built with it "
        f"reads items that far (default: {defaults.max_seq_length}; the stock MiniLM reads 256)",
    )
    args = parser.parse_args(argv)
    return EncoderArgs(
        args.data,
        args.items,
        args.out,
        args.split,
        args.base_model,
        args.epochs,
        args.batch_size,
        args.learning_rate,
        args.context_words,
        args.max_pairs,
        args.seed,
        args.max_seq_length,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    try:
        meta = main_with(args)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps({key: meta[key] for key in ("pairs", "dialogues", "split", "data_hash", "seconds")}, indent=2))
    print(f"saved to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
