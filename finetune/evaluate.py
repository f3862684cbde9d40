"""Does the adapter help? `python -m finetune.evaluate --adapter PATH --data FILE [--limit N] [--json]`.

Compares the base model and base + adapter on conversations never seen in training (the `eval`
split of the SFT data, split by conversation) and on ReDial test dialogues:

- valid_tool_call_rate: planner outputs that are a complete, well-formed `search_items` call (strict parse)
- constraint_violation_rate: planner outputs that drop or contradict a constraint the state holds
  (genres, years, things to avoid); an invalid call honours nothing and counts as a violation
- unshown_item_rate_before_guard: reasons, written by the engine's explain step item by item (each
  line continuing the reply so far), that name a film that is not shown (or unknown); after the
  guard this is 0 by construction
- guard_rejection_rate: reasons the guard rejects for any reason (also facts not on the card)
- recall@10: ReDial test turns (novel protocol) where the recommended film is in the engine's top 10
  with this model as the planner; with --scorer also recall@10_llm_reranker, the same turns with
  this model reordering the top candidates (reranker=llm)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

from tqdm.auto import tqdm

from chat.assemble import build_engine
from chat.engine import ChatEngine
from chat.llm import ChatModel
from chat.llm.local import LocalChatModel
from chat.llm_reranker import LLMReranker
from chat.settings import PROJECT_ROOT, Settings
from chat.tools import CALL_PREFIX, CLOSE, SearchCall, ToolCallError, parse_call
from chat.understanding import read_message
from corpora.redial import MovieMapper, read_dialogues, read_movie_names
from finetune.examples import state_from_record
from finetune.redial import recommendation_turns

log = logging.getLogger("finetune.evaluate")


def constraints_kept(produced: SearchCall, wanted: SearchCall) -> bool:
    """The produced call keeps every constraint of the wanted one (extra ones are allowed).

    Example: wanted genres ("horror",) and avoid ("gore",); produced genres ("horror",) only -> False
    """
    want, got = wanted.arguments(), produced.arguments()
    return (
        set(wanted.wanted("genres")) <= set(produced.wanted("genres"))
        and set(wanted.avoid) <= set(produced.avoid)
        and all(got.get(bound) == want[bound] for bound in ("year_min", "year_max") if bound in want)
    )


def plan_metrics(llm: ChatModel, examples: list[dict]) -> dict:
    valid = kept = 0
    for example in tqdm(examples, desc="plan", leave=False):
        wanted = parse_call(example["messages"][-1]["content"])
        raw = "".join(llm.stream(example["messages"][:-1], CALL_PREFIX, 64, stop=[CLOSE]))
        try:
            produced = parse_call(CALL_PREFIX + raw + CLOSE, strict=True)
        except ToolCallError:
            continue
        valid += 1
        kept += constraints_kept(produced, wanted)
    n = len(examples)
    return {
        "valid_tool_call_rate": valid / n if n else None,
        "constraint_violation_rate": 1 - kept / n if n else None,
        "n_plan": n,
    }


def explain_metrics(llm: ChatModel, engine: ChatEngine, examples: list[dict]) -> dict:
    """Ask the engine's explain step, item by item, for the reasons of each example's items in its state, and count
    what its guard found. Raises ValueError for an example without what the step needs (data built before they
    kept it: build it again)."""
    explainer = ChatEngine(
        engine.catalog, engine.search, llm, None, replace(engine.settings, explainer="llm", explain_batch=False)
    )
    named_unshown = rejected = total = 0
    for number, example in enumerate(tqdm(examples, desc="explain", leave=False), start=1):
        missing = [key for key in ("state", "message", "item_ids") if key not in example]
        if missing:
            raise ValueError(
                f"explain example {number} ({example.get('conversation_id')}): no {', '.join(missing)}; "
                "build the data again with python -m finetune.build_data"
            )
        unknown = [item_id for item_id in example["item_ids"] if item_id not in engine.catalog]
        if unknown:
            raise ValueError(f"explain example {number}: item_ids {unknown} are not in the catalogue")
        state = state_from_record(example["state"])
        _, explanations = explainer.explain(state, example["message"], [engine.catalog[i] for i in example["item_ids"]])
        for asked in explanations:
            total += 1
            named_unshown += any(p.startswith("names") and "not on the card" not in p for p in asked["problems"])
            rejected += bool(asked["problems"])
    return {
        "unshown_item_rate_before_guard": named_unshown / total if total else None,
        "guard_rejection_rate": rejected / total if total else None,
        "n_reasons": total,
    }


def recall_at_10(llm: ChatModel, engine: ChatEngine, redial_dir: Path, limit: int, key: str = "recall@10") -> dict:
    names = read_movie_names(redial_dir / "movies_with_mentions.csv")
    mapper = MovieMapper(engine.catalog, names)
    dialogues = read_dialogues(redial_dir / "test_data.jsonl", names)
    turns = (
        t for t in recommendation_turns(dialogues, mapper, engine.catalog, engine.titles, engine.people) if t.novel
    )
    engine.llm = llm
    hits = n = 0
    for turn in tqdm(turns, total=limit, desc="redial recall", leave=False):
        ranked = engine.rank(turn.state, read_message(turn.message, engine.titles, engine.people)).ranked
        top = {scored.item.id for scored in ranked[:10]}
        hits += bool(top & set(turn.novel))
        n += 1
        if n >= limit:
            break
    return {key: hits / n if n else None, "n_redial": n}


def evaluate(
    llm: ChatModel,
    engine: ChatEngine,
    plans: list[dict],
    explains: list[dict],
    redial_dir: Path | None,
    redial_limit: int,
    scorer: bool = False,
) -> dict:
    started = time.perf_counter()
    result = {**plan_metrics(llm, plans), **explain_metrics(llm, engine, explains)}
    if redial_dir:
        result.update(recall_at_10(llm, engine, redial_dir, redial_limit))
        if scorer:  # the same turns with the LLM reordering the top candidates
            engine.reranker = LLMReranker(llm, engine.catalog, engine.settings.wording)
            try:
                result.update(recall_at_10(llm, engine, redial_dir, redial_limit, key="recall@10_llm_reranker"))
            finally:
                engine.reranker = None
    result["n"] = result["n_plan"]
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m finetune.evaluate",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--adapter", required=True, help="LoRA adapter folder")
    parser.add_argument("--base-model", default="default", help="base model the adapter was trained on")
    parser.add_argument(
        "--data",
        type=Path,
        default=PROJECT_ROOT / "var" / "ft" / "sft.jsonl",
        help="SFT data from finetune.build_data; only its eval split is used",
    )
    parser.add_argument("--redial", type=Path, help="ReDial folder (test_data.jsonl) for recall@10")
    parser.add_argument("--limit", type=int, default=30, help="examples per metric")
    parser.add_argument("--redial-limit", type=int, help="ReDial test turns for recall@10 (default: --limit)")
    parser.add_argument(
        "--scorer", action="store_true", help="also measure recall@10 with the LLM reranker (reranker=llm)"
    )
    parser.add_argument("--json", action="store_true", help='print {"base": {...}, "adapter": {...}}')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    engine = build_engine(Settings(llm="none", no_log=True), progress=False)
    with open(args.data, encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    held_out = [r for r in records if r.get("split") == "eval"]
    plans = [r for r in held_out if r["task"] == "plan"][: args.limit]
    explains = [r for r in held_out if r["task"] == "explain"][: max(1, args.limit // 3)]
    if not plans:
        print(f"error: no held-out plan examples in {args.data}", file=sys.stderr)
        return 2
    report = {}
    for name, adapter in (("base", None), ("adapter", args.adapter)):
        llm = LocalChatModel(args.base_model, adapter=adapter)
        try:
            report[name] = evaluate(
                llm, engine, plans, explains, args.redial, args.redial_limit or args.limit, args.scorer
            )
        except ValueError as error:  # an example that does not fit: name it, no traceback
            print(f"error: {args.data}: {error}", file=sys.stderr)
            return 2
        del llm
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        keys = [
            "valid_tool_call_rate",
            "constraint_violation_rate",
            "unshown_item_rate_before_guard",
            "guard_rejection_rate",
            "recall@10",
            "recall@10_llm_reranker",
            "n",
            "n_reasons",
            "n_redial",
            "seconds",
        ]
        print(f"{'metric':34} {'base':>10} {'adapter':>10}")
        for key in keys:
            if key in report["base"]:
                base, tuned = report["base"][key], report["adapter"][key]
                fmt = (lambda v: f"{v:10.3f}") if isinstance(base, float) else (lambda v: f"{v!s:>10}")
                print(f"{key:34} {fmt(base)} {fmt(tuned)}")
        print("unshown_item_rate_after_guard is 0 for both: the engine's guard replaces any such reason.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
