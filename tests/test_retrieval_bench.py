"""The retrieval benchmark's pieces on a tiny catalogue, in-process: it builds, queries and reports beside flat."""

from evaluation.retrieval_bench import Case, build_case, query_case, recall, report


def test_tiny_benchmark_reports_every_figure_beside_the_flat_baseline(tmp_path):
    measured = {}
    for kind in ("flat", "ivf"):
        case = Case(size=2000, kind=kind, dimension=16, queries=5, k=10, seed=0, folder=str(tmp_path))
        measured[kind] = {**build_case(case), **query_case(case)}
    assert recall(measured["flat"]["rows"]["narrow"], measured["flat"]["rows"]["narrow"]) == 1.0
    text = report(2000, measured, 10)
    assert text.splitlines()[0].split() == ["2,000", "items", "flat", "(exact)", "ivf"]
    for label in ("build s", "p50 / p95 ms, broad filter", "recall@10, none filter", "peak RSS MB, serving"):
        assert label in text
