"""The settings that take one of a few values, each typed once as a `Literal`, and the one check of them.

`Settings` (chat/settings.py) and `EngineSettings` (chat/engine.py) annotate their fields with
these types; `check_choices` validates every such field of a dataclass, naming the field, and the
CLI offers the same values (`choices_of`). Example:

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Example:
    ...     planner: Planner = "llm"
    ...     def __post_init__(self): check_choices(self)
    >>> Example("rules").planner
    'rules'
    >>> Example("gpt")
    Traceback (most recent call last):
    ...
    ValueError: planner: must be one of 'llm', 'rules'; got 'gpt'
"""

from __future__ import annotations

import functools
import typing
from dataclasses import fields
from typing import Literal

LLMBackend = Literal["local", "remote", "none"]
Dtype = Literal["float32", "bfloat16"]
Quantize = Literal["int8", "none", "int8-dynamic"]
Planner = Literal["llm", "rules"]
Explainer = Literal["llm", "template"]
Reranker = Literal["weights", "llm"]


@functools.cache
def _literal_fields(cls: type) -> dict[str, tuple[str, ...]]:
    hints = typing.get_type_hints(cls)
    return {f.name: typing.get_args(hints[f.name]) for f in fields(cls) if typing.get_origin(hints[f.name]) is Literal}


def choices_of(cls: type, name: str) -> tuple[str, ...] | None:
    """The values field `name` of dataclass `cls` may take, or None when it is not a choice."""
    return _literal_fields(cls).get(name)


def check_choices(instance: object) -> None:
    """Raise ValueError naming the first field of `instance` whose value is not one of its type's choices."""
    for name, allowed in _literal_fields(type(instance)).items():
        value = getattr(instance, name)
        if value not in allowed:
            raise ValueError(f"{name}: must be one of {', '.join(map(repr, allowed))}; got {value!r}")
