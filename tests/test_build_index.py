"""The build_index command on real CSV, TSV, JSONL and Parquet files: columns, text recipe, validation, --add, index types."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as parquet
import pytest
from conftest import SMALL_CATALOG
from fakes import HashingEmbedder

from retrieval import build_index
from retrieval.filters import parse_filters
from retrieval.index import ItemIndex, load_catalog_for_index, open_index


class CountingEmbedder(HashingEmbedder):
    """A HashingEmbedder that remembers every text it embedded."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []

    def encode(self, texts, batch_size=64, show_progress=False):
        self.texts.extend(texts)
        return super().encode(texts, batch_size, show_progress)


def product_rows(films=SMALL_CATALOG):
    """The test films under the column names a shop export would use."""
    return [
        {
            "item_id": f["id"],
            "name": f["title"],
            "release_year": f["year"],
            "category": "|".join(f["genres"]),
            "description": f["synopsis"],
            "price": f"{f['year'] % 40 + 0.5}",
            "brand": f["directors"][0],
        }
        for f in films
    ]


def write_catalog(path, rows):
    """Write rows as CSV, TSV, JSONL or Parquet, by the file's suffix."""
    if path.suffix == ".parquet":
        parquet.write_table(pa.Table.from_pylist(rows), path)
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    else:
        separator = "\t" if path.suffix == ".tsv" else ","
        header = list(rows[0])
        lines = [separator.join(header)] + [separator.join(str(row[c]) for c in header) for row in rows]
        path.write_text("\n".join(lines) + "\n")
    return path


def run(argv, embedder=None):
    return build_index.main([*argv, "--quiet"], embedder=embedder or HashingEmbedder())


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_each_format_builds_a_searchable_index_with_detected_columns(tmp_path, suffix):
    path = write_catalog(tmp_path / f"shop{suffix}", product_rows())
    assert run(["--catalog", str(path), "--out", str(tmp_path / "idx")]) == 0
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["columns"] == {
        "id": "item_id",
        "title": "name",
        "year": "release_year",
        "genres": "category",
        "synopsis": "description",
    }
    assert {"price", "brand", "genres", "year"} <= set(manifest["filter_fields"])
    assert manifest["text_example"].startswith("Alien (1979). horror, science fiction. A horror science fiction story")
    index = ItemIndex.open(tmp_path / "idx")
    assert len(index.catalog) == len(SMALL_CATALOG)
    assert index.catalog["heat-1995"].extra["price"] == 35.5  # filter columns are typed
    cheap_horror = index.allowed(parse_filters(["price=..10", "category=horror"]))
    assert {index.catalog.items[row].id for row in np.flatnonzero(cheap_horror)} == {
        "the-others-2001",
        "psycho-1960",
        "rosemarys-baby-1968",
    }


def test_explicit_columns_and_text_recipe_are_recorded_in_the_manifest(tmp_path):
    rows = [{"sku": f["id"], "label": f["title"], "blurb": f["synopsis"], "shop": "north"} for f in SMALL_CATALOG]
    path = write_catalog(tmp_path / "items.csv", rows)
    embedder = CountingEmbedder()
    argv = [
        "--catalog",
        str(path),
        "--out",
        str(tmp_path / "idx"),
        "--id",
        "sku",
        "--title",
        "label",
        "--text",
        "label",
        "blurb",
        "--filters",
        "shop",
    ]
    assert run(argv, embedder) == 0
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["text_recipe"] == "{title}. {blurb}."
    assert manifest["text_fields"] == ["title", "blurb"]
    assert manifest["columns"] == {"id": "sku", "title": "label"}
    assert "shop" in manifest["filter_fields"]
    assert embedder.texts[0] == "Alien. A horror science fiction story that is space creature tense gore."
    assert manifest["text_example"] == embedder.texts[0]


def test_invalid_rows_exit_2_with_one_line_per_problem_and_nothing_written(tmp_path, capsys):
    path = tmp_path / "items.csv"
    path.write_text(
        "id,title,year\n,No id,1999\nb,,2000\nc,Bad year,nineteen\nd,Fine,2001\nd,Again,2002\ne,Extra,2003,oops\n"
    )
    assert run(["--catalog", str(path), "--out", str(tmp_path / "idx")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[:5] == [
        f"{path}:2:id: missing id",
        f"{path}:3:title: missing title",
        f"{path}:4:year: not a number: 'nineteen'",
        f"{path}:6:id: duplicate id 'd' (first on row 5)",
        f"{path}:7:-: 4 fields but the header has 3 (wrong delimiter, or an unquoted comma inside a value?)",
    ]
    assert "5 problem(s)" in lines[5] and "--skip-invalid" in lines[5]
    assert not (tmp_path / "idx" / "manifest.json").exists()


def test_empty_text_undecodable_bytes_and_wrong_delimiter_are_reported(tmp_path, capsys):
    blank = write_catalog(
        tmp_path / "blank.csv",
        [{"id": "a", "title": "A", "description": "fine"}, {"id": "b", "title": "B", "description": "  "}],
    )
    assert run(["--catalog", str(blank), "--out", str(tmp_path / "i1"), "--text", "description"]) == 2
    assert f"{blank}:3:description: empty text: nothing to embed in description" in capsys.readouterr().err

    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"id,title\na,Fine\nb,Caf\xe9\n")
    assert run(["--catalog", str(latin), "--out", str(tmp_path / "i2")]) == 2
    assert f"{latin}:3:-: not UTF-8 text" in capsys.readouterr().err

    commas = tmp_path / "commas.tsv"
    commas.write_text("id,title\na,Fine\n")
    assert run(["--catalog", str(commas), "--out", str(tmp_path / "i3")]) == 2
    assert (
        "wrong delimiter: the header looks comma-separated, but .tsv files are read as tab-separated"
        in capsys.readouterr().err
    )


def test_skip_invalid_builds_from_the_valid_rows_and_reports_the_rest(tmp_path, capsys):
    path = tmp_path / "items.jsonl"
    path.write_text(
        '{"id": "a", "title": "Alpha"}\n{"id": "b"}\nnot json\n{"id": "c", "title": "Gamma", "year": "x"}\n'
        '{"id": "d", "title": "Delta"}\n'
    )
    assert run(["--catalog", str(path), "--out", str(tmp_path / "idx"), "--skip-invalid"]) == 0
    index = ItemIndex.open(tmp_path / "idx")
    assert [item.id for item in index.catalog] == ["a", "d"]
    report = (tmp_path / "idx" / "skipped_rows.txt").read_text().splitlines()
    assert report == [
        f"{path}:2:title: missing title",
        f"{path}:3:-: invalid JSON: Expecting value",
        f"{path}:4:year: not a number: 'x'",
    ]
    assert index.manifest.skipped_rows == 3
    assert "skipped 3 problem row(s)" in capsys.readouterr().err


def test_add_embeds_only_the_new_items_and_they_are_found_at_once(tmp_path):
    first = write_catalog(tmp_path / "shop.csv", product_rows(SMALL_CATALOG[:15]))
    embedder = CountingEmbedder()
    assert run(["--catalog", str(first), "--out", str(tmp_path / "idx")], embedder) == 0
    before = ItemIndex.open(tmp_path / "idx")
    old_vectors = np.array(before.vectors)
    embedder.texts.clear()

    new = write_catalog(tmp_path / "new.jsonl", product_rows(SMALL_CATALOG[15:]))
    assert run(["--add", str(new), "--out", str(tmp_path / "idx")], embedder) == 0
    assert len(embedder.texts) == 5 and embedder.texts[0].startswith("Heat (1995). crime, thriller.")
    after = ItemIndex.open(tmp_path / "idx")
    assert len(after.catalog) == 20 and after.manifest.added_items == 5
    assert np.array_equal(after.vectors[:15], old_vectors)
    assert after.catalog["toy-story-1995"].extra["brand"] == "John Lasseter"
    hits = after.search(embedder.encode([embedder.texts[1]])[0], 1)
    assert hits[0][0].id == "toy-story-1995" and hits[0][1] == pytest.approx(1.0)


def test_add_rejects_ids_already_in_the_index(tmp_path, capsys):
    path = write_catalog(tmp_path / "shop.csv", product_rows())
    assert run(["--catalog", str(path), "--out", str(tmp_path / "idx")]) == 0
    again = write_catalog(tmp_path / "again.csv", product_rows(SMALL_CATALOG[:1]))
    assert run(["--add", str(again), "--out", str(tmp_path / "idx")]) == 2
    assert f"{again}:2:id: id 'alien-1979' is already in the index" in capsys.readouterr().err


def test_add_needs_an_existing_index(tmp_path, capsys):
    path = write_catalog(tmp_path / "shop.csv", product_rows())
    assert run(["--add", str(path), "--out", str(tmp_path / "none")]) == 2
    assert "no index at" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_index_type_is_recorded_and_filtered_search_still_returns_k(tmp_path, kind):
    path = write_catalog(tmp_path / "films.jsonl", SMALL_CATALOG)
    assert run(["--catalog", str(path), "--out", str(tmp_path / "idx"), "--index-type", kind]) == 0
    index = ItemIndex.open(tmp_path / "idx")
    assert index.manifest.index_type == kind == index.manifest.index_params["kind"]
    query = HashingEmbedder().encode(["funny"])[0]
    assert len(index.search(query, 50)) == 20
    comedies = index.search(query, 5, index.allowed(parse_filters(["genres=comedy"])))
    assert len(comedies) == 5 and all("comedy" in item.genres for item, _ in comedies)


def test_an_index_built_by_the_command_is_reused_by_the_app(tmp_path):
    """app.py (chat.assemble) loads the catalogue with the saved column map and reuses the index."""
    rows = [{"sku": f["id"], "label": f["title"], "about": f["synopsis"]} for f in SMALL_CATALOG[:15]]
    path = write_catalog(tmp_path / "items.csv", rows)
    assert (
        run(
            [
                "--catalog",
                str(path),
                "--out",
                str(tmp_path / "idx"),
                "--id",
                "sku",
                "--title",
                "label",
                "--text",
                "label",
                "about",
            ]
        )
        == 0
    )
    extra = write_catalog(
        tmp_path / "extra.csv",
        [{"sku": f["id"], "label": f["title"], "about": f["synopsis"]} for f in SMALL_CATALOG[15:]],
    )
    assert run(["--add", str(extra), "--out", str(tmp_path / "idx")]) == 0
    built = ItemIndex.open(tmp_path / "idx").manifest
    index = open_index(
        load_catalog_for_index(path, tmp_path / "idx"), HashingEmbedder(), tmp_path / "idx", progress=False
    )
    assert index.manifest.built_at == built.built_at  # reused, not rebuilt
    assert len(index.catalog) == 20 and "heat-1995" in index.catalog  # with the added items


def test_a_catalogue_that_no_longer_fits_the_saved_columns_is_read_afresh_and_rebuilt(tmp_path, caplog):
    rows = [{"sku": f["id"], "title": f["title"], "about": f["synopsis"]} for f in SMALL_CATALOG]
    path = write_catalog(tmp_path / "items.csv", rows)
    assert run(["--catalog", str(path), "--out", str(tmp_path / "idx"), "--id", "sku", "--text", "title", "about"]) == 0
    write_catalog(path, [{"id": f["id"], "title": f["title"]} for f in SMALL_CATALOG])  # columns renamed, one dropped
    catalog = load_catalog_for_index(path, tmp_path / "idx")
    assert "alien-1979" in catalog
    index = open_index(catalog, HashingEmbedder(), tmp_path / "idx", progress=False)
    assert index.manifest.text_fields == ("title", "year", "genres", "directors", "cast", "synopsis", "keywords")
    assert "stale" in caplog.text


def test_help_names_every_option(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_index.parse_args(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "--catalog",
        "--out",
        "--id",
        "--title",
        "--text",
        "--filters",
        "--skip-invalid",
        "--add",
        "--embedding-model",
        "--batch-size",
        "--threads",
        "--index-type",
        "--interactions",
    ):
        assert option in text


def test_interactions_attach_cooccurrence_and_unknown_ids_are_reported(tmp_path, capsys):
    path = write_catalog(tmp_path / "films.jsonl", SMALL_CATALOG)
    interactions = tmp_path / "ratings.csv"
    interactions.write_text(
        "user,item,rating\nu1,alien-1979,5\nu1,the-thing-1982,5\nu2,alien-1979,4\n"
        "u2,the-thing-1982,4\nu2,not-in-catalogue,3\n"
    )
    assert run(["--catalog", str(path), "--out", str(tmp_path / "idx"), "--interactions", str(interactions)]) == 0
    out = capsys.readouterr().out
    assert "4 of 5 interactions used from 2 users" in out
    assert "1 rows name 1 item id(s) not in the index (e.g. 'not-in-catalogue')" in out
    assert (tmp_path / "idx" / "collaborative.npz").is_file()


def test_add_reads_the_index_columns_or_detects_them_in_the_new_file(tmp_path):
    rows = [{"sku": f["id"], "label": f["title"]} for f in SMALL_CATALOG[:10]]
    path = write_catalog(tmp_path / "items.csv", rows)
    assert run(["--catalog", str(path), "--out", str(tmp_path / "idx"), "--id", "sku", "--title", "label"]) == 0
    same_columns = write_catalog(tmp_path / "more.csv", [{"sku": "x1", "label": "New one"}])
    canonical = write_catalog(tmp_path / "more.jsonl", [{"id": "x2", "title": "Newer one"}])
    assert run(["--add", str(same_columns), "--out", str(tmp_path / "idx")]) == 0
    assert run(["--add", str(canonical), "--out", str(tmp_path / "idx")]) == 0
    index = ItemIndex.open(tmp_path / "idx")
    assert [item.title for item in index.catalog.items[-2:]] == ["New one", "Newer one"]
    assert index.manifest.added_sources == (str(same_columns), str(canonical))
