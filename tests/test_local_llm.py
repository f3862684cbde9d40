"""LocalChatModel's batch of continuations (each row is what `stream` writes for its prefix alone) and its scorer.

Fast tests run a tiny random Llama with a small byte-level BPE tokenizer built here (its text is
nonsense, which is fine: only sameness is checked); the slow tests run the embedded SmolLM2 with
the shipped adapter on a real explainer prompt.
"""

from pathlib import Path

import pytest
import torch
from conftest import DEMO_CATALOG, ROOT

from chat import prompts
from chat.llm import offline_by_default
from chat.llm.local import LocalChatModel
from chat.state import DialogueState
from retrieval.catalog import load_catalog

MESSAGES = [
    {"role": "system", "content": "You are a friendly film recommender. Use only the facts given."},
    {
        "role": "user",
        "content": "Films:\n1. Alien (1979) | horror\n2. The Thing (1982) | horror\n3. Heat (1995) | crime",
    },
]
PREFIXES = [
    "1. **Alien (1979)**: ",
    "2. **The Thing (1982)**: a tense",
    "3. **Heat (1995)**: heist in Los",
]  # unequal lengths: padded
LINES = [
    "1. **Alien (1979)**: ",
    "1. **Alien (1979)**: Tense.\n2. **The Thing (1982)**: ",
    "1. **Alien (1979)**: Tense.\n2. **The Thing (1982)**: Cold.\n3. **Heat (1995)**: ",
]  # each extends the one before
CORPUS = [
    "You are a friendly film recommender. Use only the facts given.",
    "1. **Alien (1979)**: a grimy, tense creature feature in space.\n",
    "2. **The Thing (1982)**: paranoid horror in the snow, by John Carpenter.\n",
    "3. **Heat (1995)**: a tense heist thriller in Los Angeles.\n",
]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture(scope="module", params=["none", "int8"], ids=["float", "int8"])
def tiny_model(tmp_path_factory, request):
    """A random two-layer Llama and a 300-token ASCII BPE tokenizer with a ChatML template, saved to a
    folder and loaded from it as the app loads a model: with float weights, and with int8 weights for decoding."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(
        CORPUS * 10, trainers.BpeTrainer(vocab_size=300, special_tokens=["<|im_start|>", "<|im_end|>"])
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        chat_template=CHAT_TEMPLATE,
    )
    torch.manual_seed(0)
    # Wide initial weights: with the usual 0.02 a random model barely reads its context, and a masking mistake goes unseen.
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        initializer_range=0.5,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    folder = Path(tmp_path_factory.mktemp("tiny-chat-llama"))
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    threads = torch.get_num_threads()
    # One thread: a model this small gains nothing from two, and on a busy machine the second one waits for a core.
    # Blocks of 8 tokens: these prompts are short, and a kept cache must be reused (and cropped) for the tests to mean much.
    yield LocalChatModel(str(folder), threads=1, quantize=request.param, prefill_block=8)
    torch.set_num_threads(threads)


def streamed(model: LocalChatModel, prefixes, max_new_tokens: int, stop=()) -> list[str]:
    return ["".join(model.stream(MESSAGES, prefix, max_new_tokens, stop)) for prefix in prefixes]


def test_one_row_decodes_as_stream_does(tiny_model):
    for prefix in PREFIXES:
        assert tiny_model.complete_many(MESSAGES, [prefix], 12, stop=["\n"]) == streamed(
            tiny_model, [prefix], 12, ["\n"]
        )


def early_stop(model: LocalChatModel, prefixes: list[str]) -> str:
    """A stop string that ends the second row a few characters in, so the rows end at different steps."""
    return model.complete_many(MESSAGES, prefixes, 16)[1][4:6]


@pytest.mark.parametrize("prefixes", [PREFIXES, LINES], ids=["one line each", "lines before"])
def test_each_row_of_a_batch_is_what_stream_writes_for_its_prefix_alone(tiny_model, prefixes):
    unstopped = tiny_model.complete_many(MESSAGES, prefixes, 16)
    assert unstopped == streamed(tiny_model, prefixes, 16)
    assert len(set(unstopped)) == len(prefixes) and all(len(text) >= 8 for text in unstopped)
    stop = early_stop(tiny_model, prefixes)
    expected = streamed(tiny_model, prefixes, 16, [stop])
    assert len(expected[1]) <= 4 < len(unstopped[1])
    assert tiny_model.complete_many(MESSAGES, prefixes, 16, [stop]) == expected


@pytest.mark.parametrize("prefixes", [PREFIXES, LINES], ids=["one line each", "lines before"])
def test_each_row_is_handed_over_as_it_ends_with_the_text_the_batch_writes(tiny_model, prefixes):
    stop = [early_stop(tiny_model, prefixes)]
    together = tiny_model.complete_many(MESSAGES, prefixes, 16, stop)
    finished = list(tiny_model.complete_many_as_done(MESSAGES, prefixes, 16, stop))
    assert sorted(finished) == list(enumerate(together)) == list(enumerate(streamed(tiny_model, prefixes, 16, stop)))
    assert finished[0][0] == 1  # the row the stop string ends early comes first


def test_a_batch_left_after_its_first_row_leaves_the_model_as_it_was(tiny_model):
    expected = streamed(tiny_model, PREFIXES, 16)
    rows = tiny_model.complete_many_as_done(MESSAGES, PREFIXES, 16, [early_stop(tiny_model, PREFIXES)])
    next(rows)
    rows.close()
    assert not tiny_model._lock.locked()
    assert tiny_model.complete_many(MESSAGES, PREFIXES, 16) == expected


def test_a_batch_is_one_call_keeping_the_rows_tokens_and_computing_the_prompt_once(tiny_model):
    stop = [early_stop(tiny_model, PREFIXES)]
    alone = []
    for prefix in PREFIXES:
        streamed(tiny_model, [prefix], 16, stop)
        alone.append(tiny_model.last_stats)
    tiny_model.complete_many(MESSAGES, PREFIXES, 16, stop)
    batch = tiny_model.last_stats
    assert len({s.new_tokens for s in alone}) > 1  # rows ended at different steps: padding after the early ones
    assert batch.calls == 1 and batch.new_tokens == sum(s.new_tokens for s in alone)
    assert batch.prompt_tokens == sum(s.prompt_tokens for s in alone)
    assert (
        batch.prompt_tokens - batch.reused_tokens < alone[0].prompt_tokens
    )  # the shared prompt: computed once at most


def test_the_cache_kept_after_a_batch_continues_as_a_fresh_one(tiny_model):
    before = streamed(tiny_model, PREFIXES[:1], 16)
    tiny_model.complete_many(MESSAGES, PREFIXES, 16)
    assert streamed(tiny_model, PREFIXES[:1], 16) == before
    assert tiny_model.complete_many(MESSAGES, PREFIXES[1:], 16) == streamed(tiny_model, PREFIXES[1:], 16)


def fresh(model: LocalChatModel, prefix: str, max_new_tokens: int) -> str:
    """What the model writes for a prefix with nothing kept from earlier calls."""
    model._caches.clear()
    return "".join(model.stream(MESSAGES, prefix, max_new_tokens))


@pytest.mark.parametrize("prefix", ["", *PREFIXES, *LINES])
def test_output_is_a_function_of_the_prompt_whatever_the_cache_held(tiny_model, prefix):
    """Greedy output for a prompt is the same computed fresh, after a short call on the same prompt (its cache kept,
    the last prompt token computed alone), after a longer one, streamed or in a batch."""
    expected = fresh(tiny_model, prefix, 16)
    assert len(expected) >= 8
    "".join(tiny_model.stream(MESSAGES, prefix, 2))  # keeps this prompt's cache: the next call computes one token
    assert "".join(tiny_model.stream(MESSAGES, prefix, 16)) == expected
    "".join(tiny_model.stream(MESSAGES, prefix + expected[:6], 4))  # a cache that runs past this prompt
    assert "".join(tiny_model.stream(MESSAGES, prefix, 16)) == expected
    assert tiny_model.complete_many(MESSAGES, [prefix], 16) == [expected]
    assert tiny_model.complete_many(MESSAGES, [prefix, *PREFIXES], 16)[0] == expected


def test_scoring_reuses_the_shared_start_and_matches_a_fresh_computation(tiny_model):
    chats = [
        [MESSAGES[0], {"role": "user", "content": f"Request: a tense horror film\n\nFilm: {title}"}]
        for title in ("Heat (1995) | crime", "Alien (1979) | horror")
    ]
    tiny_model._caches.clear()
    together = tiny_model.yes_probability(chats)
    assert tiny_model.last_stats.reused_tokens > 16  # the second chat found the first one's start computed
    alone = []
    for chat in chats:
        tiny_model._caches.clear()
        alone += tiny_model.yes_probability([chat])
    assert together == pytest.approx(alone, abs=1e-5)
    assert all(0 < p < 1 for p in together) and together[0] != together[1]


def explainer_prompt():
    """A real explainer prompt over the demo catalogue, and the engine's batch of prefixes for its items."""
    catalog = load_catalog(DEMO_CATALOG)
    items = [catalog["alien-1979"], *[item for item in catalog.items if "comedy" in item.genres][:2]]
    state = DialogueState()
    messages = prompts.explainer_messages(state, catalog, "something tense, or a comedy", items)
    return messages, prompts.reason_prefixes(items, [prompts.template_reason(item, state, catalog) for item in items])


def real_model(quantize: str) -> LocalChatModel:
    offline_by_default()
    return LocalChatModel(adapter=str(ROOT / "adapters" / "default"), quantize=quantize)


@pytest.mark.slow
def test_the_real_model_writes_the_same_reason_in_a_one_row_batch_as_streamed():
    messages, prefixes = explainer_prompt()
    model = real_model("int8")
    one_by_one = ["".join(model.stream(messages, prefix, 36, ["\n"])) for prefix in prefixes]
    assert all(one_by_one)
    assert [model.complete_many(messages, [prefix], 36, ["\n"])[0] for prefix in prefixes] == one_by_one


@pytest.mark.slow
@pytest.mark.parametrize("quantize", ["none", "int8"])
def test_the_real_model_writes_each_batched_reason_as_streamed(quantize):
    messages, prefixes = explainer_prompt()
    model = real_model(quantize)
    batched = model.complete_many(messages, prefixes, 36, ["\n"])
    assert batched == ["".join(model.stream(messages, prefix, 36, ["\n"])) for prefix in prefixes]
    assert sorted(model.complete_many_as_done(messages, prefixes, 36, ["\n"])) == list(enumerate(batched))


QUESTIONS = [
    "What is the capital of France?",
    "Name a film about a shark.",
    "Say hello in three words.",
    "I loved Alien. Recommend one more film.",
]


@pytest.mark.slow
def test_the_real_default_model_answers_a_prompt_the_same_fresh_cached_streamed_or_batched():
    """The default model (int8 decoding): token for token the same greedy answer, whatever earlier calls left cached."""
    offline_by_default()
    model = LocalChatModel(quantize="int8", prefill_block=16)  # short prompts: small blocks, so caches are reused
    for question in QUESTIONS:
        messages = [{"role": "user", "content": question}]
        model._caches.clear()
        expected = "".join(model.stream(messages, "", 24))
        assert expected
        "".join(model.stream(messages, "", 3))  # as a max_tokens=3 request before it would
        assert "".join(model.stream(messages, "", 24)) == expected, question
        assert model.complete_many(messages, [""], 24) == [expected], question
        assert model.complete_many(messages, ["", expected[:10]], 24)[0] == expected, question


@pytest.mark.slow
def test_the_dequantized_model_is_kept_once_and_loads_back_to_the_same_answers(tmp_path):
    """The first start keeps base + adapter as safetensors (named by the files' hashes); the next start loads that copy."""
    offline_by_default()
    adapter = str(ROOT / "adapters" / "default")
    messages = [{"role": "user", "content": QUESTIONS[0]}]
    uncached = "".join(LocalChatModel(adapter=adapter, model_cache=None).stream(messages, "", 16))
    first = LocalChatModel(adapter=adapter, model_cache=tmp_path)
    kept = [folder.name for folder in tmp_path.iterdir()]
    assert len(kept) == 1 and kept[0].startswith("SmolLM2-135M-Instruct.Q4_1-") and "+default-" in kept[0]
    assert (tmp_path / kept[0] / "model.safetensors").is_file()
    second = LocalChatModel(adapter=adapter, model_cache=tmp_path)
    assert "".join(first.stream(messages, "", 16)) == "".join(second.stream(messages, "", 16)) == uncached
    assert [folder.name for folder in tmp_path.iterdir()] == kept
    assert LocalChatModel(adapter=None, model_cache=tmp_path).adapter is None and len(list(tmp_path.iterdir())) == 2


def test_a_new_turn_reuses_everything_before_the_previous_prompts_last_message(tiny_model, monkeypatch):
    """Caches are reused up to a message start, not rounded down to a block: the next turn of a chat computes only
    the reply it adds, the new message and the reply's start (blocks longer than these prompts: only messages cut)."""
    monkeypatch.setattr(tiny_model, "prefill_block", 1000)
    tiny_model._caches.clear()
    first = MESSAGES + [{"role": "user", "content": "a scary film"}]
    reply = "".join(tiny_model.stream(first, "", 6))
    previous = tiny_model.prompt_ids(first)
    last_message = max(i for i, token in enumerate(previous) if token == tiny_model._message_start)
    then = first + [{"role": "assistant", "content": reply}, {"role": "user", "content": "something funny"}]
    answer = "".join(tiny_model.stream(then, "", 12))
    assert tiny_model.last_stats.reused_tokens == last_message > 0
    tiny_model._caches.clear()
    assert "".join(tiny_model.stream(then, "", 12)) == answer
