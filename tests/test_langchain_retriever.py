"""The index through LangChain itself (langchain-core): a BaseRetriever returning Documents, and a typed tool."""

import json

import pytest
from fakes import HashingEmbedder
from langchain_core.documents import Document
from langchain_core.messages import ToolMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import BaseTool

from retrieval import build_index
from retrieval.item_search import ItemSearch
from retrieval.langchain_tools import ItemRetriever, search_items_tool


@pytest.fixture
def item_search(tmp_path, catalog_path):
    folder = tmp_path / "idx"
    assert (
        build_index.main(["--catalog", str(catalog_path), "--out", str(folder), "--quiet"], embedder=HashingEmbedder())
        == 0
    )
    return ItemSearch.from_folder(folder, HashingEmbedder())


def test_retriever_returns_documents_with_item_metadata(item_search):
    retriever = ItemRetriever(item_search=item_search, k=3)
    assert isinstance(retriever, BaseRetriever)
    documents = retriever.invoke("scary space creature")
    assert len(documents) == 3 and all(isinstance(d, Document) for d in documents)
    first = documents[0]
    assert first.id == "alien-1979" == first.metadata["id"]
    assert first.metadata["title"] == "Alien" and first.metadata["year"] == 1979
    assert first.metadata["genres"] == ["horror", "science fiction"]
    assert first.page_content.startswith("Alien (1979). horror, science fiction.")
    assert first.metadata["score"] >= documents[1].metadata["score"]


def test_retriever_filters_and_batches_like_any_runnable(item_search):
    retriever = ItemRetriever(item_search=item_search, k=2, filters=["genres=comedy", "year=..1994"])
    batches = retriever.batch(["funny", "romance"])
    assert len(batches) == 2
    for documents in batches:
        assert len(documents) == 2
        assert all("comedy" in d.metadata["genres"] and d.metadata["year"] <= 1994 for d in documents)


def test_retriever_rejects_a_non_search_object():
    with pytest.raises(ValueError):
        ItemRetriever(item_search="not an index")


def test_tool_has_a_typed_argument_schema(item_search):
    tool = search_items_tool(item_search)
    assert isinstance(tool, BaseTool) and tool.name == "search_items"
    schema = tool.args_schema.model_json_schema()
    assert schema["required"] == ["query"]
    assert schema["properties"]["k"]["maximum"] == 50
    filter_schema = schema["$defs"]["FilterInput"]["properties"]
    assert set(filter_schema) == {"field", "any_of", "minimum", "maximum"}
    assert "genres" in tool.description and "year" in tool.description


def test_tool_runs_a_filtered_search(item_search):
    tool = search_items_tool(item_search)
    output = tool.invoke(
        {
            "query": "funny",
            "liked": ["groundhog-day-1993"],
            "exclude": ["groundhog-day-1993"],
            "filters": [{"field": "genres", "any_of": ["comedy"]}, {"field": "year", "minimum": 1994}],
            "k": 3,
        }
    )
    items = json.loads(output)
    assert len(items) == 3
    assert all("comedy" in i["genres"] and i["year"] >= 1994 and i["id"] != "groundhog-day-1993" for i in items)


def test_a_model_written_tool_call_gets_a_tool_message_back(item_search):
    tool = search_items_tool(item_search)
    message = tool.invoke(
        {"name": "search_items", "args": {"query": "western", "k": 1}, "id": "call-1", "type": "tool_call"}
    )
    assert isinstance(message, ToolMessage) and message.tool_call_id == "call-1"
    assert json.loads(message.content)[0]["genres"][0] == "western"


@pytest.mark.parametrize(
    "args, message",
    [
        ({"query": "x", "filters": [{"field": "colour", "any_of": ["red"]}]}, "cannot filter on 'colour'"),
        ({"query": "x", "filters": [{"field": "year"}]}, "needs either values or a range"),
        ({"query": "x", "liked": ["no-such-film"]}, "unknown item id(s) in liked: no-such-film"),
        ({"query": "x", "k": 500}, "less than or equal to 50"),
    ],
)
def test_bad_arguments_come_back_as_readable_text(item_search, args, message):
    assert message in search_items_tool(item_search).invoke(args)
