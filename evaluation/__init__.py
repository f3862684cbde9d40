"""Offline benchmarks: ReDial, MovieLens, grounding and constraint checks, latency (being built)."""
