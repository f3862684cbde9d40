"""train_ranker end to end on a tiny ReDial: out-of-fold features, validation early stopping, a ranker the engine loads."""

import json
from pathlib import Path

import numpy as np
import pytest
from fakes import HashingEmbedder

from evaluation import redial
from finetune import redial_sequential, train_ranker
from finetune.redial_sequential import train_on_sequences
from retrieval import build_index
from retrieval.ranking import FEATURES, RankingGroups


def write_tiny_redial(root):
    folder = root / "redial"
    folder.mkdir(parents=True)
    films = ["Alien (1979)", "Aliens (1986)", "Heat (1995)", "Ronin (1998)", "Elf (2003)", "Up (2009)"]
    (folder / "movies_with_mentions.csv").write_text(
        "movieId,movieName,nbMentions\n" + "".join(f"{n},{name},1\n" for n, name in enumerate(films, start=1))
    )
    pairs = [("1", "2"), ("3", "4"), ("5", "6")]

    def dialogue(number, liked, suggested):
        messages = [(1, f"I like @{liked}"), (2, f"then @{suggested}"), (1, "great, another?"), (2, f"@{liked} too")]
        return json.dumps(
            {
                "conversationId": str(number),
                "initiatorWorkerId": 1,
                "respondentWorkerId": 2,
                "movieMentions": {},
                "messages": [
                    {"messageId": n, "text": t, "timeOffset": n, "senderWorkerId": s}
                    for n, (s, t) in enumerate(messages)
                ],
            }
        )

    (folder / "train_part_a.jsonl").write_text("\n".join(dialogue(100 + n, *pairs[n % 3]) for n in range(60)) + "\n")
    (folder / "test_data.jsonl").write_text(dialogue(20001, "1", "2") + "\n")
    items = root / "items.csv"
    items.write_text(
        "movieId,title,year,genres\n"
        + "".join(
            f"{n},{name[:-7]},{name[-5:-1]},{'horror' if n < 3 else 'comedy'}\n"
            for n, name in enumerate(films, start=1)
        )
    )
    return folder, items


def test_trained_ranker_is_saved_with_metadata_and_used_by_the_benchmark(tmp_path):
    folder, items = write_tiny_redial(tmp_path)
    index = tmp_path / "idx"
    assert build_index.main(["--catalog", str(items), "--out", str(index), "--quiet"], embedder=HashingEmbedder()) == 0
    args = train_ranker.TrainRankerArgs(
        folder,
        index,
        tmp_path / "ranker",
        folds=2,
        rounds=5,
        early_stopping=5,
        min_data_in_leaf=1,
        num_leaves=3,
        grid=(("num_leaves", (2, 3)),),
        refit_all=True,
    )
    meta = train_ranker.main_with(args, progress=False, embedder=HashingEmbedder())
    assert meta["train_turns"] > 0 and meta["validation_turns"] > 0 and meta["data_hash"]
    assert set(meta["validation_recall"]) == {"learned", "weighted"}
    assert [point["params"] for point in meta["grid"]] == [{"num_leaves": 2}, {"num_leaves": 3}]
    assert meta["params"]["num_leaves"] in (2, 3) and 0 < meta["candidate_recall"] <= 1
    assert meta["refit"]["turns"] == meta["train_turns"] + meta["validation_turns"]
    assert (tmp_path / "ranker" / "ranker.txt").is_file()
    run = redial.run(
        tmp_path,
        progress=False,
        embedder=HashingEmbedder(),
        items=index,
        ranker=tmp_path / "ranker",
        diagnostics=False,
        ablation=True,
    )
    summary = run.summary("novel")
    assert summary["search"]["ranker"] == "lightgbm" and summary["search"]["sources"] == [
        "dense",
        "collaborative",
        "popularity",
    ]
    assert {"ease", "ablation_dense", "ablation_fused"} <= set(summary["baselines"])
    assert summary["n"] == 1  # the test dialogue's one novel suggestion


def test_with_a_sequential_model_the_ranker_is_compared_with_one_trained_without_it(tmp_path):
    folder, items = write_tiny_redial(tmp_path)
    index = tmp_path / "idx"
    assert build_index.main(["--catalog", str(items), "--out", str(index), "--quiet"], embedder=HashingEmbedder()) == 0
    sequences = tmp_path / "sasrec"
    assert (
        redial_sequential.main(
            ["--data", str(tmp_path), "--split", "validation", "--folds", "2", "--out", str(sequences)]
        )
        == 0
    )
    assert (sequences / "fold-2" / "sequential.json").is_file() and (sequences / "all" / "sequential.json").is_file()
    args = train_ranker.TrainRankerArgs(
        folder,
        index,
        tmp_path / "ranker",
        folds=2,
        rounds=5,
        early_stopping=5,
        min_data_in_leaf=1,
        num_leaves=3,
        sequential=sequences,
    )
    meta = train_ranker.main_with(args, progress=False, embedder=HashingEmbedder())
    assert set(meta["validation_recall"]) == {"learned", "weighted", "learned_without_sequential"}
    assert meta["importance_gain"]["sequential_score"] >= 0
    assert (tmp_path / "ranker" / "without_sequential" / "ranker.txt").is_file()
    setup = redial.prepare(tmp_path, "test", embedder=HashingEmbedder(), items=index)
    sasrec, _ = train_on_sequences([d.id for d in setup.fit], setup.baskets, progress=False)
    run = redial.run(
        tmp_path,
        progress=False,
        embedder=HashingEmbedder(),
        items=index,
        ranker=tmp_path / "ranker",
        diagnostics=False,
        sequential=sasrec,
    )
    summary = run.summary("novel")
    assert summary["search"]["sources"] == ["dense", "collaborative", "popularity", "sequential"]
    assert "sequential" in summary["baselines"]


def test_without_source_drops_its_columns_and_the_candidates_only_it_recalled():
    nan = np.nan
    rows = np.full((5, len(FEATURES)), nan, dtype=np.float32)
    rank = {name: FEATURES.index(f"{name}_rank") for name in ("dense", "sequential")}
    rows[0, rank["dense"]] = 1
    rows[1, rank["sequential"]] = 1
    rows[2, [rank["dense"], rank["sequential"]]] = 2
    rows[3, rank["dense"]] = 1  # the third turn (the second had no candidates at all)
    rows[4, rank["sequential"]] = 1
    groups = RankingGroups(rows, np.asarray([0, 1, 1, 1, 0], dtype=np.float32), np.asarray([3, 0, 2]))
    left = train_ranker.without_source(groups, "sequential")
    assert left.group_sizes.tolist() == [2, 1] and left.labels.tolist() == [0, 1, 1]
    assert np.isnan(left.features[:, rank["sequential"]]).all() and left.features[1, rank["dense"]] == 2


def test_grid_is_every_combination_of_the_given_values_over_the_base_parameters():
    grid = train_ranker.parse_grid(["num_leaves=7,31", "objective=lambdarank,rank_xendcg", "learning_rate=0.1"])
    assert grid == (("num_leaves", (7, 31)), ("objective", ("lambdarank", "rank_xendcg")), ("learning_rate", (0.1,)))
    args = train_ranker.TrainRankerArgs(Path(), Path(), Path(), min_data_in_leaf=20, grid=grid)
    combinations = args.combinations()
    assert len(combinations) == 4 and all(
        c["min_data_in_leaf"] == 20 and c["learning_rate"] == 0.1 for c in combinations
    )
    assert {(c["num_leaves"], c["objective"]) for c in combinations} == {
        (7, "lambdarank"),
        (7, "rank_xendcg"),
        (31, "lambdarank"),
        (31, "rank_xendcg"),
    }
    assert train_ranker.TrainRankerArgs(Path(), Path(), Path()).combinations() == [
        train_ranker.TrainRankerArgs(Path(), Path(), Path()).params()
    ]
    with pytest.raises(ValueError, match="name=v1,v2"):
        train_ranker.parse_grid(["num_leaves"])
