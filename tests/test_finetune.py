"""Fine-tuning: data builders on small fixtures, and a LoRA run on a tiny real model (TRL-style checks)."""

import json
from pathlib import Path

import pytest
import torch
from conftest import make_engine
from fakes import ScriptedChatModel

from chat.tools import parse_call
from finetune import build_data, evaluate
from finetune.examples import split_of
from finetune.train import TrainArgs, tokenize, train
from retrieval.filters import genre_wishes


@pytest.fixture
def replay_engine(catalog, index, embedder):
    return make_engine(catalog, index, embedder, llm=None, planner="rules", explainer="template")


def fresh_report(catalog):
    return build_data.Report.new(catalog)


def test_synthetic_examples_render_valid_calls_and_grounded_lines(replay_engine, catalog):
    examples = list(
        build_data.from_synthetic(replay_engine, count=8, seed=1, report=fresh_report(replay_engine.catalog))
    )
    plans = [e for e in examples if e["task"] == "plan"]
    explains = [e for e in examples if e["task"] == "explain"]
    assert plans and len(plans) == len(explains)
    for example in plans:
        assert parse_call(example["messages"][-1]["content"]).query
    for example in explains:
        lines = example["messages"][-1]["content"].splitlines()
        assert all(line.split(". **", 1)[0].isdigit() and "**: " in line for line in lines)


def test_a_reasons_mix_keeps_every_explain_example_some_plans_and_holds_out_explains_only():
    examples = [
        {"task": task, "split": split, "n": n}
        for n, (task, split) in enumerate(
            [("plan", "train"), ("explain", "train"), ("plan", "eval"), ("explain", "eval")] * 50
        )
    ]
    mixed = build_data.reasons_mix(examples, 0.25, seed=0)
    train = [e for e in mixed if e["split"] == "train"]
    held_out = [e for e in mixed if e["split"] == "eval"]
    assert sum(e["task"] == "explain" for e in train) == 50 and 5 <= sum(e["task"] == "plan" for e in train) <= 25
    assert {e["task"] for e in held_out} == {"explain"} and len(held_out) == 50
    assert mixed[: len(train)] == train  # held-out examples after the training ones
    assert build_data.reasons_mix(examples, 0.25, seed=0) == mixed


def write_redial(folder: Path) -> None:
    folder.mkdir()
    (folder / "movies_with_mentions.csv").write_text(
        "movieId,movieName,nbMentions\n1,Alien (1979),5\n2,The Shining (1980),4\n3,Not In Catalogue (1999),2\n"
    )
    dialogue = {
        "conversationId": "7",
        "initiatorWorkerId": 1,
        "respondentWorkerId": 2,
        "movieMentions": {"1": "Alien (1979)", "2": "The Shining (1980)", "3": "Not In Catalogue (1999)"},
        "messages": [
            {"messageId": 1, "text": "I loved @1, something scary please", "senderWorkerId": 1},
            {"messageId": 2, "text": "Have you seen @3?", "senderWorkerId": 2},
            {"messageId": 3, "text": "no, what else?", "senderWorkerId": 1},
            {"messageId": 4, "text": "Then try @2, very tense", "senderWorkerId": 2},
        ],
    }
    (folder / "train_part_a.jsonl").write_text(json.dumps(dialogue) + "\n")
    (folder / "test_data.jsonl").write_text(json.dumps({**dialogue, "conversationId": "99"}) + "\n")


def test_redial_uses_training_dialogues_and_skips_movies_outside_the_catalogue(replay_engine, tmp_path):
    write_redial(tmp_path / "redial")
    report = fresh_report(replay_engine.catalog)
    examples = list(
        build_data.from_redial(replay_engine, tmp_path / "redial", seed=0, report=report, score_examples=True)
    )
    assert {e["conversation_id"] for e in examples} == {"redial-7"}
    explain = next(e for e in examples if e["task"] == "explain")
    assert "The Shining (1980)" in explain["messages"][-1]["content"]
    assert report.dropped["redial: recommended movie not in the catalogue or already mentioned"] == 1
    scores = [e for e in examples if e["task"] == "score"]
    answers = {
        e["messages"][1]["content"].split("Film: ")[1].split(" |")[0]: e["messages"][-1]["content"] for e in scores
    }
    assert answers.pop("The Shining (1980)") == "yes"  # the film the recommender chose
    assert answers and set(answers.values()) == {"no"}  # films retrieved for the same request
    plain = build_data.from_redial(
        replay_engine, tmp_path / "redial", seed=0, report=fresh_report(replay_engine.catalog)
    )
    assert {e["task"] for e in plain} == {"plan", "explain"}  # score examples only when asked for


def test_logs_keep_positive_turns_and_drop_negative_ones(replay_engine, tmp_path):
    reply = "Here are 1 picks:\n1. **The Shining (1980)**: An atmospheric horror with Jack Nicholson in the lead."
    base = {
        "session_id": "s",
        "turn_index": 1,
        "shown": ["the-shining-1980"],
        "feedback": {},
        "tool_call": '<tool_call>{"name": "search_items", "arguments": {"query": "ghost story"}}</tool_call>',
        "messages": [{"role": "user", "content": "a ghost story"}, {"role": "assistant", "content": reply}],
    }
    path = tmp_path / "logs.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({**base, "session_id": sid, "label": label})
            for sid, label in [("good", "positive"), ("bad", "negative")]
        )
        + "\n"
    )
    report = fresh_report(replay_engine.catalog)
    examples = list(build_data.from_logs(replay_engine, path, report))
    assert {e["conversation_id"] for e in examples} == {"logs-good"}
    assert {e["task"] for e in examples} == {"plan", "explain"}
    assert report.dropped["logs: negative feedback"] == 1


def test_split_is_by_conversation_and_stable():
    assert split_of("redial-7", 0.5) == split_of("redial-7", 0.5)
    splits = {split_of(f"c{i}", 0.2) for i in range(200)}
    assert splits == {"train", "eval"}


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    """A tiny random Llama with the real SmolLM2 tokenizer: a real model, small enough to train in seconds."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from chat.llm.local import locate_base_model

    location = locate_base_model("default")
    tokenizer = AutoTokenizer.from_pretrained(location.path, gguf_file=location.gguf_file)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    folder = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_prompt_tokens_carry_no_loss(tiny_model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    messages = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi there"}]
    encoded = tokenize(tokenizer, messages, 512)
    learned = [t for t, label in zip(encoded["input_ids"], encoded["labels"]) if label != -100]
    assert tokenizer.decode(learned).startswith("hi there")
    assert encoded["labels"][0] == -100


@pytest.mark.slow
def test_lora_training_changes_only_the_adapter_and_reloads_identically(tiny_model_dir, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    data = tmp_path / "sft.jsonl"
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"films like number {i}"},
                {"role": "assistant", "content": f'<tool_call>{{"query": "{i}"}}</tool_call>'},
            ],
            "split": "eval" if i % 4 == 0 else "train",
        }
        for i in range(12)
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    base_weights = {k: v.clone() for k, v in base.state_dict().items()}
    out = tmp_path / "adapter"
    meta, trained = train(
        TrainArgs(
            data=(str(data),),
            out=str(out),
            base_model=str(tiny_model_dir),
            max_steps=4,
            batch_size=4,
            eval_steps=2,
            learning_rate=1e-2,
            save_dtype="float32",
        )
    )
    assert (out / "adapter_config.json").is_file() and (out / "loss.png").is_file()
    assert meta["metrics"]["steps"] == 4 and "eval_loss" in meta["metrics"]
    assert json.loads((out / "training_meta.json").read_text())["data"][0]["sha256"]

    for name, value in trained.get_base_model().state_dict().items():
        if "lora_" in name:
            continue
        original = name.replace("base_layer.", "")
        assert torch.equal(value, base_weights[original]), name
    lora_b = [v for k, v in trained.state_dict().items() if "lora_B" in k]
    assert lora_b and any(v.abs().sum() > 0 for v in lora_b)

    reloaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), out)
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    trained.eval()
    reloaded.eval()
    with torch.no_grad():
        assert torch.allclose(trained(ids).logits, reloaded(ids).logits, atol=1e-5)


def test_training_reasons_pass_the_guard_and_the_strict_check_and_never_repeat_a_phrase_in_a_reply(replay_engine):
    report = fresh_report(replay_engine.catalog)
    explains = [
        e for e in build_data.from_synthetic(replay_engine, count=12, seed=3, report=report) if e["task"] == "explain"
    ]
    quality = report.as_dict()["reason_quality"]
    assert quality["reasons"] == sum(len(e["messages"][-1]["content"].splitlines()) for e in explains) > 0
    assert quality["false_fact_reasons"] == 0
    assert quality["reply_without_repeat_rate"] == 1.0
    reasons = [line.split("**: ", 1)[1] for e in explains for line in e["messages"][-1]["content"].splitlines()]
    assert len(set(reasons)) > 0.8 * len(reasons)  # varied wording, not one template


def test_a_training_reason_ties_to_a_liked_film_only_through_what_the_cards_share(catalog):
    import random

    from chat.state import DialogueState
    from finetune.reasons import natural_reason

    state = DialogueState(liked=("alien-1979",), conditions=genre_wishes(["horror"]))
    reasons = {natural_reason(catalog["the-shining-1980"], state, catalog, random.Random(seed)) for seed in range(60)}
    assert len(reasons) > 30
    assert any("Alien" in r for r in reasons) and any(
        "horror film you" in r or "for a horror film" in r for r in reasons
    )
    # Alien and The Shining share "tense" and horror, never a director: no reason may say they do.
    assert not any("Ridley Scott" in r or "who also made" in r for r in reasons)


@pytest.mark.parametrize(
    "keyword, mood",
    [
        ("tense", True),
        ("slow-burn", True),
        ("atmospheric", True),
        ("journalism", False),
        ("haunted house", False),
        ("survival", False),
        ("british", False),
    ],
)
def test_keywords_read_as_moods_or_themes(keyword, mood):
    from finetune.reasons import is_mood

    assert is_mood(keyword) is mood


def test_a_reason_saying_a_word_twice_is_caught_and_a_synopsis_opens_a_clause_only_with_an_article():
    from finetune.reasons import says_a_word_twice, synopsis_start
    from retrieval.catalog import Item

    assert says_a_word_twice("You asked for a comedy: a funny comedy.")
    assert not says_a_word_twice("You asked for a comedy: absurd and silly from start to finish.")
    assert (
        synopsis_start(Item("x", "X", synopsis="A writer takes a job at a hotel, where it snows."))
        == "a writer takes a job at a hotel"
    )
    assert synopsis_start(Item("x", "X", synopsis="In the day after a riot, three friends drift.")) == ""


def write_pairs(path: Path, count: int) -> None:
    path.write_text(
        "\n".join(
            json.dumps(
                {
                    "kind": "guard",
                    "session_id": f"s{i}",
                    "turn_index": 1,
                    "item_id": f"film-{i}",
                    "prompt": [
                        {"role": "system", "content": "Explain each film."},
                        {"role": "user", "content": f"Films:\n1. Film {i}"},
                    ],
                    "prefix": f"1. **Film {i} (1979)**: ",
                    "chosen": "A 1979 horror film with a slow dread.",
                    "rejected": "Just like Psycho, a tense story.",
                    "note": "names another film",
                }
            )
            for i in range(count)
        )
        + "\n"
    )


def sequence_log_prob(model, tokenizer, prompt: str, completion: str) -> float:
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = tokenizer(prompt + completion, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0, :-1].log_softmax(-1)
    targets = torch.tensor(ids[1:])
    return float(logits[torch.arange(len(targets)), targets][len(prompt_ids) - 1 :].sum())


@pytest.mark.slow
def test_dpo_from_an_adapter_moves_it_toward_the_chosen_texts_and_leaves_the_base_alone(tiny_model_dir, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from finetune.preference import as_text, read_pairs

    sft = tmp_path / "sft.jsonl"
    sft.write_text(
        "\n".join(
            json.dumps(
                {"messages": [{"role": "user", "content": f"hi {i}"}, {"role": "assistant", "content": "hello there"}]}
            )
            for i in range(8)
        )
        + "\n"
    )
    train(
        TrainArgs(
            data=(str(sft),),
            out=str(tmp_path / "sft"),
            base_model=str(tiny_model_dir),
            max_steps=2,
            batch_size=4,
            learning_rate=1e-2,
            save_dtype="float32",
        )
    )
    pairs = tmp_path / "pairs.jsonl"
    write_pairs(pairs, 12)
    base_weights = {k: v.clone() for k, v in AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict().items()}
    out = tmp_path / "dpo"
    meta, trained = train(
        TrainArgs(
            data=(str(pairs),),
            out=str(out),
            method="dpo",
            adapter_init=str(tmp_path / "sft"),
            base_model=str(tiny_model_dir),
            max_steps=4,
            batch_size=4,
            eval_steps=2,
            learning_rate=2e-2,
            save_dtype="float32",
        )
    )
    assert meta["method"] == "dpo" and meta["adapter_init"]["name"] == "sft" and meta["metrics"]["steps"] == 4
    assert meta["examples"]["train"] + meta["examples"]["eval"] == 12 and meta["data"][0]["sha256"]
    assert meta["examples"]["eval"] and {"eval_loss", "eval_rewards/accuracies"} <= meta["metrics"].keys()
    assert "trl" in meta["versions"] and (out / "loss.png").is_file() and not (out / "ref").exists()
    for name, value in trained.get_base_model().state_dict().items():
        if "lora_" not in name:
            assert torch.equal(value, base_weights[name.replace("base_layer.", "")]), name

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    pair = as_text(read_pairs((str(pairs),))[0], tokenizer)

    def margin(adapter) -> float:
        model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), adapter).eval()
        return sequence_log_prob(model, tokenizer, pair.prompt, pair.chosen) - sequence_log_prob(
            model, tokenizer, pair.prompt, pair.rejected
        )

    assert margin(out) > margin(tmp_path / "sft") + 0.1


def test_a_bad_pair_is_an_error_naming_file_line_and_field(tmp_path):
    from finetune.preference import read_pairs

    path = tmp_path / "pairs.jsonl"
    write_pairs(path, 2)
    lines = path.read_text().splitlines()
    broken = json.loads(lines[1])
    del broken["rejected"]
    path.write_text(lines[0] + "\n" + json.dumps(broken) + "\n")
    with pytest.raises(ValueError, match=rf"{path}:2:rejected: missing"):
        read_pairs((str(path),))
    path.write_text(json.dumps({**broken, "rejected": broken["chosen"]}) + "\n")
    with pytest.raises(ValueError, match=rf"{path}:1:chosen: chosen and rejected must be two different"):
        read_pairs((str(path),))


def test_the_prompt_is_rendered_as_the_engine_prompts_and_ends_on_a_token_boundary(tmp_path):
    from transformers import AutoTokenizer

    from chat.llm.local import locate_base_model
    from finetune.preference import as_text, read_pairs

    location = locate_base_model("default")
    tokenizer = AutoTokenizer.from_pretrained(location.path, gguf_file=location.gguf_file)
    path = tmp_path / "pairs.jsonl"
    write_pairs(path, 1)
    record = read_pairs((str(path),))[0]
    pair = as_text(record, tokenizer)
    served = (
        tokenizer.apply_chat_template(record["prompt"], add_generation_prompt=True, tokenize=False) + record["prefix"]
    )
    assert pair.prompt + pair.chosen == served + record["chosen"] + "\n"
    assert pair.prompt.endswith("**:") and pair.rejected == " Just like Psycho, a tense story.\n"
    prompt_ids = tokenizer(pair.prompt, add_special_tokens=False)["input_ids"]
    assert tokenizer(pair.prompt + pair.chosen, add_special_tokens=False)["input_ids"][: len(prompt_ids)] == prompt_ids


@pytest.mark.slow
def test_feedback_to_adapter_loop_from_a_fresh_log_store(tiny_model_dir, catalog, index, embedder, tmp_path):
    """Real engine turns with a real (tiny) model and its adapter -> thumbs -> `chat.logs export --format pairs`
    -> `finetune.train --method dpo` -> a new adapter that the engine loads and answers with."""
    from safetensors.torch import load_file

    from chat.llm.local import LocalChatModel
    from chat.logs import LogStore
    from chat.logs import main as logs_main
    from finetune.train import main as train_main

    sft = tmp_path / "sft.jsonl"
    sft.write_text(
        "\n".join(
            json.dumps(
                {
                    "messages": [
                        {"role": "user", "content": f"films like {i}"},
                        {"role": "assistant", "content": "a fine pick"},
                    ]
                }
            )
            for i in range(8)
        )
        + "\n"
    )
    assert (
        train_main(
            [
                "--data",
                str(sft),
                "--out",
                str(tmp_path / "start"),
                "--base-model",
                str(tiny_model_dir),
                "--max-steps",
                "2",
                "--batch-size",
                "4",
                "--save-dtype",
                "float32",
            ]
        )
        == 0
    )
    store = LogStore(f"sqlite:///{tmp_path / 'logs.db'}")
    model = LocalChatModel(str(tiny_model_dir), adapter=str(tmp_path / "start"), threads=1, model_cache=None)
    with_model = make_engine(catalog, index, embedder, model, store)
    with_templates = make_engine(catalog, index, embedder, None, store)
    for message in ("a comedy please", "a horror film but nothing gory"):
        for engine, thumb in ((with_model, "dislike"), (with_templates, "like")):
            session = engine.new_session()
            assert [u.result for u in engine.respond(session, message)][-1].items
            engine.feedback(session, thumb)

    pairs = tmp_path / "pairs.jsonl"
    assert logs_main(["export", "--db", store.url, "--format", "pairs", "--out", str(pairs)]) == 0
    kinds = [json.loads(line)["kind"] for line in pairs.read_text().splitlines()]
    assert kinds.count("reply") == 2 and kinds.count("guard") >= 1  # a random model's reasons fail the guard
    out = tmp_path / "dpo"
    assert (
        train_main(
            [
                "--method",
                "dpo",
                "--data",
                str(pairs),
                "--adapter-init",
                str(tmp_path / "start"),
                "--base-model",
                str(tiny_model_dir),
                "--out",
                str(out),
                "--max-steps",
                "2",
                "--batch-size",
                "2",
                "--learning-rate",
                "1e-2",
                "--save-dtype",
                "float32",
            ]
        )
        == 0
    )
    meta = json.loads((out / "training_meta.json").read_text())
    assert meta["method"] == "dpo" and meta["examples"]["train"] + meta["examples"]["eval"] == len(kinds)
    before, after = (
        load_file(tmp_path / "start" / "adapter_model.safetensors"),
        load_file(out / "adapter_model.safetensors"),
    )
    assert before.keys() == after.keys() and any(not torch.equal(before[k], after[k]) for k in before)

    retrained = make_engine(
        catalog,
        index,
        embedder,
        LocalChatModel(str(tiny_model_dir), adapter=str(out), threads=1, model_cache=None),
        store,
    )
    result = [u.result for u in retrained.respond(retrained.new_session(), "a comedy please")][-1]
    assert result.kind == "recommend" and result.items and len(result.explanations) == len(result.items)


def test_evaluate_checks_each_reason_the_engine_asks_for_with_the_guard(replay_engine):
    report = fresh_report(replay_engine.catalog)
    explains = [
        e for e in build_data.from_synthetic(replay_engine, count=8, seed=1, report=report) if e["task"] == "explain"
    ]
    good = [
        "a fine pick for tonight with a strong mood",
        "well worth a look on a quiet evening",
        "an easy choice when friends come round",
    ]
    unshown = "Just like Groundhog Day, a sure thing."  # a film of the catalogue that none of them shows
    assert all("groundhog" not in e["messages"][-1]["content"].lower() for e in explains[:2])
    llm = ScriptedChatModel([good[0], unshown, "", *good])
    metrics = evaluate.explain_metrics(llm, replay_engine, explains[:2])
    assert metrics == {"unshown_item_rate_before_guard": 1 / 6, "guard_rejection_rate": 2 / 6, "n_reasons": 6}
    assert [prefix.count("\n") for _, prefix in llm.calls] == [0, 1, 2, 0, 1, 2]  # one by one, as the engine asks
    assert llm.calls[0][0] == explains[0]["messages"][:-1]  # the state kept in the example renders the same prompt
    built_before = {k: v for k, v in explains[0].items() if k != "state"}
    with pytest.raises(ValueError, match="explain example 1 .*: no state; build the data again"):
        evaluate.explain_metrics(llm, replay_engine, [built_before])
