"""The benchmarks end to end on tiny data files in tmp_path, with the hashing embedder instead of MiniLM."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import make_engine
from fakes import HashingEmbedder

from evaluation import catalogs, grounding, movielens, redial, report
from retrieval.catalog import Catalog, Item
from retrieval.filters import FieldCondition, genre_wishes


def _dialogue(conversation_id: int, messages: list[tuple[str, str]]) -> str:
    """messages: (role, text) with role "s" (seeker, worker 1) or "r" (recommender, worker 2)."""
    return json.dumps(
        {
            "conversationId": str(conversation_id),
            "initiatorWorkerId": 1,
            "respondentWorkerId": 2,
            "movieMentions": {},
            "messages": [
                {"messageId": n, "text": text, "timeOffset": n, "senderWorkerId": 1 if role == "s" else 2}
                for n, (role, text) in enumerate(messages)
            ],
        }
    )


def write_redial(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "movies_with_mentions.csv").write_text(
        "movieId,movieName,nbMentions\n1,Dracula  (1931),9\n2,Frankenstein (1931),9\n3,Super Troopers (2001),9\n"
        "4,Police Academy (1984),9\n5,Beverly Hills Cop (1984),9\n6,Dracula (1931),1\n"
    )
    (folder / "test_data.jsonl").write_text(
        "\n".join(
            [
                _dialogue(
                    20001,
                    [
                        ("s", "Hi, I like @1"),
                        ("r", "Try @2"),
                        ("s", "I loved it, more horror please"),
                        ("r", "Then @2 again, or @3"),
                    ],
                ),
                _dialogue(
                    20002, [("r", "Have you seen @4 ?"), ("s", "Yes, something funny please"), ("r", "@5 is funny")]
                ),
            ]
        )
        + "\n"
    )
    (folder / "train_part_a.jsonl").write_text(
        "\n".join(
            [
                _dialogue(11, [("s", "I like @1"), ("r", "@2")]),
                _dialogue(12, [("s", "I like @1"), ("r", "@2 and @3")]),
                _dialogue(13, [("s", "comedy?"), ("r", "@3 or @5")]),
                _dialogue(14, [("s", "@4"), ("r", "@5")]),
            ]
        )
        + "\n"
    )
    return folder


def write_movielens(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "ml-100k.item").write_text(
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
        "1\tToy Story\t1995\tAnimation Children's Comedy\n2\tGoldenEye\t1995\tAction Adventure Thriller\n"
        "3\tUsual Suspects, The\t1995\tCrime Thriller\n4\tHeat\t1995\tAction Crime\n5\tBabe\t1995\tChildren's Comedy\n"
    )
    rows = [
        (1, 1, 5, 10),
        (1, 5, 4, 11),
        (1, 2, 2, 12),
        (2, 2, 5, 10),
        (2, 4, 5, 11),
        (2, 3, 4, 12),
        (3, 3, 5, 10),
        (3, 4, 4, 11),
        (3, 1, 3, 12),
        (4, 1, 4, 10),
        (4, 5, 5, 13),
    ]
    (folder / "ml-100k.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        + "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in rows)
    )
    return folder


def all_rates(summary: dict) -> list[float]:
    rows = [summary["metrics"], *summary["baselines"].values()]
    return [v for row in rows for k, v in row.items() if k.startswith(("recall@", "ndcg@")) and not k.endswith("ci95")]


def test_redial_catalogue_uses_demo_items_where_title_and_year_match():
    demo = Catalog([Item(id="dracula-1931", title="Dracula", year=1931, genres=("horror",))])
    universe = catalogs.redial_catalog(
        {"1": "Dracula  (1931)", "6": "Dracula (1931)", "3": "Super Troopers (2001)"}, demo
    )
    assert universe.item_id("1") == universe.item_id("6") == "dracula-1931"
    assert universe.catalog["dracula-1931"].genres == ("horror",)
    assert universe.catalog["redial-3"].title == "Super Troopers" and universe.catalog["redial-3"].year == 2001
    assert len(universe.catalog) == 2 and universe.joined == 2


def test_movielens_titles_and_genres_read_as_people_write_them():
    assert catalogs.display_title("Usual Suspects, The") == "The Usual Suspects"
    assert catalogs.display_title("Postino, Il") == "Il Postino"
    assert catalogs.display_title("Heat") == "Heat"
    assert catalogs.movielens_genres("Action Sci-Fi Children's unknown") == ("action", "science fiction", "family")


def test_soft_genres_move_wanted_genres_from_the_filter_into_the_query():
    from chat.state import DialogueState

    state = redial.soft_genres(DialogueState(conditions=genre_wishes(["comedy"]), preferences=("space",)))
    assert state.filters().is_empty and state.query_text() == "comedy space"


def test_changed_share_compares_the_top_of_two_rankings():
    assert redial.changed_share([["a", "b"], ["c"]], [["a", "b"], ["d"]], k=2) == 0.5
    assert redial.changed_share([["a", "b", "x"]], [["a", "b", "y"]], k=2) == 0.0


def test_exact_reading_keeps_only_the_marked_mentions():
    from chat.understanding import Reading

    reading = Reading(text="x", liked=("it-1966", "alien"), disliked=("heat",))
    exact = redial.exact_reading(reading, ["alien", "heat", "ronin"])
    assert exact.liked == ("alien", "ronin") and exact.disliked == ("heat",)


def test_redial_run_scores_every_system_and_repeat_is_zero_on_novel_targets(tmp_path):
    folder = write_redial(tmp_path / "redial")
    run = redial.run(tmp_path, cache_dir=tmp_path / "cache", progress=False, embedder=HashingEmbedder())
    assert [len(t.targets) for t in run.turns] == [1, 2, 1, 1]
    assert run.turns[1].novel == ("redial-3",)  # Frankenstein was mentioned before
    assert run.turns[2].message == ""  # the recommender spoke first
    novel, every = run.summary("novel"), run.summary("all")
    assert (novel["n"], every["n"]) == (4, 5)
    assert set(novel["baselines"]) == {
        "system_exact_mentions",
        "system_soft_genres",
        "popularity",
        "embedding",
        "collaborative",
        "ease",
        "repeat",
    }
    assert novel["baselines"]["repeat"]["recall@50"] == 0.0
    assert every["baselines"]["repeat"]["recall@1"] == pytest.approx(1 / 5)
    assert all(0.0 <= v <= 1.0 for v in all_rates(novel) + all_rates(every))
    assert novel["catalogue"]["train_dialogues"] == 4
    json.dumps(novel)
    assert (tmp_path / "cache" / "redial-movies" / "manifest.json").is_file()
    assert not any(t.dialogue_id.startswith("1") and len(t.dialogue_id) == 2 for t in run.turns)  # train never scored
    assert folder.is_dir()


def test_redial_cli_prints_the_json_object_of_the_issue(tmp_path, capsys, monkeypatch):
    write_redial(tmp_path / "redial")
    monkeypatch.setattr(redial, "load_embedder", HashingEmbedder)
    assert (
        redial.main(["--data", str(tmp_path / "redial"), "--limit", "1", "--json", "--cache", str(tmp_path / "c")]) == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert {"benchmark", "protocol", "n", "metrics", "baselines", "seconds"} <= set(printed)
    assert printed["protocol"] == "novel" and printed["n_dialogues"] == 1
    assert {"recall@1", "recall@10", "recall@50"} <= set(printed["metrics"])


def test_leave_one_out_holds_out_the_last_interaction_and_tells_recent_liked_titles():
    users = leave = movielens.leave_one_out(["u", "u", "u", "v"], ["a", "b", "c", "a"], [5, 2, 4, 5], [1, 2, 3, 1])
    assert leave == [movielens.HeldOutUser("u", history=("a", "b"), told=("a",), target="c")]
    assert users[0].liked
    nobody_liked = movielens.leave_one_out(["u", "u", "u"], ["a", "b", "c"], [1, 2, 3], [3, 2, 1])
    assert nobody_liked[0].target == "a" and nobody_liked[0].told == ("c", "b") and not nobody_liked[0].liked
    assert movielens.conversation(["Alien (1979)", "Heat (1995)"]) == (
        "I watched and liked Alien (1979) and Heat (1995). What should I watch next?"
    )
    assert movielens.conversation(["Alien (1979)"], liked=False) == "I watched Alien (1979). What should I watch next?"


def test_movielens_run_ranks_held_out_items_without_the_history(tmp_path):
    write_movielens(tmp_path / "ml-100k")
    run = movielens.run(tmp_path, cache_dir=tmp_path / "cache", progress=False, embedder=HashingEmbedder())
    summary = run.summary()
    assert summary["n"] == 4
    for name, rankings in run.rankings.items():
        for user, ranked in zip(run.users, rankings):
            assert not set(ranked) & set(user.history), name
    assert all(0.0 <= v <= 1.0 for v in all_rates(summary))
    assert summary["titles_recognized"] == 1.0


def test_stated_constraints_become_a_filter_and_unknown_names_are_caught():
    constraints = grounding.stated_filter({"genres": ["Comedy"], "year_max": 1999, "avoid": ["Zombies", "Tom Cruise"]})
    assert constraints.wanted("genres") == {"comedy"} and constraints.avoid_terms == {"zombie", "tom cruise"}
    assert constraints.bounds("year") == (None, 1999)
    assert grounding.stated_filter({"filters": ["price=..15"]}).conditions == (FieldCondition("price", maximum=15.0),)
    known = grounding.known_titles(
        [
            Item(id="alien", title="Alien", year=1979),
            Item(id="wonka", title="Willy Wonka & the Chocolate Factory", year=1971),
        ]
    )
    assert grounding.unknown_names('1. **Alien (1979)**: see also "Starship Invaders"', known) == ["Starship Invaders"]
    assert grounding.unknown_names("1. **Willy Wonka & the Chocolate Factory (1971)**: sweet.", known) == []


def test_reply_lines_are_checked_without_their_numbers(catalog):
    from chat.titles import TitleMatcher

    titles = TitleMatcher(list(catalog.items) + [Item(id="toy-story-3", title="Toy Story 3", year=2010)])
    reply = "Here are 2 picks:\n1. **Heat (1995)**: in the vein of Toy Story.\n2. **Clueless (1995)**: funny."
    assert grounding.reply_lines(reply)[1] == "**Heat (1995)**: in the vein of Toy Story."
    assert grounding.unshown_in_reply(reply, {"heat-1995", "clueless-1995"}, {"toy-story-1995"}, titles) == set()


def test_grounding_counts_violations_of_what_was_said_not_of_what_was_understood(tmp_path, catalog, index, embedder):
    scripts = tmp_path / "scripts.json"
    scripts.write_text(
        json.dumps(
            {
                "conversations": [
                    {
                        "name": "understood",
                        "turns": [
                            {
                                "say": "a 90s comedy, nothing with zombies",
                                "genres": ["comedy"],
                                "year_min": 1990,
                                "year_max": 1999,
                                "avoid": ["zombies"],
                            },
                            {
                                "say": "something else",
                                "genres": ["comedy"],
                                "year_min": 1990,
                                "year_max": 1999,
                                "avoid": ["zombies"],
                            },
                        ],
                    },
                    {"name": "never said to the engine", "turns": [{"say": "something funny", "year_max": 1980}]},
                    {
                        "name": "over-constrained",
                        "turns": [
                            {
                                "say": "a western from the 2020s, no gore",
                                "genres": ["western"],
                                "year_min": 2020,
                                "avoid": ["gore"],
                                "filters": ["year=2020.."],
                            }
                        ],
                    },
                ]
            }
        )
    )
    engine = make_engine(catalog, index, embedder)
    result = grounding.run_scripts(engine, grounding.load_scripts(scripts), progress=False)
    understood = [v for v in result["violations"] if v["conversation"] == "understood"]
    assert understood == []
    assert any(v["conversation"] == "never said to the engine" for v in result["violations"])
    assert not any(v["engine_filter_broken"] for v in result["violations"])
    assert result["metrics"]["repeat_rate"] == 0.0
    assert result["metrics"]["unshown_or_unknown_reply_rate"] == 0.0
    assert not any(v["conversation"] == "over-constrained" for v in result["violations"])  # said what it left out
    assert result["metrics"]["relaxed_rate"] == round(1 / 4, 4)
    assert result["metrics"]["turns"] == 4 and result["metrics"]["shown"] > 0
    assert result["baselines"]["embedding_only"]["constraint_violation_rate"] is not None
    assert result["latency_ms_median"]["total"] >= 0


def test_report_writes_tables_json_and_plots_from_a_tiny_run(tmp_path):
    write_redial(tmp_path / "data" / "redial")
    write_movielens(tmp_path / "data" / "ml-100k")
    size = report.Size("tiny", redial_dialogues=None, movielens_users=None, redial_llm_dialogues=0, grounding_llm=False)
    results = report.collect(size, tmp_path / "data", tmp_path / "cache", progress=False, embedder=HashingEmbedder())
    llm_run = {
        protocol: {**results["redial"][protocol], "baselines": {"system": results["redial"][protocol]["metrics"]}}
        for protocol in ("novel", "all")
    }
    results_with_llm = {
        **results,
        "redial_llm": llm_run,
        "grounding_llm": results["grounding"],
        "size": {**results["size"], "redial_llm_dialogues": 2},
    }
    assert "The LLM planner" in report.markdown(results_with_llm)
    written = report.write_report(results, tmp_path / "out")
    assert [p.name for p in written] == ["benchmarks.md", "benchmarks.json", "recall_at_k.png", "latency.png"]
    report.write_plots(results_with_llm, tmp_path)
    text = (tmp_path / "out" / "benchmarks.md").read_text()
    for needle in ("ReFICR (published)", "LlamaRec", "Candidate universe", "novel", "constraint violation rate"):
        assert needle in text
    assert (tmp_path / "out" / "recall_at_k.png").read_bytes()[:4] == b"\x89PNG"
    saved = json.loads((tmp_path / "out" / "benchmarks.json").read_text())
    assert not math.isnan(saved["redial"]["novel"]["metrics"]["recall@50"])


def test_a_shown_card_s_words_that_happen_to_be_a_title_are_no_unshown_film():
    from chat.prompts import item_card
    from chat.titles import TitleMatcher

    chicago = Item(id="chicago-2002", title="Chicago", year=2002)
    items = [
        chicago,
        Item(id="cinderella-1950", title="Cinderella", year=1950),
        Item(id="pretty-woman-1990", title="Pretty Woman", year=1990, keywords=("cinderella", "los angeles")),
        Item(id="the-sting-1973", title="The Sting", year=1973, synopsis="In 1930s Chicago, a grifter plans a con."),
    ]
    titles = TitleMatcher(items, fuzzy=False)
    shown = {"pretty-woman-1990", "the-sting-1973"}
    cards = [item_card(item) for item in items if item.id in shown]
    reply = "1. **Pretty Woman (1990)**: a cinderella tale.\n2. **The Sting (1973)**: a con in Chicago."
    assert grounding.unshown_in_reply(reply, shown, set(), titles) == {
        "cinderella-1950",
        "chicago-2002",
    }  # before the fix
    assert grounding.unshown_in_reply(reply, shown, set(), titles, cards) == set()
    named = reply + "\nAlso try Chicago (2002)."
    assert grounding.unshown_in_reply(named, shown, set(), titles, cards) == {
        "chicago-2002"
    }  # a title with its year is a title
