"""The benchmark report at smoke size with the real embedder and the real data, so the harness cannot rot.

Needs the staged data (`../shared/data` beside the project, or RECSYS_EVAL_DATA); skipped without it.
Builds the evaluation indexes from scratch in tmp_path (about two minutes on 2 CPU cores).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from evaluation import report

DATA = Path(os.environ.get("RECSYS_EVAL_DATA", report.DEFAULT_DATA))


def _rates(summary: dict) -> list[tuple[str, object]]:
    rows = [summary["metrics"], *summary["baselines"].values()]
    return [
        (k, v) for row in rows for k, v in row.items() if k.startswith(("recall@", "ndcg@")) and not k.endswith("ci95")
    ]


@pytest.mark.slow
@pytest.mark.skipif(
    not (DATA / "redial").is_dir() or not (DATA / "ml-100k").is_dir(), reason=f"no benchmark data at {DATA}"
)
def test_smoke_report_writes_every_file_with_rates_between_0_and_1(tmp_path):
    out = tmp_path / "out"
    assert (
        report.main(["--size", "smoke", "--data", str(DATA), "--out", str(out), "--cache", str(tmp_path / "cache")])
        == 0
    )
    for name in ("benchmarks.md", "benchmarks.json", "recall_at_k.png", "latency.png"):
        assert (out / name).stat().st_size > 0, name
    results = json.loads((out / "benchmarks.json").read_text())
    summaries = [results["redial"]["novel"], results["redial"]["all"], results["movielens"]["summary"]]
    for summary in summaries:
        assert summary["n"] > 0
        for key, value in _rates(summary):
            assert isinstance(value, float) and 0.0 <= value <= 1.0, (summary["benchmark"], key, value)
    for key, value in results["grounding"]["metrics"].items():
        if key.endswith("_rate"):
            assert value is None or 0.0 <= value <= 1.0, key
    assert results["redial"]["novel"]["baselines"]["repeat"]["recall@50"] == 0.0
    assert "ReFICR" in (out / "benchmarks.md").read_text()
