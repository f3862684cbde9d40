"""The item-item model (cosine, EASE) from interaction files (CSV, RecBole .inter, Parquet), and the engine seeding it with the dialogue."""

import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as parquet
import pytest
from fakes import HashingEmbedder, ScriptedChatModel

from chat.engine import ChatEngine
from retrieval import build_index, search
from retrieval.item_search import ItemSearch, SearchOptions
from retrieval.ranking.collaborative import (
    Interactions,
    InteractionsError,
    ItemItemModel,
    ease_weights,
    read_interactions,
    recency_weights,
)
from retrieval.retriever import SearchRequest

ROWS = [  # user, item, rating, timestamp
    ("u1", "alien-1979", 5, 10),
    ("u1", "the-thing-1982", 5, 11),
    ("u2", "alien-1979", 4, 12),
    ("u2", "the-thing-1982", 2, 13),
    ("u2", "heat-1995", 5, 14),
    ("u3", "heat-1995", 5, 15),
    ("u3", "mystery-item", 4, 16),
]
KNOWN = {"alien-1979", "the-thing-1982", "heat-1995", "psycho-1960"}


def write_inter(path):
    lines = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    lines += [f"{u}\t{i}\t{r}\t{t}" for u, i, r, t in ROWS]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_csv(path):
    path.write_text("userId,movieId,rating\n" + "".join(f"{u},{i},{r}\n" for u, i, r, _ in ROWS))
    return path


def write_parquet(path):
    parquet.write_table(
        pa.table(
            {"user": [r[0] for r in ROWS], "item_id": [r[1] for r in ROWS], "rating": [float(r[2]) for r in ROWS]}
        ),
        path,
    )
    return path


@pytest.mark.parametrize("write", [write_inter, write_csv, write_parquet])
def test_each_format_gives_the_same_interactions(tmp_path, write):
    suffix = {write_inter: ".inter", write_csv: ".csv", write_parquet: ".parquet"}[write]
    interactions = read_interactions(write(tmp_path / f"ratings{suffix}"))
    assert list(interactions.users) == [r[0] for r in ROWS]
    assert list(interactions.items) == [r[1] for r in ROWS]
    assert list(interactions.ratings) == [r[2] for r in ROWS]


def test_cooccurrence_is_the_cosine_of_user_sets(tmp_path):
    cooccurrence, _ = ItemItemModel.build(read_interactions(write_inter(tmp_path / "r.inter")), KNOWN, method="cosine")
    # alien: {u1, u2}; the thing: {u1, u2}; heat: {u2, u3}
    assert dict(cooccurrence.neighbours("alien-1979")) == pytest.approx({"the-thing-1982": 1.0, "heat-1995": 0.5})
    assert cooccurrence.neighbours("psycho-1960") == []
    scores = cooccurrence.scores_for(["alien-1979", "heat-1995"])
    assert scores == pytest.approx({"the-thing-1982": (1.0 + 0.5) / 2, "heat-1995": 0.25, "alien-1979": 0.25})


def test_unknown_items_are_counted_not_fatal(tmp_path):
    _, report = ItemItemModel.build(read_interactions(write_inter(tmp_path / "r.inter")), KNOWN, method="cosine")
    assert (report.rows, report.rows_used, report.users) == (7, 6, 3)
    assert (report.unknown_item_rows, report.unknown_item_ids, report.unknown_examples) == (1, 1, ("mystery-item",))
    assert "1 rows name 1 item id(s) not in the index" in report.summary()


def test_min_rating_keeps_only_liked_interactions(tmp_path):
    cooccurrence, report = ItemItemModel.build(
        read_interactions(write_csv(tmp_path / "r.csv")), KNOWN, min_rating=4, method="cosine"
    )
    assert report.below_min_rating == 1
    # u2 no longer counts for the thing: alien {u1, u2}, the thing {u1}
    assert dict(cooccurrence.neighbours("alien-1979"))["the-thing-1982"] == pytest.approx(1 / math.sqrt(2))


def test_saved_scores_load_back_from_the_index_folder(tmp_path):
    cooccurrence, report = ItemItemModel.build(
        read_interactions(write_inter(tmp_path / "r.inter")), KNOWN, method="cosine"
    )
    cooccurrence.save(tmp_path / "idx", report)
    loaded = ItemItemModel.load(tmp_path / "idx")
    assert loaded.neighbours("heat-1995") == cooccurrence.neighbours("heat-1995")
    assert ItemItemModel.load(tmp_path / "empty") is None


def test_a_file_without_user_and_item_columns_is_a_clear_error(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("who,what\na,b\n")
    with pytest.raises(InteractionsError, match="needs a user and an item column"):
        read_interactions(path)


def test_ease_matches_its_closed_form():
    matrix = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1], [0, 0, 1]], dtype=np.float32)
    weights = ease_weights(matrix, lam=2.0)
    gram = matrix.T @ matrix + 2.0 * np.eye(3)
    # B minimises ||X - XB||^2 + lam ||B||^2 with diag(B) = 0: each column is a ridge regression on the other items
    for j in range(3):
        others = [i for i in range(3) if i != j]
        ridge = np.linalg.solve(gram[np.ix_(others, others)], (matrix.T @ matrix)[others, j])
        assert weights[others, j] == pytest.approx(ridge, abs=1e-5)
    assert np.all(np.diag(weights) == 0)


def test_ease_model_counts_users_per_item_for_the_popularity_prior(tmp_path):
    model, report = ItemItemModel.build(read_interactions(write_inter(tmp_path / "r.inter")), KNOWN, ease_lambda=1.0)
    assert report.method == "ease" and model.method == "ease"
    counts = dict(zip(model.names, model.counts))
    assert counts == {"alien-1979": 2, "heat-1995": 2, "the-thing-1982": 2, "mystery-item": 0}
    assert dict(model.neighbours("alien-1979"))["the-thing-1982"] > 0


def test_recent_mentions_weigh_more_in_the_collaborative_seeds(tmp_path, index, embedder):
    model, _ = ItemItemModel.build(read_interactions(write_pairs(tmp_path / "pairs.csv")), KNOWN, ease_lambda=0.5)
    search = ItemSearch.open(
        index,
        embedder,
        SearchOptions(collaborative=model, ranker="none", sources=("collaborative",), recency_decay=0.1),
    )
    seeds = frozenset({"alien-1979", "heat-1995"})
    heat_last = search.run(SearchRequest("", mentioned=("alien-1979", "heat-1995"), exclude=seeds, k=2))
    alien_last = search.run(SearchRequest("", mentioned=("heat-1995", "alien-1979"), exclude=seeds, k=2))
    assert [s.item.id for s in heat_last] == ["psycho-1960", "the-thing-1982"]
    assert [s.item.id for s in alien_last] == ["the-thing-1982", "psycho-1960"]


def test_engine_seeds_the_collaborative_source_with_everything_mentioned(tmp_path, catalog, index, embedder):
    model, _ = ItemItemModel.build(read_interactions(write_pairs(tmp_path / "pairs.csv")), KNOWN, ease_lambda=0.5)
    engine = ChatEngine(
        catalog,
        ItemSearch.open(index, embedder, SearchOptions(collaborative=model, ranker="none")),
        ScriptedChatModel(),
    )
    session = engine.new_session()
    *_, last = engine.respond(session, "I loved Alien, something scary")
    assert session.state.mentioned[0] == "alien-1979"
    assert last.result.items[0].signals["collaborative"] > 0
    assert "popularity" in last.result.items[0].signals


ROWS_TWO_CLUSTERS = [  # alien goes with the thing, heat with psycho
    ("u1", "alien-1979"),
    ("u1", "the-thing-1982"),
    ("u2", "alien-1979"),
    ("u2", "the-thing-1982"),
    ("u3", "heat-1995"),
    ("u3", "psycho-1960"),
    ("u4", "heat-1995"),
    ("u4", "psycho-1960"),
]


def write_pairs(path, rows=ROWS_TWO_CLUSTERS):
    path.write_text("user,item\n" + "".join(f"{u},{i}\n" for u, i in rows))
    return path


def test_search_command_uses_the_cooccurrence_saved_with_the_index(tmp_path, catalog_path, capsys):
    interactions = write_inter(tmp_path / "r.inter")
    argv = [
        "--catalog",
        str(catalog_path),
        "--out",
        str(tmp_path / "idx"),
        "--interactions",
        str(interactions),
        "--quiet",
        "--collaborative-method",
        "cosine",
    ]
    assert build_index.main(argv, embedder=HashingEmbedder()) == 0
    capsys.readouterr()
    assert (
        search.main(
            [
                "--index",
                str(tmp_path / "idx"),
                "--like",
                "alien-1979",
                "--exclude",
                "alien-1979",
                "--json",
                "--k",
                "50",
            ],
            embedder=HashingEmbedder(),
        )
        == 0
    )
    items = {item["id"]: item for item in json.loads(capsys.readouterr().out)["items"]}
    assert items["the-thing-1982"]["signals"]["collaborative"] == pytest.approx(1.0)
    assert items["heat-1995"]["signals"]["collaborative"] == pytest.approx(0.5)
    assert items["psycho-1960"]["signals"]["collaborative"] == 0.0
    assert items["heat-1995"]["signals"]["popularity"] == pytest.approx(math.log(3))  # two users: log(1 + 2)


def test_a_history_seeds_the_model_with_recent_items_weighted_up():
    users = np.asarray(["u1", "u1", "u2", "u2", "u3", "u3"])
    items = np.asarray(["a", "b", "b", "c", "a", "c"])
    model, _ = ItemItemModel.build(Interactions(users, items, None, None, "test"), {"a", "b", "c"}, ease_lambda=0.5)
    assert recency_weights(["a", "b", "a", "c"], 0.5) == (["b", "a", "c"], [0.25, 0.5, 1.0])
    np.testing.assert_allclose(
        model.history_scores(["a", "b", "a"], 0.5), model.weighted_scores(["b", "a"], [0.5, 1.0])
    )
    np.testing.assert_allclose(model.history_scores(["a", "b"]), model.weighted_scores(["a", "b"]))
