"""ReDial mention sequences as SASRec histories: whole dialogues held out, a vocabulary from training sequences only."""

from finetune.redial_sequential import dialogue_histories, is_held_out


def test_held_out_dialogues_validate_every_next_mention_and_never_train():
    ids = [f"d{n}" for n in range(60)]
    sequences = [[f"m{n}", f"m{n + 1}", f"m{n + 2}"] for n in range(60)]
    histories = dialogue_histories(ids, sequences + [])
    held = [d for d in ids if is_held_out(d)]
    assert 0 < len(held) < 20 and set(held) == histories.held_out
    trained = {sequence for sequence in histories.train()}
    assert len(trained) == 60 - len(held)
    for user, history, target in histories.validation():
        assert user in held and target in histories.items and history
    assert not histories.test()


def test_items_only_held_out_dialogues_mention_are_left_out():
    ids = [f"d{n}" for n in range(40)]
    held = next(d for d in ids if is_held_out(d))
    sequences = [["a", "b", "c"] if d != held else ["a", "zzz", "b"] for d in ids] + [["solo"]]
    histories = dialogue_histories(ids + ["single"], sequences)
    assert "zzz" not in histories.items and "solo" not in histories.items
    assert (held, ("a",), "b") in histories.validation()
