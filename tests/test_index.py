"""The FAISS index: build, save, reload, staleness, filtered search that still returns k items."""

import numpy as np
import pytest
from fakes import HashingEmbedder

from retrieval.catalog import load_catalog
from retrieval.filters import ItemFilter, genre_wishes
from retrieval.index import IndexMissingError, ItemIndex, StaleIndexError, item_text, open_index, wanted_manifest
from retrieval.retriever import FaissRetriever, SearchRequest


def test_item_text_holds_the_embedded_fields(catalog):
    text = item_text(catalog["alien-1979"])
    assert text.startswith("Alien (1979). horror, science fiction. Directed by Ridley Scott")
    assert "Sigourney Weaver" in text and "creature" in text


def test_saved_index_reloads_with_same_vectors(tmp_path, catalog, embedder, index):
    index.save(tmp_path / "idx")
    loaded = ItemIndex.load(tmp_path / "idx", catalog, wanted_manifest(catalog, embedder))
    assert np.allclose(loaded.vectors, index.vectors)
    assert loaded.manifest.embedding_model == embedder.name
    assert loaded.manifest.dimension == embedder.dimension


def test_changed_catalogue_makes_the_index_stale(tmp_path, catalog_path, catalog, embedder, index):
    index.save(tmp_path / "idx")
    catalog_path.write_text(catalog_path.read_text().replace("Ridley Scott", "R. Scott"))
    changed = load_catalog(catalog_path)
    with pytest.raises(StaleIndexError, match="catalog_hash"):
        ItemIndex.load(tmp_path / "idx", changed, wanted_manifest(changed, embedder))


def test_other_embedding_model_makes_the_index_stale(tmp_path, catalog, index):
    index.save(tmp_path / "idx")
    other = HashingEmbedder(name="another-model")
    with pytest.raises(StaleIndexError, match="embedding_model"):
        ItemIndex.load(tmp_path / "idx", catalog, wanted_manifest(catalog, other))


def test_missing_index_is_reported_as_missing(tmp_path, catalog, embedder):
    with pytest.raises(IndexMissingError):
        ItemIndex.load(tmp_path / "none", catalog, wanted_manifest(catalog, embedder))


def test_open_index_rebuilds_a_stale_index(tmp_path, catalog_path, catalog, embedder, caplog):
    open_index(catalog, embedder, tmp_path / "idx", progress=False)
    catalog_path.write_text(catalog_path.read_text().replace("Ridley Scott", "R. Scott"))
    changed = load_catalog(catalog_path)
    rebuilt = open_index(changed, embedder, tmp_path / "idx", progress=False)
    assert rebuilt.manifest.catalog_hash == changed.content_hash()
    assert "stale" in caplog.text
    reopened = open_index(changed, embedder, tmp_path / "idx", progress=False)
    assert reopened.manifest.built_at == rebuilt.manifest.built_at


def test_filtered_search_returns_k_allowed_items(index, embedder):
    retriever = FaissRetriever(index, embedder)
    filters = ItemFilter(genre_wishes(["comedy"]), avoid_terms=frozenset({"zombie"}))
    results = retriever.search(SearchRequest("scary space creature", filters=filters, k=4))
    assert len(results) == 4
    assert all("comedy" in r.item.genres for r in results)
    assert "braindead-1992" not in {r.item.id for r in results}


def test_excluded_items_never_come_back(index, embedder):
    retriever = FaissRetriever(index, embedder)
    everything = {item.id for item in index.catalog}
    excluded = frozenset(list(everything)[:15])
    results = retriever.search(SearchRequest("anything", exclude=excluded, k=50))
    assert {r.item.id for r in results} == everything - excluded


def test_liked_items_pull_results_towards_them(index, embedder):
    retriever = FaissRetriever(index, embedder)
    results = retriever.search(SearchRequest("", liked=("alien-1979",), exclude=frozenset({"alien-1979"}), k=1))
    assert results[0].item.id == "the-thing-1982"
