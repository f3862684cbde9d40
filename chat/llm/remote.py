"""The remote LLM backend: `ChatModel` over any OpenAI-compatible chat-completions server, through LangChain.

Works with vLLM, TGI, a llama.cpp server, Ollama, or this project's own `python -m chat.serve`.
An assistant prefix is continued with vLLM's convention: the prefix is sent as a final assistant
message with `"continue_final_message": true, "add_generation_prompt": false` (chat.serve and vLLM
honour it; a server that does not may start a new reply instead). Stop strings are sent to the
server and also applied here, since some servers ignore them. Decoding asks for temperature 0.
Connection failures, HTTP errors and timeouts raise `LLMError`, which the engine turns into its
rule-based fallbacks. Several prefixes (`complete_many`) are sent one after another, each handed over when
done (`complete_many_as_done`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from chat.llm import LLMError, WritingRules, complete_one_by_one, holdback, one_by_one_as_done, trim_at_stop

log = logging.getLogger(__name__)


class RemoteChatModel:
    """An OpenAI-compatible server at `base_url` (e.g. http://127.0.0.1:8000/v1) via `langchain_openai.ChatOpenAI`."""

    def __init__(
        self,
        base_url: str,
        model: str = "default",
        api_key: str = "none",
        timeout_s: float = 60.0,
        max_retries: int = 1,
    ):
        try:
            import httpx
            import openai
            from langchain_openai import ChatOpenAI
        except ImportError as error:
            raise LLMError(
                "the remote LLM backend needs langchain-openai (pip install langchain-openai==1.7.4)"
            ) from error
        self.client = ChatOpenAI(
            base_url=base_url,
            api_key=api_key or "none",
            model=model,
            streaming=True,
            temperature=0,
            timeout=timeout_s,
            max_retries=max_retries,
        )
        self.name = f"{model} @ {base_url}"
        # What an unreachable or failing server raises: the SDK's errors, and httpx's while a stream is read.
        self._failures: tuple[type[BaseException], ...] = (openai.OpenAIError, httpx.HTTPError)

    def stream(
        self, messages: list[dict], prefix: str = "", max_new_tokens: int = 64, stop: Sequence[str] = ()
    ) -> Iterator[str]:
        stop = tuple(s for s in stop if s)
        request = [{"role": m["role"], "content": m["content"]} for m in messages]
        # Older servers (Ollama, llama.cpp) read max_tokens; ChatOpenAI sends it as max_completion_tokens.
        extra_body: dict = {"max_tokens": max_new_tokens}
        if prefix:
            request.append({"role": "assistant", "content": prefix})
            extra_body.update(continue_final_message=True, add_generation_prompt=False)
        chunks = self.client.stream(request, stop=list(stop) or None, max_tokens=max_new_tokens, extra_body=extra_body)
        produced, sent = "", 0
        try:
            for chunk in chunks:
                produced += chunk.text
                text, stopped = trim_at_stop(produced, stop)
                ready = len(text) if stopped else len(text) - holdback(text, stop)
                if ready > sent:
                    yield text[sent:ready]
                    sent = ready
                if stopped:  # the server ignored the stop string; closing the stream ends its generation
                    log.debug("%s ignored a stop string; cut here", self.name)
                    return
            text, _ = trim_at_stop(produced, stop)
            if len(text) > sent:
                yield text[sent:]
        except self._failures as error:
            raise LLMError(f"remote model {self.name}: {type(error).__name__}: {error}") from error
        finally:
            chunks.close()

    def complete_many(
        self, messages: list[dict], prefixes: Sequence[str], max_new_tokens: int = 64, stop: Sequence[str] = ()
    ) -> list[str]:
        return complete_one_by_one(self, messages, prefixes, max_new_tokens, stop)

    def complete_many_as_done(
        self,
        messages: list[dict],
        prefixes: Sequence[str],
        max_new_tokens: int = 64,
        stop: Sequence[str] = (),
        rules: Sequence[WritingRules] | None = None,
    ) -> Iterator[tuple[int, str]]:
        """One prefix after another; `rules` cannot be enforced through the chat completions API and are not."""
        return one_by_one_as_done(self, messages, prefixes, max_new_tokens, stop)
