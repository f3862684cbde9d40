"""The title-matching benchmark: its made-up titles and typos, and that it prints both matchers side by side."""

import random

from evaluation.title_bench import DifflibTitleMatcher, main, synthetic_titles, typo_messages, with_typo
from retrieval.catalog import Item


def test_synthetic_titles_are_unique_and_repeatable():
    titles = synthetic_titles(2_000, seed=1)
    assert len({title.casefold() for title in titles}) == 2_000
    assert synthetic_titles(50, seed=1) == titles[:50]
    assert any(not title.isascii() for title in titles)


def test_a_typo_keeps_the_first_letter_and_changes_the_title():
    rng = random.Random(0)
    for title in synthetic_titles(200):
        typed = with_typo(title, rng)
        assert typed != title.lower() and typed[0] == title[0].lower()


def test_the_difflib_baseline_finds_the_typod_titles_too():
    titles = synthetic_titles(500)
    items = [Item(id=f"t{i}", title=title) for i, title in enumerate(titles)]
    matcher = DifflibTitleMatcher(items)
    found = [[m.item_id for m in matcher.find(text)] == [f"t{index}"] for text, index in typo_messages(titles, 20, 0)]
    assert sum(found) >= 15


def test_main_prints_both_matchers_per_size(capsys):
    assert main(["--sizes", "300", "--messages", "5"]) == 0
    out = capsys.readouterr().out
    assert "300 titles" in out and "difflib" in out and "rapidfuzz" in out and "faster per message" in out
