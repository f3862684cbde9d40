"""The "under the hood" report: a person can read a turn's search call, candidates with signals, guard notes, timings."""

from conftest import make_engine
from fakes import ScriptedChatModel

from chat.internals import turn_report
from chat.markdown_text import markdown_text


def test_a_turn_reads_as_search_call_candidates_guard_and_timings(catalog, index, embedder):
    engine = make_engine(catalog, index, embedder, ScriptedChatModel())
    result = [u.result for u in engine.respond(engine.new_session(), "I loved Alien, a horror film")][-1]
    report = turn_report(result, catalog)
    assert "**Search call** (written by the LLM)" in report and "search_items(" in report
    header = next(line for line in report.splitlines() if line.startswith("| #"))
    assert "title" in header and "score" in header and "text match" in header and "popularity" in header
    assert f"| 1 | {markdown_text(result.items[0].item.label)} (shown) | " in report
    assert "**Guard notes:**" in report and "whole turn" in report and " ms" in report
    assert turn_report(None, catalog) == ""


def test_markup_from_the_catalogue_or_the_model_stays_text(catalog, index, embedder):
    engine = make_engine(catalog, index, embedder)
    result = [u.result for u in engine.respond(engine.new_session(), "a horror film")][-1]
    result.guard_notes.append("<img src=x onerror=alert(1)> said **bold**")
    report = turn_report(result, catalog)
    assert "<img" not in report and "&lt;img src=x onerror=alert\\(1\\)&gt; said \\*\\*bold\\*\\*" in report
