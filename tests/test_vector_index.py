"""FAISS index kinds: the auto choice, k results under any mask, approximate close to exact, memory-mapped reload."""

import numpy as np
import pytest

from retrieval.vector_index import EXACT_UP_TO, VectorIndex, choose_spec


def unit_vectors(count, dimension=32, seed=0, clusters=50):
    """Unit vectors around random centres, as embeddings of a catalogue cluster by topic."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dimension))
    vectors = (centres[rng.integers(0, clusters, count)] + 0.5 * rng.standard_normal((count, dimension))).astype(
        np.float32
    )
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_auto_is_exact_up_to_the_limit_and_ivf_beyond():
    assert choose_spec("auto", EXACT_UP_TO).kind == "flat"
    big = choose_spec("auto", 1_000_000)
    assert (big.kind, big.nlist, big.nprobe) == ("ivf", 1000, 62)
    assert choose_spec("hnsw", 10).kind == "hnsw"
    with pytest.raises(ValueError):
        choose_spec("annoy", 10)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_every_kind_returns_k_allowed_rows_under_any_mask(kind):
    vectors = unit_vectors(3000)
    index = VectorIndex.build(vectors, choose_spec(kind, len(vectors)))
    rng = np.random.default_rng(1)
    for share in (1.0, 0.5, 0.02, 0.001):
        mask = rng.random(len(vectors)) < share
        rows, scores = index.search(vectors[0], 10, mask)
        assert len(rows) == min(10, mask.sum())
        assert mask[rows].all() and np.all(np.diff(scores) <= 1e-6)


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_kinds_find_most_of_the_exact_neighbours(kind):
    vectors = unit_vectors(5000)
    exact = VectorIndex.build(vectors, choose_spec("flat", len(vectors)))
    approximate = VectorIndex.build(vectors, choose_spec(kind, len(vectors)))
    found = [len(np.intersect1d(approximate.search(q, 20)[0], exact.search(q, 20)[0])) for q in vectors[:50]]
    assert np.mean(found) / 20 >= 0.9


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_saved_index_reloads_memory_mapped_with_the_same_answers(tmp_path, kind):
    vectors = unit_vectors(2000)
    index = VectorIndex.build(vectors, choose_spec(kind, len(vectors)))
    index.save(tmp_path / "index.faiss")
    loaded = VectorIndex.load(tmp_path / "index.faiss", index.spec)
    assert np.array_equal(loaded.search(vectors[5], 10)[0], index.search(vectors[5], 10)[0])
    assert np.allclose(loaded.vector(7), vectors[7]) and np.allclose(loaded.vectors(), vectors)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_added_vectors_are_found(kind):
    vectors = unit_vectors(1200)
    index = VectorIndex.build(vectors[:1000], choose_spec(kind, 1000))
    index.add(vectors[1000:])
    assert index.count == 1200
    assert index.search(vectors[1100], 1)[0][0] == 1100
    assert np.allclose(index.vector(1150), vectors[1150])
