"""An index folder a person names (`--index`) is used with the catalogue it was built from and never rebuilt unasked.

Real files throughout: book and film catalogues written to tmp_path, indexes built by the
`build_index` command, and one run of `python -m chat --jsonl` with the real embedder.
"""

import csv
import hashlib
import json
import subprocess
import sys

import pytest
from conftest import ROOT, SMALL_CATALOG
from fakes import HashingEmbedder

from retrieval import build_index
from retrieval.index import IndexCatalogConflictError, StaleIndexError, open_named_index

BOOKS = [
    (
        "b-dune",
        "Dune",
        1965,
        "science fiction",
        "Frank Herbert",
        "A desert planet, a noble family betrayed, and a prophecy of spice.",
    ),
    (
        "b-hobbit",
        "The Hobbit",
        1937,
        "fantasy",
        "J. R. R. Tolkien",
        "A reluctant hobbit joins dwarves to take back their mountain from a dragon.",
    ),
    (
        "b-earthsea",
        "A Wizard of Earthsea",
        1968,
        "fantasy",
        "Ursula K. Le Guin",
        "A proud young wizard unleashes a shadow and must hunt it across the sea.",
    ),
    (
        "b-emma",
        "Emma",
        1815,
        "romance",
        "Jane Austen",
        "A matchmaker meddles in the love lives of her village and misreads her own heart.",
    ),
    (
        "b-persuasion",
        "Persuasion",
        1817,
        "romance",
        "Jane Austen",
        "A woman meets again the naval captain she was persuaded to refuse years ago.",
    ),
    (
        "b-rebecca",
        "Rebecca",
        1938,
        "mystery",
        "Daphne du Maurier",
        "A young bride is haunted by the memory of her husband's first wife at Manderley.",
    ),
    (
        "b-big-sleep",
        "The Big Sleep",
        1939,
        "mystery",
        "Raymond Chandler",
        "A private detective untangles blackmail and murder among the rich of Los Angeles.",
    ),
    (
        "b-neuromancer",
        "Neuromancer",
        1984,
        "science fiction",
        "William Gibson",
        "A washed-up hacker is hired for one last job in cyberspace.",
    ),
    (
        "b-left-hand",
        "The Left Hand of Darkness",
        1969,
        "science fiction",
        "Ursula K. Le Guin",
        "An envoy on a frozen world of ambisexual people.",
    ),
    (
        "b-name-wind",
        "The Name of the Wind",
        2007,
        "fantasy",
        "Patrick Rothfuss",
        "A legendary wizard tells the true story of his youth and his magic school.",
    ),
]


def write_books(path, books=BOOKS):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["book_id", "title", "year", "genre", "author", "description"])
        writer.writerows(books)
    return path


def write_films(path):
    path.write_text("".join(json.dumps(film) + "\n" for film in SMALL_CATALOG))
    return path


def folder_digest(folder):
    """Each file in the folder -> sha256 of its bytes."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


def build(catalog, out, embedder=None):
    assert build_index.main(["--catalog", str(catalog), "--out", str(out), "--quiet"], embedder=embedder) == 0


@pytest.fixture
def books_index(tmp_path):
    out = tmp_path / "books-index"
    build(write_books(tmp_path / "books.csv"), out, HashingEmbedder())
    return out


def test_a_named_index_is_used_with_its_own_catalogue(books_index, tmp_path):
    before = folder_digest(books_index)
    index = open_named_index(books_index, HashingEmbedder(), None, write_films(tmp_path / "films.jsonl"))
    assert {item.id for item in index.catalog} == {book[0] for book in BOOKS}
    assert index.catalog["b-dune"].extra["author"] == "Frank Herbert"
    assert folder_digest(books_index) == before


def test_a_named_index_whose_catalogue_file_is_gone_serves_the_items_saved_beside_it(books_index, tmp_path):
    (tmp_path / "books.csv").unlink()
    before = folder_digest(books_index)
    index = open_named_index(books_index, HashingEmbedder(), None, write_films(tmp_path / "films.jsonl"))
    assert {item.id for item in index.catalog} == {book[0] for book in BOOKS}
    assert folder_digest(books_index) == before


def test_an_explicit_catalogue_that_disagrees_is_an_error_naming_both(books_index, tmp_path):
    films = write_films(tmp_path / "films.jsonl")
    before = folder_digest(books_index)
    with pytest.raises(IndexCatalogConflictError) as error:
        open_named_index(books_index, HashingEmbedder(), films, films)
    assert str(films) in str(error.value) and str(books_index) in str(error.value)
    assert str(tmp_path / "books.csv") in str(error.value)
    assert folder_digest(books_index) == before


def test_an_explicit_copy_of_the_same_catalogue_agrees(books_index, tmp_path):
    copy = write_books(tmp_path / "copy-of-books.csv")
    index = open_named_index(books_index, HashingEmbedder(), copy, copy)
    assert len(index.catalog) == len(BOOKS)


def test_a_stale_named_index_says_how_to_rebuild_and_is_left_alone(books_index, tmp_path):
    write_books(tmp_path / "books.csv", BOOKS[:-1])  # the source changed after the build
    before = folder_digest(books_index)
    with pytest.raises(StaleIndexError) as error:
        open_named_index(books_index, HashingEmbedder(), None, tmp_path / "unused.jsonl")
    assert "has changed since it was built" in str(error.value)
    assert f"--out {books_index}" in str(error.value) and "--rebuild-index" in str(error.value)
    assert folder_digest(books_index) == before


def test_rebuild_asked_for_rebuilds_a_stale_named_index_from_its_own_catalogue(books_index, tmp_path):
    write_books(tmp_path / "books.csv", BOOKS[:-1])
    index = open_named_index(books_index, HashingEmbedder(), None, tmp_path / "unused.jsonl", rebuild=True)
    assert len(index.catalog) == len(BOOKS) - 1
    assert json.loads((books_index / "manifest.json").read_text())["item_count"] == len(BOOKS) - 1


def test_a_named_folder_without_an_index_is_built_from_the_catalogue_given(tmp_path):
    index = open_named_index(
        tmp_path / "new", HashingEmbedder(), write_books(tmp_path / "books.csv"), tmp_path / "unused.jsonl"
    )
    assert len(index.catalog) == len(BOOKS) and (tmp_path / "new" / "manifest.json").is_file()


def run_chat(argv, messages, home):
    return subprocess.run(
        [sys.executable, "-m", "chat", "--jsonl", "--llm", "none", "--no-log", *argv],
        input="\n".join(messages) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HOME": str(home)},
    )


@pytest.mark.slow
def test_chat_through_a_book_index_answers_with_books_and_leaves_the_folder_unchanged(tmp_path):
    books_csv, out = write_books(tmp_path / "books.csv"), tmp_path / "books-index"
    built = subprocess.run(
        [sys.executable, "-m", "retrieval.build_index", "--catalog", str(books_csv), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    before = folder_digest(out)
    completed = run_chat(
        ["--index", str(out)], ["a fantasy novel with a wizard", "now a science fiction novel"], tmp_path
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    turns = [json.loads(line) for line in completed.stdout.splitlines()]
    assert len(turns) == 2 and all(turn["items"] for turn in turns)
    book_ids = {book[0] for book in BOOKS}
    assert all(item["id"] in book_ids for turn in turns for item in turn["items"]), turns
    assert folder_digest(out) == before

    films = write_films(tmp_path / "films.jsonl")
    refused = run_chat(["--index", str(out), "--catalog", str(films)], ["a fantasy novel"], tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert str(films) in refused.stderr and str(out) in refused.stderr
    assert folder_digest(out) == before
