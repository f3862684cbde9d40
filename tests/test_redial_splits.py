"""ReDial splits: IARD dialogues read like ReDial ones, validation is carved from train by dialogue, test is never fitted."""

import json

from corpora.redial import read_iard_dialogues
from evaluation import redial_splits
from evaluation.tune_redial import mention_turns


def write_data(root):
    redial = root / "redial"
    redial.mkdir(parents=True)
    (redial / "movies_with_mentions.csv").write_text(
        "movieId,movieName,nbMentions\n1,Alien (1979),3\n2,Heat (1995),2\n"
    )

    def dialogue(number, messages):
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

    (redial / "train_part_a.jsonl").write_text(
        "\n".join(dialogue(n, [(1, "I like @1"), (2, "try @2")]) for n in range(100, 140)) + "\n"
    )
    (redial / "test_data.jsonl").write_text(dialogue(20001, [(1, "hi"), (2, "@1")]) + "\n")
    (root / "iard").mkdir()
    (root / "iard" / "iard_train_range.json").write_text(
        json.dumps(
            {
                "474": {
                    "dialogue_info": {
                        "R2": {
                            "utterance_pos": 2,
                            "role": "recommender",
                            "utterance_text": "how about @1 <Alien  (1979)> ?",
                        },
                        "S1": {"utterance_pos": 1, "role": "seeker", "utterance_text": "something scary"},
                        "S3": {"utterance_pos": 3, "role": "seeker", "utterance_text": "seen it, and @2 <Heat (1995)>"},
                    }
                },
                "100": {"dialogue_info": {}},  # also in a train part: read once
            }
        )
    )
    return redial


def test_iard_mentions_become_ids_and_titles(tmp_path):
    redial = write_data(tmp_path)
    (dialogue, _) = list(read_iard_dialogues(tmp_path / "iard" / "iard_train_range.json"))
    assert [t.role for t in dialogue.turns] == ["seeker", "recommender", "seeker"]
    assert dialogue.turns[1].text == "how about Alien (1979) ?" and dialogue.turns[1].movie_ids == ("1",)
    assert mention_turns([dialogue]) == [((), ("1",))]
    assert redial.is_dir()


def test_validation_is_carved_from_train_by_dialogue_and_test_is_never_fitted(tmp_path):
    redial = write_data(tmp_path)
    names = {"1": "Alien (1979)", "2": "Heat (1995)"}
    fit, validation = redial_splits.fit_and_evaluated("validation", redial, names)
    fit_ids, validation_ids = {d.id for d in fit}, {d.id for d in validation}
    assert fit_ids.isdisjoint(validation_ids) and len(fit_ids | validation_ids) == 41  # 40 parts + 1 from IARD
    assert validation_ids and all(redial_splits.is_validation(i) for i in validation_ids)
    train, test = redial_splits.fit_and_evaluated("test", redial, names)
    assert {d.id for d in train} == fit_ids | validation_ids and [d.id for d in test] == ["20001"]


def test_without_iard_only_the_redial_train_parts_are_read(tmp_path):
    redial = write_data(tmp_path)
    names = {"1": "Alien (1979)", "2": "Heat (1995)"}
    fit, validation = redial_splits.fit_and_evaluated("validation", redial, names, iard=False)
    assert len(fit) + len(validation) == 40 and "474" not in {d.id for d in fit + validation}
