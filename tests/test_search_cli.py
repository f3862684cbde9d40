"""The search command over an index folder: JSON output, filters, likes, exclusions, errors, and the engine's code path."""

import json

import pytest
from fakes import HashingEmbedder

from chat.engine import ChatEngine
from chat.state import DialogueState
from chat.understanding import read_message
from retrieval import build_index, search
from retrieval.filters import year_range
from retrieval.index import ItemIndex
from retrieval.item_search import ItemSearch


@pytest.fixture
def index_dir(tmp_path, catalog_path):
    folder = tmp_path / "idx"
    assert (
        build_index.main(["--catalog", str(catalog_path), "--out", str(folder), "--quiet"], embedder=HashingEmbedder())
        == 0
    )
    return folder


def run_json(index_dir, capsys, *argv):
    assert search.main(["--index", str(index_dir), "--json", *argv], embedder=HashingEmbedder()) == 0
    return json.loads(capsys.readouterr().out)


def test_json_lists_k_ranked_items_with_scores_and_signals(index_dir, capsys):
    result = run_json(index_dir, capsys, "--query", "scary space creature", "--k", "3")
    assert [item["rank"] for item in result["items"]] == [1, 2, 3]
    assert result["items"][0]["id"] == "alien-1979"
    scores = [item["score"] for item in result["items"]]
    assert scores == sorted(scores, reverse=True)
    assert set(result["items"][0]["signals"]) == {
        "semantic",
        "liked",
        "disliked",
        "popularity",
        "collaborative",
        "fused",
    }
    assert result["index_type"] == "flat"


def test_numeric_range_and_any_of_filters_hold_for_every_result(index_dir, capsys):
    result = run_json(
        index_dir,
        capsys,
        "--query",
        "funny",
        "--filter",
        "year=1990..1999",
        "--filter",
        "genres=comedy,western",
        "--k",
        "50",
    )
    ids = {item["id"] for item in result["items"]}
    assert ids == {
        "groundhog-day-1993",
        "dumb-and-dumber-1994",
        "clueless-1995",
        "braindead-1992",
        "office-space-1999",
        "toy-story-1995",
        "unforgiven-1992",
    }


def test_repeated_categorical_filters_must_all_hold(index_dir, capsys):
    result = run_json(index_dir, capsys, "--query", "funny", "--filter", "genres=comedy", "--filter", "genres=romance")
    assert {item["id"] for item in result["items"]} == {"groundhog-day-1993", "clueless-1995"}


def test_liked_items_pull_results_and_excluded_ones_never_come_back(index_dir, capsys):
    result = run_json(
        index_dir, capsys, "--like", "alien-1979", "--exclude", "alien-1979", "the-thing-1982", "--k", "5"
    )
    ids = [item["id"] for item in result["items"]]
    assert "alien-1979" not in ids and "the-thing-1982" not in ids
    assert result["items"][0]["signals"]["liked"] > 0


def test_a_selective_filter_still_returns_k_items(index_dir, capsys):
    result = run_json(index_dir, capsys, "--query", "space creature", "--filter", "genres=horror", "--k", "8")
    assert len(result["items"]) == 8 and all("horror" in item["genres"] for item in result["items"])


def test_results_are_what_the_chat_engine_would_rank(index_dir, capsys):
    """The command and the engine run the same ItemSearch over the index folder: same items, same order."""
    result = run_json(
        index_dir,
        capsys,
        "--query",
        "tense",
        "--like",
        "heat-1995",
        "--exclude",
        "heat-1995",
        "--filter",
        "year=1980..1999",
        "--k",
        "4",
    )
    catalog = ItemIndex.open(index_dir).catalog
    engine = ChatEngine(catalog, ItemSearch.from_folder(index_dir, HashingEmbedder()), None)
    state = DialogueState(liked=("heat-1995",), conditions=year_range(1980, 1999), preferences=("tense",))
    ranked = engine.rank(state, read_message("", engine.titles, engine.people)).ranked
    assert [item["id"] for item in result["items"]] == [s.item.id for s in ranked[:4]]


def test_plain_output_is_one_line_per_item(index_dir, capsys):
    assert search.main(["--index", str(index_dir), "--query", "western", "--k", "2"], embedder=HashingEmbedder()) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].split()[0] == "1"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--filter", "year=1990..nineties"], "'nineties' is not a number"),
        (["--filter", "year"], "write field=value"),
        (["--filter", "colour=red"], "cannot filter on 'colour'"),
        (["--like", "no-such-film"], "unknown item id(s) 'no-such-film'"),
    ],
)
def test_bad_input_exits_2_with_a_readable_message(index_dir, capsys, argv, message):
    assert search.main(["--index", str(index_dir), "--query", "x", *argv], embedder=HashingEmbedder()) == 2
    assert message in capsys.readouterr().err


def test_missing_index_exits_2(tmp_path, capsys):
    assert search.main(["--index", str(tmp_path / "none"), "--query", "x"], embedder=HashingEmbedder()) == 2
    assert "no index at" in capsys.readouterr().err
