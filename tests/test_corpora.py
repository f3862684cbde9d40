"""The corpora readers: ReDial messages become turns of one speaker each, mentions named and kept as ids."""

import json

from corpora.dialogues import Turn
from corpora.redial import read_dialogues


def test_redial_merges_a_speakers_messages_and_names_each_mention(tmp_path):
    path = tmp_path / "train_part_a.jsonl"
    messages = [(1, "hi"), (1, "I loved @1 and @3"), (2, "try @2"), (1, "seen @4")]
    path.write_text(
        json.dumps(
            {
                "conversationId": 7,
                "initiatorWorkerId": 1,
                "movieMentions": {"2": "Heat  (1995)"},
                "messages": [{"text": text, "senderWorkerId": sender} for sender, text in messages],
            }
        )
        + "\n\n"
    )
    (dialogue,) = read_dialogues(path, {"1": "Alien (1979)", "2": "Not this name"})
    assert dialogue.id == "7"
    assert dialogue.turns == (
        Turn("seeker", "hi I loved Alien (1979) and a movie", ("1", "3")),
        Turn("recommender", "try Heat (1995)", ("2",)),  # the dialogue's own names come first
        Turn("seeker", "seen a movie", ("4",)),
    )
