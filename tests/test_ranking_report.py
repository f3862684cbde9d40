"""The ranking sections of the report at smoke size: real engine, tiny ReDial and INSPIRED, a fake embedder; only the marked block changes."""

import argparse

from fakes import HashingEmbedder
from test_train_ranker import write_tiny_redial

from evaluation import ranking_report, report
from retrieval import build_index


def write_tiny_inspired(root):
    folder = root / "inspired"
    folder.mkdir()
    rows = [
        ("d1", "SEEKER", "I loved Alien (1979)", "Alien (1979)"),
        ("d1", "RECOMMENDER", "Try Aliens (1986)", "Aliens (1986)"),
        ("d2", "SEEKER", "Heat (1995) was great", "Heat (1995)"),
        ("d2", "RECOMMENDER", "Then Ronin (1998)", "Ronin (1998)"),
    ]
    (folder / "dev.tsv").write_text(
        "dialog_id\tspeaker\ttext\tmovies\n" + "".join("\t".join(row) + "\n" for row in rows)
    )


def test_only_ranking_replaces_its_block_and_keeps_the_rest(tmp_path):
    folder, items = write_tiny_redial(tmp_path)
    write_tiny_inspired(tmp_path)
    index = tmp_path / "idx"
    assert build_index.main(["--catalog", str(items), "--out", str(index), "--quiet"], embedder=HashingEmbedder()) == 0
    out = tmp_path / "docs"
    out.mkdir()
    (out / "benchmarks.md").write_text("# Benchmarks\n\nIntro.\n\n## Grounding\n\nkept words\n")
    args = argparse.Namespace(
        items=index,
        data=tmp_path,
        ranker="none",
        sequential="none",
        movielens_model=None,
        limit=None,
        no_movielens=True,
        out=out,
    )
    assert report.main_ranking(args, ["--only", "ranking"], embedder=HashingEmbedder()) == 0
    text = (out / "benchmarks.md").read_text()
    assert text.startswith("# Benchmarks\n\nIntro.\n\n" + ranking_report.START) and text.endswith(
        "## Grounding\n\nkept words\n"
    )
    assert "#### Novel protocol: 1 targets" in text and "INSPIRED dev, zero shot" in text
    assert "| + popularity source, fused (weighted fallback ranker) |" in text
    again = ranking_report.splice(text, ranking_report.START + "\nnew\n" + ranking_report.END + "\n")
    assert "#### Novel protocol" not in again and "new" in again and again.endswith("kept words\n")
    assert (out / "ranking.json").is_file()
    assert report.kept_ranking_block(out / "benchmarks.md").startswith(ranking_report.START)
