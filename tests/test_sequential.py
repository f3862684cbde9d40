"""The sequential recommender: histories and their split, SASRec learning a sequence, saving and loading, the training command, the scorers it is blended with, and the benchmark on tiny data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from evaluation import item_scores, movielens_sequential
from retrieval import train_sequential
from retrieval.ranking import Interactions, read_interactions
from retrieval.ranking.sequences import k_core, ordered_histories
from retrieval.ranking.sequential import (
    SasrecConfig,
    SasrecNetwork,
    SequentialModelError,
    SequentialRecommender,
    left_padded,
)
from retrieval.train_sequential import TrainingConfig, target_ranks, train

CYCLE = 20  # items "0".."19"; every user walks the cycle 0 -> 1 -> ... -> 19 -> 0 from their own start, seeing no item twice


def interactions(rows: list[tuple[str, str, float]]) -> Interactions:
    users, items, stamps = zip(*rows)
    return Interactions(
        np.asarray(users, dtype=str), np.asarray(items, dtype=str), None, np.asarray(stamps, dtype=float), "test"
    )


def cycle_rows(users: int = 24, length: int = 10) -> list[tuple[str, str, float]]:
    return [(f"u{user}", str((user + step) % CYCLE), float(step)) for user in range(users) for step in range(length)]


def tiny_model(items: int = CYCLE) -> SasrecConfig:
    return SasrecConfig(items=items, hidden=16, blocks=1, heads=1, max_length=10, dropout=0.0)


def test_k_core_recounts_until_both_users_and_items_hold():
    users = np.array(["u", "u", "v", "v", "w"])
    items = np.array(["a", "b", "a", "b", "a"])
    assert k_core(users, items, 2).tolist() == [True, True, True, True, False]  # w has one item
    assert not k_core(np.array(["u", "u", "v"]), np.array(["a", "b", "a"]), 2).any()  # dropping b leaves u with one


def test_histories_order_ties_by_numeric_item_id_and_split_the_last_two():
    rows = [("1", "10", 5.0), ("1", "9", 5.0), ("1", "100", 1.0), ("1", "7", 9.0), ("2", "9", 1.0), ("2", "10", 2.0)]
    histories = ordered_histories(interactions(rows), min_count=1)
    assert histories.sequences[0] == ("100", "9", "10", "7")  # 9 before 10 at the same time: ids compared as numbers
    assert histories.items == ("7", "9", "10", "100")
    assert histories.train()[0] == ("100", "9")
    assert histories.validation()[0] == ("1", ("100", "9"), "10")
    assert histories.test()[0] == ("1", ("100", "9", "10"), "7")
    assert [case[0] for case in histories.validation()] == ["1"]  # user 2 has no item left to learn from
    in_file_order = ordered_histories(interactions(rows), min_count=1, ties_by_item_id=False)
    assert in_file_order.sequences[0] == ("100", "10", "9", "7")


def test_left_padding_does_not_change_a_history_s_scores():
    torch.manual_seed(0)
    recommender = SequentialRecommender(SasrecNetwork(tiny_model()), [str(i) for i in range(CYCLE)])
    alone = recommender.score_histories([["1", "2"]])
    beside_a_longer_one = recommender.score_histories([["1", "2"], ["3", "4", "5", "6", "7"]])[:1]
    np.testing.assert_allclose(alone, beside_a_longer_one, atol=1e-5)
    assert left_padded([[3, 4, 5], [7]], 2).tolist() == [[4, 5], [0, 7]]


def test_sasrec_learns_which_item_comes_next():
    histories = ordered_histories(interactions(cycle_rows()), min_count=1)
    recommender, report = train(
        histories,
        tiny_model(),
        TrainingConfig(epochs=30, patience=30, learning_rate=0.01, batch_size=8),
        progress=False,
    )
    assert report.validation["ndcg@10"] > 0.9, report  # the next item ranks first for nearly every user
    best = recommender.top(["2", "3", "4"], 1)
    assert best[0][0] == "5"
    assert "5" not in dict(recommender.top(["2", "3", "4"], 3, exclude={"5"}))


def test_an_untrained_network_does_not_know_the_pattern():
    torch.manual_seed(0)
    recommender = SequentialRecommender(SasrecNetwork(tiny_model()), [str(i) for i in range(CYCLE)])
    nexts = [recommender.top([str(i), str((i + 1) % CYCLE)], 1)[0][0] == str((i + 2) % CYCLE) for i in range(CYCLE)]
    assert sum(nexts) < CYCLE  # so the test above measures learning, not luck


def test_saved_model_loads_with_the_same_scores_and_skips_unknown_ids(tmp_path):
    torch.manual_seed(1)
    recommender = SequentialRecommender(SasrecNetwork(tiny_model()), [str(i) for i in range(CYCLE)], {"note": "x"})
    recommender.save(tmp_path / "model")
    loaded = SequentialRecommender.load(tmp_path / "model")
    assert loaded.items == recommender.items and loaded.metadata == {"note": "x"}
    assert loaded.scores_for(["1", "nope", "2"]) == pytest.approx(recommender.scores_for(["1", "2"]))
    assert loaded.scores_for(["nope"]) == {} and loaded.top([], 5) == []
    with pytest.raises(SequentialModelError):
        SequentialRecommender.load(tmp_path / "missing")


def test_config_names_the_bad_field():
    with pytest.raises(ValueError, match="heads"):
        SasrecConfig(items=5, hidden=10, heads=3)
    with pytest.raises(ValueError, match="dropout"):
        SasrecConfig(items=5, dropout=1.0)


def test_ties_rank_in_column_order():
    assert target_ranks(np.array([[0.5, 0.9, 0.5]]), np.array([2])).tolist() == [3]
    assert target_ranks(np.array([[0.5, 0.9, 0.5]]), np.array([0])).tolist() == [2]
    assert train_sequential.training_windows([[1, 2, 3, 4, 5]], 2) == [[3, 4, 5], [1, 2, 3]]


def test_training_command_writes_weights_and_metadata(tmp_path, capsys):
    data = tmp_path / "ratings.csv"
    data.write_text("user_id,item_id,rating,timestamp\n" + "".join(f"{u},{i},4,{t}\n" for u, i, t in cycle_rows(8, 8)))
    out = tmp_path / "model"
    code = train_sequential.main(
        [
            "--interactions",
            str(data),
            "--out",
            str(out),
            "--min-count",
            "1",
            "--hidden",
            "8",
            "--blocks",
            "1",
            "--max-length",
            "6",
            "--epochs",
            "2",
        ]
    )
    assert code == 0
    metadata = json.loads((out / "sequential.json").read_text())
    assert len(metadata["data"]["sha256"]) == 64 and metadata["data"]["file"] == "ratings.csv"
    assert metadata["config"]["hidden"] == 8 and metadata["training"]["epochs"] == 2
    assert (
        metadata["items"] == [str(i) for i in range(15)] and "torch" in metadata["versions"]
    )  # users 0-7 walk 8 steps
    assert SequentialRecommender.load(out).top(["1", "2"], 3)
    assert train_sequential.main(["--interactions", str(tmp_path / "none.csv"), "--out", str(out)]) == 2
    assert "file not found" in capsys.readouterr().err


def test_ease_and_transitions_score_what_training_taught():
    sequences = [[0, 1, 2], [0, 1, 2], [0, 1], [3, 2]]
    models = item_scores.InteractionModels.fit(sequences, 4, l2=0.5)
    assert models.transition_scores([[0]], decay=0.0)[0].argmax() == 1
    assert models.transitions[3].tolist() == [0.0, 0.0, 1.0, 0.0]
    ease = models.ease_scores([[0]], decay=1.0)[0]
    assert ease[1] > ease[3] and ease[0] == 0.0  # item 1 is seen with 0; item 3 never; no self-weight
    assert item_scores.recency_rows([[0, 2]], 3, 0.5).tolist() == [[0.5, 0.0, 1.0]]
    assert models.popularity.tolist() == [3.0, 3.0, 3.0, 1.0]


def test_standardized_rows_hide_the_history_and_blend_weighs_them():
    rows = item_scores.standardized(np.array([[1.0, 2.0, 3.0]]), [[2]])
    assert rows.tolist() == [[-1.0, 1.0, -np.inf]]
    mixed = item_scores.blend({"a": np.array([[0.0, 1.0]]), "b": np.array([[1.0, 0.0]])}, {"a": 2.0, "b": 1.0})
    assert mixed.tolist() == [[1.0, 2.0]]
    with pytest.raises(ValueError):
        item_scores.blend({"a": rows}, {"a": 0.0})


def test_top_lists_leave_out_the_history_and_break_ties_in_vocabulary_order():
    lists = movielens_sequential.top_lists(np.array([[0.1, 0.9, 0.5, 0.5]]), [[1]], ["a", "b", "c", "d"], 3)
    assert lists == [["c", "d", "a"]]


def test_benchmark_on_tiny_data_tunes_on_validation_and_reports_both_splits(tmp_path):
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    rows = cycle_rows(30, 9)
    (folder / "ml-100k.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        + "".join(f"{u}\t{i}\t4\t{t}\n" for u, i, t in rows)
    )
    result = movielens_sequential.run(tmp_path, "llamarec", training=TrainingConfig(epochs=2), progress=False)
    summary = result.summary()
    assert summary["users"] == 30 and summary["items"] == CYCLE
    assert summary["test"]["n"] == 30 and summary["validation"]["n"] == 30
    names = set(summary["test"]["baselines"]) | {"blend"}
    assert {"sasrec", "ease", "transitions", "cooccurrence", "popularity", "without_sasrec"} <= names
    assert summary["chosen"]["blend_weights"] and summary["chosen"]["ablation_weights"]["without_ease"]["ease"] == 0.0
    # the cycle is first-order: transitions alone find every next item, and the tuned blend keeps that
    assert summary["test"]["baselines"]["transitions"]["recall@1"] == 1.0
    assert summary["test"]["metrics"]["recall@1"] == 1.0
    assert any(line.startswith("| blend") for line in movielens_sequential.table_lines(summary))


def test_benchmark_uses_a_saved_model_only_when_it_was_trained_on_the_same_split(tmp_path):
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    (folder / "ml-100k.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        + "".join(f"{u}\t{i}\t4\t{t}\n" for u, i, t in cycle_rows(30, 9))
    )
    model = tmp_path / "model"
    assert (
        train_sequential.main(
            [
                "--interactions",
                str(folder / "ml-100k.inter"),
                "--out",
                str(model),
                "--hidden",
                "8",
                "--blocks",
                "1",
                "--max-length",
                "6",
                "--epochs",
                "1",
            ]
        )
        == 0
    )
    result = movielens_sequential.run(tmp_path, "llamarec", model_dir=model, progress=False)
    assert result.training["loaded_from"] == "model"
    with pytest.raises(ValueError, match="another split"):
        movielens_sequential.run(tmp_path, "loo", model_dir=model, progress=False)  # file-order ties, no 5-core


def test_training_command_defaults_are_the_configs_defaults():
    args = train_sequential.parse_args(["--interactions", "r.csv", "--out", "m"])
    assert args.learning_rate == TrainingConfig().learning_rate and args.max_length == SasrecConfig(items=1).max_length
    assert args.min_count == 5 and args.threads == TrainingConfig().threads


ML100K = Path(os.environ.get("RECSYS_EVAL_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "ml-100k"


@pytest.mark.skipif(not (ML100K / "ml-100k.inter").is_file(), reason=f"no MovieLens-100k at {ML100K}")
def test_llamarec_preprocessing_of_movielens_keeps_943_users_and_1349_items():
    histories = ordered_histories(read_interactions(ML100K / "ml-100k.inter"))
    assert (len(histories.users), len(histories.items)) == (
        943,
        1349,
    )  # the 5-core filter drops 333 rarely rated items, no user
    assert sum(len(s) for s in histories.sequences) == 99287
    assert all(len(s) >= 5 for s in histories.sequences)
