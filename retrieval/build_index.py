"""The build_index command: turn a catalogue file into a searchable index folder, add items to one, attach interactions.

    python -m retrieval.build_index --catalog items.csv --out var/index/items
    python -m retrieval.build_index --catalog books.parquet --out idx --id isbn --title name --text name blurb --filters author price
    python -m retrieval.build_index --add new_items.jsonl --out idx          # embeds only the new items
    python -m retrieval.build_index --out idx --interactions ratings.inter   # the EASE model for collaborative recall

Exit status 0 when the index was written, 2 when the input is invalid: each bad row is printed
as `file:row:field: what is wrong` on stderr and nothing is written (unless --skip-invalid).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import faiss

from retrieval.catalog import CatalogReading, ColumnMap, read_catalog
from retrieval.embeddings import (
    DEFAULT_EMBEDDING_MODEL,
    Embedder,
    ModelUnavailableError,
    SentenceTransformerEmbedder,
    model_for_name,
)
from retrieval.index import IndexMissingError, ItemIndex, StaleIndexError
from retrieval.ranking.collaborative import EASE_LAMBDA, METHODS, InteractionsError, ItemItemModel, read_interactions
from retrieval.vector_index import EXACT_UP_TO, INDEX_TYPES

SKIPPED_REPORT = "skipped_rows.txt"


class InvalidInput(Exception):
    """The catalogue has problems; `lines` are printed one per line and the command exits with status 2."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__("\n".join(lines))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m retrieval.build_index",
        description="Build a searchable item index (FAISS + manifest) from a CSV, TSV, JSONL or Parquet catalogue.",
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_argument_group("what to do (one of --catalog / --add; --interactions alone updates an index)")
    source.add_argument("--catalog", metavar="PATH", help="catalogue to index; replaces the index in --out")
    source.add_argument(
        "--add",
        metavar="PATH",
        help="add this file's items to the index in --out without re-embedding "
        "the old ones (same columns, text recipe and embedding model; ids must be new)",
    )
    source.add_argument("--out", metavar="DIR", required=True, help="index folder (created if missing)")
    columns = parser.add_argument_group("columns (detected from common names when not given)")
    columns.add_argument(
        "--id", metavar="COLUMN", help="unique item id (detects id, item_id, movieId, product_id, sku, ...)"
    )
    columns.add_argument("--title", metavar="COLUMN", help="what a person calls the item (detects title, name, ...)")
    columns.add_argument(
        "--field",
        metavar="FIELD=COLUMN",
        nargs="+",
        default=[],
        help="map a column onto an item field the detection would miss, e.g. genres=mese_genres "
        "synopsis=plot image=poster_file (fields: year, genres, directors, cast, runtime_min, synopsis, keywords, "
        "image: a card's picture, a path under the catalogue's folder or an http(s) URL)",
    )
    columns.add_argument(
        "--text",
        metavar="COLUMN",
        nargs="+",
        default=[],
        help="columns embedded, in this order, joined by '. ' (default: title (year), genres, directors, "
        "cast, synopsis, keywords: whichever exist; description/overview/plot count as synopsis, "
        "genre/category as genres); the recipe is recorded in manifest.json",
    )
    columns.add_argument(
        "--filters",
        metavar="COLUMN",
        nargs="+",
        default=[],
        help="extra columns to filter on, e.g. brand price (default: the known fields plus price, brand, "
        "language, author, ... when present); numbers allow ranges, the rest any-of",
    )
    check = parser.add_argument_group("validation")
    check.add_argument(
        "--skip-invalid",
        action="store_true",
        help=f"build from the valid rows and write the problems to DIR/{SKIPPED_REPORT}",
    )
    model = parser.add_argument_group("embedding and index")
    model.add_argument(
        "--embedding-model",
        default=None,
        metavar="ID|PATH",
        help="sentence-transformers id or folder (default: the embedded all-MiniLM-L6-v2; "
        "with --add: the index's own model)",
    )
    model.add_argument("--batch-size", type=int, default=64, metavar="N", help="texts embedded per batch (default: 64)")
    model.add_argument(
        "--threads", type=int, default=0, metavar="N", help="CPU threads for torch and FAISS (default: all)"
    )
    model.add_argument(
        "--index-type",
        choices=INDEX_TYPES,
        default="auto",
        help=f"auto: exact flat search up to {EXACT_UP_TO:,} items, IVF beyond; hnsw/ivf are approximate "
        "(default: auto)",
    )
    collaborative = parser.add_argument_group("collaborative signal")
    collaborative.add_argument(
        "--interactions",
        metavar="PATH",
        help="user,item[,rating,timestamp] rows (.csv, .tsv, .parquet or RecBole .inter): "
        "the item-item model and popularity behind the collaborative and popularity "
        "sources; unknown item ids are counted, not fatal",
    )
    collaborative.add_argument(
        "--collaborative-method",
        choices=METHODS,
        default="ease",
        help="ease: EASE's closed form (Steck 2019); cosine: co-occurrence cosine (default: ease)",
    )
    collaborative.add_argument(
        "--ease-lambda",
        type=float,
        default=EASE_LAMBDA,
        metavar="X",
        help=f"EASE's L2 weight; larger for sparser data (default: {EASE_LAMBDA:g})",
    )
    collaborative.add_argument(
        "--min-rating",
        type=float,
        default=None,
        metavar="X",
        help="only interactions rated at least X count (default: all)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.catalog and args.add:
        parser.error("give either --catalog (a new index) or --add (to an existing one), not both")
    if not (args.catalog or args.add or args.interactions):
        parser.error("nothing to do: give --catalog, --add or --interactions")
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    if args.add and (args.text or args.filters or args.field):
        parser.error("--text, --filters and --field are fixed when the index is built; --add reuses them")
    if any("=" not in pair for pair in args.field):
        parser.error("--field takes FIELD=COLUMN pairs, e.g. genres=mese_genres")
    return args


def checked(reading: CatalogReading, out: Path, skip_invalid: bool) -> CatalogReading:
    """The reading if it can be indexed; its problems as InvalidInput otherwise (or, with skip_invalid, in a report)."""
    report = out / SKIPPED_REPORT
    if not reading.problems:
        report.unlink(missing_ok=True)
        return reading
    lines = [str(problem) for problem in reading.problems]
    if not skip_invalid or not reading.items:
        hint = "" if skip_invalid else "; --skip-invalid builds from the valid rows"
        raise InvalidInput(lines + [f"{len(lines)} problem(s) in {reading.source}: nothing was written{hint}"])
    out.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"skipped {len(lines)} problem row(s); see {report}", file=sys.stderr)
    return reading


def make_embedder(model: str, threads: int) -> Embedder:
    return SentenceTransformerEmbedder(model, threads=threads or None)


def build(args: argparse.Namespace, embedder: Embedder | None) -> ItemIndex:
    out = Path(args.out)
    columns = ColumnMap(
        id=args.id,
        title=args.title,
        text=tuple(args.text),
        filters=tuple(args.filters),
        fields=tuple(tuple(pair.split("=", 1)) for pair in args.field),
    )
    reading = checked(read_catalog(args.catalog, columns), out, args.skip_invalid)
    embedder = embedder or make_embedder(args.embedding_model or DEFAULT_EMBEDDING_MODEL, args.threads)
    skipped = len({p.row for p in reading.problems})
    index = ItemIndex.build(
        reading.catalog(),
        embedder,
        batch_size=args.batch_size,
        progress=not args.quiet,
        index_type=args.index_type,
        skipped_rows=skipped,
    )
    index.save(out)
    manifest = index.manifest
    print(
        f"indexed {manifest.item_count} items from {args.catalog} into {out} "
        f"({manifest.index_type}, {manifest.dimension} dims, {manifest.build_seconds:.1f} s)"
    )
    print(f"text recipe: {manifest.text_recipe}")
    print(f"example: {manifest.text_example}")
    print(f"filterable: {', '.join(manifest.filter_fields)}")
    return index


def read_new_items(args: argparse.Namespace, index: ItemIndex) -> CatalogReading:
    """The --add file under the index's text recipe and filters, with its id and title columns when it has them."""
    manifest = index.manifest
    columns = ColumnMap(id=args.id, title=args.title, text=manifest.text_fields, filters=manifest.filter_fields)
    if args.id is None and args.title is None:
        same = ColumnMap(
            id=manifest.columns.get("id"),
            title=manifest.columns.get("title"),
            text=columns.text,
            filters=columns.filters,
        )
        reading = read_catalog(args.add, same, existing_ids=index.catalog)
        if not any(p.row <= 1 and p.field in ("id", "title") for p in reading.problems):
            return reading
    return read_catalog(args.add, columns, existing_ids=index.catalog)


def add(args: argparse.Namespace, embedder: Embedder | None) -> ItemIndex:
    out = Path(args.out)
    index = ItemIndex.open(out, mmap=False)
    manifest = index.manifest
    reading = checked(read_new_items(args, index), out, args.skip_invalid)
    embedder = embedder or make_embedder(args.embedding_model or model_for_name(manifest.embedding_model), args.threads)
    started = time.perf_counter()
    index.add(reading.catalog(), embedder, batch_size=args.batch_size, progress=not args.quiet)
    index.save(out)
    print(
        f"added {len(reading.items)} items from {args.add} to {out} in {time.perf_counter() - started:.1f} s "
        f"({index.manifest.item_count} items in all)"
    )
    return index


def attach_interactions(args: argparse.Namespace, index: ItemIndex | None) -> None:
    index = index or ItemIndex.open(args.out)
    model, report = ItemItemModel.build(
        read_interactions(args.interactions),
        index.catalog,
        min_rating=args.min_rating,
        method=args.collaborative_method,
        ease_lambda=args.ease_lambda,
    )
    model.save(args.out, report)
    print(f"collaborative signal: {report.summary()}")


def main(argv: list[str] | None = None, embedder: Embedder | None = None) -> int:
    """Run the command; `embedder` replaces the sentence-transformers model (tests pass a fake)."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    try:
        index = build(args, embedder) if args.catalog else add(args, embedder) if args.add else None
        if args.interactions:
            attach_interactions(args, index)
    except InvalidInput as invalid:
        print("\n".join(invalid.lines), file=sys.stderr)
        return 2
    except (IndexMissingError, StaleIndexError, InteractionsError, ModelUnavailableError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
