"""LangChain adapters for an item index: a retriever that returns Documents with item metadata, and a typed search tool.

    from retrieval.item_search import ItemSearch
    from retrieval.langchain_tools import ItemRetriever, search_items_tool

    search = ItemSearch.from_folder("var/index/movies")
    documents = ItemRetriever(item_search=search, k=5, filters=["year=1990..1999"]).invoke("a tense heist")
    tool = search_items_tool(search)  # for any LangChain agent, or chat_model.bind_tools([tool])

Both run `ItemSearch.run`, the chat engine's own recall and rerank. A bad filter or an unknown
item id written by a model comes back to it as readable text (a ToolException), not a crash.
Needs langchain-core (imported here only).
"""

from __future__ import annotations

import json

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import StructuredTool, ToolException
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from retrieval.filter_columns import UnknownFilterFieldError
from retrieval.filters import FieldCondition, FilterSyntaxError, ItemFilter, category, parse_filters
from retrieval.item_search import ItemSearch
from retrieval.retriever import ScoredItem, SearchRequest


def item_metadata(scored: ScoredItem) -> dict:
    item = scored.item
    return {
        "id": item.id,
        "title": item.title,
        "year": item.year,
        "genres": list(item.genres),
        "score": round(scored.score, 6),
        "signals": {name: round(value, 6) for name, value in scored.signals.items()},
        **item.extra,
    }


class ItemRetriever(BaseRetriever):
    """The index as a LangChain retriever: the query text in, the k best items out as Documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    item_search: ItemSearch
    k: int = Field(default=10, ge=1)
    filters: list[str] = Field(default_factory=list, description="field=value constraints, e.g. year=1990..1999")
    liked: list[str] = Field(default_factory=list, description="ids of liked items to pull results towards")
    exclude: list[str] = Field(default_factory=list, description="ids never to return")

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        request = SearchRequest(
            query=query,
            liked=tuple(self.liked),
            filters=parse_filters(self.filters),
            exclude=frozenset(self.exclude),
            k=self.k,
        )
        recipe = self.item_search.index.recipe
        return [
            Document(page_content=recipe.text(scored.item), id=scored.item.id, metadata=item_metadata(scored))
            for scored in self.item_search.run(request)
        ]


class FilterInput(BaseModel):
    """One constraint: the item has any of `any_of`, or its number lies between `minimum` and `maximum`."""

    field: str = Field(description="field to constrain, e.g. genres, year, price")
    any_of: list[str] = Field(default_factory=list, description="keep items with at least one of these values")
    minimum: float | None = Field(default=None, description="lowest allowed number (inclusive)")
    maximum: float | None = Field(default=None, description="highest allowed number (inclusive)")


class SearchItemsInput(BaseModel):
    """Arguments of the search_items tool."""

    query: str = Field(description="what the person wants, in their words; may be empty when liked is given")
    liked: list[str] = Field(default_factory=list, description="ids of items the person liked")
    exclude: list[str] = Field(default_factory=list, description="ids of items never to return (e.g. already shown)")
    filters: list[FilterInput] = Field(default_factory=list, description="hard constraints; all must hold")
    k: int = Field(default=5, ge=1, le=50, description="how many items to return")


def _item_filter(filters: list[FilterInput]) -> ItemFilter:
    conditions = tuple(
        FieldCondition(
            f.field, any_of=frozenset(category(v) for v in f.any_of if v.strip()), minimum=f.minimum, maximum=f.maximum
        )
        for f in filters
    )
    return ItemFilter(conditions)


def _readable(error: ValidationError) -> str:
    """Argument errors as the model should read them: "k: Input should be less than or equal to 50"."""
    return "invalid arguments: " + "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}" for problem in error.errors()
    )


def search_items_tool(item_search: ItemSearch, name: str = "search_items") -> StructuredTool:
    """A LangChain tool over the index; it returns a JSON list of {id, title, year, genres, score, ...}."""
    filterable = ", ".join(item_search.index.columns.fields)

    def search_items(
        query: str,
        liked: list[str] | None = None,
        exclude: list[str] | None = None,
        filters: list[FilterInput] | None = None,
        k: int = 5,
    ) -> str:
        try:
            request = SearchRequest(
                query=query,
                liked=tuple(liked or ()),
                filters=_item_filter(list(filters or [])),
                exclude=frozenset(exclude or ()),
                k=k,
            )
            unknown = item_search.unknown_ids(request)
            if unknown:
                raise ToolException(f"unknown item id(s) in liked: {', '.join(unknown)}")
            results = item_search.run(request)
        except (FilterSyntaxError, UnknownFilterFieldError) as error:
            raise ToolException(str(error)) from error
        return json.dumps([item_metadata(scored) for scored in results], ensure_ascii=False)

    return StructuredTool.from_function(
        func=search_items,
        name=name,
        description=(
            f"Search the catalogue of {len(item_search.index.catalog)} items: semantic search on the query, "
            f"pulled towards liked items, under hard filters (filterable fields: {filterable}). "
            "Returns the best items as JSON, best first."
        ),
        args_schema=SearchItemsInput,
        handle_tool_error=True,
        handle_validation_error=_readable,
    )
