"""Item co-occurrence from interaction files (CSV, RecBole .inter, Parquet), and the engine passing it to the reranker."""

import json
import math

import pyarrow as pa
import pyarrow.parquet as parquet
import pytest

from chat.engine import ChatEngine
from fakes import HashingEmbedder, ScriptedChatModel
from retrieval import build_index, search
from retrieval.collaborative import InteractionsError, ItemCooccurrence, read_interactions
from retrieval.rerank import Reranker
from retrieval.retriever import FaissRetriever

ROWS = [  # user, item, rating, timestamp
    ("u1", "alien-1979", 5, 10), ("u1", "the-thing-1982", 5, 11),
    ("u2", "alien-1979", 4, 12), ("u2", "the-thing-1982", 2, 13), ("u2", "heat-1995", 5, 14),
    ("u3", "heat-1995", 5, 15), ("u3", "mystery-item", 4, 16),
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
    parquet.write_table(pa.table({"user": [r[0] for r in ROWS], "item_id": [r[1] for r in ROWS],
                                  "rating": [float(r[2]) for r in ROWS]}), path)
    return path


@pytest.mark.parametrize("write", [write_inter, write_csv, write_parquet])
def test_each_format_gives_the_same_interactions(tmp_path, write):
    suffix = {write_inter: ".inter", write_csv: ".csv", write_parquet: ".parquet"}[write]
    interactions = read_interactions(write(tmp_path / f"ratings{suffix}"))
    assert list(interactions.users) == [r[0] for r in ROWS]
    assert list(interactions.items) == [r[1] for r in ROWS]
    assert list(interactions.ratings) == [r[2] for r in ROWS]


def test_cooccurrence_is_the_cosine_of_user_sets(tmp_path):
    cooccurrence, _ = ItemCooccurrence.build(read_interactions(write_inter(tmp_path / "r.inter")), KNOWN)
    # alien: {u1, u2}; the thing: {u1, u2}; heat: {u2, u3}
    assert dict(cooccurrence.neighbours("alien-1979")) == pytest.approx({"the-thing-1982": 1.0, "heat-1995": 0.5})
    assert cooccurrence.neighbours("psycho-1960") == []
    scores = cooccurrence.scores_for(["alien-1979", "heat-1995"])
    assert scores == pytest.approx({"the-thing-1982": (1.0 + 0.5) / 2, "heat-1995": 0.25, "alien-1979": 0.25})


def test_unknown_items_are_counted_not_fatal(tmp_path):
    _, report = ItemCooccurrence.build(read_interactions(write_inter(tmp_path / "r.inter")), KNOWN)
    assert (report.rows, report.rows_used, report.users) == (7, 6, 3)
    assert (report.unknown_item_rows, report.unknown_item_ids, report.unknown_examples) == (1, 1, ("mystery-item",))
    assert "1 rows name 1 item id(s) not in the index" in report.summary()


def test_min_rating_keeps_only_liked_interactions(tmp_path):
    cooccurrence, report = ItemCooccurrence.build(read_interactions(write_csv(tmp_path / "r.csv")), KNOWN, min_rating=4)
    assert report.below_min_rating == 1
    # u2 no longer counts for the thing: alien {u1, u2}, the thing {u1}
    assert dict(cooccurrence.neighbours("alien-1979"))["the-thing-1982"] == pytest.approx(1 / math.sqrt(2))


def test_saved_scores_load_back_from_the_index_folder(tmp_path):
    cooccurrence, report = ItemCooccurrence.build(read_interactions(write_inter(tmp_path / "r.inter")), KNOWN)
    cooccurrence.save(tmp_path / "idx", report)
    loaded = ItemCooccurrence.load(tmp_path / "idx")
    assert loaded.neighbours("heat-1995") == cooccurrence.neighbours("heat-1995")
    assert ItemCooccurrence.load(tmp_path / "empty") is None


def test_a_file_without_user_and_item_columns_is_a_clear_error(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("who,what\na,b\n")
    with pytest.raises(InteractionsError, match="needs a user and an item column"):
        read_interactions(path)


class RecordingSignal:
    """A collaborative signal that scores one item and remembers what it was asked about."""

    def __init__(self, item_id: str, score: float):
        self.item_id, self.score = item_id, score
        self.asked: list[tuple[str, ...]] = []

    def scores_for(self, liked):
        self.asked.append(tuple(liked))
        return {self.item_id: self.score}


def test_engine_gives_the_reranker_cooccurrence_scores_for_the_liked_items(catalog, index, embedder):
    signal = RecordingSignal("psycho-1960", 3.0)
    engine = ChatEngine(catalog, FaissRetriever(index, embedder), Reranker(index.vector_of), ScriptedChatModel(),
                        collaborative=signal)
    session = engine.new_session()
    *_, last = engine.respond(session, "I loved Alien, something scary")
    assert signal.asked == [("alien-1979",)]
    assert last.result.items[0].item.id == "psycho-1960"
    assert last.result.items[0].signals["collaborative"] == 3.0


def test_engine_without_liked_items_asks_for_no_scores(catalog, index, embedder):
    signal = RecordingSignal("psycho-1960", 3.0)
    engine = ChatEngine(catalog, FaissRetriever(index, embedder), Reranker(index.vector_of), None, collaborative=signal)
    list(engine.respond(engine.new_session(), "a 90s comedy"))
    assert signal.asked == []


def test_search_command_uses_the_cooccurrence_saved_with_the_index(tmp_path, catalog_path, capsys):
    interactions = write_inter(tmp_path / "r.inter")
    argv = ["--catalog", str(catalog_path), "--out", str(tmp_path / "idx"), "--interactions", str(interactions), "--quiet"]
    assert build_index.main(argv, embedder=HashingEmbedder()) == 0
    capsys.readouterr()
    assert search.main(["--index", str(tmp_path / "idx"), "--like", "alien-1979", "--exclude", "alien-1979", "--json",
                        "--k", "50"], embedder=HashingEmbedder()) == 0
    items = {item["id"]: item for item in json.loads(capsys.readouterr().out)["items"]}
    assert items["the-thing-1982"]["signals"]["collaborative"] == pytest.approx(1.0)
    assert items["heat-1995"]["signals"]["collaborative"] == pytest.approx(0.5)
    assert items["psycho-1960"]["signals"]["collaborative"] == 0.0
