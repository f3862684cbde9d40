"""The encoder fine-tune: pairs from train dialogues only, and a real MiniLM trained a few steps, saved with its metadata."""

import json

import pytest
from fakes import HashingEmbedder
from test_train_ranker import write_tiny_redial

from corpora.dialogues import Dialogue, Turn
from finetune import train_encoder
from retrieval import build_index


def test_pairs_are_the_dialogue_so_far_and_each_first_mentioned_movie_s_text():
    dialogue = Dialogue(
        "1",
        (
            Turn("seeker", "I liked Alien", ("1",)),
            Turn("recommender", "try Aliens or Alien", ("2", "1")),
            Turn("seeker", "more?", ()),
            Turn("recommender", "Aliens again", ("2",)),
        ),
    )
    pairs = train_encoder.dialogue_pairs([dialogue], {"1": "Alien (1979).", "2": "Aliens (1986)."}, context_words=3)
    assert pairs == [("I liked Alien", "Aliens (1986).")]  # the last 3 words; Alien was mentioned before


@pytest.mark.slow
def test_the_encoder_trains_and_is_saved_with_metadata(tmp_path):
    from sentence_transformers import SentenceTransformer

    _, items = write_tiny_redial(tmp_path)
    index = tmp_path / "idx"
    assert build_index.main(["--catalog", str(items), "--out", str(index), "--quiet"], embedder=HashingEmbedder()) == 0
    out = tmp_path / "encoder"
    assert (
        train_encoder.main(
            [
                "--data",
                str(tmp_path),
                "--items",
                str(index),
                "--out",
                str(out),
                "--batch-size",
                "4",
                "--max-pairs",
                "16",
                "--max-seq-length",
                "64",
            ]
        )
        == 0
    )
    meta = json.loads((out / "encoder.json").read_text())
    assert meta["pairs"] == 16 and meta["split"] == "validation" and meta["data_hash"]
    trained = SentenceTransformer(str(out), device="cpu")
    assert trained.encode(["a tense heist"]).shape[1] == 384 and trained.max_seq_length == 64
    assert meta["arguments"]["max_seq_length"] == 64
