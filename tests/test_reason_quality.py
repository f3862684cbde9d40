"""The reason-quality metrics: the strict fact check, repetition, ties to the request, and the tally over replies."""

from chat.state import DialogueState
from evaluation.reason_quality import (
    FactChecker,
    ReasonTally,
    Request,
    ShownReason,
    repeated_phrases,
    ties,
    unsupported_facts,
)
from retrieval.catalog import Catalog, Item
from retrieval.filters import genre_wishes

SHINING = Item(
    "the-shining-1980",
    "The Shining",
    1980,
    ("horror", "drama"),
    ("Stanley Kubrick",),
    ("Jack Nicholson",),
    146,
    "A struggling writer takes a winter caretaker job at a remote mountain hotel.",
    ("atmospheric", "ghosts", "isolation"),
)
ALIEN = Item(
    "alien-1979",
    "Alien",
    1979,
    ("horror", "science fiction"),
    ("Ridley Scott",),
    ("Sigourney Weaver",),
    117,
    "A space crew meets a deadly organism.",
    ("tense", "space", "gore"),
)
JAWS = Item(
    "jaws-1975",
    "Jaws",
    1975,
    ("thriller", "adventure"),
    ("Steven Spielberg",),
    ("Roy Scheider",),
    124,
    "A shark terrorizes a beach town.",
    ("shark", "summer", "tense"),
)
CATALOG = Catalog([SHINING, ALIEN, JAWS])
CHECKER = FactChecker.of(CATALOG)
ASKED = Request(liked_titles=("Alien",), named_titles=("Alien",), wanted=("horror", "scary"), avoided=("gore",))


def false_facts(text, item=SHINING, request=ASKED):
    return unsupported_facts(text, item, request, CHECKER)


def test_a_reason_made_only_of_card_facts_has_no_false_fact():
    assert (
        false_facts("Kubrick's slow, atmospheric 1980 horror with Jack Nicholson in an isolated mountain hotel.") == []
    )


def test_a_title_the_person_named_may_be_named():
    assert false_facts("Fans of Alien will find the same dread in its empty hotel.") == []


def test_a_wrong_year_decade_or_runtime_is_a_false_fact():
    assert false_facts("A 1978 chiller.") == ["number 1978"]
    assert false_facts("A 70s chiller at 146 minutes.") == ["number 70s"]
    assert false_facts("An 80s chiller that runs about 2.5 hours.") == []
    assert false_facts("A chiller that runs 90 minutes.") == ["number 90 minutes"]
    assert false_facts("A chiller from the seventies.") == ["decade seventies"]


def test_a_surname_the_guard_would_not_know_is_a_false_fact():
    # The guard checks full names of catalogue people; a bare surname or an invented name slips past it.
    assert "name Spielberg" in false_facts("A horror classic in the Spielberg mould.")
    assert "name Oscar-winning" in false_facts("An Oscar-winning horror in a hotel.")
    assert false_facts("A hotel horror, a Disney classic.") == ["name Disney"]
    assert false_facts("A 1980 horror by Michael Rosenberg.") == [
        "name Michael Rosenberg"
    ]  # an invented director  # no trailing full stop in the name


def test_a_name_ends_where_its_sentence_ends():
    assert false_facts("A 1980 horror from Stanley Kubrick. If you want dread, it delivers.") == []
    assert false_facts("A 1980 horror from Stanley Kubrick. Meryl Streep would love it.") == ["name Meryl Streep"]


def test_another_catalogue_title_is_a_false_fact():
    assert "title Jaws" in false_facts("As gripping as Jaws, set in a hotel.")


def test_a_genre_not_on_the_card_is_a_false_fact_in_any_form():
    assert "genre science fiction" in false_facts("A science fiction story of a hotel.")
    assert "genre sci-fi" in false_facts("A sci-fi chiller in a hotel.")
    assert false_facts("A tense sci-fi horror in space.", item=ALIEN) == []


def test_a_sentence_may_open_with_a_common_word():
    assert false_facts("Expect ghosts. Isolation does the rest in a winter hotel.") == []


def test_ties_find_liked_titles_wanted_words_and_avoided_things_said_absent():
    assert ties("Scary in the way Alien was, and no gore at all.", ASKED) == ["Alien", "scary", "no gore"]
    assert ties("A quiet hotel drama.", ASKED) == []
    assert ties("Full of gore.", ASKED) == []  # an avoided thing said present is no tie


def test_a_request_is_read_from_the_dialogue_state():
    state = DialogueState(
        liked=("alien-1979",),
        disliked=("jaws-1975",),
        conditions=genre_wishes(["horror"]),
        avoid_terms=frozenset({"gore"}),
        preferences=("something scary",),
    )
    assert Request.from_state(state, CATALOG) == Request(("Alien",), ("Alien", "Jaws"), ("horror", "scary"), ("gore",))


def test_repeated_phrases_are_the_ones_in_two_lines():
    assert repeated_phrases(["for fans of Alien, tense", "a western, for fans of Alien"]) == {
        ("for", "fans", "of"),
        ("fans", "of", "alien"),
    }
    assert repeated_phrases(["tense and tense and tense", "a hotel"]) == set()  # within one line is not across lines


def test_the_tally_counts_replies_turns_and_kept_reasons():
    tally = ReasonTally(CHECKER)
    tally.start_conversation()
    tally.add_reply(
        [
            ShownReason(SHINING, "In the vein of Alien: a scary hotel.", True),
            ShownReason(ALIEN, "In the vein of Alien, a 1990 film.", False),
        ],
        ASKED,
    )
    tally.add_reply([ShownReason(JAWS, "A scary hotel story with a shark.", True)], ASKED)
    summary = tally.summary()
    assert summary["reasons"] == 3 and summary["replies"] == 2
    assert summary["llm_kept_rate"] == round(2 / 3, 4)
    assert summary["reply_without_repeat_rate"] == 0.5  # "in the vein" in two lines of the first reply
    assert summary["cross_turn_repeat_rate"] == round(1 / 3, 4)  # "a scary hotel" again in the second turn
    assert summary["false_fact_reasons"] == 1  # 1990 for Alien (naming Alien is fine: the person named it)
    assert summary["false_fact_examples"] == [
        {"item": "Alien (1979)", "reason": "In the vein of Alien, a 1990 film.", "problems": ["number 1990"]}
    ]
    assert summary["tied_rate"] == 1.0 and summary["llm_tied_rate"] == 1.0
    tally.start_conversation()
    tally.add_reply([ShownReason(JAWS, "A scary hotel story with a shark.", True)], ASKED)
    assert tally.summary()["cross_turn_repeat_rate"] == round(1 / 4, 4)  # a new conversation starts afresh


def test_the_report_section_shows_every_variant_with_its_command():
    from evaluation.report import _reason_quality_lines

    row = {
        "variant": "none",
        "llm_kept_rate": 0.5,
        "false_fact_reasons": 2,
        "reply_without_repeat_rate": 0.25,
        "cross_turn_repeat_rate": 0.1,
        "tied_rate": 0.75,
        "llm_tied_rate": 0.5,
        "mean_words": 11.5,
        "reasons": 9,
        "turns": 3,
        "median_turn_s": 1.2,
        "false_fact_examples": [{"item": "Alien (1979)", "reason": "A 1990 film.", "problems": ["number 1990"]}],
    }
    measured = {
        "conversations": 1,
        "seconds": 12.0,
        "finished": "today",
        "command": "python -m evaluation.reason_quality --limit 1",
        "rows": [{**row, "variant": "templates", "llm_kept_rate": None, "llm_tied_rate": None}, row],
    }
    text = "\n".join(_reason_quality_lines(measured))
    assert "`python -m evaluation.reason_quality --limit 1`" in text
    assert "| templates | n/a | 2 | 25% | 10% | 75% | n/a | 11.5 | 9 (3) | 1.2 |" in text
    assert "| base model (`--adapter none`) | 50% |" in text
    assert '- base model (`--adapter none`), Alien (1979): "A 1990 film." (number 1990)' in text
    assert _reason_quality_lines(None) == []


def test_the_engine_run_counts_kept_llm_reasons_and_templates_apart(catalog, index, embedder):
    from conftest import make_engine
    from fakes import ScriptedChatModel

    from evaluation.grounding import Script, ScriptedTurn
    from evaluation.reason_quality import measure
    from retrieval.filters import ItemFilter

    # The first reason is fine; the second names a year that is on no card, so the guard swaps in the template.
    llm = ScriptedChatModel(
        ["A tense, claustrophobic horror of dread for a fan of Alien", "A 1901 film of little note at all"]
    )
    engine = make_engine(
        catalog, index, embedder, llm=llm, planner="rules", explainer="llm", explain_batch=False, items_per_reply=2
    )
    script = Script("horror", (ScriptedTurn("I loved Alien, a horror film please", ItemFilter()),))
    summary = measure(engine, [script], progress=False)
    assert summary["reasons"] == 2 and summary["turns"] == 1
    assert summary["llm_kept_rate"] == 0.5
    assert summary["false_fact_reasons"] == 0  # the guard's template, not the 1901 reason, was shown
    templates = measure(
        make_engine(catalog, index, embedder, planner="rules", explainer="template"), [script], progress=False
    )
    assert templates["llm_kept_rate"] is None and templates["reasons"] == 3


def test_a_variant_runs_on_the_engine_it_is_given(catalog, index, embedder):
    from conftest import make_engine

    from chat.settings import Settings
    from evaluation.grounding import Script, ScriptedTurn
    from evaluation.reason_quality import run_variant
    from retrieval.filters import ItemFilter

    base = make_engine(catalog, index, embedder)
    script = Script("horror", (ScriptedTurn("I loved Alien, a horror film please", ItemFilter()),))
    row = run_variant(base, "templates", Settings(llm="none", no_log=True), [script], progress=False)
    assert row["variant"] == "templates" and row["turns"] == 1 and row["reasons"] == 3
