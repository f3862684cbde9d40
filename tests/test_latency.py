"""The latency benchmark's pure parts and one measured turn over a fake model that counts like LocalChatModel."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from conftest import make_engine
from fakes import ScriptedChatModel

from chat.llm import GenerationStats
from chat.settings import Settings
from evaluation.latency import TurnMeasure, measure_turn, report, summarize, variants_of


class CountingChatModel(ScriptedChatModel):
    """A scripted model that adds one call of 100 prompt tokens (40 reused) and 5 new tokens to its totals per call."""

    def __init__(self):
        super().__init__()
        self.total_stats = GenerationStats()

    def stream(
        self, messages: list[dict], prefix: str = "", max_new_tokens: int = 64, stop: Sequence[str] = ()
    ) -> Iterator[str]:
        yield from super().stream(messages, prefix, max_new_tokens, stop)
        self.total_stats = self.total_stats + GenerationStats(1, 100, 40, 5, 0.1, 0.2)


def test_stats_add_and_subtract_field_by_field():
    one = GenerationStats(1, 100, 40, 5, 0.1, 0.2)
    assert (one + one) - one == one and (one + one).prompt_tokens == 200


def test_each_mode_is_measured_once_and_the_default_names_its_mode():
    assert variants_of(Settings(), ["default", "fp32", "int8", "bf16"]) == {
        "default (int8)": ("float32", "int8"),
        "fp32": ("float32", "none"),
        "bf16": ("bfloat16", "none"),
    }
    assert variants_of(Settings(quantize="int8-dynamic"), ["default", "fp32", "int8-dynamic"]) == {
        "default (int8-dynamic)": ("float32", "int8-dynamic"),
        "fp32": ("float32", "none"),
    }
    assert variants_of(Settings(dtype="bfloat16", quantize="int8"), ["default", "fp32"]) == {
        "default": ("bfloat16", "int8"),
        "fp32": ("float32", "none"),
    }
    with pytest.raises(ValueError, match="unknown variant"):
        variants_of(Settings(), ["fp16"])


def test_summary_takes_percentiles_of_times_and_rates_over_all_turns():
    turns = [
        TurnMeasure("m", "recommend", 3, turn_s, 0.5, 4, 400, 200, 40, 0.5, 2.0, True, 1) for turn_s in (1.0, 2.0, 3.0)
    ]
    summary = summarize("fp32", "fp32", turns, load_s=2.0)
    assert summary.p50_turn_s == 2.0 and summary.p50_first_text_s == 0.5
    assert summary.prefilled_tokens_per_turn == 200 and summary.new_tokens_per_turn == 40
    assert summary.decode_tokens_per_s == pytest.approx((120 - 12) / 6.0) and summary.prefill_tokens_per_s == 400
    assert summary.reasons_by_llm == pytest.approx(1 / 3)
    assert "| fp32 | 2.00 s |" in report([summary], Settings(), 3)


def test_a_measured_turn_counts_the_model_calls_it_made(catalog, index, embedder):
    llm = CountingChatModel()
    engine = make_engine(catalog, index, embedder, llm)
    turn = measure_turn(engine, engine.new_session(), "I loved Alien, something tense", llm)
    assert turn.kind == "recommend" and turn.items == 3
    assert turn.llm_calls == 4 and turn.prompt_tokens == 400 and turn.prefilled_tokens == 240 and turn.new_tokens == 20
    assert 0 < turn.first_text_s <= turn.turn_s
