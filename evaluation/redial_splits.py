"""ReDial dialogues by split: train, a validation split carved from train by dialogue, and test.

Train is every staged ReDial training dialogue: the `train_part_*.jsonl` files in the ReDial
folder plus the IARD copies of training dialogues (`../iard/iard_train_range.json` beside it,
1,663 distinct dialogues in all, deduplicated by conversation id). Validation is the train
dialogues whose id hashes into the first VALIDATION_SHARE of the range (a stable split by
dialogue, so no dialogue is in both); everything tuned (EASE's lambda, fusion weights, recency,
the ranker's early stopping) is chosen on it. Test is `test_data.jsonl`; nothing learns from it.

`fit_and_evaluated(split)` says which dialogues the models may learn from for a split:
validation -> (train minus validation, validation); test -> (all train, test).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from corpora.dialogues import Dialogue
from corpora.redial import read_dialogues, read_iard_dialogues

VALIDATION_SHARE = 0.2
SPLITS = ("validation", "test")
IARD_FILE = Path("iard") / "iard_train_range.json"


def train_dialogues(redial_folder: Path, movie_names: dict[str, str], iard: bool = True) -> list[Dialogue]:
    """Every staged training dialogue once: the train parts, then IARD's extra ones (when the IARD file is there and
    `iard` is on; IARD's terms are research-only, so a model that ships learns without them)."""
    dialogues: dict[str, Dialogue] = {}
    for path in sorted(redial_folder.glob("train_part_*.jsonl")):
        for dialogue in read_dialogues(path, movie_names):
            dialogues.setdefault(dialogue.id, dialogue)
    iard_file = redial_folder.parent / IARD_FILE
    if iard and iard_file.is_file():
        for dialogue in read_iard_dialogues(iard_file):
            dialogues.setdefault(dialogue.id, dialogue)
    if not dialogues:
        raise FileNotFoundError(f"no train_part_*.jsonl in {redial_folder}: the models need training dialogues")
    return list(dialogues.values())


def is_validation(dialogue_id: str, share: float = VALIDATION_SHARE) -> bool:
    """A stable coin for a dialogue: the first bytes of sha256(id) below `share` of their range."""
    digest = hashlib.sha256(dialogue_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") < share * 2**32


def fold_of(dialogue_id: str, folds: int) -> int:
    """A stable fold number in [0, folds) for a dialogue (out-of-fold training of the ranker's features)."""
    return int(hashlib.sha256(("fold:" + dialogue_id).encode()).hexdigest(), 16) % folds


def fit_and_evaluated(
    split: str, redial_folder: Path, movie_names: dict[str, str], iard: bool = True
) -> tuple[list[Dialogue], list[Dialogue]]:
    """(dialogues the models learn from, dialogues evaluated) for the split."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    train = train_dialogues(redial_folder, movie_names, iard)
    if split == "test":
        return train, list(read_dialogues(redial_folder / "test_data.jsonl", movie_names))
    return [d for d in train if not is_validation(d.id)], [d for d in train if is_validation(d.id)]
