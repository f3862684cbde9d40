"""Latency benchmark: a scripted 10-turn conversation through the real engine, per local-model mode, in one run.

    python -m evaluation.latency                                   # default settings and every mode (~5 minutes on 2 cores)
    python -m evaluation.latency --variants default,int8 --json var/latency.json

Each variant loads the local model (`LocalChatModel`) in one mode and replays the same
conversation through the engine the app serves (same catalogue, index, embedder, reranker,
planner and explainer settings; no logging), after one untimed warm-up turn in a separate
session. Variants: `default` (the settings as given: defaults, --config, RECSYS_ environment,
flags), `fp32` (plain unquantized float32 transformers, the baseline), `int8` (`--quantize int8`:
int8 weights for decoding, see `chat/llm/quantize.py`), `int8-dynamic` (`--quantize int8-dynamic`:
torch's dynamic quantization), `bf16` (`--dtype bfloat16`) and `bf16-int8` (both: bfloat16 prefill,
int8 weights for decoding); all keep the settings'
base model and adapter. A variant with the same mode as `default` is measured once.

Per turn it measures the whole turn and the time to the first streamed text (as a client of
`ChatEngine.respond` sees them), and, from the model's own counters (`LocalChatModel.total_stats`),
the LLM calls, prompt tokens (all, and those prefilled rather than reused from the KV cache),
generated tokens, and prefill and decode seconds. Decode tokens/s counts the tokens after each
call's first (the first comes out of the prefill). Quality beside speed: the share of valid
tool calls and of reasons the guard kept (a faster mode that writes worse text is no win).
Targets (issue 5): p50 turn <= 2.0 s and p50 time to first text <= 1.0 s.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from chat.assemble import build_engine, build_reranker
from chat.engine import ChatEngine, ChatSession, TurnResult
from chat.llm import GenerationStats
from chat.llm.local import LocalChatModel
from chat.settings import Settings, add_arguments, load_settings

log = logging.getLogger(__name__)

CONVERSATION = (
    "I loved Alien and The Thing, something scary but not gory",
    "something older",
    "not that one",
    "a 90s comedy, nothing with zombies",
    "something else",
    "more like the second one",
    "a western from before 1980, under 2 hours",
    "something more recent",
    "a tense heist thriller from the 90s, nothing with Tom Cruise",
    "a crime thriller from the 70s",
)  # every turn finds items in the demo catalogue, so every turn plans, recalls and explains
WARM_UP = "a feel-good animated film for the family"
MODES = {
    "fp32": ("float32", "none"),
    "int8": ("float32", "int8"),
    "int8-dynamic": ("float32", "int8-dynamic"),
    "bf16": ("bfloat16", "none"),
    "bf16-int8": ("bfloat16", "int8"),
}
TARGET_TURN_S, TARGET_FIRST_TEXT_S = 2.0, 1.0
BENCH_SETTINGS = (
    "catalog",
    "index",
    "embedding_model",
    "base_model",
    "adapter",
    "dtype",
    "quantize",
    "threads",
    "items_per_reply",
    "candidates_k",
    "planner",
    "explainer",
    "explain_batch",
    "constrain_reasons",
    "reranker",
    "scorer_candidates",
)


@dataclass(frozen=True)
class TurnMeasure:
    message: str
    kind: str
    items: int
    turn_s: float
    first_text_s: float
    llm_calls: int
    prompt_tokens: int
    prefilled_tokens: int
    new_tokens: int
    prefill_s: float
    decode_s: float
    tool_call_valid: bool | None
    reasons_by_llm: int  # items whose reason the LLM wrote and the guard kept


@dataclass(frozen=True)
class VariantSummary:
    variant: str
    mode: str
    p50_turn_s: float
    p95_turn_s: float
    p50_first_text_s: float
    p95_first_text_s: float
    llm_calls_per_turn: float
    prompt_tokens_per_turn: float
    prefilled_tokens_per_turn: float
    new_tokens_per_turn: float
    prefill_tokens_per_s: float
    decode_tokens_per_s: float
    turns_with_items: int
    valid_tool_calls: float  # share of turns
    reasons_by_llm: float  # share of shown items
    load_s: float


def mode_name(dtype: str, quantize: str) -> str:
    """Example: ("float32", "int8") -> "int8 weights (fp32)"; ("bfloat16", "none") -> "bf16" """
    base = {"float32": "fp32", "bfloat16": "bf16"}[dtype]
    return {"none": base, "int8": f"int8 weights ({base})", "int8-dynamic": f"int8 dynamic ({base})"}[quantize]


def variants_of(settings: Settings, names: list[str]) -> dict[str, tuple[str, str]]:
    """Variant label -> (dtype, quantize), each mode once; the default's label names the mode it shares.

    Example: defaults (int8), ["default", "fp32", "int8"] -> {"default (int8)": ("float32", "int8"), "fp32": ("float32", "none")}
    """
    default = (settings.dtype, settings.quantize)
    chosen: dict[str, tuple[str, str]] = {}
    for name in names:
        if name == "default":
            same = [other for other, mode in MODES.items() if mode == default and other in names]
            chosen[f"default ({same[0]})" if same else "default"] = default
        elif name in MODES:
            if MODES[name] != default or "default" not in names:
                chosen[name] = MODES[name]
        else:
            raise ValueError(f"unknown variant {name!r}: choose from default, {', '.join(MODES)}")
    return chosen


def summarize(variant: str, mode: str, turns: list[TurnMeasure], load_s: float) -> VariantSummary:
    """Percentiles of the turn times and per-turn means of the token counts; rates over all turns together."""
    turn_s = np.array([t.turn_s for t in turns])
    first_s = np.array([t.first_text_s for t in turns])
    calls = sum(t.llm_calls for t in turns)
    new_tokens = sum(t.new_tokens for t in turns)
    prefilled = sum(t.prefilled_tokens for t in turns)
    prefill_s = sum(t.prefill_s for t in turns)
    decode_s = sum(t.decode_s for t in turns)
    planned = [t.tool_call_valid for t in turns if t.tool_call_valid is not None]
    shown = sum(t.items for t in turns)
    n = len(turns)
    return VariantSummary(
        variant,
        mode,
        float(np.percentile(turn_s, 50)),
        float(np.percentile(turn_s, 95)),
        float(np.percentile(first_s, 50)),
        float(np.percentile(first_s, 95)),
        calls / n,
        sum(t.prompt_tokens for t in turns) / n,
        prefilled / n,
        new_tokens / n,
        prefilled / prefill_s if prefill_s else 0.0,
        (new_tokens - calls) / decode_s if decode_s else 0.0,
        sum(1 for t in turns if t.items),
        sum(planned) / len(planned) if planned else 0.0,
        sum(t.reasons_by_llm for t in turns) / shown if shown else 0.0,
        load_s,
    )


def measure_turn(engine: ChatEngine, session: ChatSession, message: str, llm: LocalChatModel) -> TurnMeasure:
    """One turn as a client sees it, with what the model spent on it (the difference of its running totals)."""
    before = llm.total_stats
    started = time.perf_counter()
    first_text_s = None
    result: TurnResult | None = None
    for update in engine.respond(session, message):
        if first_text_s is None and update.text:
            first_text_s = time.perf_counter() - started
        result = update.result
    turn_s = time.perf_counter() - started
    spent: GenerationStats = llm.total_stats - before
    rejected = {note.split(":", 1)[0] for note in result.guard_notes}
    return TurnMeasure(
        message,
        result.kind,
        len(result.items),
        turn_s,
        first_text_s if first_text_s is not None else turn_s,
        spent.calls,
        spent.prompt_tokens,
        spent.prompt_tokens - spent.reused_tokens,
        spent.new_tokens,
        spent.prefill_s,
        spent.decode_s,
        result.tool_call_valid,
        sum(1 for shown in result.items if shown.item.id not in rejected) if engine.settings.explainer == "llm" else 0,
    )


def run_variant(
    base: ChatEngine, settings: Settings, dtype: str, quantize: str, conversation: tuple[str, ...]
) -> tuple[list[TurnMeasure], float]:
    """The conversation's turn measures with the local model in one mode, and how long the model took to load."""
    started = time.perf_counter()
    llm = LocalChatModel.from_settings(settings, dtype=dtype, quantize=quantize)
    load_s = time.perf_counter() - started
    engine = ChatEngine(
        base.catalog,
        base.search,
        llm,
        None,
        replace(base.settings, model_id=llm.name),
        build_reranker(settings, llm, base.catalog),
    )
    for _ in engine.respond(engine.new_session(), WARM_UP):
        pass
    session = engine.new_session()
    turns = []
    for number, message in enumerate(conversation, start=1):
        turn = measure_turn(engine, session, message, llm)
        log.info(
            "%s turn %d: %.2f s (first text %.2f s), %d calls, %d prefilled + %d new tokens",
            mode_name(dtype, quantize),
            number,
            turn.turn_s,
            turn.first_text_s,
            turn.llm_calls,
            turn.prefilled_tokens,
            turn.new_tokens,
        )
        turns.append(turn)
    return turns, load_s


def report(summaries: list[VariantSummary], settings: Settings, turns: int) -> str:
    """A markdown table, one row per variant, and the issue's targets checked on the default."""
    header = (
        "| variant | p50 turn | p95 turn | p50 first text | p95 first text | LLM calls/turn | prompt tok/turn "
        "(prefilled) | generated tok/turn | prefill tok/s | decode tok/s | turns with items | valid tool calls | "
        "reasons by LLM | load |"
    )
    lines = [
        f"{turns} turns, model {settings.base_model}, adapter {settings.adapter_path or 'none'}, "
        f"threads {settings.threads or 'torch default'}",
        "",
        header,
        "|" + " --- |" * 14,
    ]
    for s in summaries:
        lines.append(
            f"| {s.variant} | {s.p50_turn_s:.2f} s | {s.p95_turn_s:.2f} s | {s.p50_first_text_s:.2f} s | "
            f"{s.p95_first_text_s:.2f} s | {s.llm_calls_per_turn:.1f} | {s.prompt_tokens_per_turn:.0f} "
            f"({s.prefilled_tokens_per_turn:.0f}) | {s.new_tokens_per_turn:.0f} | {s.prefill_tokens_per_s:.0f} | "
            f"{s.decode_tokens_per_s:.1f} | {s.turns_with_items}/{turns} | {s.valid_tool_calls:.0%} | {s.reasons_by_llm:.0%} | {s.load_s:.1f} s |"
        )
    default = next((s for s in summaries if s.variant.startswith("default")), None)
    if default is not None:
        turn_ok = "met" if default.p50_turn_s <= TARGET_TURN_S else "missed"
        first_ok = "met" if default.p50_first_text_s <= TARGET_FIRST_TEXT_S else "missed"
        lines += [
            "",
            f"targets on the default: p50 turn <= {TARGET_TURN_S} s {turn_ok}, "
            f"p50 first text <= {TARGET_FIRST_TEXT_S} s {first_ok}",
        ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.latency",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--variants",
        default="default,fp32,int8,int8-dynamic,bf16",
        help="comma-separated: default, " + ", ".join(MODES),
    )
    parser.add_argument(
        "--turns", type=int, default=len(CONVERSATION), help="how many turns of the script to replay (1-10)"
    )
    parser.add_argument("--json", type=Path, help="also write every turn's measures and the summaries here")
    add_arguments(parser, only=BENCH_SETTINGS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = replace(load_settings(args), llm="none", no_log=True)
        variants = variants_of(settings, [name.strip() for name in args.variants.split(",") if name.strip()])
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not 1 <= args.turns <= len(CONVERSATION):
        print(f"error: --turns must be 1..{len(CONVERSATION)}", file=sys.stderr)
        return 2
    conversation = CONVERSATION[: args.turns]
    # catalogue, index, embedder and search: shared by every variant; each adds its model's own reranker
    base = build_engine(replace(settings, reranker="weights"), progress=False)
    summaries, measured = [], {}
    for variant, (dtype, quantize) in variants.items():
        turns, load_s = run_variant(base, settings, dtype, quantize, conversation)
        summaries.append(summarize(variant, mode_name(dtype, quantize), turns, load_s))
        measured[variant] = [asdict(t) for t in turns]
    print(report(summaries, settings, len(conversation)))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"summaries": [asdict(s) for s in summaries], "turns": measured}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
