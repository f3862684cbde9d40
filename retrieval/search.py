"""The search command: query an index folder the way the chat engine does and print the ranked items with their scores.

    python -m retrieval.search --index var/index/movies --query "tense space horror" --k 5
    python -m retrieval.search --index idx --query "" --like alien-1979 --filter year=1975..1990 --filter genres=horror,thriller --json

Filters: `field=a,b` keeps items with any of the values; `field=low..high` (either end may be
left out) a numeric range; repeated --filter flags must all hold. Exit status 2 for a bad
filter, an unknown --like id or a missing index.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from retrieval.catalog import CatalogError
from retrieval.embeddings import Embedder, ModelUnavailableError
from retrieval.filter_columns import UnknownFilterFieldError
from retrieval.filters import FilterSyntaxError, parse_filters
from retrieval.index import IndexMissingError, StaleIndexError
from retrieval.item_search import ItemSearch
from retrieval.retriever import ScoredItem, SearchRequest


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m retrieval.search",
        description="Search an index folder with the chat engine's recall and reranking.",
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--index", required=True, metavar="DIR", help="index folder written by retrieval.build_index")
    parser.add_argument(
        "--query", default="", metavar="TEXT", help="what to look for, in words (may be empty with --like)"
    )
    parser.add_argument(
        "--like",
        nargs="+",
        action="extend",
        default=[],
        metavar="ID",
        help="ids of liked items: pull results towards them",
    )
    parser.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="genres=comedy,drama (any of), year=1990..1999, price=..20; repeat for more",
    )
    parser.add_argument("--exclude", nargs="+", action="extend", default=[], metavar="ID", help="ids never to return")
    parser.add_argument("--k", type=int, default=10, metavar="N", help="how many items (default: 10)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--threads", type=int, default=0, metavar="N", help="CPU threads for the query encoder")
    args = parser.parse_args(argv)
    if args.k < 1:
        parser.error("--k must be at least 1")
    if not args.query.strip() and not args.like:
        parser.error("give --query, --like or both")
    return args


def result_json(rank: int, scored: ScoredItem) -> dict:
    item = scored.item
    return {
        "rank": rank,
        "id": item.id,
        "title": item.title,
        "year": item.year,
        "genres": list(item.genres),
        "score": round(scored.score, 6),
        "signals": {name: round(value, 6) for name, value in scored.signals.items()},
        **({"extra": item.extra} if item.extra else {}),
    }


def main(argv: list[str] | None = None, embedder: Embedder | None = None) -> int:
    """Run the command; `embedder` replaces the model named in the index manifest (tests pass a fake)."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        request = SearchRequest(
            query=args.query,
            liked=tuple(args.like),
            filters=parse_filters(args.filter),
            exclude=frozenset(args.exclude),
            k=args.k,
        )
        search = ItemSearch.from_folder(args.index, embedder, threads=args.threads or None)
        unknown = search.unknown_ids(request)
        if unknown:
            raise LookupError(f"--like: unknown item id(s) {', '.join(map(repr, unknown))}")
        started = time.perf_counter()
        results = search.run(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
    except (
        FilterSyntaxError,
        UnknownFilterFieldError,
        LookupError,
        IndexMissingError,
        StaleIndexError,
        CatalogError,
        ModelUnavailableError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                {
                    "query": args.query,
                    "like": args.like,
                    "filters": args.filter,
                    "exclude": args.exclude,
                    "k": args.k,
                    "index_type": search.index.manifest.index_type,
                    "took_ms": round(elapsed_ms, 2),
                    "items": [result_json(rank, scored) for rank, scored in enumerate(results, start=1)],
                },
                ensure_ascii=False,
            )
        )
        return 0
    for rank, scored in enumerate(results, start=1):
        print(f"{rank:>3}  {scored.score:7.4f}  {scored.item.id}  {scored.item.label}")
    if not results:
        print("no items match")
    print(f"({len(results)} items, {elapsed_ms:.1f} ms, {search.index.manifest.index_type} index)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
