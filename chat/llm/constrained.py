"""Decoding under `WritingRules`: a transformers logits processor that keeps each batch row to its own rules.

At every step, for each row, the tokens its rules forbid get a score of minus infinity:

- numbers: the row's trailing run of digits (digit tokens in a row, as SmolLM2's tokenizer writes
  every digit alone) must be a start of one of the allowed numbers, and may end (be followed by
  anything but a digit) only where it is a whole one, with no letter glued on ("1978th"); an
  allowed number written with an "s" ("70s", a decade) may end only in "s", "'s" or "s" and no
  letter. A token holding a digit among other characters ("x86") is never written outside a name.
- min_words: until the row has written that many words it may not end: the end of text, every
  token holding a stop string's first character or a line break (the newline that ends a reason
  line, a vertical tab) and every token holding ".", "!" or "?" (except after an initial, a title
  such as "Dr", or digits: "M. Night", "16.67") are forbidden, so a short line grows rather than
  starting a second, unplanned sentence.
- lead_ins and names: right after a lead-in (" fans of", also at the line's start) the row must
  spell one of the names, token by token (tokens that are a start of the rest of a name, or the
  rest of it and no letter or digit), and may not run a finished name on with a letter ("The
  Things"); with no names, the token that would complete a lead-in, in any case, is forbidden, so
  "for fans of" is never begun into a title the model would have to make up.

Where a row must go on with a few tokens only (a name being spelt, a number half written), the
name comes first: its own digits are spelt with it.
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
LINE_BREAKS = set("\n\r\v\f\x85\u2028\u2029")


@dataclass(frozen=True)
class Vocabulary:
    """What the rules need to know of a tokenizer's tokens: which are one digit, which hold a digit among other
    characters, which can end a row or a sentence, which can follow a decade's digits."""

    digit_ids: dict[str, int]  # "7" -> its token id
    mixed_digit_ids: tuple[int, ...]  # tokens with a digit and something else ("x86", "19th" where one token)
    ending_ids: tuple[int, ...]  # end of text, tokens holding a stop string's first character or a line break
    sentence_end_ids: tuple[int, ...]  # tokens holding ".", "!" or "?"
    decade_suffix_ids: tuple[int, ...]  # "s", "'s", or "s" and no letter after it ("s,", "s.")
    letter_start_ids: tuple[int, ...]  # tokens that start with a letter or a digit, gluing onto the word before
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
        mixed, ending, sentence_end, suffix, glued = [], set(eos_ids), [], [], []
        for token_id, text in enumerate(texts):
            if text in DIGITS and len(text) == 1:
                digit_ids.setdefault(text, token_id)
            elif any(ch in DIGITS for ch in text):
                mixed.append(token_id)
            if starts & set(text) or LINE_BREAKS & set(text):
                ending.add(token_id)
            if any(ch in ".!?" for ch in text):
                sentence_end.append(token_id)
            if re.match(r"(?:s|'s|’s)(?![^\W\d_])", text):
                suffix.append(token_id)
            if text[:1].isalnum():
                glued.append(token_id)
        by_text: dict[str, list[int]] = {}
        for token_id, text in enumerate(texts):
            by_text.setdefault(text, []).append(token_id)
        return cls(
            digit_ids,
            tuple(mixed),
            tuple(sorted(ending)),
            tuple(sentence_end),
            tuple(suffix),
            tuple(glued),
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
    """Where `text` stands with its lead-ins (in any case, at its very start too): what follows the last lead-in it
    holds (None when none), and the longest start of a lead-in it ends with (that a next token could complete), as
    the lead-in writes it.

    Example: ("one for fans of The Th", [" fans of"]) -> (" The Th", "");  ("a film For Fans", [" fans of"]) -> (None, " fans");
             ("Fans of Al", [" fans of"]) -> (" Al", "")
    """
    padded = " " + text
    lowered = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in padded)  # offsets stay those of `padded`
    start, lead_in = max((lowered.rfind(lead_in.lower()), lead_in) for lead_in in lead_ins)
    after = padded[start + len(lead_in) :] if start >= 0 else None
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


# Where a "." ends no sentence: after an initial ("M. Night", "L.A"), a title ("Dr", "Mrs"), or digits ("16.67").
_NOT_A_SENTENCE_END = re.compile(r"(?:(?:^|[\s.])[A-Z]|\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Lt|Sgt|Bros|Inc|vs)|\d)$")


class RulesProcessor:
    """A transformers logits processor (called with the batch's token ids so far and the next token's scores) that
    forbids, row by row, what `rules[row]` does not allow. `start` is where the rows' new tokens begin."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        rules: Sequence[WritingRules],
        start: int,
        decode,
        finished: Sequence[object] = (),
    ):
        self.vocabulary = vocabulary
        self.rules = list(rules)
        self.start = start
        self.decode = decode  # token ids -> text, for counting words
        self.finished = (
            finished  # per row, None while it runs (the stopping criterion's record): ended rows are skipped
        )
        self.digit_of = {token: digit for digit, token in vocabulary.digit_ids.items()}

    def forbidden(self, row: int, new_tokens: Sequence[int]) -> tuple[list[int], list[int] | None]:
        """What row `row` may not write next, after writing `new_tokens`: the forbidden token ids, and, where only a
        few may follow (a name being spelt, a number half written), those alone (else None; never an empty list)."""
        rules = self.rules[row]
        banned: list[int] = []
        text = self.decode(new_tokens) if rules.min_words or rules.lead_ins else ""
        if rules.lead_ins:
            after, begun = lead_in_state(text, rules.lead_ins)
            names = [" " + name for name in rules.names]
            if after is not None and names:
                if after in names:  # a name just written: no letter may run it on ("The Things", "Aliens")
                    banned += self.vocabulary.letter_start_ids
                elif not any(after.startswith(name) for name in names):
                    spelling = name_tokens(self.vocabulary, after, names)
                    if spelling:  # the name's own digits are spelt with it
                        return [], spelling
            if begun and not names:  # the token that would complete the lead-in, in any case ("fans Of")
                banned += [
                    token
                    for lead_in in rules.lead_ins
                    if lead_in.startswith(begun)
                    for rest in case_forms(lead_in[len(begun) :])
                    for token in self.vocabulary.starting_with(rest)
                ]
        if rules.numbers is not None:
            run = trailing_digits(new_tokens, self.digit_of)
            following, may_end, as_decade = next_digits(run, rules.numbers)
            digits = [self.vocabulary.digit_ids[d] for d in sorted(following)]
            if as_decade:
                return [], digits + list(self.vocabulary.decade_suffix_ids)
            if not may_end and digits:
                return [], digits
            banned += [token for digit, token in self.vocabulary.digit_ids.items() if digit not in following]
            banned += self.vocabulary.mixed_digit_ids
            if run:  # a whole number: nothing glued on ("1978th"); a decade's "s" where it is one too
                suffix = set(self.vocabulary.decade_suffix_ids) if f"{run}s" in rules.numbers else set()
                banned += [t for t in self.vocabulary.letter_start_ids if t not in suffix and t not in digits]
        if rules.min_words and len(text.split()) < rules.min_words:
            banned += self.vocabulary.ending_ids
            if not _NOT_A_SENTENCE_END.search(text):
                banned += self.vocabulary.sentence_end_ids
        return banned, None

    def __call__(self, input_ids, scores):
        for row in range(min(len(self.rules), scores.shape[0])):
            if row < len(self.finished) and self.finished[row] is not None:
                continue
            banned, only = self.forbidden(row, input_ids[row, self.start :].tolist())
            if only is not None:
                kept = scores[row, only].clone()
                scores[row, :] = float("-inf")
                scores[row, only] = kept
            elif banned:
                scores[row, banned] = float("-inf")
        return scores
