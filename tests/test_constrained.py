"""Decoding under WritingRules: the digit-run rules, and a real model's batch keeping each row to its own rules.

The fast tests run the rules on a hand-made vocabulary and score rows; the slow one runs the
embedded SmolLM2 with the shipped adapter on a real explainer prompt.
"""

import re

import pytest
import torch

from chat.llm import WritingRules
from chat.llm.constrained import RulesProcessor, Vocabulary, lead_in_state, next_digits, trailing_digits

# Ten digits, "a", " b", " M", "x9" (a digit among letters), "s", ".", "\n", "\x0b", the end of text, and the pieces of
# "for fans of The Thing" and "Things".
TOKENS = [*"0123456789", "a", " b", " M", "x9", "s", ".", "\n", "\x0b", "<end>"]
TOKENS += [" for", " fans", " of", " off", " Of", " The", " Th", "ing", "ings", "ing,"]
END = TOKENS.index("<end>")


class HandTokenizer:
    def __len__(self):
        return len(TOKENS)

    def batch_decode(self, batches):
        return ["" if TOKENS[i] == "<end>" else TOKENS[i] for [i] in batches]


def ids(*tokens: str) -> list[int]:
    return [TOKENS.index(token) for token in tokens]


def decode(tokens) -> str:
    return "".join("" if TOKENS[i] == "<end>" else TOKENS[i] for i in tokens)


VOCABULARY = Vocabulary.of(HandTokenizer(), [END], ["\n"])


def allowed_after(rules: WritingRules, written: list[int]) -> set[str]:
    """The tokens a row under `rules` may write after `written` (a prompt of one token before them)."""
    processor = RulesProcessor(VOCABULARY, [rules], start=1, decode=decode)
    scores = processor(torch.tensor([[TOKENS.index("a"), *written]]), torch.zeros(1, len(TOKENS)))
    return {TOKENS[i] for i in range(len(TOKENS)) if scores[0, i] > float("-inf")}


def test_the_vocabulary_tells_digits_mixed_tokens_and_endings_apart():
    assert VOCABULARY.digit_ids == {str(d): d for d in range(10)}
    assert VOCABULARY.mixed_digit_ids == tuple(ids("x9"))
    assert set(VOCABULARY.ending_ids) == {END, *ids("\n", "\x0b")}
    assert VOCABULARY.sentence_end_ids == tuple(ids("."))
    assert sorted(VOCABULARY.starting_with(" Th")) == ids(" The", " Th")
    assert VOCABULARY.decade_suffix_ids == tuple(ids("s"))


def test_a_digit_run_may_only_grow_into_an_allowed_number_and_end_as_one():
    assert trailing_digits(ids("a", "1", "9"), {i: t for t, i in VOCABULARY.digit_ids.items()}) == "19"
    assert next_digits("", frozenset({"1978", "70s"})) == ({"1", "7"}, True, False)
    assert next_digits("19", frozenset({"1978", "70s"})) == ({"7"}, False, False)
    assert next_digits("70", frozenset({"1978", "70", "705"})) == ({"5"}, True, False)
    assert next_digits("70", frozenset({"1978", "70s"})) == (set(), False, True)


NOT_DIGITS = set(TOKENS) - set("0123456789") - {"x9"}
GLUED = {token for token in TOKENS if token[:1].isalnum()}  # tokens that would run on the word before


def test_a_row_writes_no_number_off_its_list_and_cannot_stop_half_way():
    rules = WritingRules(numbers=frozenset({"2014", "10"}))
    assert allowed_after(rules, []) == {"1", "2"} | NOT_DIGITS
    assert allowed_after(rules, ids("1")) == {"0"}  # "1" alone is no allowed number; "19" cannot begin
    assert allowed_after(rules, ids("1", "0")) == NOT_DIGITS - GLUED  # "10" is whole, and nothing glued on ("10a")
    assert allowed_after(WritingRules(), ids("1")) == set(TOKENS)


def test_a_decade_is_written_with_its_s():
    rules = WritingRules(numbers=frozenset({"2014", "2010s", "10s"}))
    assert allowed_after(rules, ids("1", "0")) == {"s"}  # "10 years" cannot be written; "10s" can
    assert allowed_after(rules, ids("2", "0", "1")) == {"0", "4"}
    assert allowed_after(rules, ids("2", "0", "1", "0")) == {"s"}


def test_a_row_may_not_end_a_line_or_a_sentence_before_its_least_words():
    rules = WritingRules(min_words=3)
    assert allowed_after(rules, ids("a", " b")) == set(TOKENS) - {".", "\n", "\x0b", "<end>"}
    assert "." in allowed_after(rules, ids("a", " M"))  # an initial's "."
    assert "." in allowed_after(rules, ids("a", " b", "1"))  # "16.67"
    assert allowed_after(rules, ids("a", " b", " b")) == set(TOKENS)


def test_after_a_lead_in_only_a_named_title_is_spelt():
    assert lead_in_state("one for fans of The Th", [" fans of"]) == (" The Th", "")
    assert lead_in_state("a film For Fans", [" fans of"]) == (None, " fans")
    rules = WritingRules(lead_ins=(" fans of",), names=("The Thing",))
    assert allowed_after(rules, ids(" for", " fans", " of")) == {" The", " Th"}
    assert allowed_after(rules, ids(" for", " fans", " of", " The", " Th")) == {"ing", "ing,"}  # not "Things"
    assert allowed_after(rules, ids(" for", " fans", " of", " The", " Th", "ing")) == set(TOKENS) - GLUED  # "Things"
    assert lead_in_state("Fans of Al", [" fans of"]) == (" Al", "")  # at the line's start too


def test_without_a_liked_title_no_lead_in_is_written():
    rules = WritingRules(lead_ins=(" fans of",))
    assert allowed_after(rules, ids(" for", " fans")) == set(TOKENS) - {" of", " off", " Of"}
    assert allowed_after(rules, ids(" for")) == set(TOKENS)


def test_rows_keep_their_own_rules():
    processor = RulesProcessor(
        VOCABULARY, [WritingRules(numbers=frozenset()), WritingRules(numbers=frozenset({"7"}))], 1, decode
    )
    scores = processor(torch.tensor([ids("a", "a"), ids("a", "a")]), torch.zeros(2, len(TOKENS)))
    digits_allowed = [{d for d in "0123456789" if scores[row, int(d)] > float("-inf")} for row in (0, 1)]
    assert digits_allowed == [set(), {"7"}]


@pytest.mark.slow
def test_the_real_model_keeps_each_reason_to_its_cards_numbers_the_guards_least_words_and_no_made_up_title():
    from conftest import DEMO_CATALOG, ROOT

    from chat import prompts
    from chat.guard import MIN_REASON_WORDS, writable_numbers
    from chat.llm import offline_by_default
    from chat.llm.local import LocalChatModel
    from chat.state import DialogueState
    from retrieval.catalog import load_catalog

    offline_by_default()
    catalog = load_catalog(DEMO_CATALOG)
    items = [item for item in catalog.items if item.year and "horror" in item.genres][:3]
    state = DialogueState()
    messages = prompts.explainer_messages(state, catalog, "a scary one from the 70s", items)
    prefixes = prompts.reason_prefixes(items, [prompts.template_reason(item, state, catalog) for item in items])
    model = LocalChatModel(adapter=str(ROOT / "adapters" / "default"), quantize="int8")
    rules = [WritingRules(writable_numbers(item), MIN_REASON_WORDS, prompts.TITLE_LEAD_INS) for item in items]
    kept = sorted(model.complete_many_as_done(messages, prefixes, 36, ["\n"], rules))
    for (_, text), item, rule in zip(kept, items, rules):
        assert set(re.findall(r"\d+", text)) <= {number.rstrip("s") for number in rule.numbers}, (item.label, text)
        assert len(text.split()) >= MIN_REASON_WORDS, (item.label, text)
        assert not any(lead_in in text for lead_in in prompts.TITLE_LEAD_INS), (item.label, text)
