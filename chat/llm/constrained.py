"""Decoding under `WritingRules`: a transformers logits processor that keeps each batch row to its own rules.

At every step, for each row, the tokens its rules forbid get a score of minus infinity:

- numbers: the row's trailing run of digits (digit tokens in a row, as SmolLM2's tokenizer writes
  every digit alone) must be a start of one of the allowed numbers, and may end (be followed by
  anything but a digit) only where it is a whole one; an allowed number written with an "s"
  ("70s", a decade) may end only in a token that starts with "s" or "'s". A token holding a digit
  among other characters ("x86") is never written, since no run could be followed through it.
- min_words: until the row has written that many words it may not end: the end of text, every
  token holding a stop string's first character or another line break (the newline that ends a
  reason line, a vertical tab) and every token that ends a sentence (".", "!", "?", except the
  "." of an initial, "M. Night") are forbidden, so a short line grows rather than starting a
  second, unplanned sentence.
- lead_ins and names: right after a lead-in (" fans of") the row must spell one of the names,
  token by token (tokens that are a start of the rest of a name, or the rest of it and more than
  a letter); with no names, the token that would complete a lead-in, in any case, is forbidden,
  so "for fans of" is never begun into a title the model would have to make up.

The greedy choice is then the model's best allowed token, so a reason that would have begun
"1974, dread horror" for a 2014 film begins with what the model ranks next, often "2014".
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chat.llm.base import WritingRules

DIGITS = "0123456789"


@dataclass(frozen=True)
class Vocabulary:
    """What the rules need to know of a tokenizer's tokens: which are one digit, which hold a digit among other
    characters, which can end a row or a sentence, which can follow a decade's digits."""

    digit_ids: dict[str, int]  # "7" -> its token id
    mixed_digit_ids: tuple[int, ...]  # tokens with a digit and something else ("x86", "19th" where one token)
    ending_ids: tuple[int, ...]  # end of text, tokens holding a stop string's first character or a line break
    sentence_end_ids: tuple[int, ...]  # tokens holding ".", "!" or "?"
    decade_suffix_ids: tuple[int, ...]  # tokens starting with "s" or "'s" ("s", "s,", "'s")
    texts: tuple[str, ...]  # every token's text, by id
    by_text: dict[str, tuple[int, ...]]  # every token's text -> the tokens that write it
    sorted_texts: tuple[str, ...]  # the distinct token texts, sorted, for finding those that start with a text

    def starting_with(self, prefix: str) -> list[int]:
        """The tokens whose text starts with `prefix`. Example: " Th" -> ids of " Th", " The", " Thing", ..."""
        found = []
        for text in self.sorted_texts[bisect.bisect_left(self.sorted_texts, prefix) :]:
            if not text.startswith(prefix):
                break
            found += self.by_text[text]
        return found

    @classmethod
    def of(cls, tokenizer, eos_ids: Iterable[int], stop: Sequence[str]) -> Vocabulary:
        texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
        starts = {s[0] for s in stop if s}
        digit_ids: dict[str, int] = {}
        mixed, ending, sentence_end, suffix = [], set(eos_ids), [], []
        for token_id, text in enumerate(texts):
            if text in DIGITS and len(text) == 1:
                digit_ids.setdefault(text, token_id)
            elif any(ch in DIGITS for ch in text):
                mixed.append(token_id)
            if starts & set(text) or any(ch.isspace() and ch != " " for ch in text):
                ending.add(token_id)
            if any(ch in ".!?" for ch in text):
                sentence_end.append(token_id)
            if text.startswith(("s", "'s", "’s")):
                suffix.append(token_id)
        by_text: dict[str, list[int]] = {}
        for token_id, text in enumerate(texts):
            by_text.setdefault(text, []).append(token_id)
        return cls(
            digit_ids,
            tuple(mixed),
            tuple(sorted(ending)),
            tuple(sentence_end),
            tuple(suffix),
            tuple(texts),
            {text: tuple(ids) for text, ids in by_text.items()},
            tuple(sorted(by_text)),
        )


def trailing_digits(tokens: Sequence[int], digit_of: dict[int, str]) -> str:
    """The run of digit tokens at the end of `tokens`, as text. Example: ids of "in 19", {…} -> "19" """
    run = []
    for token in reversed(tokens):
        if token not in digit_of:
            break
        run.append(digit_of[token])
    return "".join(reversed(run))


def next_digits(run: str, numbers: frozenset[str]) -> tuple[set[str], bool, bool]:
    """The digits that may follow `run`, whether the run may end here, and whether it may end only as a decade
    (followed by "s").

    Example: ("19", {"1978", "70s"}) -> ({"7"}, False, False);  ("", {"1978", "70s"}) -> ({"1", "7"}, True, False);
             ("70", {"1978", "70s"}) -> (set(), False, True)
    """
    following = {n[len(run)] for n in numbers if len(n) > len(run) and n.startswith(run) and n[len(run)] in DIGITS}
    whole = run == "" or run in numbers
    return following, whole, not whole and f"{run}s" in numbers


def name_tokens(vocabulary: Vocabulary, written: str, names: Sequence[str]) -> list[int]:
    """The tokens that go on spelling one of `names` after `written` (what follows the lead-in so far): a start of a
    name's rest, or its whole rest followed by no letter or digit.

    Example: (" The Th", [" The Thing"]) -> ids of "i", "in", "ing", "ing,", "ing." (not "ings")
    """
    allowed: list[int] = []
    for name in names:
        if not name.startswith(written) or name == written:
            continue
        rest = name[len(written) :]
        for end in range(1, len(rest) + 1):
            allowed += vocabulary.by_text.get(rest[:end], ())
        allowed += [
            token
            for token in vocabulary.starting_with(rest)
            if not vocabulary.texts[token][len(rest) : len(rest) + 1].isalnum()
        ]
    return sorted(set(allowed))


def case_forms(text: str) -> set[str]:
    """`text` as written, lower-cased, capitalized and upper-cased. Example: " of" -> {" of", " Of", " OF"}"""
    stripped = text.lstrip()
    lead = text[: len(text) - len(stripped)]
    return {text, text.lower(), lead + stripped[:1].upper() + stripped[1:], text.upper()}


def lead_in_state(text: str, lead_ins: Sequence[str]) -> tuple[str | None, str]:
    """Where `text` stands with its lead-ins (in any case): what follows the last lead-in it holds (None when none),
    and the longest start of a lead-in it ends with (that a next token could complete), as the lead-in writes it.

    Example: ("one for fans of The Th", [" fans of"]) -> (" The Th", "");  ("a film For Fans", [" fans of"]) -> (None, " fans")
    """
    lowered = text.lower()
    ends = [(lowered.rfind(lead_in.lower()), lead_in) for lead_in in lead_ins]
    start, lead_in = max(ends)
    after = text[start + len(lead_in) :] if start >= 0 else None
    begun = max(
        (
            lead_in[:size]
            for lead_in in lead_ins
            for size in range(3, len(lead_in))
            if lowered.endswith(lead_in[:size].lower())
        ),
        key=len,
        default="",
    )
    return after, begun


_INITIAL = re.compile(r"(?:^|\s)[A-Z]$")  # "M" of "M. Night": its "." ends no sentence


class RulesProcessor:
    """A transformers logits processor (called with the batch's token ids so far and the next token's scores) that
    forbids, row by row, what `rules[row]` does not allow. `start` is where the rows' new tokens begin."""

    def __init__(self, vocabulary: Vocabulary, rules: Sequence[WritingRules], start: int, decode):
        self.vocabulary = vocabulary
        self.rules = list(rules)
        self.start = start
        self.decode = decode  # token ids -> text, for counting words
        self.digit_of = {token: digit for digit, token in vocabulary.digit_ids.items()}

    def forbidden(self, row: int, new_tokens: Sequence[int]) -> tuple[list[int], list[int] | None]:
        """What row `row` may not write next, after writing `new_tokens`: the forbidden token ids, and, where only a
        few may follow (a number half written, a name being spelt), those alone (else None)."""
        rules = self.rules[row]
        banned: list[int] = []
        if rules.numbers is not None:
            following, may_end, as_decade = next_digits(trailing_digits(new_tokens, self.digit_of), rules.numbers)
            digits = [self.vocabulary.digit_ids[d] for d in sorted(following)]
            if as_decade:
                return [], digits + list(self.vocabulary.decade_suffix_ids)
            if not may_end:
                return [], digits
            banned += [token for digit, token in self.vocabulary.digit_ids.items() if digit not in following]
            banned += self.vocabulary.mixed_digit_ids
        text = self.decode(new_tokens) if rules.min_words or rules.lead_ins else ""
        if rules.lead_ins:
            after, begun = lead_in_state(text, rules.lead_ins)
            names = [" " + name for name in rules.names]
            if after is not None and names and not any(after.startswith(name) for name in names):
                spelling = name_tokens(self.vocabulary, after, names)
                if spelling:
                    return [], spelling
            if begun and not names:  # the token that would complete the lead-in, in any case ("fans Of")
                banned += [
                    token
                    for lead_in in rules.lead_ins
                    if lead_in.startswith(begun)
                    for rest in case_forms(lead_in[len(begun) :])
                    for token in self.vocabulary.starting_with(rest)
                ]
        if rules.min_words and len(text.split()) < rules.min_words:
            banned += self.vocabulary.ending_ids
            if not _INITIAL.search(text):
                banned += self.vocabulary.sentence_end_ids
        return banned, None

    def __call__(self, input_ids, scores):
        for row in range(min(len(self.rules), scores.shape[0])):
            banned, only = self.forbidden(row, input_ids[row, self.start :].tolist())
            if only is not None:
                kept = scores[row, only].clone()
                scores[row, :] = float("-inf")
                scores[row, only] = kept
            elif banned:
                scores[row, banned] = float("-inf")
        return scores
