"""Published numbers the report compares with, each with its source; quoted from the literature, never re-run here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Published:
    system: str
    metrics: dict[str, float]
    source: str


KOSTRIC_BALOG = "Kostric & Balog (2026), standardized re-evaluation of CRS models on ReDial"
HE_2023 = "He et al., Large Language Models as Zero-Shot Conversational Recommenders, CIKM 2023"
LLAMAREC = (
    "Yue et al., LlamaRec: Two-Stage Recommendation using Large Language Models for Ranking, 2023 (arXiv 2311.02089)"
)

REDIAL_NOVEL = (
    Published("KBRD", {"recall@10": 0.148, "recall@50": 0.300}, KOSTRIC_BALOG),
    Published("KGSF", {"recall@10": 0.147, "recall@50": 0.327}, KOSTRIC_BALOG),
    Published("UniCRS", {"recall@10": 0.180, "recall@50": 0.335}, KOSTRIC_BALOG),
    Published("ReFICR", {"recall@10": 0.213, "recall@50": 0.465}, KOSTRIC_BALOG),
)
REDIAL_ALL = (
    Published("UniCRS", {"recall@10": 0.213, "recall@50": 0.421}, KOSTRIC_BALOG),
    Published("GPT-4, zero-shot", {"recall@10": 0.194}, HE_2023),
)
MOVIELENS = (
    Published("SASRec", {"recall@10": 0.0993}, LLAMAREC),
    Published("LlamaRec (Llama-2-7B QLoRA reranker)", {"recall@10": 0.1524, "ndcg@10": 0.0759}, LLAMAREC),
)
