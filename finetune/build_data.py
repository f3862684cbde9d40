"""Build chat-format SFT data: `python -m finetune.build_data --source synthetic --source redial ... --out FILE.jsonl`.

Sources:
- synthetic: conversations generated from the catalogue, played through the real engine (rules
  planner, no LLM); targets are the state's search call and grounded reasons from the cards.
- redial: ReDial training dialogues (pass the folder; only `train_part_*.jsonl` are read, the
  test split is never used). Seeker turns update the dialogue state; each recommender turn that
  recommends a catalogue film gives a plan example and an explain example whose candidates
  contain that film.
- logs: conversations exported by `python -m chat.logs export --format sft`; turns with positive
  feedback are kept, turns with negative or no feedback are dropped.
Every record carries `split` ("train" or "eval"), assigned by conversation, never by turn. A
report (`FILE.report.json`, also on stderr) counts examples per source and what was dropped and why.
`--plan-fraction F` below 1 makes data for topping up an adapter's reasons (`reasons_mix`): every
explain example, a share F of the other training examples (the plan ones, and the score ones with
`--score-examples`, so the planner is not forgotten), and only explain examples held out; the
report counts what is written.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from chat import prompts
from chat.assemble import build_engine
from chat.engine import ChatEngine
from chat.settings import Settings
from chat.state import DialogueState, update_state
from chat.tools import SearchCall, ToolCallError, parse_call
from chat.understanding import clean_message, read_message
from corpora.redial import MovieMapper, read_dialogues, read_movie_names
from evaluation.reason_quality import FactChecker, ReasonTally, Request, ShownReason, unsupported_facts
from finetune import synthetic
from finetune.examples import explain_example, grounded, plan_example, score_example, split_of
from finetune.reasons import reply_reasons
from finetune.redial import recommendation_turns
from retrieval.catalog import Item
from retrieval.filters import wish_kind
from retrieval.retriever import SearchRequest

log = logging.getLogger("finetune.build_data")

_REPLY_LINE = re.compile(r"^\d+\. \*\*(.+?)\*\*: (.+)$")


@dataclass
class Report:
    examples: collections.Counter
    dropped: collections.Counter
    reasons: ReasonTally  # the training reasons scored as the reason-quality benchmark scores shown ones
    conversation: str = ""

    @classmethod
    def new(cls, catalog) -> Report:
        return cls(collections.Counter(), collections.Counter(), ReasonTally(FactChecker.of(catalog)))

    def as_dict(self) -> dict:
        quality = {k: v for k, v in self.reasons.summary(llm=False).items() if k != "llm_kept_rate"}
        return {
            "examples": dict(sorted(self.examples.items())),
            "dropped": dict(sorted(self.dropped.items())),
            "reason_quality": quality,
        }

    def score(self, conversation_id: str, state: DialogueState, items: list[Item], reasons: list[str], catalog) -> None:
        if conversation_id != self.conversation:
            self.reasons.start_conversation()
            self.conversation = conversation_id
        self.reasons.add_reply(
            [ShownReason(item, reason, False) for item, reason in zip(items, reasons)],
            Request.from_state(state, catalog),
        )


def _reasons(
    engine: ChatEngine,
    state: DialogueState,
    items: list[Item],
    rng: random.Random,
    report: Report,
    source: str,
    conversation_id: str,
) -> list[str]:
    """A reason per item, each passing the engine's guard and the strict card check; the template where none did."""
    checker = report.reasons.checker
    request = Request.from_state(state, engine.catalog)

    def accept(reason: str, item: Item, earlier) -> bool:
        return grounded(
            reason, item, state, items, engine.catalog, engine.titles, engine.people, earlier
        ) and not unsupported_facts(reason, item, request, checker)

    reasons = []
    for item, reason in zip(items, reply_reasons(items, state, engine.catalog, rng, accept)):
        if reason is None:
            report.dropped[f"{source}: no drawn reason passed the guard, template used"] += 1
            reason = prompts.template_reason(item, state, engine.catalog)
        reasons.append(reason)
    report.score(conversation_id, state, items, reasons, engine.catalog)
    return reasons


def from_synthetic(engine: ChatEngine, count: int, seed: int, report: Report) -> Iterator[dict]:
    rng = random.Random(seed)
    for conversation_id, messages in tqdm(list(synthetic.conversations(engine.catalog, count, seed)), desc="synthetic"):
        session = engine.new_session()
        for message in messages:
            result = None
            for update in engine.respond(session, message):
                result = update.result
            if result.kind != "recommend" or result.plan_state is None:
                report.dropped[f"synthetic: turn without recommendations ({result.kind})"] += 1
                continue
            state, text = result.plan_state, clean_message(message)[0]
            call = parse_call(result.tool_call["text"])
            items = [shown.item for shown in result.items]
            yield plan_example(state, engine.catalog, text, call, "synthetic", conversation_id)
            yield explain_example(
                state,
                engine.catalog,
                text,
                items,
                _reasons(engine, state, items, rng, report, "synthetic", conversation_id),
                "synthetic",
                conversation_id,
            )


def from_redial(
    engine: ChatEngine, folder: Path, seed: int, report: Report, score_examples: bool = False
) -> Iterator[dict]:
    rng = random.Random(seed)
    names = read_movie_names(folder / "movies_with_mentions.csv")
    mapper = MovieMapper(engine.catalog, names)
    files = sorted(folder.glob("train_part_*.jsonl")) or sorted(folder.glob("train*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no ReDial training files (train_part_*.jsonl) in {folder}")
    for path in files:
        dialogues = list(read_dialogues(path, names))
        turns = recommendation_turns(
            tqdm(dialogues, desc=f"redial {path.name}"), mapper, engine.catalog, engine.titles, engine.people
        )
        for turn in turns:
            if not turn.novel:
                report.dropped["redial: recommended movie not in the catalogue or already mentioned"] += 1
                continue
            yield from _redial_examples(
                engine,
                turn.state,
                turn.message,
                engine.catalog[turn.novel[0]],
                score_examples,
                f"redial-{turn.dialogue_id}",
                rng,
                report,
            )


def redial_call(state: DialogueState, query: str) -> SearchCall:
    """The call a ReDial turn is trained on: the format the adapter learnt, with the wished genres, the era and the
    avoided words only (the calls of older data have no `runtime_max` or `filters`)."""
    trained = tuple(c for c in state.conditions if wish_kind(c) in ("genre", "no_genre", "years"))
    return SearchCall.searching(query, trained, state.avoid_terms)


def _redial_examples(
    engine: ChatEngine,
    state: DialogueState,
    message: str,
    target: Item,
    score_examples: bool,
    conversation_id: str,
    rng: random.Random,
    report: Report,
) -> Iterator[dict]:
    genres = [g for g in target.genres[:2] if g not in state.avoided("genres")]
    query = " ".join(dict.fromkeys((state.query_text() + " " + " ".join(genres)).split()))
    call = redial_call(state, query or " ".join(target.genres[:2]) or "films")
    yield plan_example(state, engine.catalog, message, call, "redial", conversation_id)
    others = engine.search.retriever.search(
        SearchRequest(call.query, state.liked, state.filters(), state.excluded | {target.id}, k=2)
    )
    if score_examples:  # for the LLM reranker (reranker=llm): the chosen film "yes", the other retrieved films "no"
        yield score_example(state, engine.catalog, message, target, True, "redial", conversation_id)
        for other in others:
            yield score_example(state, engine.catalog, message, other.item, False, "redial", conversation_id)
    items = [target] + [o.item for o in others]
    rng.shuffle(items)
    yield explain_example(
        state,
        engine.catalog,
        message,
        items,
        _reasons(engine, state, items, rng, report, "redial", conversation_id),
        "redial",
        conversation_id,
    )


def from_logs(engine: ChatEngine, path: Path, report: Report) -> Iterator[dict]:
    """Turns from `chat.logs export --format sft`: keep positive ones, rebuild the state from the user's messages."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = json.loads(line)
            if record.get("label") != "positive":
                report.dropped[f"logs: {record.get('label', 'unlabelled')} feedback"] += 1
                continue
            conversation_id = f"logs-{record['session_id']}"
            users = [m["content"] for m in record["messages"] if m["role"] == "user"]
            state = DialogueState()
            for text in users:
                state = update_state(state, read_message(text, engine.titles, engine.people), engine.catalog)
            message = clean_message(users[-1])[0] if users else ""
            try:
                call = parse_call(record.get("tool_call") or "")
            except ToolCallError as error:
                report.dropped[f"logs: unusable tool call ({error})"] += 1
                continue
            items = [engine.catalog[i] for i in record.get("shown", []) if i in engine.catalog]
            reply = record["messages"][-1]["content"] if record["messages"][-1]["role"] == "assistant" else ""
            reasons = [m.group(2) for m in map(_REPLY_LINE.match, reply.splitlines()) if m]
            if not items or len(reasons) != len(items):
                report.dropped["logs: shown items and reply lines do not match"] += 1
                continue
            yield plan_example(state, engine.catalog, message, call, "logs", conversation_id)
            if all(
                grounded(r, i, state, items, engine.catalog, engine.titles, engine.people)
                for i, r in zip(items, reasons)
            ):
                yield explain_example(state, engine.catalog, message, items, reasons, "logs", conversation_id)
            else:
                report.dropped["logs: logged reason fails the guard"] += 1


def reasons_mix(examples: list[dict], plan_fraction: float, seed: int) -> list[dict]:
    """Every explain example, a share `plan_fraction` of the other training examples (drawn in order), and the held-out
    explain examples alone, shuffled, after the training ones.

    Example: [plan/train, explain/train, plan/eval, explain/eval], 0.0 -> [explain/train, explain/eval]
    """
    draws = random.Random(seed)
    train, evaluation = [], []
    for example in examples:
        if example["split"] == "eval":
            if example["task"] == "explain":
                evaluation.append(example)
        elif example["task"] == "explain" or draws.random() < plan_fraction:
            train.append(example)
    draws.shuffle(evaluation)
    return train + evaluation


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m finetune.build_data",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--source",
        action="append",
        choices=("synthetic", "redial", "logs"),
        required=True,
        help="data source; repeat for several",
    )
    parser.add_argument("--out", required=True, type=Path, help="output JSONL file")
    parser.add_argument(
        "--catalog", default="", help="catalogue file (default: the --index folder's own, else the demo one)"
    )
    parser.add_argument(
        "--index", default="", help="index folder, used with the catalogue it was built from (default: the app's)"
    )
    parser.add_argument(
        "--redial", type=Path, help="ReDial folder with train_part_*.jsonl and movies_with_mentions.csv"
    )
    parser.add_argument("--logs", type=Path, help="file from `python -m chat.logs export --format sft`")
    parser.add_argument("--synthetic-conversations", type=int, default=300, help="how many synthetic conversations")
    parser.add_argument(
        "--eval-fraction", type=float, default=0.1, help="share of conversations held out for evaluation"
    )
    parser.add_argument(
        "--score-examples",
        action="store_true",
        help="also write yes/no examples for the LLM reranker (reranker=llm) from ReDial turns",
    )
    parser.add_argument(
        "--plan-fraction",
        type=float,
        default=1.0,
        help="below 1: keep every explain example but only this share of the other training examples (plan, and "
        "score with --score-examples), and hold out explain examples only (data to top up an adapter's reasons "
        "with finetune.train --adapter-init)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not 0.0 <= args.plan_fraction <= 1.0:
        parser.error("--plan-fraction must be between 0 and 1")
    if "redial" in args.source and not args.redial:
        parser.error("--source redial needs --redial DIR")
    if "logs" in args.source and not args.logs:
        parser.error("--source logs needs --logs FILE")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    engine = build_engine(
        Settings(
            catalog=args.catalog, index=args.index, llm="none", no_log=True, planner="rules", explainer="template"
        ),
        progress=True,
    )
    report = Report.new(engine.catalog)
    streams = {
        "synthetic": lambda: from_synthetic(engine, args.synthetic_conversations, args.seed, report),
        "redial": lambda: from_redial(engine, args.redial, args.seed, report, args.score_examples),
        "logs": lambda: from_logs(engine, args.logs, report),
    }
    examples = []
    for source in args.source:
        for example in streams[source]():
            example["split"] = split_of(example["conversation_id"], args.eval_fraction)
            examples.append(example)
    if args.plan_fraction < 1.0:
        examples = reasons_mix(examples, args.plan_fraction, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as out:
        for example in examples:
            report.examples[f"{example['source']}/{example['task']}/{example['split']}"] += 1
            out.write(json.dumps(example, ensure_ascii=False) + "\n")
    summary = report.as_dict()
    Path(f"{args.out}.report.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
