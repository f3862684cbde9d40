"""The soak script's guard and helpers (the soak itself needs a running app and is not part of the test run)."""

import pytest

from evaluation.soak import NotLoopbackError, loopback_url, percentiles_ms, reply_text, script


@pytest.mark.parametrize(
    "url",
    ["http://10.1.2.3:7860", "http://0.0.0.0:7860", "http://[2001:db8::1]:7860", "ftp://127.0.0.1/", "127.0.0.1:7860"],
)
def test_only_loopback_targets_are_accepted(url):
    with pytest.raises(NotLoopbackError):
        loopback_url(url)


def test_loopback_targets_are_accepted():
    assert loopback_url("http://127.0.0.1:7860") == "http://127.0.0.1:7860/"
    assert loopback_url("http://127.8.0.1:7860/") == "http://127.8.0.1:7860/"
    assert loopback_url("http://[::1]:7860") == "http://[::1]:7860/"


def test_sessions_open_differently_and_follow_up():
    assert script(0, 5)[0] != script(1, 5)[0]
    assert len(script(2, 7)) == 7 and script(2, 7)[1] == "something older"


def test_reply_text_reads_either_content_shape_and_percentiles():
    assert reply_text([{"role": "assistant", "content": "hi"}]) == "hi"
    assert reply_text([{"role": "assistant", "content": [{"type": "text", "text": "hi"}]}]) == "hi"
    assert reply_text([]) == ""
    assert percentiles_ms([1.0, 2.0, 3.0]) == {"p50": 2000.0, "p95": 2900.0, "max": 3000.0}
    assert percentiles_ms([]) == {}
