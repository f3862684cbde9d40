"""The turn engine with fakes: constraints honoured, no repeats, guard fallbacks, bad input, failures, logging."""

import re
from dataclasses import replace

import pytest
from conftest import make_engine
from fakes import ScriptedChatModel, StaggeredChatModel

from chat import prompts
from chat.assemble import build_reranker
from chat.guard import MIN_REASON_WORDS, reason_problems
from chat.llm import LLMError
from chat.llm_reranker import LLMReranker
from chat.settings import Settings
from chat.tools import parse_call


def run_turn(engine, session, text):
    updates = list(engine.respond(session, text))
    assert updates[-1].result is not None
    return updates[-1].result, updates


def test_three_turn_conversation_honours_genre_and_never_repeats(engine, catalog):
    session = engine.new_session()
    seen = []
    for text in ["I loved Alien, a horror film but nothing gory", "something else", "more please, something else"]:
        result, _ = run_turn(engine, session, text)
        for shown in result.items:
            item = catalog[shown.item.id]
            # Once the horror runs out, the nearest items come with a note that says horror was left out.
            assert "horror" in item.genres or (result.kind == "relaxed" and "left out horror" in result.reply)
            assert "gore" not in item.keywords
            assert item.id not in seen and item.id != "alien-1979"
            assert item.label in result.reply
            seen.append(item.id)
    assert len(seen) == len(set(seen)) >= 3


def test_reply_streams_before_it_completes(engine):
    session = engine.new_session()
    _, updates = run_turn(engine, session, "a 90s comedy, nothing with zombies")
    assert len(updates) >= 3
    assert updates[0].text and updates[0].result is None
    assert all(len(a.text) <= len(b.text) for a, b in zip(updates, updates[1:]))


def test_a_90s_comedy_without_zombies(engine, catalog):
    result, _ = run_turn(engine, engine.new_session(), "a 90s comedy, nothing with zombies")
    assert result.items
    for shown in result.items:
        assert "comedy" in shown.item.genres and 1990 <= shown.item.year <= 1999
        assert "zombies" not in shown.item.keywords


def test_vague_opening_gets_one_clarifying_question(engine):
    session = engine.new_session()
    first, _ = run_turn(engine, session, "hi")
    assert first.kind == "clarify" and first.items == [] and first.reply.count("?") == 1
    second, _ = run_turn(engine, session, "just recommend something")
    assert second.kind == "recommend" and second.items


def test_reasons_naming_other_films_are_replaced_by_templates(catalog, index, embedder):
    llm = ScriptedChatModel(["It is just like Psycho and Dawn of the Dead, a great pick."])
    engine = make_engine(catalog, index, embedder, llm)
    result, _ = run_turn(engine, engine.new_session(), "a horror film please")
    assert "Psycho" not in result.reply.replace("**Psycho (1960)**", "")
    assert any("not shown" in note for note in result.guard_notes)
    assert all(shown.why and "Dawn of the Dead" not in shown.why for shown in result.items)


def test_malformed_tool_call_is_repaired_from_the_state(catalog, index, embedder):
    engine = make_engine(catalog, index, embedder, ScriptedChatModel(["{not json at all"]))
    result, _ = run_turn(engine, engine.new_session(), "a western please")
    assert result.tool_call_valid is False
    assert result.items and all("western" in s.item.genres for s in result.items)


def test_the_planner_writes_the_query_and_the_state_keeps_the_constraints(catalog, index, embedder):
    llm = ScriptedChatModel(
        ['gunfights in the desert", "genres": ["comedy"]}}', "a fine pick for tonight with a strong mood"]
    )
    engine = make_engine(catalog, index, embedder, llm)
    result, _ = run_turn(engine, engine.new_session(), "a western please")
    assert llm.calls[0][1].endswith('{"query": "')
    assert result.tool_call_valid is True
    call = parse_call(result.tool_call["text"])
    assert "gunfights" in call.query and "western" in call.query
    assert call.arguments()["genres"] == ["western"]  # the model's "comedy" is not a constraint the person stated
    assert all("western" in s.item.genres for s in result.items)


def test_llm_failure_still_completes_the_turn(catalog, index, embedder, log_store):
    engine = make_engine(catalog, index, embedder, ScriptedChatModel(fail=True), log_store)
    result, _ = run_turn(engine, engine.new_session(), "a western please")
    assert result.items and all(s.why for s in result.items)
    assert log_store.turns()[0]["kind"] == "recommend"


def test_a_failing_index_gets_a_polite_reply_and_the_error_is_logged(catalog, index, embedder, log_store, monkeypatch):
    engine = make_engine(catalog, index, embedder, None, log_store)

    def broken(*args, **kwargs):
        raise RuntimeError("Error in faiss::IndexFlat::search: out of memory")

    monkeypatch.setattr(engine.search.index, "allowed", broken)
    session = engine.new_session()
    result, _ = run_turn(engine, session, "a western please")
    assert result.kind == "error" and not result.items and "try again" in result.reply
    (logged,) = log_store.turns(session.id)
    assert logged["kind"] == "error" and "out of memory" in logged["error"]
    from retrieval.item_search import RetrievalError
    from retrieval.retriever import SearchRequest

    with pytest.raises(RetrievalError, match="search failed: .*out of memory"):
        engine.search.run(SearchRequest(query="a western", k=5))
    monkeypatch.undo()
    assert run_turn(engine, session, "a western please")[0].items  # the next turn searches again


def test_a_damaged_log_store_raises_its_own_error_and_the_turn_still_completes(catalog, index, embedder, log_store):
    import sqlite3

    from chat.logs import LogStoreError

    with sqlite3.connect(log_store.url.removeprefix("sqlite:///")) as db:
        db.execute("DROP TABLE explanations")
        db.execute("DROP TABLE turns")
    with pytest.raises(LogStoreError, match="append_turn failed"):
        log_store.append_turn("s", 1, "hi", "hello", "polite")
    engine = make_engine(catalog, index, embedder, None, log_store)
    session = engine.new_session()
    result, _ = run_turn(engine, session, "a western please")
    assert result.items and session.last_turn_id is None  # answered; the turn could not be logged
    engine.feedback(session, "like", result.items[0].item.id)  # its feedback is not logged either: no error


def test_an_over_constrained_request_gets_the_nearest_items_and_says_what_was_left_out(engine):
    result, _ = run_turn(engine, engine.new_session(), "a western from the 2020s")
    assert result.kind == "relaxed" and result.items
    first_line = result.reply.splitlines()[0]
    assert "couldn't find" in first_line and "left out 2020-2029" in first_line, result.reply
    assert all("western" in shown.item.genres for shown in result.items)  # the years were left out, not the genre
    assert "from the 2020s" not in result.reply  # the intro describes what was searched


def test_a_request_that_nothing_can_answer_says_so_politely(engine):
    session = engine.new_session()
    everything = frozenset(item.id for item in engine.catalog)
    session.state = replace(session.state, rejected=everything)
    result, _ = run_turn(engine, session, "a western from the 2020s")
    assert result.kind == "no_results" and "couldn't find" in result.reply


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\x00\x01\x02",
        "x" * 50_000,
        "¿Me recomiendas una película de miedo para esta noche?",
        "我想看一部电影",
    ],
)
def test_bad_input_gets_a_polite_reply_and_is_logged(engine, log_store, text):
    session = engine.new_session()
    result, _ = run_turn(engine, session, text)
    assert result.reply
    assert result.kind in ("polite", "clarify", "recommend", "no_results")
    turns = log_store.turns(session.id)
    assert len(turns) == 1 and len(turns[0]["user_text"]) <= 50_000


def test_every_turn_is_logged_with_its_details(engine, log_store):
    session = engine.new_session()
    run_turn(engine, session, "I loved Alien")
    run_turn(engine, session, "something else")
    turns = log_store.turns(session.id)
    assert [t["turn_index"] for t in turns] == [1, 2]
    assert turns[0]["tool_call"]["text"].startswith("<tool_call>")
    assert turns[0]["shown"] and turns[0]["candidates"] and turns[0]["timings_ms"]["total"] > 0


def test_the_logged_state_and_call_name_every_stated_constraint(engine, log_store):
    session = engine.new_session()
    run_turn(engine, session, "a 90s comedy under 2 hours, no horror and nothing with zombies")
    turn = log_store.turns(session.id)[0]
    assert sorted(turn["state"]["conditions"]) == [
        "genres!=horror",
        "genres=comedy",
        "runtime_min=..120",
        "year=1990..1999",
    ]
    assert turn["state"]["avoid_terms"] == ["zombie"]
    arguments = parse_call(turn["tool_call"]["text"]).arguments()
    assert {name: value for name, value in arguments.items() if name != "query"} == {
        "genres": ["comedy"],
        "year_min": 1990,
        "year_max": 1999,
        "avoid": ["horror", "zombie"],
        "runtime_max": 120,
    }


def test_personal_data_in_a_message_reaches_neither_the_state_nor_the_log(engine, log_store):
    session = engine.new_session()
    run_turn(engine, session, "I loved Alien, mail me at bob.smith@example.com or call 415-555-0132 in the 1990s")
    assert "1990" in str(session.state)
    # Everything the message could reach; ids, clocks and timings hold random digits ("415" in 0.0415 ms).
    noise = {"id", "session_id", "created_at", "timings_ms", "total_ms"}
    stored = str([{k: v for k, v in turn.items() if k not in noise} for turn in log_store.turns(session.id)])
    assert "user_text" in stored and "state" in stored
    for private in ("bob", "smith", "example", "415", "0132"):
        assert private not in str(session.state) and private not in stored


def test_thumbs_down_item_is_never_shown_again_and_is_logged(engine, log_store):
    session = engine.new_session()
    first, _ = run_turn(engine, session, "a horror film")
    target = first.items[0].item.id
    engine.feedback(session, "dislike", target)
    for _ in range(3):
        result, _ = run_turn(engine, session, "something else")
        assert target not in {s.item.id for s in result.items}
    assert [(f["item_id"], f["kind"]) for f in log_store.feedback(session.id)] == [(target, "dislike")]


def test_opting_out_deletes_what_was_logged_and_logs_nothing_more_until_opting_back_in(engine, log_store):
    session = engine.new_session()
    first, _ = run_turn(engine, session, "a horror film please")
    engine.feedback(session, "like", first.items[0].item.id)
    other = engine.new_session()
    run_turn(engine, other, "a comedy please")  # another person's conversation stays logged
    assert engine.set_logging(session, False) is True
    assert log_store.turns(session.id) == [] and log_store.feedback(session.id) == []
    second, _ = run_turn(engine, session, "something else")
    engine.feedback(session, "dislike", second.items[0].item.id)
    engine.replacement(session, second.items[1].item.id)
    assert engine.set_logging(session, False) is False  # already out: nothing to delete
    assert log_store.counts() == {"sessions": 1, "turns": 1, "feedback": 0}
    assert engine.set_logging(session, True) is False
    run_turn(engine, session, "more please")
    assert [turn["user_text"] for turn in log_store.turns(session.id)] == ["more please"]


def test_a_set_aside_card_is_refilled_with_the_next_unseen_candidate_shown_and_logged(engine, log_store):
    session = engine.new_session()
    first, _ = run_turn(engine, session, "a horror film")
    shown = [s.item.id for s in first.items]
    expected = [s.item.id for s in session.candidates if s.item.id not in shown]
    engine.feedback(session, "not_interested", shown[1])
    refill = engine.replacement(session, shown[1])
    assert refill.item.id == expected[0] and refill.why  # the next-best of the same search
    template = prompts.template_reason(refill.item, session.state, engine.catalog)
    assert refill.why != template  # drawn from the card like any fallback reason, not the fixed template
    assert session.state.last_shown == (shown[0], refill.item.id, shown[2]) and refill.item.id in session.state.shown
    logged = log_store.turns(session.id)[-1]["shown"]
    assert [entry["id"] for entry in logged] == [*shown, refill.item.id] and logged[-1]["replaces"] == shown[1]

    engine.feedback(session, "not_interested", refill.item.id)
    again = engine.replacement(session, refill.item.id)
    assert again.item.id == expected[1]  # neither shown nor set-aside items come back
    second, _ = run_turn(engine, session, "more like these")
    assert not {shown[1], refill.item.id, again.item.id} & {s.item.id for s in second.items}

    engine.rewind(session)  # a retried turn's candidates are gone with it
    assert engine.replacement(session, again.item.id) is None


def test_sessions_do_not_share_state(engine):
    a, b = engine.new_session(), engine.new_session()
    run_turn(engine, a, "a comedy, nothing with zombies")
    result, _ = run_turn(engine, b, "I loved Alien, horror please")
    assert all("horror" in s.item.genres for s in result.items)
    assert b.state.avoid_terms == frozenset()


class BatchFailingChatModel(ScriptedChatModel):
    """Plans as scripted, then fails when asked for the reasons as a batch."""

    def complete_many(self, messages, prefixes, max_new_tokens=64, stop=()):
        raise LLMError("the batch broke")


def test_reason_prefixes_put_stand_in_reasons_on_the_lines_before(catalog):
    alien, heat = catalog["alien-1979"], catalog["heat-1995"]
    assert prompts.reason_prefixes([alien, heat], ["Tense.", "Slick."]) == [
        "1. **Alien (1979)**: ",
        "1. **Alien (1979)**: Tense.\n2. **Heat (1995)**: ",
    ]


def test_the_explainer_asks_for_every_reason_in_one_batch(catalog, index, embedder):
    llm = ScriptedChatModel(['funny films"', "a fine pick for tonight with a strong mood"])
    engine = make_engine(catalog, index, embedder, llm)
    result, updates = run_turn(engine, engine.new_session(), "a comedy please")
    assert len(result.items) == 3
    [prefixes] = llm.batches
    for number, (prefix, shown) in enumerate(zip(prefixes, result.items), start=1):
        assert prefix.endswith(prompts.item_line_prefix(number, shown.item)) and prefix.count("\n") == number - 1
    assert result.items[0].why.startswith("a fine pick")
    assert [len(u.items) for u in updates[1:-1]] == [1, 2, 3]  # still one streamed update per item


def test_each_reason_is_shown_as_soon_as_its_row_and_the_rows_before_it_are_written(catalog, index, embedder):
    llm = StaggeredChatModel(['funny films"', "a fine pick for tonight with a strong mood"], finish_order=(0, 2, 1))
    engine = make_engine(catalog, index, embedder, llm)
    written_when_shown = {}  # items shown -> the batch rows written by then
    for update in engine.respond(engine.new_session(), "a comedy please"):
        if update.result is None and update.items:
            written_when_shown[len(update.items)] = list(llm.written)
    assert written_when_shown == {1: [0], 2: [0, 2, 1], 3: [0, 2, 1]}  # item 1 before the last row was written
    assert not llm.stopped


def test_the_batch_is_asked_to_keep_each_reason_to_its_card_and_each_liked_title_to_one_line(catalog, index, embedder):
    llm = StaggeredChatModel(['horror films"', "a fine pick for tonight with a strong mood"])
    engine = make_engine(catalog, index, embedder, llm)
    result, _ = run_turn(engine, engine.new_session(), "I loved Alien, more horror please")
    [rules] = llm.rules
    assert [rule.numbers >= {str(shown.item.year)} for rule, shown in zip(rules, result.items)] == [True] * 3
    assert all(rule.min_words == MIN_REASON_WORDS and rule.lead_ins == prompts.TITLE_LEAD_INS for rule in rules)
    assert [rule.names for rule in rules] == [("Alien",), (), ()]  # "for fans of Alien" on one line at most
    unconstrained = make_engine(catalog, index, embedder, StaggeredChatModel(), constrain_reasons=False)
    run_turn(unconstrained, unconstrained.new_session(), "more horror please")
    assert unconstrained.llm.rules == [None]


def test_stopping_a_turn_stops_its_batch(catalog, index, embedder):
    llm = StaggeredChatModel(['funny films"', "a fine pick for tonight with a strong mood"], finish_order=(0, 1, 2))
    engine = make_engine(catalog, index, embedder, llm)
    updates = engine.respond(engine.new_session(), "a comedy please")
    while not next(updates).items:
        pass
    updates.close()
    assert llm.written == [0] and llm.stopped


def test_the_guard_reads_each_batched_reason_in_order(catalog, index, embedder):
    good = "a fine pick for tonight with a strong mood"
    llm = ScriptedChatModel(['funny films"', good, "Just like Psycho, a tense and gripping story for tonight.", good])
    engine = make_engine(catalog, index, embedder, llm)
    result, _ = run_turn(engine, engine.new_session(), "a comedy please")
    first, second, third = result.items
    assert first.why.startswith(good)
    assert "Psycho" not in second.why and good not in third.why  # templated instead
    notes = dict(note.split(": ", 1) for note in result.guard_notes)
    assert "not shown" in notes[second.item.id] and "repeats an earlier reason" in notes[third.item.id]


def trigrams(text):
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


@pytest.mark.parametrize(
    "message",
    [
        "I loved Alien, a horror film but nothing gory",
        "I liked The Thing, more horror",
        "a 90s comedy, nothing with zombies",
    ],
)
def test_reasons_without_a_model_are_grounded_and_share_no_phrase_across_lines(catalog, index, embedder, message):
    engine = make_engine(catalog, index, embedder, None)
    result, _ = run_turn(engine, engine.new_session(), message)
    reasons = [shown.why for shown in result.items]
    assert len(reasons) >= 2 and len(set(reasons)) == len(reasons)
    for later, reason in enumerate(reasons[1:], start=1):
        assert not trigrams(reason) & set().union(*map(trigrams, reasons[:later])), reasons
    allowed = {s.item.id for s in result.items} | set(result.plan_state.liked)
    for shown in result.items:
        assert not reason_problems(shown.why, shown.item, allowed, engine.titles, catalog, engine.people), shown.why


def test_a_rejected_reason_is_shown_in_other_words_but_the_batch_prompt_keeps_the_trained_stand_in(
    catalog, index, embedder
):
    good = "a fine pick for tonight with a strong mood"
    llm = ScriptedChatModel(['funny films"', "Just like Psycho, a tense and gripping story for tonight.", good, good])
    engine = make_engine(catalog, index, embedder, llm)
    result, _ = run_turn(engine, engine.new_session(), "a comedy please")
    [prefixes] = llm.batches
    first = result.items[0]
    stand_in = prompts.template_reason(first.item, result.plan_state, catalog)
    assert "Psycho" not in first.why and first.why != stand_in
    assert prefixes[1].split("\n")[0].endswith(stand_in)


def test_a_failed_batch_falls_back_to_templated_reasons(catalog, index, embedder):
    llm = BatchFailingChatModel(['funny films"'])
    engine = make_engine(catalog, index, embedder, llm)
    result, _ = run_turn(engine, engine.new_session(), "a comedy please")
    assert result.kind == "recommend" and result.items and all(s.why for s in result.items)
    assert "explainer error: the batch broke" in result.guard_notes
    assert len(llm.calls) == 1  # the planner's; no reason was asked for one by one after the failure


def test_without_batching_each_reason_continues_the_reply_so_far(catalog, index, embedder):
    llm = ScriptedChatModel(['funny films"', "a fine pick for tonight with a strong mood"])
    engine = make_engine(catalog, index, embedder, llm, explain_batch=False)
    result, _ = run_turn(engine, engine.new_session(), "a comedy please")
    assert llm.batches == []
    prefixes = [prefix for _, prefix in llm.calls[1:]]
    assert len(prefixes) == 3 and prefixes[2].startswith(prefixes[1]) and prefixes[1].startswith(prefixes[0])
    assert (
        prefixes[2].startswith("1. **")
        and "\n2. **" in prefixes[2]
        and prefixes[2].endswith(prompts.item_line_prefix(3, result.items[2].item))
    )


class ScoringChatModel(ScriptedChatModel):
    """A scripted model that also scores candidates: P(yes) from a fixed table by film title."""

    def __init__(self, chances: dict[str, float], fail: bool = False):
        super().__init__()
        self.chances, self.fail_scoring, self.scored = chances, fail, []

    def yes_probability(self, conversations, answers=("yes", "no")):
        if self.fail_scoring:
            raise LLMError("scorer down")
        titles = [messages[1]["content"].split("Film: ")[1].split(" (")[0] for messages in conversations]
        self.scored.append(titles)
        return [self.chances.get(title, 0.5) for title in titles]


@pytest.mark.parametrize("favoured, other", [("High Noon", "Unforgiven"), ("Unforgiven", "High Noon")])
def test_the_llm_reranker_reorders_the_top_candidates_by_its_yes_probability(catalog, index, embedder, favoured, other):
    llm = ScoringChatModel({favoured: 0.99, other: 0.01})
    engine = make_engine(catalog, index, embedder, llm, reranker=LLMReranker(llm, catalog, candidates=5))
    result, _ = run_turn(engine, engine.new_session(), "a western please")
    assert [s.item.title for s in result.items] == [favoured, other]
    assert len(llm.scored) == 1 and sorted(llm.scored[0]) == ["High Noon", "Unforgiven"]
    assert result.candidates[0]["llm_yes"] == 0.99


def test_a_failing_scorer_keeps_the_weighted_order(catalog, index, embedder):
    weighted = make_engine(catalog, index, embedder, ScriptedChatModel())
    expected, _ = run_turn(weighted, weighted.new_session(), "a horror film")
    failing = ScoringChatModel({}, fail=True)
    engine = make_engine(catalog, index, embedder, failing, reranker=LLMReranker(failing, catalog))
    result, _ = run_turn(engine, engine.new_session(), "a horror film")
    assert [s.item.id for s in result.items] == [s.item.id for s in expected.items]
    assert any("scorer error" in note for note in result.guard_notes)


def test_assemble_picks_the_reranker_the_settings_name(catalog):
    scorer = ScoringChatModel({})
    assert build_reranker(Settings(llm="none"), None, catalog) is None  # "weights": the search's order stands
    reranker = build_reranker(Settings(reranker="llm", scorer_candidates=4), scorer, catalog)
    assert isinstance(reranker, LLMReranker) and reranker.scorer is scorer and reranker.candidates == 4


def test_the_llm_reranker_needs_a_backend_that_scores_yes_no(catalog):
    for backend in (ScriptedChatModel(), None):  # streams text but declares no yes/no scorer; no model at all
        with pytest.raises(ValueError, match="reranker: 'llm' needs a backend that scores yes/no"):
            build_reranker(Settings(llm="remote", reranker="llm"), backend, catalog)


def test_each_llm_reason_is_logged_with_its_prompt_draft_and_what_was_shown(catalog, index, embedder, log_store):
    good = "a fine pick for tonight with a strong mood"
    bad = "Just like Psycho, a tense and gripping story for tonight."
    llm = ScriptedChatModel(['funny films"', good, bad, good])
    engine = make_engine(catalog, index, embedder, llm, log_store)
    result, _ = run_turn(engine, engine.new_session(), "a comedy please")
    rows = log_store.explanations()
    [prefixes] = llm.batches
    assert [r["item_id"] for r in rows] == [s.item.id for s in result.items]
    assert all(r["turn_id"] == result.turn_id and r["prompt"] == llm.calls[-1][0] for r in rows)
    assert [r["prefix"] for r in rows] == list(prefixes)
    assert [r["draft"] for r in rows] == [good, bad, good]
    assert [r["shown"] for r in rows] == [s.why for s in result.items]
    assert rows[0]["problems"] == [] and rows[1]["problems"] and rows[1]["shown"] != bad
    assert any("repeats an earlier reason" in p for p in rows[2]["problems"])


def test_templated_reasons_log_no_explanations(catalog, index, embedder, log_store):
    engine = make_engine(catalog, index, embedder, None, log_store)
    result, _ = run_turn(engine, engine.new_session(), "a comedy please")
    assert result.items and log_store.explanations() == []
