"""ReDial benchmark: `python -m evaluation.redial --data DIR [--items DIR] [--ranker DIR] [--split test|validation] [--protocol novel|all] [--limit N] [--json] [--llm]`.

For every recommender turn of a ReDial dialogue that mentions a movie, each system gets the
dialogue so far and ranks 50 items; a target is a movie the recommender mentioned in that
turn. Recall@1/10/50 over (turn, target) samples, with 95% intervals from a bootstrap that
resamples whole dialogues (turns of one dialogue are not independent).

Protocols: "all" counts every mentioned target; "novel" (the default, the honest one) only
targets not mentioned earlier in the dialogue by either side. Repeating earlier mentions
scores well on "all" and 0 on "novel" by construction.

Candidate universe: with `--items DIR` (or RECSYS_REDIAL_ITEMS), the index folder that
`retrieval.build_index` built from the staged ReDial item text (title, year, genres, director,
cast, plot; the command is in docs/benchmarks.md), read at run time, never copied into the
project. Without it, the ReDial movie list (`movies_with_mentions.csv`, 6,924 ids) joined with
the demo catalogue's richer fields where title and year match (`evaluation.catalogs`; about 450
demo films, the rest "Title (Year)" only), indexed with the app's MiniLM and cached in `--cache`.

Splits (`evaluation.redial_splits`): `test` evaluates the test dialogues with models learned
from every train dialogue; `validation` evaluates the validation dialogues (a fifth of train,
by dialogue) with models learned from the rest. Hyperparameters are chosen on validation only.

Systems, all in one run over the same turns:
- system: the chat engine without an LLM (`planner="rules"`): the dialogue state is read from
  the seeker's turns by the chat's own rules (titles, genres, eras, things to avoid), the
  recommender's earlier mentions count as shown; the engine's `ItemSearch` (dense, EASE seeded
  with every mention so far, popularity; fused, then the `--ranker` or the weighted fallback)
  under the state's hard constraints
- system_exact_mentions (diagnostic): the same, but the seeker's mentions are taken from the
  dataset's `@id` marks instead of being found in the text, which shows what title recognition costs
- system_soft_genres (diagnostic): the same, but a wanted genre ("I like comedies") is a query
  word rather than a hard filter; only ~450 items of the universe have genres at all, so the
  hard filter keeps every other item out, and this shows what that costs
- system_llm (only with `--llm`, slow: ~1 s per turn on 2 CPU cores): the engine with the LLM
  planner (the app's default model and adapter)
- ablations (with `--ablation`): the same engine with fewer sources or without the learned ranker
- popularity: ReDial mention counts (dialogues mentioning a movie) in the training dialogues only
  (`nbMentions` in the CSV counts all splits, test included, so it is not used)
- embedding: MiniLM similarity of the item text to the last 150 words of the dialogue so far
- collaborative: item-item co-occurrence (movies mentioned in one train dialogue), scored
  against every movie mentioned earlier in the dialogue; popularity fills the remaining places
- ease: EASE alone (the engine's collaborative model), seeded as the engine seeds it (recent
  mentions weighted up); popularity fills the remaining places
- sequential (with `--sequential DIR`, which also makes it a source of the engine): SASRec alone
  (`finetune.redial_sequential`), reading every earlier mention in order; popularity fills the remaining places
- repeat: the movies mentioned earlier in the dialogue, most recent first (a sanity check)
Every system except `repeat` leaves out movies mentioned earlier in the dialogue, as the app
never shows again what the person named or was shown.

Training data: only ReDial training dialogues (the train parts and IARD's extra ones: 1,663, about
17% of the official train split) teach popularity, co-occurrence and EASE; the learned ranker
is trained by `finetune.train_ranker` on the same dialogues, never on test.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

from tqdm.auto import tqdm

from chat.engine import ChatEngine
from chat.settings import PROJECT_ROOT
from chat.state import DialogueState, record_shown, update_state
from chat.titles import TitleMatcher
from chat.understanding import Reading, clean_message, read_message
from corpora.dialogues import Dialogue
from corpora.redial import read_movie_names
from evaluation import baselines, metrics
from evaluation.catalogs import RedialCatalog, read_redial_catalog
from evaluation.redial_splits import SPLITS, fit_and_evaluated
from evaluation.system import (
    DEFAULT_CACHE,
    LIST_LENGTH,
    ExactTitleMatcher,
    QueryCache,
    add_run_arguments,
    cached_index,
    engine_over,
    load_embedder,
    load_llm,
    one_torch_thread,
    parse_checked,
    project_path,
    with_sequential,
)
from retrieval.catalog import load_catalog
from retrieval.embeddings import Embedder
from retrieval.filters import wish_kind
from retrieval.index import ItemIndex, StaleIndexError
from retrieval.item_search import SearchOptions
from retrieval.ranking import EASE_LAMBDA, seed_weights

log = logging.getLogger("evaluation.redial")

KS = (1, 10, 50)
CONTEXT_WORDS = 150  # MiniLM reads 256 word pieces; the end of the dialogue is what matters
PROTOCOLS = ("novel", "all")
LABELS = {
    "system": "full system, no LLM (rules planner)",
    "system_llm": "full system, LLM planner",
    "system_exact_mentions": "full system, no LLM, seeker's mentions given exactly (diagnostic)",
    "system_soft_genres": "full system, no LLM, wanted genres as query words, not filters (diagnostic)",
    "popularity": "popularity (train mention counts)",
    "embedding": "embedding only (MiniLM, dialogue text)",
    "collaborative": "collaborative only (train co-occurrence)",
    "ease": "EASE only (train dialogues, seeded with every earlier mention)",
    "repeat": "repeat earlier mentions",
    "sequential": "SASRec only (train dialogues' mention sequences, reading every earlier mention)",
    "ablation_dense": "ablation: dense source only (item text)",
    "ablation_dense_collaborative": "ablation: dense + EASE, fused (no popularity, no learned ranker)",
    "ablation_fused": "ablation: all three sources, weighted fusion (no learned ranker)",
    "ablation_no_dense": "ablation: EASE + popularity, fused (no dense source)",
    "ablation_no_sequential": "ablation: the system without its sequential source (same learned ranker)",
}
ABLATIONS = {  # name -> (sources, learned ranker used)
    "ablation_dense": (("dense",), False),
    "ablation_dense_collaborative": (("dense", "collaborative"), False),
    "ablation_no_dense": (("collaborative", "popularity"), False),
    "ablation_fused": (("dense", "collaborative", "popularity"), False),
}
ITEMS_ENV = "RECSYS_REDIAL_ITEMS"


@dataclass(frozen=True)
class RecommenderTurn:
    """A recommender turn that mentions movies, with everything a system may know before it."""

    dialogue_id: str
    context: str  # the dialogue so far, one "Seeker: ..." / "Recommender: ..." line per turn
    message: str  # the seeker's latest message ("" when the recommender spoke first)
    reading: Reading  # that message as the chat's reader sees it
    state: DialogueState  # built by the chat's rules from the seeker's turns, earlier mentions shown
    exact_state: DialogueState  # the same with the seeker's mentions taken from the `@id` marks
    earlier: tuple[str, ...]  # items mentioned earlier by either side, oldest first
    targets: tuple[str, ...]  # items mentioned in this turn

    @property
    def novel(self) -> tuple[str, ...]:
        earlier = set(self.earlier)
        return tuple(t for t in self.targets if t not in earlier)


def exact_reading(reading: Reading, named: Sequence[str]) -> Reading:
    """A reading whose liked and disliked items are exactly `named`, keeping the reader's polarity where it found them.

    Example: reading.liked ("it-1966", "alien"), reading.disliked (), named ("alien", "heat")
             -> liked ("alien", "heat"), disliked ()
    """
    named_set = set(named)
    liked = [i for i in reading.liked if i in named_set]
    disliked = [i for i in reading.disliked if i in named_set]
    liked += [i for i in dict.fromkeys(named) if i not in liked and i not in disliked]
    return replace(reading, liked=tuple(liked), disliked=tuple(disliked))


def replay(
    dialogues: Iterable[Dialogue], universe: RedialCatalog, titles: TitleMatcher, people: frozenset[str]
) -> Iterator[RecommenderTurn]:
    """Each recommender turn that mentions a movie of the universe, in dialogue order.

    As `finetune.redial.recommendation_turns`: seeker turns update the state; movies the
    recommender mentioned count as shown afterwards. Targets and "earlier" come from the `@id` marks.
    """
    catalog = universe.catalog
    for dialogue in dialogues:
        state = exact_state = DialogueState()
        message, reading = "", read_message("", titles, people)
        lines: list[str] = []
        earlier: list[str] = []
        for turn in dialogue.turns:
            mentioned = tuple(dict.fromkeys(i for i in map(universe.item_id, turn.movie_ids) if i))
            if turn.role == "seeker":
                message = clean_message(turn.text)[0]
                reading = read_message(turn.text, titles, people)
                state = update_state(state, reading, catalog)
                exact_state = update_state(exact_state, exact_reading(reading, mentioned), catalog)
            elif mentioned:
                yield RecommenderTurn(
                    dialogue.id, "\n".join(lines), message, reading, state, exact_state, tuple(earlier), mentioned
                )
                state = record_shown(state, list(mentioned))
                exact_state = record_shown(exact_state, list(mentioned))
            lines.append(f"{turn.role.capitalize()}: {turn.text}")
            earlier += mentioned


def last_words(text: str, count: int = CONTEXT_WORDS) -> str:
    """Example: last_words("a b c d", 2) -> "c d" """
    return " ".join(text.split()[-count:])


@dataclass
class SystemRun:
    name: str
    rankings: list[list[str]]
    seconds: float

    @property
    def ms_per_turn(self) -> float:
        return 1000 * self.seconds / len(self.rankings) if self.rankings else float("nan")


@dataclass
class BenchmarkRun:
    """Rankings of every system for the same turns, and how to score them."""

    benchmark: str
    split: str
    turns: list[RecommenderTurn]
    systems: dict[str, SystemRun]
    headline: str
    info: dict = field(default_factory=dict)
    seconds: float = 0.0

    def samples(self, protocol: str) -> list[tuple[int, str]]:
        """(turn number, target) pairs that count under the protocol."""
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
        return [
            (number, target)
            for number, turn in enumerate(self.turns)
            for target in (turn.novel if protocol == "novel" else turn.targets)
        ]

    def ranks(self, name: str, protocol: str) -> list[int | None]:
        rankings = self.systems[name].rankings
        return [metrics.rank_of(rankings[number], target) for number, target in self.samples(protocol)]

    def scores(self, name: str, protocol: str, seed: int = 0) -> dict:
        clusters = [self.turns[number].dialogue_id for number, _ in self.samples(protocol)]
        summary = metrics.recall_summary(self.ranks(name, protocol), KS, clusters, seed=seed)
        summary = {key: round(value, 4) if isinstance(value, float) else value for key, value in summary.items()}
        return {**summary, "ms_per_turn": round(self.systems[name].ms_per_turn, 2), "label": LABELS[name]}

    def curve(self, name: str, protocol: str, ks: Sequence[int]) -> list[float]:
        return metrics.recall_curve(self.ranks(name, protocol), ks)

    def summary(self, protocol: str) -> dict:
        """The `--json` object for one protocol."""
        return {
            "benchmark": self.benchmark,
            "split": self.split,
            "protocol": protocol,
            "system": LABELS[self.headline],
            "n": len(self.samples(protocol)),
            "n_turns": len(self.turns),
            "n_dialogues": len({turn.dialogue_id for turn in self.turns}),
            "metrics": self.scores(self.headline, protocol),
            "baselines": {name: self.scores(name, protocol) for name in self.systems if name != self.headline},
            **self.info,
            "seconds": round(self.seconds, 1),
        }


def timed(name: str, rank_all: Callable[[], list[list[str]]]) -> SystemRun:
    started = time.perf_counter()
    rankings = rank_all()
    return SystemRun(name, rankings, time.perf_counter() - started)


def soft_genres(state: DialogueState) -> DialogueState:
    """The state with its wanted genres as query words instead of a hard filter.

    Example: wants genre comedy, preferences ("space",) -> wants no genre, preferences ("comedy", "space")
    """
    if not state.wishes("genre"):
        return state
    return replace(
        state,
        conditions=tuple(c for c in state.conditions if wish_kind(c) != "genre"),
        preferences=(" ".join(sorted(state.wanted("genres"))), *state.preferences),
    )


def engine_rankings(
    engine: ChatEngine,
    turns: Sequence[RecommenderTurn],
    state_of: Callable[[RecommenderTurn], DialogueState],
    description: str,
    valid_calls: list[bool] | None = None,
) -> list[list[str]]:
    """The engine's 50 for each turn; without an LLM, queries are encoded on one torch thread (see `one_torch_thread`).

    `valid_calls` collects, when the LLM plans, whether each of its search calls parsed.
    """
    rankings = []
    with one_torch_thread() if engine.llm is None else nullcontext():
        for turn in tqdm(turns, desc=description, unit="turn", leave=False):
            ranking = engine.rank(state_of(turn), turn.reading)
            if valid_calls is not None and ranking.valid is not None:
                valid_calls.append(ranking.valid)
            rankings.append([scored.item.id for scored in ranking.ranked[:LIST_LENGTH]])
    return rankings


def changed_share(first: Sequence[Sequence[str]], second: Sequence[Sequence[str]], k: int = 10) -> float:
    """The share of turns whose top k differ between two systems' rankings.

    Example: changed_share([["a", "b"], ["c"]], [["a", "b"], ["d"]], k=2) -> 0.5
    """
    if not first:
        return float("nan")
    return sum(list(a[:k]) != list(b[:k]) for a, b in zip(first, second)) / len(first)


def find_folder(data: Path, name: str, marker: str) -> Path:
    """`data` itself when it holds `marker`, else `data/name`; raises FileNotFoundError naming both."""
    for folder in (data, data / name):
        if (folder / marker).is_file():
            return folder
    raise FileNotFoundError(f"no {marker} in {data} or {data / name}")


@dataclass
class RedialSetup:
    """What every system of a run shares: the universe, its index, the training baskets and the models learned from them."""

    universe: RedialCatalog
    index: ItemIndex
    embedder: Embedder
    fit: list[Dialogue]
    evaluated: list[Dialogue]
    baskets: list[list[str]]
    popularity: baselines.PopularityRanker
    cooccurrence: object
    ease: object


def universe_from_items(
    items: Path, names: dict[str, str], embedder: Embedder | None
) -> tuple[RedialCatalog, ItemIndex, Embedder]:
    """The universe of an index folder built from the ReDial item text (item ids are ReDial movie ids)."""
    index = ItemIndex.open(items)
    embedder = embedder or load_embedder(index.manifest.embedding_model)  # the model the index was built with
    if embedder.name != index.manifest.embedding_model:
        raise StaleIndexError(f"{items} was built with {index.manifest.embedding_model!r}, not {embedder.name!r}")
    item_of = {movie_id: movie_id for movie_id in names if movie_id in index.catalog}
    return RedialCatalog(index.catalog, item_of, 0), index, embedder


def prepare(
    data: Path,
    split: str = "test",
    limit: int | None = None,
    cache_dir: Path = DEFAULT_CACHE,
    progress: bool = True,
    embedder: Embedder | None = None,
    items: Path | None = None,
    ease_lambda: float = EASE_LAMBDA,
    iard: bool = True,
) -> RedialSetup:
    """Read the split, the universe and the training dialogues; learn popularity, co-occurrence and EASE from training only.

    Without `iard`, IARD's extra train dialogues are left out (the ReDial train parts alone, CC BY 4.0).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    folder = find_folder(Path(data), "redial", "movies_with_mentions.csv")
    names = read_movie_names(folder / "movies_with_mentions.csv")
    if items is not None:
        universe, index, embedder = universe_from_items(Path(items), names, embedder)
    else:
        universe = read_redial_catalog(folder, load_catalog(PROJECT_ROOT / "data" / "movies.jsonl"))
        embedder = embedder or load_embedder()
        index = cached_index(universe.catalog, embedder, cache_dir, "redial-movies", progress=progress)
    fit, evaluated = fit_and_evaluated(split, folder, names, iard)
    evaluated = evaluated[:limit] if limit else evaluated
    baskets = [
        [i for i in dict.fromkeys(universe.item_id(m) for turn in dialogue.turns for m in turn.movie_ids) if i]
        for dialogue in fit
    ]
    known = {item.id for item in universe.catalog}
    return RedialSetup(
        universe,
        index,
        embedder,
        fit,
        evaluated,
        baskets,
        baselines.PopularityRanker(baskets),
        baselines.cooccurrence_from_baskets(baskets, known),
        baselines.model_from_baskets(baskets, known, "ease", ease_lambda),
    )


def run(
    data: Path,
    split: str = "test",
    limit: int | None = None,
    llm: bool = False,
    cache_dir: Path = DEFAULT_CACHE,
    diagnostics: bool = True,
    progress: bool = True,
    embedder: Embedder | None = None,
    items: Path | None = None,
    ranker: object = "none",
    ablation: bool = False,
    options: SearchOptions | None = None,
    sequential: object = "none",
) -> BenchmarkRun:
    """Replay the split's dialogues and rank with every system (see the module docstring).

    `diagnostics` adds the two diagnostic variants of the system, `ablation` the engine with parts left out;
    `embedder` replaces MiniLM (tests pass a fake); `options` replaces the app's search settings;
    `sequential` (a model folder or object) is the engine's sequential source and a baseline of its own.
    """
    started = time.perf_counter()
    options, sequential = with_sequential(options, sequential)
    setup = prepare(data, split, limit, cache_dir, progress, embedder, items)
    universe, index, embedder = setup.universe, setup.index, setup.embedder
    popularity, cooccurrence, ease = setup.popularity, setup.cooccurrence, setup.ease
    queries = QueryCache(embedder)  # the engine variants share the query encodings
    engine = engine_over(index, queries, ease, ranker=ranker, options=options)
    titles = ExactTitleMatcher(universe.catalog.items)

    turns = list(
        replay(
            tqdm(setup.evaluated, desc="replay dialogues", unit="dialogue", leave=False, disable=not progress),
            universe,
            titles,
            engine.people,
        )
    )
    log.info("%d dialogues, %d recommender turns with a mention", len(setup.evaluated), len(turns))

    systems: dict[str, SystemRun] = {}
    systems["system"] = timed("system", lambda: engine_rankings(engine, turns, lambda t: t.state, "system (rules)"))
    if diagnostics:
        systems["system_exact_mentions"] = timed(
            "system_exact_mentions",
            lambda: engine_rankings(engine, turns, lambda t: t.exact_state, "system (exact mentions)"),
        )
        systems["system_soft_genres"] = timed(
            "system_soft_genres",
            lambda: engine_rankings(engine, turns, lambda t: soft_genres(t.state), "system (soft genres)"),
        )
    if ablation:
        for name, (sources, learned) in ABLATIONS.items():
            variant = engine_over(
                index,
                queries,
                ease,
                ranker=ranker if learned else "none",
                options=replace(engine.search.options, sources=sources),
            )
            systems[name] = timed(
                name, lambda variant=variant, name=name: engine_rankings(variant, turns, lambda t: t.state, name)
            )
        if sequential != "none":
            variant = engine_over(
                index,
                queries,
                ease,
                ranker=ranker,
                options=replace(engine.search.options, sources=("dense", "collaborative", "popularity")),
            )
            systems["ablation_no_sequential"] = timed(
                "ablation_no_sequential",
                lambda: engine_rankings(variant, turns, lambda t: t.state, "ablation_no_sequential"),
            )
    valid_calls: list[bool] = []
    if llm:
        engine_llm = engine_over(index, embedder, ease, load_llm(), ranker=ranker, options=options)
        systems["system_llm"] = timed(
            "system_llm",
            lambda: engine_rankings(engine_llm, turns, lambda t: t.state, "system (LLM planner)", valid_calls),
        )
    systems["popularity"] = timed("popularity", lambda: [popularity.top(LIST_LENGTH, set(t.earlier)) for t in turns])

    def embedding() -> list[list[str]]:
        query_vectors = embedder.encode([last_words(t.context) for t in turns], batch_size=64, show_progress=progress)
        ids = [item.id for item in index.catalog.items]
        return baselines.embedding_rankings(
            query_vectors, index.vectors, ids, LIST_LENGTH, [set(t.earlier) for t in turns]
        )

    systems["embedding"] = timed("embedding", embedding)
    systems["collaborative"] = timed(
        "collaborative",
        lambda: [
            baselines.cooccurrence_ranking(cooccurrence, t.earlier, popularity, LIST_LENGTH, set(t.earlier))
            for t in turns
        ],
    )
    decay = engine.search.options.recency_decay

    def ease_ranking(turn: RecommenderTurn) -> list[str]:
        seeds, weights = seed_weights(turn.earlier, decay)
        return baselines.cooccurrence_ranking(ease, seeds, popularity, LIST_LENGTH, set(turn.earlier), weights=weights)

    systems["ease"] = timed("ease", lambda: [ease_ranking(t) for t in turns])
    if sequential != "none":
        systems["sequential"] = timed(
            "sequential",
            lambda: [
                baselines.filled(
                    [i for i, _ in sequential.top(list(t.earlier), LIST_LENGTH, set(t.earlier))],
                    popularity,
                    LIST_LENGTH,
                    set(t.earlier),
                )
                for t in turns
            ],
        )
    systems["repeat"] = timed("repeat", lambda: [baselines.repeat_ranking(t.earlier, LIST_LENGTH) for t in turns])
    info = {
        "catalogue": {
            "items": len(universe.catalog),
            "redial_ids": len(universe.item_of),
            "joined_with_demo": universe.joined,
            "item_text": project_path(str(items)) if items else "title (year)",
            "train_dialogues": len(setup.baskets),
        },
        "search": {
            "sources": [source.name for source in engine.search.sources],
            "ranker": engine.search.ranker.name,
            "recency_decay": decay,
            "ease_lambda": EASE_LAMBDA,
        },
        "limit_dialogues": limit,
    }
    if llm:
        info["llm_planner"] = {
            "model": engine_llm.settings.model_id,
            "adapter": project_path(str(getattr(engine_llm.llm, "adapter", None) or "no adapter")),
            "valid_call_rate": round(sum(valid_calls) / len(valid_calls), 4) if valid_calls else None,
            "changed_top10_rate": round(changed_share(systems["system_llm"].rankings, systems["system"].rankings), 4),
        }
    return BenchmarkRun(
        "redial", split, turns, systems, "system_llm" if llm else "system", info, time.perf_counter() - started
    )


def print_table(summary: dict) -> None:
    name = {"redial": "ReDial", "inspired": "INSPIRED"}.get(summary["benchmark"], summary["benchmark"])
    print(
        f"{name} {summary['split']}, protocol {summary['protocol']}: {summary['n']} targets in "
        f"{summary['n_turns']} turns of {summary['n_dialogues']} dialogues ({summary['seconds']} s)"
    )
    print(f"{'system':66} {'R@1':>6} {'R@10':>6} {'R@50':>6}  {'R@10 95% CI':>15} {'ms/turn':>8}")
    rows = {summary["system"]: summary["metrics"], **{v["label"]: v for v in summary["baselines"].values()}}
    for label, scores in rows.items():
        low, high = scores["recall@10_ci95"]
        print(
            f"{label:66} {scores['recall@1']:6.3f} {scores['recall@10']:6.3f} {scores['recall@50']:6.3f}  "
            f"[{low:.3f}, {high:.3f}] {scores['ms_per_turn']:8.1f}"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.redial",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        help="ReDial folder (movies_with_mentions.csv, test_data.jsonl, "
        "train_part_*.jsonl) or a folder holding redial/",
    )
    parser.add_argument(
        "--items",
        type=Path,
        default=os.environ.get(ITEMS_ENV) or None,
        help=f"index folder built from the ReDial item text (see docs/benchmarks.md; env {ITEMS_ENV}); "
        "default: the title-only universe joined with the demo catalogue",
    )
    parser.add_argument(
        "--ranker",
        default="none",
        help="learned ranker folder (finetune.train_ranker) or 'none' for the weighted fallback",
    )
    parser.add_argument(
        "--sequential",
        default="none",
        help="sequential model folder (finetune.redial_sequential): "
        "a source of the engine and a baseline of its own; 'none' for neither",
    )
    parser.add_argument("--ablation", action="store_true", help="also rank with parts of the search left out")
    parser.add_argument(
        "--no-diagnostics", action="store_true", help="leave out the exact-mentions and soft-genres variants"
    )
    parser.add_argument(
        "--split",
        choices=SPLITS,
        default="test",
        help="test, or validation (a fifth of the train dialogues; models learn from the rest)",
    )
    parser.add_argument("--protocol", choices=(*PROTOCOLS, "both"), default="novel", help="which targets count")
    parser.add_argument("--limit", type=int, default=None, help="only the first N dialogues of the split")
    add_run_arguments(parser, llm_help="also rank with the LLM planner (slow: ~1 s per turn)")
    return parse_checked(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        result = run(
            args.data,
            args.split,
            args.limit,
            args.llm,
            args.cache,
            diagnostics=not args.no_diagnostics,
            items=args.items,
            ranker=args.ranker,
            ablation=args.ablation,
            sequential=args.sequential,
        )
    except (FileNotFoundError, StaleIndexError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    summary = result.summary("novel" if args.protocol == "both" else args.protocol)
    if args.json:
        print(
            json.dumps(
                {protocol: result.summary(protocol) for protocol in PROTOCOLS} if args.protocol == "both" else summary,
                indent=2,
            )
        )
    else:
        for protocol in PROTOCOLS if args.protocol == "both" else (args.protocol,):
            print_table(result.summary(protocol))
    return 0


if __name__ == "__main__":
    sys.exit(main())
