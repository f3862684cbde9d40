"""chat.serve's OpenAI-compatible API, served on loopback over a hand-written fake model (fast; the real model is in test_serve_real_model.py)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence

import httpx
import pytest
from loopback import serving

from chat.llm import LLMError
from chat.serve import create_app

MESSAGES = [{"role": "system", "content": "You recommend films."}, {"role": "user", "content": "a 90s comedy"}]


class RecordingChatModel:
    """Streams a fixed text in pieces (cut before any stop string); records each call; can fail after the first piece."""

    name = "recording"

    def __init__(
        self,
        pieces: Sequence[str] = ("Groundhog", " Day", " is", " funny\nand", " more"),
        fail_after: int | None = None,
    ):
        self.pieces = list(pieces)
        self.fail_after = fail_after
        self.calls: list[dict] = []

    def stream(
        self, messages: list[dict], prefix: str = "", max_new_tokens: int = 64, stop: Sequence[str] = ()
    ) -> Iterator[str]:
        self.calls.append(
            {"messages": messages, "prefix": prefix, "max_new_tokens": max_new_tokens, "stop": tuple(stop)}
        )
        text = "".join(self.pieces)
        for s in stop:
            text = text.split(s)[0]
        sent = 0
        for number, piece in enumerate(self.pieces):
            if self.fail_after is not None and number >= self.fail_after:
                raise LLMError("the fake model broke")
            piece = text[sent : sent + len(piece)]
            if not piece:
                return
            sent += len(piece)
            yield piece


@pytest.fixture
def model():
    return RecordingChatModel()


@pytest.fixture
def url(model):
    with serving(create_app(model)) as base:
        yield base


def completion(url: str, **body) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", json={"model": "default", "messages": MESSAGES, **body}, timeout=10)


def streamed_events(url: str, **body) -> list[str]:
    with httpx.stream(
        "POST",
        f"{url}/v1/chat/completions",
        json={"model": "default", "messages": MESSAGES, "stream": True, **body},
        timeout=10,
    ) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        return [line.removeprefix("data: ") for line in response.iter_lines() if line.startswith("data: ")]


def test_non_streaming_completion_returns_the_whole_text(url, model):
    response = completion(url)
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == "default"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Groundhog Day is funny\nand more"}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert model.calls[-1]["messages"] == MESSAGES and model.calls[-1]["prefix"] == ""


def test_streaming_sends_one_chunk_per_piece_then_done(url):
    events = streamed_events(url)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Groundhog Day is funny\nand more"
    assert len([c for c in chunks if c["choices"][0]["delta"].get("content")]) == 5
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_max_tokens_and_stop_reach_the_model(url, model):
    body = completion(url, max_tokens=7, stop="\n").json()
    assert body["choices"][0]["message"]["content"] == "Groundhog Day is funny"
    assert model.calls[-1]["max_new_tokens"] == 7 and model.calls[-1]["stop"] == ("\n",)
    completion(url, max_completion_tokens=9, stop=[" is", ""])
    assert model.calls[-1]["max_new_tokens"] == 9 and model.calls[-1]["stop"] == (" is",)


def test_continue_final_message_continues_the_assistant_prefix(url, model):
    prefix = {"role": "assistant", "content": "1. Groundhog Day (1993): "}
    response = completion(url, messages=[*MESSAGES, prefix], continue_final_message=True, add_generation_prompt=False)
    assert response.status_code == 200
    assert model.calls[-1]["messages"] == MESSAGES and model.calls[-1]["prefix"] == prefix["content"]


def test_a_final_assistant_message_without_the_flag_is_a_finished_turn(url, model):
    earlier = [*MESSAGES, {"role": "assistant", "content": "Try Clueless."}, {"role": "user", "content": "another"}]
    completion(url, messages=earlier)
    assert model.calls[-1]["messages"] == earlier and model.calls[-1]["prefix"] == ""


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"continue_final_message": True}, "add_generation_prompt=false"),
        ({"continue_final_message": True, "add_generation_prompt": False}, "last message"),
        ({"add_generation_prompt": False}, "only supported with continue_final_message"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "role"),
        ({"max_tokens": 0}, "max_tokens"),
    ],
)
def test_requests_it_cannot_honour_are_400_in_openai_shape(url, model, body, problem):
    response = completion(url, **body)
    assert response.status_code == 400
    assert (
        response.json()["error"]["type"] == "invalid_request_error" and problem in response.json()["error"]["message"]
    )
    assert model.calls == []


def test_text_parts_and_developer_role_are_read_as_plain_messages(url, model):
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "a 90s "}, {"type": "text", "text": "comedy"}]},
    ]
    assert completion(url, messages=messages).status_code == 200
    assert model.calls[-1]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "a 90s comedy"},
    ]


def test_models_lists_the_served_model(url):
    body = httpx.get(f"{url}/v1/models", timeout=10).json()
    assert [m["id"] for m in body["data"]] == ["default"]
    assert httpx.get(f"{url}/health", timeout=10).status_code == 200


def test_a_model_failure_is_a_500_or_an_error_event():
    with serving(create_app(RecordingChatModel(fail_after=2))) as url:
        response = completion(url)
        assert response.status_code == 500 and "broke" in response.json()["error"]["message"]
        events = streamed_events(url)
    contents = [json.loads(e)["choices"][0]["delta"].get("content") for e in events[1:3]]
    assert contents == ["Groundhog", " Day"]
    assert "broke" in json.loads(events[3])["error"]["message"] and events[-1] == "[DONE]"


class EndlessChatModel:
    """Streams a word every 20 ms until closed; records whether its generation was closed."""

    name = "endless"

    def __init__(self):
        self.closed = threading.Event()

    def stream(
        self, messages: list[dict], prefix: str = "", max_new_tokens: int = 64, stop: Sequence[str] = ()
    ) -> Iterator[str]:
        try:
            while True:
                time.sleep(0.02)
                yield "word "
        finally:
            self.closed.set()


def test_a_client_that_hangs_up_mid_stream_ends_the_generation():
    model = EndlessChatModel()
    with serving(create_app(model)) as url:
        with httpx.stream(
            "POST", f"{url}/v1/chat/completions", json={"messages": MESSAGES, "stream": True}, timeout=10
        ) as response:
            for line in response.iter_lines():
                if "word" in line:
                    break
        assert model.closed.wait(5), "the abandoned generation kept running (and kept the model busy)"
