"""Dialogue state, prompts, the tool-call format, the turn engine, LLM backends, the log store and the headless CLI."""
