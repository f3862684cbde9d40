"""The language models: the seam the engine talks to (`chat.llm.base`), and the backends behind it.

    from chat.llm import ChatModel, LLMError          # the seam, re-exported here
    from chat.llm.local import LocalChatModel          # transformers (+ peft) in this process
    from chat.llm.remote import RemoteChatModel        # any OpenAI-compatible server, through LangChain

`chat.llm.quantize` holds the local backend's CPU speed-ups. Only the seam is re-exported: it imports
nothing heavy, and the backends import it from here (importing a backend never loads the others).
"""

from chat.llm.base import (
    DEFAULT_BASE_MODEL,
    ChatModel,
    CompletesAsDone,
    CountsTokens,
    GenerationStats,
    LLMError,
    WritingRules,
    YesNoScorer,
    complete_as_done,
    complete_one_by_one,
    holdback,
    in_order,
    offline_by_default,
    one_by_one_as_done,
    trim_at_stop,
)

__all__ = [
    "DEFAULT_BASE_MODEL",
    "ChatModel",
    "CompletesAsDone",
    "CountsTokens",
    "GenerationStats",
    "LLMError",
    "WritingRules",
    "YesNoScorer",
    "complete_as_done",
    "complete_one_by_one",
    "holdback",
    "in_order",
    "offline_by_default",
    "one_by_one_as_done",
    "trim_at_stop",
]
