"""`python -m chat.serve` with the real embedded model, started by the test on a loopback port: the raw HTTP API,
RemoteChatModel through it, and a whole engine turn (`python -m chat --llm remote`) that uses it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest
from conftest import ROOT
from loopback import free_port

from chat.llm.remote import RemoteChatModel

pytestmark = pytest.mark.slow

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
ENV = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Base URL (…/v1) of a chat.serve process with the default model and no adapter."""
    port = free_port()
    home = tmp_path_factory.mktemp("serve")
    with open(home / "serve.log", "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "chat.serve", "--port", str(port), "--adapter", "none"],
            cwd=ROOT,
            env={**ENV, "HOME": str(home)},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert process.poll() is None, (home / "serve.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "chat.serve did not start in time"
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        yield f"{url}/v1"
    finally:
        process.terminate()
        process.wait(30)


def post(server: str, **body) -> dict:
    response = httpx.post(f"{server}/chat/completions", json={"model": "default", **body}, timeout=120)
    assert response.status_code == 200, response.text
    return response.json()


def stream(server: str, **body) -> list[str]:
    """The content pieces of a streamed completion."""
    with httpx.stream(
        "POST", f"{server}/chat/completions", json={"model": "default", "stream": True, **body}, timeout=120
    ) as response:
        assert response.status_code == 200
        events = [line.removeprefix("data: ") for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    pieces = [json.loads(event)["choices"][0]["delta"].get("content") for event in events[:-1]]
    return [p for p in pieces if p]


def test_http_api_answers_streams_stops_and_continues(server):
    assert httpx.get(f"{server}/models", timeout=10).json()["data"][0]["id"] == "default"

    body = post(server, messages=QUESTION, max_tokens=24)
    answer = body["choices"][0]["message"]["content"]
    assert "Paris" in answer and 0 < body["usage"]["completion_tokens"] <= 24

    assert post(server, messages=QUESTION, max_tokens=3)["choices"][0]["finish_reason"] == "length"

    pieces = stream(server, messages=QUESTION, max_tokens=24)
    assert len(pieces) > 2 and "Paris" in "".join(pieces)

    stopped = post(server, messages=QUESTION, max_tokens=24, stop=[" "])["choices"][0]["message"]["content"]
    assert stopped and " " not in stopped and answer.startswith(stopped)
    assert " " not in "".join(stream(server, messages=QUESTION, max_tokens=24, stop=" "))

    prefix = {"role": "assistant", "content": "The capital of France is"}
    continued = post(
        server, messages=[*QUESTION, prefix], max_tokens=8, continue_final_message=True, add_generation_prompt=False
    )["choices"][0]["message"]["content"]
    assert "Paris" in continued and not continued.startswith("The capital")


def test_remote_chat_model_through_chat_serve(server):
    remote = RemoteChatModel(server)
    assert "Paris" in "".join(remote.stream(QUESTION, max_new_tokens=24))
    continued = "".join(remote.stream(QUESTION, prefix="The capital of France is", max_new_tokens=8, stop=["."]))
    assert "Paris" in continued and "." not in continued and not continued.startswith("The capital")


def test_a_whole_turn_with_the_remote_backend(server, tmp_path):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "chat",
            "--jsonl",
            "--llm",
            "remote",
            "--remote-url",
            server,
            "--adapter",
            "none",
            "--index",
            str(tmp_path / "index"),
            "--log-db",
            f"sqlite:///{tmp_path / 'log.db'}",
        ],
        input="I loved Alien and The Thing, a horror film but nothing gory\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env={**ENV, "HOME": str(tmp_path)},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    turn = json.loads(completed.stdout.splitlines()[0])
    assert turn["items"] and all(item["why"] for item in turn["items"])
    with sqlite3.connect(tmp_path / "log.db") as db:
        model_id = db.execute("select model_id from sessions").fetchone()[0]
        tool_call, guard = db.execute("select tool_call, guard from turns").fetchone()
    assert model_id == f"default @ {server}"
    assert json.loads(tool_call)["model_output"], "the plan was not written by the served model"
    assert not any(note.startswith(("planner error", "explainer error")) for note in json.loads(guard)), guard
