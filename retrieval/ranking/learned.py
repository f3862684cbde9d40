"""The learned ranker: a LightGBM LambdaRank model over the candidate features, saved with its metadata and loaded by the search.

A ranker folder holds `ranker.txt` (LightGBM's own text format) and `ranker.json` (the feature
names, the LightGBM version, the training data's hash, parameters and validation scores). A
model whose feature names differ from `features.FEATURES` is refused, never used on
the wrong columns. lightgbm is imported only here, when a ranker is trained or loaded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.ranking.features import FEATURES

MODEL_FILE, META_FILE = "ranker.txt", "ranker.json"


class RankerUnavailableError(RuntimeError):
    """A ranker folder that cannot be used: missing, unreadable, lightgbm absent, or built for other features."""


@dataclass(frozen=True)
class RankingGroups:
    """Candidate feature rows with 0/1 labels, grouped by search (one group per dialogue turn)."""

    features: np.ndarray
    labels: np.ndarray
    group_sizes: np.ndarray

    @classmethod
    def concatenate(cls, parts: Sequence[RankingGroups]) -> RankingGroups:
        return cls(
            np.vstack([p.features for p in parts]),
            np.concatenate([p.labels for p in parts]),
            np.asarray([size for p in parts for size in p.group_sizes], dtype=np.int64),
        )


def _lightgbm():
    try:
        import lightgbm
    except ImportError as error:
        raise RankerUnavailableError("the learned ranker needs lightgbm (pip install lightgbm)") from error
    return lightgbm


class LightGBMRanker:
    """score(features) with a trained LightGBM booster."""

    name = "lightgbm"

    def __init__(self, booster, meta: dict):
        self.booster = booster
        self.meta = meta

    def score(self, features: np.ndarray) -> np.ndarray:
        return self.booster.predict(features, num_threads=1)

    @classmethod
    def load(cls, folder: str | Path) -> LightGBMRanker:
        folder = Path(folder)
        try:
            meta = json.loads((folder / META_FILE).read_text())
        except (OSError, ValueError) as error:
            raise RankerUnavailableError(f"no readable {META_FILE} in {folder}: {error}") from error
        if tuple(meta.get("features", ())) != FEATURES:
            raise RankerUnavailableError(f"ranker in {folder} was trained on other features: retrain it")
        booster = _lightgbm().Booster(model_file=str(folder / MODEL_FILE))
        return cls(booster, meta)

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(folder / MODEL_FILE))
        (folder / META_FILE).write_text(json.dumps(self.meta, indent=2))


def train(
    train: RankingGroups, valid: RankingGroups | None, params: dict, rounds: int, early_stopping: int, meta: dict
) -> LightGBMRanker:
    """LambdaRank on the train groups, stopping when NDCG@10 on the validation groups stops improving.

    Without validation groups it trains for exactly `rounds` rounds.
    """
    lightgbm = _lightgbm()
    train_set = lightgbm.Dataset(train.features, train.labels, group=train.group_sizes, feature_name=list(FEATURES))
    params = {"objective": "lambdarank", "metric": "ndcg", "eval_at": [10, 50], "verbosity": -1, **params}
    evaluations: dict = {}
    if valid is None:
        booster = lightgbm.train(params, train_set, num_boost_round=rounds)
    else:
        valid_set = lightgbm.Dataset(valid.features, valid.labels, group=valid.group_sizes, reference=train_set)
        booster = lightgbm.train(
            params,
            train_set,
            num_boost_round=rounds,
            valid_sets=[valid_set],
            valid_names=["validation"],
            callbacks=[
                lightgbm.early_stopping(early_stopping, verbose=False),
                lightgbm.record_evaluation(evaluations),
                lightgbm.log_evaluation(25),
            ],
        )
    best = booster.best_iteration or rounds
    scores = {name: round(values[best - 1], 4) for name, values in evaluations.get("validation", {}).items()}
    meta = {
        **meta,
        "features": list(FEATURES),
        "lightgbm_version": lightgbm.__version__,
        "params": params,
        "best_iteration": best,
        "validation": scores,
        "importance_gain": dict(zip(FEATURES, (round(float(v), 1) for v in booster.feature_importance("gain")))),
    }
    return LightGBMRanker(booster, meta)
