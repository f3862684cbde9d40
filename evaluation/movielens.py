"""MovieLens-100k benchmark: `python -m evaluation.movielens [--protocol llamarec|loo] [--data DIR] [--json]`.

`--protocol llamarec` (the default) ranks with the interaction models (SASRec, EASE,
transitions, their blend and the baselines) under LlamaRec's preprocessing and split; see
`evaluation.movielens_sequential`. `--protocol loo` is the project's older benchmark, below,
followed by the same interaction models on its split, so both protocols can be read side by side.

Leave-one-out next-item recommendation on the RecBole atomic files (`ml-100k.inter`,
`ml-100k.item`): each user's last interaction (by timestamp; ties by file order) is held out;
the rest is their history. The history is told to the system as one message, "I watched and
liked A (1995), B (1994) and C (1996). What should I watch next?", naming the user's most
recent liked films (rating >= 4; the most recent films when none is liked). The held-out item
is ranked against all 1,682 items; items of the user's history are left out of every ranking
(they are what the person has seen). Recall@10 (Wilson 95% interval; one sample per user) and
NDCG@10 (bootstrap 95% interval), plus Recall@1, @5, @20 and @50.

Systems in one run:
- system: the chat engine without an LLM (rules planner): the message is read by the chat's
  rules, FAISS recall from the liked films' MiniLM vectors (titles, years, genres), reranked
  with co-occurrence learned from the non-held-out interactions
- system_llm (only with `--llm`, slow): the same with the LLM planner
- popularity: interaction counts in the non-held-out data
- cooccurrence: item-item co-occurrence (the project's `ItemCooccurrence`) over the user's
  whole history, popularity filling the remaining places (classic item-kNN)
- cooccurrence_message: the same over only the films the message names
- embedding: the mean MiniLM vector of the films the message names
Only the non-held-out interactions teach popularity and co-occurrence.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from chat.engine import ChatEngine
from chat.settings import PROJECT_ROOT
from chat.state import DialogueState, update_state
from chat.understanding import read_message
from evaluation import baselines, metrics
from evaluation.catalogs import movielens_catalog
from evaluation.redial import find_folder
from evaluation.system import (
    DEFAULT_CACHE,
    LIST_LENGTH,
    ExactTitleMatcher,
    add_run_arguments,
    cached_index,
    engine_over,
    load_embedder,
    load_llm,
    one_torch_thread,
    parse_checked,
)
from retrieval.catalog import Catalog
from retrieval.embeddings import Embedder
from retrieval.ranking import read_interactions
from retrieval.train_sequential import TrainingConfig

log = logging.getLogger("evaluation.movielens")

KS = (1, 5, 10, 20, 50)
LIKED_RATING = 4.0
HISTORY_TITLES = 5
LABELS = {
    "system": "full system, no LLM (rules planner)",
    "system_llm": "full system, LLM planner",
    "popularity": "popularity (train interactions)",
    "cooccurrence": "item-item co-occurrence, whole history",
    "cooccurrence_message": "item-item co-occurrence, titles in the message",
    "embedding": "embedding only (mean MiniLM vector of the titles in the message)",
}


@dataclass(frozen=True)
class HeldOutUser:
    user: str
    history: tuple[str, ...]  # item ids, oldest first, the held-out one not among them
    told: tuple[str, ...]  # the items the message names, oldest first
    target: str
    liked: bool = True  # the told items were liked (else they are the most recent ones: none was liked)


def leave_one_out(
    users: Sequence[str],
    items: Sequence[str],
    ratings: Sequence[float],
    timestamps: Sequence[float],
    told: int = HISTORY_TITLES,
    liked_rating: float = LIKED_RATING,
) -> list[HeldOutUser]:
    """Each user with at least two interactions: the last one held out, the most recent liked ones to be told.

    Example: users ["u", "u", "u"], items ["a", "b", "c"], ratings [5, 2, 4], timestamps [1, 2, 3]
             -> [HeldOutUser("u", history=("a", "b"), told=("a",), target="c")]
    """
    rows: dict[str, list[tuple[float, int, str, float]]] = {}
    for row, (user, item, rating, stamp) in enumerate(zip(users, items, ratings, timestamps)):
        rows.setdefault(str(user), []).append((float(stamp), row, str(item), float(rating)))
    held_out = []
    for user in sorted(rows, key=lambda u: (len(u), u)):
        ordered = sorted(rows[user])
        if len(ordered) < 2:
            continue
        history = ordered[:-1]
        liked = [item for _, _, item, rating in history if rating >= liked_rating]
        chosen = liked[-told:] if liked else [item for _, _, item, _ in history][-told:]
        held_out.append(
            HeldOutUser(user, tuple(item for _, _, item, _ in history), tuple(chosen), ordered[-1][2], bool(liked))
        )
    return held_out


def conversation(labels: Sequence[str], liked: bool = True) -> str:
    """The history as one message.

    Example: conversation(["Alien (1979)", "Heat (1995)", "Fargo (1996)"])
             -> "I watched and liked Alien (1979), Heat (1995) and Fargo (1996). What should I watch next?"
    """
    names = ", ".join(labels[:-1]) + f" and {labels[-1]}" if len(labels) > 1 else "".join(labels)
    return f"I watched {'and liked ' if liked else ''}{names}. What should I watch next?"


@dataclass
class MovielensRun:
    users: list[HeldOutUser]
    rankings: dict[str, list[list[str]]]
    seconds_by_system: dict[str, float]
    headline: str
    info: dict = field(default_factory=dict)
    seconds: float = 0.0
    protocol: str = "leave-one-out, ranked against all items, history left out"
    labels: dict[str, str] = field(default_factory=lambda: LABELS)

    def ranks(self, name: str) -> list[int | None]:
        return [metrics.rank_of(ranked, user.target) for ranked, user in zip(self.rankings[name], self.users)]

    def scores(self, name: str, seed: int = 0) -> dict:
        ranks = self.ranks(name)
        summary = metrics.recall_summary(ranks, KS)
        gains = [metrics.ndcg_at_k(rank, 10) for rank in ranks]
        summary["ndcg@10"] = float(np.mean(gains)) if gains else float("nan")
        summary["ndcg@10_ci95"] = [round(v, 4) for v in metrics.bootstrap_interval(gains, seed=seed)]
        summary = {key: round(value, 4) if isinstance(value, float) else value for key, value in summary.items()}
        ms = 1000 * self.seconds_by_system[name] / len(self.users) if self.users else float("nan")
        return {**summary, "ms_per_user": round(ms, 2), "label": self.labels[name]}

    def curve(self, name: str, ks: Sequence[int]) -> list[float]:
        return metrics.recall_curve(self.ranks(name), ks)

    def summary(self) -> dict:
        return {
            "benchmark": "movielens-100k",
            "protocol": self.protocol,
            "system": self.labels[self.headline],
            "n": len(self.users),
            "metrics": self.scores(self.headline),
            "baselines": {name: self.scores(name) for name in self.rankings if name != self.headline},
            **self.info,
            "seconds": round(self.seconds, 1),
        }


def engine_rankings(
    engine: ChatEngine,
    catalog: Catalog,
    users: Sequence[HeldOutUser],
    description: str,
    found: list[float] | None = None,
) -> list[list[str]]:
    """The engine's 50 for each user, from the message alone, with the history left out.

    `found` collects, per user, the share of the message's titles the chat's reader recognized.
    """
    titles = ExactTitleMatcher(catalog.items)
    rankings = []
    with one_torch_thread() if engine.llm is None else nullcontext():
        for user in tqdm(users, desc=description, unit="user", leave=False):
            reading = read_message(
                conversation([catalog[i].label for i in user.told], user.liked), titles, engine.people
            )
            state = update_state(DialogueState(), reading, catalog)
            if found is not None:
                found.append(len(set(state.liked) & set(user.told)) / len(user.told))
            state = replace(state, shown=user.history)
            rankings.append([scored.item.id for scored in engine.rank(state, reading).ranked[:LIST_LENGTH]])
    return rankings


def run(
    data: Path,
    limit: int | None = None,
    llm: bool = False,
    cache_dir: Path = DEFAULT_CACHE,
    progress: bool = True,
    embedder: Embedder | None = None,
) -> MovielensRun:
    started = time.perf_counter()
    folder = find_folder(Path(data), "ml-100k", "ml-100k.inter")
    catalog = movielens_catalog(folder / "ml-100k.item")
    interactions = read_interactions(folder / "ml-100k.inter")
    if interactions.ratings is None or interactions.timestamps is None:
        raise ValueError(f"{folder / 'ml-100k.inter'}: needs rating and timestamp columns")
    users = leave_one_out(interactions.users, interactions.items, interactions.ratings, interactions.timestamps)
    baskets = [list(user.history) for user in users]  # every user, however many are evaluated: training data
    users = users[:limit] if limit else users
    popularity = baselines.PopularityRanker(baskets)
    cooccurrence = baselines.cooccurrence_from_baskets(baskets, {item.id for item in catalog})
    embedder = embedder or load_embedder()
    index = cached_index(catalog, embedder, cache_dir, "ml-100k", progress=progress)
    engine = engine_over(index, embedder, cooccurrence)

    rankings: dict[str, list[list[str]]] = {}
    seconds: dict[str, float] = {}

    def timed(name: str, rank_all: Callable[[], list[list[str]]]) -> None:
        mark = time.perf_counter()
        rankings[name] = rank_all()
        seconds[name] = time.perf_counter() - mark

    found: list[float] = []
    timed("system", lambda: engine_rankings(engine, catalog, users, "system (rules)", found))
    if llm:
        engine_llm = engine_over(index, embedder, cooccurrence, load_llm())
        timed("system_llm", lambda: engine_rankings(engine_llm, catalog, users, "system (LLM planner)"))
    timed("popularity", lambda: [popularity.top(LIST_LENGTH, set(u.history)) for u in users])
    timed(
        "cooccurrence",
        lambda: [
            baselines.cooccurrence_ranking(cooccurrence, u.history, popularity, LIST_LENGTH, set(u.history))
            for u in users
        ],
    )
    timed(
        "cooccurrence_message",
        lambda: [
            baselines.cooccurrence_ranking(cooccurrence, u.told, popularity, LIST_LENGTH, set(u.history)) for u in users
        ],
    )

    def embedding() -> list[list[str]]:
        vectors = index.vectors
        queries = (
            np.vstack([vectors[[index.row_of(i) for i in u.told]].mean(axis=0) for u in users])
            if users
            else vectors[:0]
        )
        queries /= np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
        ids = [item.id for item in index.catalog.items]
        return baselines.embedding_rankings(queries, vectors, ids, LIST_LENGTH, [set(u.history) for u in users])

    timed("embedding", embedding)
    info = {
        "items": len(catalog),
        "titles_per_message": HISTORY_TITLES,
        "liked_rating": LIKED_RATING,
        "titles_recognized": round(float(np.mean(found)), 4) if found else None,
        "limit_users": limit,
    }
    return MovielensRun(
        users, rankings, seconds, "system_llm" if llm else "system", info, time.perf_counter() - started
    )


def print_table(summary: dict) -> None:
    print(f"MovieLens-100k leave-one-out: {summary['n']} users, {summary['items']} items ({summary['seconds']} s)")
    print(f"{'system':66} {'R@10':>6} {'NDCG@10':>8} {'R@10 95% CI':>15} {'R@50':>6} {'ms/user':>8}")
    rows = {summary["system"]: summary["metrics"], **{v["label"]: v for v in summary["baselines"].values()}}
    for label, scores in rows.items():
        low, high = scores["recall@10_ci95"]
        print(
            f"{label:66} {scores['recall@10']:6.3f} {scores['ndcg@10']:8.3f} [{low:.3f}, {high:.3f}] "
            f"{scores['recall@50']:6.3f} {scores['ms_per_user']:8.1f}"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.movielens",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--protocol",
        choices=("llamarec", "loo"),
        default="llamarec",
        help="llamarec: LlamaRec's split, interaction models only; loo: the older engine benchmark, then "
        "the interaction models on its split",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("RECSYS_EVAL_DATA", PROJECT_ROOT.parent / "shared" / "data")),
        help="folder with ml-100k.inter and ml-100k.item, or one holding ml-100k/ (env RECSYS_EVAL_DATA)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="loo: evaluate the engine on only the first N users (all users still train)",
    )
    parser.add_argument(
        "--sequential-model",
        type=Path,
        default=None,
        help="a SASRec folder from retrieval.train_sequential trained on this file and split (else one is trained here)",
    )
    parser.add_argument(
        "--threads", type=int, default=TrainingConfig().threads, help="torch CPU threads for training SASRec"
    )
    parser.add_argument("--seed", type=int, default=TrainingConfig().seed, help="SASRec's random seed")
    add_run_arguments(parser, llm_help="loo: also rank with the LLM planner (slow)")
    return parse_checked(parser, argv)


def main(argv: list[str] | None = None) -> int:
    from evaluation import movielens_sequential  # it builds on this module's run records: imported when used

    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    training = TrainingConfig(threads=args.threads, seed=args.seed)
    summaries = {}
    try:
        if args.protocol == "loo":
            summaries["engine"] = run(args.data, args.limit, args.llm, args.cache).summary()
        summaries["interaction_models"] = movielens_sequential.run(
            args.data, args.protocol, args.sequential_model, training
        ).summary()
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summaries, indent=2))
        return 0
    if "engine" in summaries:
        print_table(summaries["engine"])
        print()
    movielens_sequential.print_report(summaries["interaction_models"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
