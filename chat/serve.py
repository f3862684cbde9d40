"""`python -m chat.serve`: the local model behind an OpenAI-compatible HTTP API, so several app replicas can share it.

    python -m chat.serve [--host 127.0.0.1] [--port 8000] [--base-model ID|PATH] [--adapter PATH|none]
                         [--dtype float32|bfloat16] [--quantize none|int8|int8-dynamic] [--threads N] [--served-model-name default]

Endpoints:
- `POST /v1/chat/completions`: `messages`, `stream` (server-sent events: `data: {...}` chunks whose
  `choices[0].delta.content` carries the text, then `data: [DONE]`), `max_tokens` (or
  `max_completion_tokens`; 512 when absent), `stop` (a string or a list). vLLM's convention continues an assistant
  prefix: when the last message is the assistant's and the request has
  `"continue_final_message": true, "add_generation_prompt": false`, the reply continues that
  message (only the continuation is returned). `finish_reason` is "length" when the token limit
  was reached, else "stop"; non-streamed answers carry `usage` (prompt and completion tokens).
  Errors come back in OpenAI's shape, `{"error": {"message", "type", "code"}}`: 400 for a request
  this server cannot honour, 500 when generation fails (mid-stream: an `error` event).
- `GET /v1/models` (the one served model) and `GET /health`.

Decoding is always greedy: `temperature`, `top_p`, `seed` and other sampling fields are accepted
and ignored, and `model` is not checked. One generation runs at a time; requests queue.
There is no authentication: it binds 127.0.0.1 unless `--host` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Literal

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from chat.llm import ChatModel, CountsTokens, LLMError
from chat.settings import add_arguments, load_settings

log = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 512
SERVE_SETTINGS = ("base_model", "adapter", "dtype", "quantize", "threads", "model_cache")


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class Message(BaseModel):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None

    def as_chat(self) -> dict:
        content = self.content if isinstance(self.content, str) else "".join(p.text for p in self.content or [])
        return {"role": "system" if self.role == "developer" else self.role, "content": content}


class CompletionRequest(BaseModel):
    """The fields of an OpenAI chat-completions request that change what this server does."""

    model_config = ConfigDict(extra="ignore")

    messages: list[Message] = Field(min_length=1)
    model: str | None = None
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    continue_final_message: bool = False
    add_generation_prompt: bool = True

    @property
    def stop_strings(self) -> tuple[str, ...]:
        stop = [self.stop] if isinstance(self.stop, str) else self.stop or []
        return tuple(s for s in stop if s)

    @property
    def new_tokens_limit(self) -> int:
        return self.max_tokens or self.max_completion_tokens or DEFAULT_MAX_TOKENS


class BadRequest(ValueError):
    """A request this server cannot honour; answered with HTTP 400."""


def prompt_of(request: CompletionRequest) -> tuple[list[dict], str]:
    """The messages and assistant prefix to give `ChatModel.stream`.

    Example: [user "hi", assistant "Sure"] with continue_final_message -> ([user "hi"], "Sure")
    """
    messages = [m.as_chat() for m in request.messages]
    if request.continue_final_message:
        if request.add_generation_prompt:
            raise BadRequest("continue_final_message=true needs add_generation_prompt=false")
        if messages[-1]["role"] != "assistant":
            raise BadRequest("continue_final_message=true needs the last message to be the assistant's")
        return messages[:-1], messages[-1]["content"]
    if not request.add_generation_prompt:
        raise BadRequest("add_generation_prompt=false is only supported with continue_final_message=true")
    return messages, ""


def _error(status: int, message: str, kind: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status)


def create_app(model: ChatModel, served_model_name: str = "default") -> FastAPI:
    """The HTTP API over one chat model; generations are serialized (the model runs one at a time)."""
    app = FastAPI(title="chat.serve", description=__doc__.split("\n")[0])
    generation = threading.Lock()  # holds the model and its token counts (CountsTokens.last_stats) together
    created = int(time.time())

    @app.exception_handler(RequestValidationError)
    def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        return _error(400, problems, "invalid_request_error")

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/v1/models")
    def models() -> dict:
        return {
            "object": "list",
            "data": [
                {
                    "id": served_model_name,
                    "object": "model",
                    "created": created,
                    "owned_by": "chat.serve",
                    "root": model.name,
                }
            ],
        }

    def finish_reason(limit: int) -> str:
        stats = model.last_stats if isinstance(model, CountsTokens) else None
        return "length" if stats is not None and stats.new_tokens >= limit else "stop"

    def usage() -> dict | None:
        stats = model.last_stats if isinstance(model, CountsTokens) else None
        if stats is None:
            return None
        return {
            "prompt_tokens": stats.prompt_tokens,
            "completion_tokens": stats.new_tokens,
            "total_tokens": stats.prompt_tokens + stats.new_tokens,
        }

    @app.post("/v1/chat/completions")
    def chat_completions(request: CompletionRequest):
        try:
            messages, prefix = prompt_of(request)
        except BadRequest as error:
            return _error(400, str(error), "invalid_request_error")
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        limit = request.new_tokens_limit
        header = {"id": completion_id, "created": int(time.time()), "model": served_model_name}
        if request.stream:
            events = _events(model, generation, messages, prefix, limit, request.stop_strings, header, finish_reason)
            return ClosingStreamingResponse(_in_worker_threads(events), media_type="text/event-stream")
        with generation:
            try:
                text = "".join(model.stream(messages, prefix, limit, request.stop_strings))
            except LLMError as error:
                log.exception("generation failed")
                return _error(500, str(error), "server_error")
            body = {
                **header,
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": finish_reason(limit),
                    }
                ],
            }
            if (counted := usage()) is not None:
                body["usage"] = counted
        return body

    return app


class ClosingStreamingResponse(StreamingResponse):
    """A streaming response that closes its body however it ends, a client hanging up included.

    When the client hangs up, Starlette stops iterating the body but does not close it; until the
    garbage collector found it, the generation it drives would hold the model and block every
    other request.
    """

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.body_iterator.aclose()


async def _in_worker_threads(events: Iterator[str]) -> AsyncIterator[str]:
    """Runs a blocking generator step by step in worker threads, off the event loop, and closes it there too."""
    try:
        while (event := await anyio.to_thread.run_sync(next, events, None)) is not None:
            yield event
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(events.close)


def _events(
    model: ChatModel,
    generation: threading.Lock,
    messages: list[dict],
    prefix: str,
    limit: int,
    stop: tuple[str, ...],
    header: dict,
    finish_reason: Callable[[int], str],
) -> Iterator[str]:
    """Server-sent events of one streamed completion; a failure mid-stream is sent as an `error` event."""

    def event(delta: dict, finish: str | None = None) -> str:
        chunk = {
            **header,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    with generation:
        yield event({"role": "assistant", "content": ""})
        pieces = model.stream(messages, prefix, limit, stop)
        try:
            for piece in pieces:
                yield event({"content": piece})
            yield event({}, finish_reason(limit))
        except LLMError as error:
            log.exception("generation failed")
            yield f"data: {json.dumps({'error': {'message': str(error), 'type': 'server_error', 'code': 500}})}\n\n"
        finally:
            pieces.close()  # a client that hung up stops the generation
    yield "data: [DONE]\n\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m chat.serve",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (no authentication: keep it on loopback)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port")
    parser.add_argument("--served-model-name", default="default", help="model id that /v1/models lists")
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    add_arguments(parser, only=SERVE_SETTINGS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    import uvicorn

    from chat.llm import offline_by_default
    from chat.llm.local import LocalChatModel

    try:
        settings = load_settings(args)
        offline_by_default()
        model = LocalChatModel.from_settings(settings)
    except (ValueError, LLMError) as error:
        log.error("%s", error)
        return 2
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("binding %s: anyone who can reach it can use the model (there is no authentication)", args.host)
    uvicorn.run(create_app(model, args.served_model_name), host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
