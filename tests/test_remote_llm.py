"""RemoteChatModel against real HTTP servers on loopback: chat.serve over a fake model, and tiny apps that misbehave."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import make_engine
from fakes import ScriptedChatModel
from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from loopback import free_port, serving
from test_serve import MESSAGES, RecordingChatModel

from chat.llm import LLMError
from chat.llm.remote import RemoteChatModel
from chat.serve import create_app


def test_streams_what_the_served_model_writes_in_pieces():
    model = RecordingChatModel()
    with serving(create_app(model)) as url:
        pieces = list(RemoteChatModel(f"{url}/v1").stream(MESSAGES, max_new_tokens=12))
    assert "".join(pieces) == "".join(model.pieces) and len(pieces) == len(model.pieces)
    assert model.calls[-1] == {"messages": MESSAGES, "prefix": "", "max_new_tokens": 12, "stop": ()}


def test_a_prefix_is_continued_and_stop_strings_are_sent():
    model = ScriptedChatModel(["Toy Story (1995) has toys\nand more"])
    with serving(create_app(model)) as url:
        remote = RemoteChatModel(f"{url}/v1")
        text = "".join(remote.stream(MESSAGES, prefix='<tool>{"query": "', max_new_tokens=20, stop=["\n"]))
    assert text == "Toy Story (1995) has toys "
    assert model.calls[-1] == (MESSAGES, '<tool>{"query": "')


def test_the_same_engine_turn_with_a_direct_and_a_served_fake_model(catalog, index, embedder):
    """Contract: the engine cannot tell a ChatModel from the same model behind chat.serve + RemoteChatModel."""
    direct = make_engine(catalog, index, embedder, ScriptedChatModel())
    with serving(create_app(ScriptedChatModel())) as url:
        served = make_engine(catalog, index, embedder, RemoteChatModel(f"{url}/v1"))
        replies = [
            [u.result for u in engine.respond(engine.new_session(), "a 90s comedy, nothing with zombies")][-1]
            for engine in (direct, served)
        ]
    assert replies[0].reply == replies[1].reply and replies[1].items
    assert replies[0].tool_call == replies[1].tool_call


def test_each_prefix_is_handed_over_before_the_next_is_asked_for():
    model = ScriptedChatModel(["first", "second"])
    with serving(create_app(model)) as url:
        rows = RemoteChatModel(f"{url}/v1").complete_many_as_done(MESSAGES, ["1. ", "2. "], 8)
        first, asked = next(rows), len(model.calls)
        rest = list(rows)
    assert first == (0, "first ") and asked == 1 and rest == [(1, "second ")]
    assert [prefix for _, prefix in model.calls] == ["1. ", "2. "]


def sse(chunks: list[str]) -> StreamingResponse:
    async def events():
        for content in chunks:
            chunk = {
                "id": "x",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "m",
                "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
            }
            yield f"data: {json.dumps(chunk)}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


def test_stop_strings_hold_even_when_the_server_ignores_them():
    app = FastAPI()

    @app.post("/v1/chat/completions")
    def ignores_stop():
        return sse(["Heat is a ", "heist film<", "/to", "ol> and then more", " and more"])

    with serving(app) as url:
        remote = RemoteChatModel(f"{url}/v1", max_retries=0)
        pieces = list(remote.stream(MESSAGES, stop=["</tool>"]))
        assert "".join(pieces) == "Heat is a heist film"
        assert all("<" not in p for p in pieces)  # a possible stop string's start is held back, never sent
        assert "".join(remote.stream(MESSAGES, stop=["\n"])) == "Heat is a heist film</tool> and then more and more"


def test_server_errors_raise_llm_error():
    app = FastAPI()

    @app.post("/v1/chat/completions")
    def broken():
        return JSONResponse({"error": {"message": "out of memory", "type": "server_error"}}, status_code=500)

    with serving(app) as url, pytest.raises(LLMError, match="out of memory"):
        list(RemoteChatModel(f"{url}/v1", max_retries=0).stream(MESSAGES))


def test_an_error_event_mid_stream_raises_llm_error():
    with serving(create_app(RecordingChatModel(fail_after=1))) as url, pytest.raises(LLMError, match="broke"):
        list(RemoteChatModel(f"{url}/v1", max_retries=0).stream(MESSAGES))


def test_a_refused_connection_raises_llm_error():
    with pytest.raises(LLMError, match="Connection"):
        list(RemoteChatModel(f"http://127.0.0.1:{free_port()}/v1", max_retries=0).stream(MESSAGES))


def test_a_server_that_does_not_answer_in_time_raises_llm_error():
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def slow():
        await asyncio.sleep(1.5)
        return sse(["too late"])

    with serving(app) as url, pytest.raises(LLMError, match="Timeout"):
        list(RemoteChatModel(f"{url}/v1", timeout_s=0.3, max_retries=0).stream(MESSAGES))


def test_an_unreachable_server_still_gives_a_turn_with_items(catalog, index, embedder):
    engine = make_engine(catalog, index, embedder, RemoteChatModel(f"http://127.0.0.1:{free_port()}/v1", max_retries=0))
    result = [u.result for u in engine.respond(engine.new_session(), "I loved Alien, something tense")][-1]
    assert result.kind == "recommend" and result.items
    assert any("planner error" in note for note in result.guard_notes)
