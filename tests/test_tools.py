"""The tool-call format: rendering and parsing agree, and malformed calls say what is wrong."""

import pytest

from chat.tools import QUERY_PREFIX, SearchCall, ToolCallError, parse_call, parse_query, render_call
from retrieval.filters import FieldCondition, genre_exclusion, genre_wishes, runtime_limit, year_range


def test_render_then_parse_round_trips():
    call = SearchCall("tense space horror", genre_wishes(["horror"]) + year_range(1970, 1989), ("gore",))
    assert parse_call(render_call(call)) == call


def test_a_call_from_the_state_constraints_is_written_in_the_trained_format():
    conditions = (
        *genre_exclusion({"comedy"}),
        FieldCondition("price", maximum=15.0, missing_passes=True),
        *runtime_limit(100),
        *year_range(1990, 1999),
        *genre_wishes(["war", "drama"]),
    )
    call = SearchCall.searching("tense", conditions, {"gore"})
    text = (
        '<tool_call>{"name": "search_items", "arguments": {"query": "tense", "genres": ["drama", "war"], '
        '"year_min": 1990, "year_max": 1999, "avoid": ["comedy", "gore"], "runtime_max": 100, '
        '"filters": ["price=..15"]}}</tool_call>'
    )
    assert render_call(call) == text
    assert render_call(parse_call(text)) == text  # a logged call is trained on as it was written
    assert parse_call(text).bounds("year") == (1990, 1999) and parse_call(text).wanted("genres") == {"drama", "war"}


def test_a_call_cut_short_is_completed():
    assert parse_call('<tool_call>{"name": "search_items", "arguments": {"query": "space hor').query == "space hor"


def test_parse_accepts_missing_close_tag_and_surrounding_text():
    text = 'Sure! <tool_call>{"name": "search_items", "arguments": {"query": "funny"}}'
    assert parse_call(text).query == "funny"


@pytest.mark.parametrize(
    "text, problem",
    [
        ("no call here", "no <tool_call>"),
        ('<tool_call>{"name": "search_items", "arguments": {"query": "x",, }}</tool_call>', "invalid JSON"),
        ('<tool_call>{"name": "other", "arguments": {"query": "x"}}</tool_call>', "must name the tool"),
        ('<tool_call>{"name": "search_items", "arguments": {"query": ""}}</tool_call>', "query must be"),
        ('<tool_call>{"name": "search_items", "arguments": {"query": "x", "year_min": "old"}}</tool_call>', "year_min"),
        ('<tool_call>{"name": "search_items", "arguments": {"query": "x", "filters": ["price"]}}</tool_call>', "price"),
    ],
)
def test_malformed_calls_name_the_problem(text, problem):
    with pytest.raises(ToolCallError, match=problem):
        parse_call(text)


@pytest.mark.parametrize(
    "continuation, query",
    [
        ("tense space horror", "tense space horror"),
        ('  a  \\"cosy\\" mystery ', 'a "cosy" mystery'),
    ],
)
def test_the_query_alone_is_read_from_a_continuation_of_the_query_prefix(continuation, query):
    assert parse_query(continuation) == query
    assert parse_call(QUERY_PREFIX + continuation + '"}}</tool_call>').query == query


@pytest.mark.parametrize("continuation", ["", "   ", '{"genres": [', "<b>bold</b>", "trailing backslash \\"])
def test_a_query_that_is_not_plain_words_is_an_error(continuation):
    with pytest.raises(ToolCallError):
        parse_query(continuation)
