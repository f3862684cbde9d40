"""The training side of the grounded-reason recipe: `finetune.build_data` draws its target reasons with it.

The recipe itself lives in `chat.reason_text`, since the app shows reasons made the same way when the
model's reason is rejected or there is no model; the names are read from there.
"""

from chat.reason_text import (
    CONTENT_FLAGS,
    MOODS,
    drawn_reason,
    genre_noun,
    is_mood,
    natural_reason,
    reply_reasons,
    says_a_word_twice,
    synopsis_start,
    with_article,
)

__all__ = [
    "CONTENT_FLAGS",
    "MOODS",
    "drawn_reason",
    "genre_noun",
    "is_mood",
    "natural_reason",
    "reply_reasons",
    "says_a_word_twice",
    "synopsis_start",
    "with_article",
]
