"""The seam between the engine and its language models: the interface, its errors, stats and shared helpers.

`ChatModel` streams text for chat messages, continuing from an assistant prefix; `complete_many`
continues several prefixes of one prompt (backends that cannot batch answer it with
`complete_one_by_one`). A model that can hand over each prefix's continuation as soon as it is
written is a `CompletesAsDone`; `complete_as_done` asks any model that way, with optional
`WritingRules` per prefix that such a model enforces while it decodes (the numbers a row may
write, how many words it must write before it may end). A model that can also
say how likely "yes" is after each of several conversations is a `YesNoScorer` (the TALLRec-style
reranker uses it). Backends: `chat.llm.local` (transformers in this process) and `chat.llm.remote`
(an OpenAI-compatible server). Each counts what its calls cost in `GenerationStats` where it can
(`CountsTokens`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Protocol, runtime_checkable

DEFAULT_BASE_MODEL = "default"


class LLMError(RuntimeError):
    """The language model could not be loaded or failed while generating."""


class ChatModel(Protocol):
    """Streams the assistant's continuation of `prefix` after `messages`, stopping before any `stop` string."""

    name: str

    def stream(
        self, messages: list[dict], prefix: str = "", max_new_tokens: int = 64, stop: Sequence[str] = ()
    ) -> Iterator[str]: ...

    def complete_many(
        self, messages: list[dict], prefixes: Sequence[str], max_new_tokens: int = 64, stop: Sequence[str] = ()
    ) -> list[str]:
        """The continuation of each prefix, as `stream` would write it, in the order of `prefixes`."""
        ...


@runtime_checkable
class YesNoScorer(Protocol):
    """A model that scores conversations by its probability of answering `answers[0]` rather than `answers[1]`."""

    def yes_probability(
        self, conversations: Sequence[list[dict]], answers: tuple[str, str] = ("yes", "no")
    ) -> list[float]: ...


@dataclass(frozen=True)
class WritingRules:
    """What one continuation may write, enforced token by token by a model that can (the local backend).

    `numbers`: the only digit runs it may write, whole ("1978"); a run it has begun must go on to
    one of them, so "19th" or "1974" cannot start where only "1978" may stand; one written with an
    "s" ("70s") is a decade, its digits followed by that "s". None: any number. `min_words`: it
    may not end (end of text, a stop string or a full stop) before it has written this many words.
    `lead_ins` and `names`: after a lead-in (" fans of"), only one of `names` may follow, written
    out; with no names, no lead-in is written. A backend that cannot enforce them writes as it
    would without; whoever reads the text still checks it.

    Example: WritingRules(numbers=frozenset({"1978", "70s"}), min_words=7, lead_ins=(" fans of",), names=("Alien",))
    """

    numbers: frozenset[str] | None = None
    min_words: int = 0
    lead_ins: tuple[str, ...] = ()
    names: tuple[str, ...] = ()


@runtime_checkable
class CompletesAsDone(Protocol):
    """A model that hands over each prefix's continuation (its position in `prefixes`, its text) as soon as it is
    written, in the order they finish; without `rules` the texts are exactly `complete_many`'s. With `rules` (one
    per prefix) each row keeps to its own, where the model can enforce them."""

    def complete_many_as_done(
        self,
        messages: list[dict],
        prefixes: Sequence[str],
        max_new_tokens: int = 64,
        stop: Sequence[str] = (),
        rules: Sequence[WritingRules] | None = None,
    ) -> Iterator[tuple[int, str]]: ...


def complete_as_done(
    model: ChatModel,
    messages: list[dict],
    prefixes: Sequence[str],
    max_new_tokens: int = 64,
    stop: Sequence[str] = (),
    rules: Sequence[WritingRules] | None = None,
) -> Iterator[tuple[int, str]]:
    """Each prefix's continuation as soon as the model has it: as it finishes where the model is a `CompletesAsDone`
    (keeping to `rules` where it can), else all together when `complete_many` returns, in order. Closing the iterator
    early ends the model's work."""
    if isinstance(model, CompletesAsDone):
        with_rules = {"rules": rules} if rules is not None else {}  # a model that takes none is asked as before
        yield from model.complete_many_as_done(messages, prefixes, max_new_tokens, stop, **with_rules)
    else:
        yield from enumerate(model.complete_many(messages, prefixes, max_new_tokens, stop))


def in_order(finished: Iterator[tuple[int, str]], count: int) -> list[str]:
    """`count` texts handed over in any order, put back in their order. Example: [(1, "b"), (0, "a")], 2 -> ["a", "b"]"""
    texts: list[str | None] = [None] * count
    for position, text in finished:
        texts[position] = text
    if None in texts:
        raise LLMError(f"the model finished {count - texts.count(None)} of {count} continuations")
    return texts  # type: ignore[return-value]


def one_by_one_as_done(
    model: ChatModel, messages: list[dict], prefixes: Sequence[str], max_new_tokens: int = 64, stop: Sequence[str] = ()
) -> Iterator[tuple[int, str]]:
    """`complete_many_as_done` for a backend that cannot batch: each prefix streamed in turn, handed over when done."""
    for position, prefix in enumerate(prefixes):
        yield position, "".join(model.stream(messages, prefix, max_new_tokens, stop))


def complete_one_by_one(
    model: ChatModel, messages: list[dict], prefixes: Sequence[str], max_new_tokens: int = 64, stop: Sequence[str] = ()
) -> list[str]:
    """`complete_many` for a backend that cannot batch: each prefix streamed in turn."""
    return in_order(one_by_one_as_done(model, messages, prefixes, max_new_tokens, stop), len(prefixes))


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

    def __add__(self, other: GenerationStats) -> GenerationStats:
        return GenerationStats(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __sub__(self, other: GenerationStats) -> GenerationStats:
        return GenerationStats(*(getattr(self, f.name) - getattr(other, f.name) for f in fields(self)))


@runtime_checkable
class CountsTokens(Protocol):
    """A model that counts what its latest completed call cost (None before the first)."""

    last_stats: GenerationStats | None


def offline_by_default() -> None:
    """Keep model loading off the network unless the person turned it on."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def trim_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Cut text before the first stop string. Example: ("a b\\nc", ["\\n"]) -> ("a b", True)"""
    cut = min((text.find(s) for s in stop if s and s in text), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def holdback(text: str, stop: Sequence[str]) -> int:
    """How many trailing characters might be the start of a stop string and must wait."""
    longest = 0
    for s in stop:
        for size in range(min(len(s) - 1, len(text)), 0, -1):
            if text.endswith(s[:size]):
                longest = max(longest, size)
                break
    return longest
