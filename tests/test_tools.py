"""The tool-call format: rendering and parsing agree, and malformed calls say what is wrong."""

import pytest

from chat.tools import QUERY_PREFIX, SearchCall, ToolCallError, parse_call, parse_query, render_call


def test_render_then_parse_round_trips():
    call = SearchCall("tense space horror", ("horror",), 1970, 1989, ("gore",))
    assert parse_call(render_call(call)) == call


def test_a_call_cut_short_is_completed():
    assert parse_call('<tool_call>{"name": "search_items", "arguments": {"query": "space hor').query == "space hor"


def test_parse_accepts_missing_close_tag_and_surrounding_text():
    text = 'Sure! <tool_call>{"name": "search_items", "arguments": {"query": "funny"}}'
    assert parse_call(text).query == "funny"


@pytest.mark.parametrize(
    "text, problem",
    [("no call here", "no <tool_call>"),
     ('<tool_call>{"name": "search_items", "arguments": {"query": "x",, }}</tool_call>', "invalid JSON"),
     ('<tool_call>{"name": "other", "arguments": {"query": "x"}}</tool_call>', "must name the tool"),
     ('<tool_call>{"name": "search_items", "arguments": {"query": ""}}</tool_call>', "query must be"),
     ('<tool_call>{"name": "search_items", "arguments": {"query": "x", "year_min": "old"}}</tool_call>', "year_min")],
)
def test_malformed_calls_name_the_problem(text, problem):
    with pytest.raises(ToolCallError, match=problem):
        parse_call(text)


@pytest.mark.parametrize("continuation, query", [
    ("tense space horror", "tense space horror"),
    ("  a  \\\"cosy\\\" mystery ", 'a "cosy" mystery'),
])
def test_the_query_alone_is_read_from_a_continuation_of_the_query_prefix(continuation, query):
    assert parse_query(continuation) == query
    assert parse_call(QUERY_PREFIX + continuation + '"}}</tool_call>').query == query


@pytest.mark.parametrize("continuation", ["", "   ", '{"genres": [', "<b>bold</b>", "trailing backslash \\"])
def test_a_query_that_is_not_plain_words_is_an_error(continuation):
    with pytest.raises(ToolCallError):
        parse_query(continuation)
