"""End to end through the headless CLI with the real embedded models (SmolLM2 + MiniLM), a real index and SQLite."""

import json
import sqlite3
import subprocess
import sys

import pytest
from conftest import DEMO_CATALOG, ROOT

from retrieval.catalog import load_catalog

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("index")


def run_cli(messages, index_dir, log_db, *extra):
    completed = subprocess.run(
        [sys.executable, "-m", "chat", "--jsonl", "--index", str(index_dir), "--log-db", f"sqlite:///{log_db}", *extra],
        input="\n".join(messages) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HOME": str(index_dir)},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return [json.loads(line) for line in completed.stdout.splitlines()]


def test_three_turn_conversation_with_the_real_models(real_index_dir, tmp_path):
    catalog = load_catalog(DEMO_CATALOG)
    turns = run_cli(
        ["I loved Alien and The Thing, a horror film but nothing gory", "something older", "not that one"],
        real_index_dir,
        tmp_path / "log.db",
    )
    assert len(turns) == 3
    seen = set()
    for turn in turns:
        assert set(turn) == {"reply", "items", "timings_ms"} and turn["timings_ms"]["total"] > 0
        assert turn["items"], turn["reply"]
        for item in turn["items"]:
            assert item["id"] in catalog, item
            assert catalog[item["id"]].title == item["title"] and catalog[item["id"]].year == item["year"]
            assert "horror" in item["genres"]
            assert "gore" not in catalog[item["id"]].keywords
            assert item["id"] not in seen and item["id"] not in ("alien-1979", "the-thing-1982")
            assert f"{item['title']} ({item['year']})" in turn["reply"]
            assert item["why"]
            seen.add(item["id"])
    first_years = sorted(item["year"] for item in turns[0]["items"])
    assert all(item["year"] < first_years[len(first_years) // 2] for item in turns[1]["items"])
    with sqlite3.connect(tmp_path / "log.db") as db:
        assert db.execute("select count(*) from turns").fetchone()[0] == 3


def test_bad_catalogue_row_is_a_clear_error_naming_file_row_and_field(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,title\nm1,Alien\nm1,Duplicate\nm3,\n")
    completed = subprocess.run(
        [sys.executable, "-m", "chat", "--jsonl", "--catalog", str(bad), "--llm", "none", "--no-log"],
        input="",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert completed.returncode == 2
    assert f"{bad}:3:id: duplicate id 'm1'" in completed.stderr
    assert f"{bad}:4:title: missing title" in completed.stderr
    assert "Traceback" not in completed.stderr
