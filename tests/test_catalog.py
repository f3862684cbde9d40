"""Catalogue loading and validation, and the shipped demo catalogue's promises."""

import collections
import json

import pytest
from conftest import DEMO_CATALOG

from retrieval.catalog import CatalogError, load_catalog


def test_loads_jsonl_with_all_fields(catalog):
    alien = catalog["alien-1979"]
    assert alien.title == "Alien" and alien.year == 1979
    assert alien.genres == ("horror", "science fiction")
    assert alien.label == "Alien (1979)"


def test_loads_csv_with_list_fields_split_by_pipes(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("id,title,year,genres,cast\nm1,Alien,1979,horror|science fiction,Sigourney Weaver|John Hurt\n")
    item = load_catalog(path)["m1"]
    assert item.genres == ("horror", "science fiction")
    assert item.cast == ("Sigourney Weaver", "John Hurt")


def test_row_without_title_is_named_by_file_row_and_field(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps({"id": "a", "title": "Fine"}) + "\n" + json.dumps({"id": "b", "title": ""}) + "\n")
    with pytest.raises(CatalogError) as error:
        load_catalog(path)
    assert [str(p) for p in error.value.problems] == [f"{path}:2:title: missing title"]


def test_duplicate_id_is_reported_with_the_first_row(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("id,title\nx,One\ny,Two\nx,Three\n")
    with pytest.raises(CatalogError) as error:
        load_catalog(path)
    assert str(error.value.problems[0]) == f"{path}:4:id: duplicate id 'x' (first on row 2)"


def test_every_problem_is_reported_at_once(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("id,title,year\n,No id,1999\nb,,2000\nc,Bad year,nineteen\n")
    with pytest.raises(CatalogError) as error:
        load_catalog(path)
    fields = [(p.row, p.field) for p in error.value.problems]
    assert fields == [(2, "id"), (3, "title"), (4, "year")]


def test_bytes_that_are_not_utf8_are_reported_with_their_line(tmp_path):
    path = tmp_path / "items.csv"
    path.write_bytes(b"id,title\na,Fine\nb,Caf\xe9\n")
    with pytest.raises(CatalogError) as error:
        load_catalog(path)
    assert error.value.problems[0].row == 3
    assert "UTF-8" in error.value.problems[0].message


def test_semicolon_separated_csv_is_reported_as_a_wrong_delimiter(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("id;title\na;Fine\n")
    with pytest.raises(CatalogError) as error:
        load_catalog(path)
    assert [str(p) for p in error.value.problems] == [
        f"{path}:1:-: wrong delimiter: the header looks semicolon-separated, but .csv files are read as "
        "comma-separated (save it comma-separated)"
    ]


def test_csv_without_id_and_title_columns_says_which_flag_names_them(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("code,label_text\na,Fine\n")
    with pytest.raises(CatalogError) as error:
        load_catalog(path)
    assert [(p.row, p.field) for p in error.value.problems] == [(1, "id"), (1, "title")]
    assert "--id" in error.value.problems[0].message and "--title" in error.value.problems[1].message


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match="file not found"):
        load_catalog(tmp_path / "nope.jsonl")


def test_content_hash_changes_when_an_item_changes(tmp_path, catalog_path):
    before = load_catalog(catalog_path).content_hash()
    catalog_path.write_text(catalog_path.read_text().replace("Sigourney Weaver", "S. Weaver"))
    assert load_catalog(catalog_path).content_hash() != before


def test_demo_catalogue_keeps_its_promises():
    catalog = load_catalog(DEMO_CATALOG)
    assert len(catalog) >= 500
    genres = collections.Counter(g for item in catalog for g in item.genres)
    assert len(genres) >= 15
    decades = {item.year // 10 * 10 for item in catalog}
    assert set(range(1930, 2030, 10)) <= decades
    for item in catalog:
        assert item.year and item.genres and item.directors and item.runtime_min, item.id
        assert 1 <= len(item.cast) <= 4, item.id
        assert 10 <= len(item.synopsis.split()) <= 60, item.id
        assert item.keywords, item.id
        assert item.id == item.id.lower() and " " not in item.id
    assert {"alien-1979", "the-thing-1982"} <= {item.id for item in catalog}
