"""Dialogue state, prompts, the tool-call format, the turn engine and the headless CLI (`python -m chat`).

Subpackages: `chat.llm` (the language-model seam and its local and remote backends) and `chat.logs`
(the conversation log store, its reports and `python -m chat.logs`). `python -m chat.serve` serves a
local backend over an OpenAI-compatible API.
"""
