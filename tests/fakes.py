"""Hand-written fakes that satisfy the real interfaces: a bag-of-words embedder and a scripted chat model."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence

import numpy as np

from chat.llm import LLMError, WritingRules, complete_one_by_one, in_order


class HashingEmbedder:
    """Deterministic bag-of-words vectors: texts sharing words are close. Fast, no model files."""

    def __init__(self, dimension: int = 64, name: str = "hashing-test-embedder"):
        self.dimension = dimension
        self.name = name

    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension
                vectors[row, bucket] += 1.0
            norm = np.linalg.norm(vectors[row])
            vectors[row] = vectors[row] / norm if norm else vectors[row]
            if not norm:
                vectors[row, 0] = 1.0
        return vectors


class ScriptedChatModel:
    """Replies from a list, in order (the last one repeats); records every prompt it was given, and each
    `complete_many` call's prefixes (answered one by one, in order)."""

    name = "scripted"

    def __init__(self, replies: Sequence[str] = ("a fine pick for tonight with a strong mood",), fail: bool = False):
        self.replies = list(replies)
        self.calls: list[tuple[list[dict], str]] = []
        self.batches: list[list[str]] = []
        self.fail = fail

    def stream(
        self, messages: list[dict], prefix: str = "", max_new_tokens: int = 64, stop: Sequence[str] = ()
    ) -> Iterator[str]:
        if self.fail:
            raise LLMError("scripted failure")
        self.calls.append((messages, prefix))
        reply = self.replies[min(len(self.calls) - 1, len(self.replies) - 1)]
        for stop_text in stop:
            if stop_text and stop_text in reply:
                reply = reply[: reply.index(stop_text)]
        for word in reply.split(" "):
            yield word + " "

    def complete_many(
        self, messages: list[dict], prefixes: Sequence[str], max_new_tokens: int = 64, stop: Sequence[str] = ()
    ) -> list[str]:
        self.batches.append(list(prefixes))
        return complete_one_by_one(self, messages, prefixes, max_new_tokens, stop)


class StaggeredChatModel(ScriptedChatModel):
    """A scripted model whose batch rows finish in `finish_order` (positions; the others after them, in order), each
    handed over as it is written (`complete_many_as_done`). `written` lists the positions handed over so far;
    `stopped` says whether a batch was left before its last row."""

    def __init__(
        self,
        replies: Sequence[str] = ("a fine pick for tonight with a strong mood",),
        finish_order: Sequence[int] = (0,),
    ):
        super().__init__(replies)
        self.finish_order = tuple(finish_order)
        self.written: list[int] = []
        self.rules: list[Sequence[WritingRules] | None] = []  # each batch's rules, as asked
        self.stopped = False

    def complete_many_as_done(
        self,
        messages: list[dict],
        prefixes: Sequence[str],
        max_new_tokens: int = 64,
        stop: Sequence[str] = (),
        rules: Sequence[WritingRules] | None = None,
    ) -> Iterator[tuple[int, str]]:
        self.batches.append(list(prefixes))
        self.rules.append(rules)
        order = [p for p in self.finish_order if p < len(prefixes)]
        order += [p for p in range(len(prefixes)) if p not in order]
        self.written = []
        try:
            for position in order:
                self.written.append(position)
                yield position, "".join(self.stream(messages, prefixes[position], max_new_tokens, stop))
        finally:
            self.stopped = len(self.written) < len(prefixes) or self.stopped

    def complete_many(
        self, messages: list[dict], prefixes: Sequence[str], max_new_tokens: int = 64, stop: Sequence[str] = ()
    ) -> list[str]:
        return in_order(self.complete_many_as_done(messages, prefixes, max_new_tokens, stop), len(prefixes))
