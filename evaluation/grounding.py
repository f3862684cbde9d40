"""Grounding and constraint suite: `python -m evaluation.grounding [--llm none|local] [--json]`.

Scripted multi-turn conversations (`grounding_conversations.json`) with explicit constraints
(genre, era, "no zombies", "not Tom Cruise", runtime) are run through the whole engine over
the demo catalogue, as the app runs them (`chat.assemble.build_engine`, nothing logged). The
constraints each turn must honour are written in the script, not read from the engine, so a
constraint the engine failed to understand shows up as a violation. Reported, over all turns:

- constraint_violation_rate: shown items that break a stated constraint / shown items
- unshown_or_unknown_reply_rate: replies that name a catalogue film (its exact title) neither
  shown in that reply nor named by the person (`chat.guard.unshown_items`, line by line), or
  that bold or quote a name that is no catalogue title / replies
- repeat_rate: shown items already shown earlier in the conversation or named by the person / shown items
- no_results_rate: turns that found nothing to show / turns
- relaxed_rate: turns answered with the nearest items and a note of the wanted constraint left out
  (nothing met them all) / turns; in those turns only what the person wants avoided counts
  toward the violation rate, since the reply says what it left out
- reasons_replaced_rate: shown items whose LLM-written reason the guard replaced by a
  template (0 without an LLM: every reason is a template)
- guard_as_is_flag_rate: replies that `chat.guard.unshown_items` with the chat's own title
  finder, run on the whole reply, flags; the difference from the rate above is false alarms
  (numbers read as titles, typo matches such as "Martin" -> "The Martian", a title at a
  line's end read together with the next line's number)
Baseline: embedding-only retrieval (MiniLM similarity to everything the person said, no hard
filters, no understanding), three items a turn, never repeating itself: what the filters buy.
Latency: median milliseconds per stage of a turn, from the engine's own timings.

`--llm none` (the default) runs rules and templates only, in seconds; `--llm local` loads the
app's model (SmolLM2-135M and the default adapter when present) to plan and explain: ~7 s a turn.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import statistics
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from chat.assemble import build_engine
from chat.engine import ChatEngine, TurnResult
from chat.guard import named_items, unshown_items
from chat.prompts import item_card
from chat.settings import PROJECT_ROOT, Settings
from chat.titles import TitleMatcher, normalize_title, title_aliases
from chat.tools import call_conditions
from evaluation.system import DEFAULT_CACHE, ExactTitleMatcher, cached_index, engine_over, project_path
from retrieval.catalog import Item, load_catalog
from retrieval.embeddings import Embedder
from retrieval.filters import ItemFilter, normalize_term
from retrieval.retriever import SearchRequest

log = logging.getLogger("evaluation.grounding")

SCRIPTS = Path(__file__).with_name("grounding_conversations.json")
DEMO_CATALOG = PROJECT_ROOT / "data" / "movies.jsonl"
_NAMED = re.compile(r"\*\*([^*\n]{1,80})\*\*|[\"“]([^\"”\n]{2,80})[\"”]")
_YEAR_SUFFIX = re.compile(r"\s*\((?:1[89]|20)\d\d\)\s*$")
_NUMBERING = re.compile(r"^\s*\d+\.\s+")
_NUMBER_ONLY = re.compile(r"[\d\s.,:;()-]+")
_YEAR_NEXT = re.compile(r"\s*\((?:1[89]|20)\d\d\)")
LATENCY_STAGES = ("understand", "plan", "search", "first_token", "explain", "total")


@dataclass(frozen=True)
class ScriptedTurn:
    say: str
    constraints: ItemFilter


@dataclass(frozen=True)
class Script:
    name: str
    turns: tuple[ScriptedTurn, ...]


def stated_filter(record: dict) -> ItemFilter:
    """The constraints a scripted turn lists, as the filter every shown item must pass. A turn lists them as the
    search call's arguments (`chat.tools.call_conditions`): genres, year_min, year_max, runtime_max, filters, avoid.

    Example: {"genres": ["Comedy"], "year_max": 1999, "avoid": ["Zombies", "Tom Cruise"]}
             -> ItemFilter((genres=comedy, year=..1999), avoid_terms={"zombie", "tom cruise"})
             {"filters": ["price=..15", "genres!=poetry"]} -> ItemFilter((price ..15, genres not poetry))
    """
    return ItemFilter(call_conditions(record), frozenset(normalize_term(term) for term in record.get("avoid", ())))


def avoided_only(constraints: ItemFilter) -> ItemFilter:
    """The part of a filter that says what to avoid: never left out, even when nothing meets the rest.

    Example: ItemFilter((genres=western, year=2020..), avoid_terms={"gore"}) -> ItemFilter(avoid_terms={"gore"})
    """
    return ItemFilter(
        tuple(condition for condition in constraints.conditions if condition.exclude), constraints.avoid_terms
    )


def load_scripts(path: Path = SCRIPTS) -> list[Script]:
    records = json.loads(Path(path).read_text(encoding="utf-8"))["conversations"]
    return [Script(r["name"], tuple(ScriptedTurn(t["say"], stated_filter(t)) for t in r["turns"])) for r in records]


def known_titles(items: Iterable[Item]) -> frozenset[str]:
    """Every normalized form of every catalogue title (`chat.titles.title_aliases`)."""
    return frozenset(alias for item in items for alias in title_aliases(item.title))


def unknown_names(reply: str, known: frozenset[str]) -> list[str]:
    """Bold or quoted names in a reply that are no catalogue title (a trailing "(Year)" is ignored).

    Example: reply '1. **Alien (1979)**: see also "Starship Invaders"', known {"alien"} -> ["Starship Invaders"]
    """
    unknown = []
    for match in _NAMED.finditer(reply):
        name = _YEAR_SUFFIX.sub("", match.group(1) or match.group(2)).strip()
        if normalize_title(name) not in known:
            unknown.append(name)
    return unknown


def reply_lines(reply: str) -> list[str]:
    """The reply's lines without their list numbers, as the person reads them.

    Checked one by one, because a title at the end of one line followed by the next line's
    number ("... like Toy Story.\n2. ...") otherwise reads as another film ("Toy Story 2").

    Example: "Here are 2 picks:\n1. **Alien (1979)**: tense.\n2. **Heat (1995)**: a heist."
             -> ["Here are 2 picks:", "**Alien (1979)**: tense.", "**Heat (1995)**: a heist."]
    """
    return [_NUMBERING.sub("", line).strip() for line in reply.splitlines() if line.strip()]


def on_a_card(words: str, cards: Iterable[str]) -> bool:
    """Whether the words stand, as whole words, on one of the cards (compared as titles are: folded, punctuation aside).

    Example: on_a_card("Cinderella Story", ["Pretty Woman (1990) | romance | cinderella story, prostitute"]) -> True
             on_a_card("Cinder", ["... cinderella story ..."]) -> False
    """
    phrase = f" {normalize_title(words)} "
    return any(phrase in f" {normalize_title(card)} " for card in cards)


def unshown_in_reply(
    reply: str, shown: set[str], named_by_person: set[str], titles: TitleMatcher, cards: Iterable[str] = ()
) -> set[str]:
    """Catalogue films the reply names that were neither shown in it nor named by the person.

    `chat.guard.unshown_items` line by line, except that a bare number is no film name: a
    catalogue may hold number-only titles ("1917", "9"), and "Here are 3 picks" names none of
    them; nor are the words of a shown item's card (`cards`, its keywords, credits and synopsis
    as `chat.prompts.item_card` writes them) when no "(Year)" follows: a reason quoting the
    keyword "cinderella story" or a plot set in Chicago names no film. The suite passes an
    exact-title finder: the chat's typo matching reads "Martin Scorsese" as "The Martian".
    """
    cards = list(cards)
    named: set[str] = set()
    for line in reply_lines(reply):
        for mention in titles.find(line):
            words = line[mention.start : mention.end]
            if _NUMBER_ONLY.fullmatch(words):
                continue
            if on_a_card(words, cards) and not _YEAR_NEXT.match(line, mention.end):
                continue
            named.add(mention.item_id)
    return named - shown - named_by_person


def unshown_as_guard_sees(reply: str, shown: set[str], named_by_person: set[str], titles: TitleMatcher) -> set[str]:
    """`chat.guard.unshown_items` over the whole reply, as it is: to report how often it raises a false alarm."""
    return unshown_items(reply, shown, named_by_person, titles)


@dataclass
class Tally:
    """Counts over a suite run, turned into rates by `rates`."""

    turns: int = 0
    replies: int = 0
    shown: int = 0
    violating: int = 0
    repeated: int = 0
    bad_replies: int = 0
    guard_flagged: int = 0
    no_results: int = 0
    relaxed: int = 0
    replaced: int = 0

    def rates(self, with_replies: bool = True) -> dict:
        def rate(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        return {
            "constraint_violation_rate": rate(self.violating, self.shown),
            "unshown_or_unknown_reply_rate": rate(self.bad_replies, self.replies) if with_replies else None,
            "repeat_rate": rate(self.repeated, self.shown),
            "no_results_rate": rate(self.no_results, self.turns),
            "relaxed_rate": rate(self.relaxed, self.turns) if with_replies else None,
            "reasons_replaced_rate": rate(self.replaced, self.shown) if with_replies else None,
            "guard_as_is_flag_rate": rate(self.guard_flagged, self.replies) if with_replies else None,
            "turns": self.turns,
            "shown": self.shown,
        }


def final_result(engine: ChatEngine, session, message: str) -> TurnResult:
    result = None
    for update in engine.respond(session, message):
        result = update.result or result
    if result is None:
        raise RuntimeError("the engine finished a turn without a result")
    return result


def run_scripts(engine: ChatEngine, scripts: list[Script], progress: bool = True) -> dict:
    """Every script through the engine and through the embedding-only baseline; rates, latencies, violations."""
    system, baseline = Tally(), Tally()
    timings: dict[str, list[float]] = {stage: [] for stage in LATENCY_STAGES}
    violations: list[dict] = []
    flagged: list[dict] = []
    known = known_titles(engine.catalog.items)
    exact_titles = ExactTitleMatcher(engine.catalog.items)
    for script in tqdm(scripts, desc="conversations", unit="conversation", leave=False, disable=not progress):
        session = engine.new_session()
        session.logging_enabled = False
        named: set[str] = set()
        shown_before: set[str] = set()
        baseline_before: set[str] = set()
        said: list[str] = []
        for number, turn in enumerate(script.turns, start=1):
            named |= named_items(turn.say, engine.titles) | named_items(turn.say, exact_titles)
            said.append(turn.say)
            result = final_result(engine, session, turn.say)
            for stage in LATENCY_STAGES:
                if stage in result.timings_ms:
                    timings[stage].append(result.timings_ms[stage])
            system.turns += 1
            system.replies += 1
            system.no_results += result.kind == "no_results"
            system.relaxed += result.kind == "relaxed"
            held = avoided_only(turn.constraints) if result.kind == "relaxed" else turn.constraints
            shown_ids = {shown.item.id for shown in result.items}
            for shown in result.items:
                broken = held.violations(shown.item)
                system.shown += 1
                system.violating += bool(broken)
                system.repeated += shown.item.id in shown_before or shown.item.id in named
                system.replaced += any(note.startswith(f"{shown.item.id}: ") for note in result.guard_notes)
                if broken:
                    understood = result.plan_state.filters() if result.plan_state else None
                    violations.append(
                        {
                            "conversation": script.name,
                            "turn": number,
                            "item": shown.item.label,
                            "broken": broken,
                            "engine_filter_broken": bool(understood and understood.violations(shown.item)),
                        }
                    )
            cards = [item_card(shown.item) for shown in result.items]
            unshown = unshown_in_reply(result.reply, shown_ids, named, exact_titles, cards)
            unknown = unknown_names(result.reply, known)
            system.bad_replies += bool(unshown or unknown)
            if unshown or unknown:
                flagged.append(
                    {
                        "conversation": script.name,
                        "turn": number,
                        "names": sorted(engine.catalog[i].label for i in unshown) + unknown,
                    }
                )
            system.guard_flagged += bool(unshown_as_guard_sees(result.reply, shown_ids, named, engine.titles))
            shown_before |= shown_ids

            hits = engine.search.retriever.search(
                SearchRequest(
                    query=" ".join(said), exclude=frozenset(baseline_before), k=engine.settings.items_per_reply
                )
            )
            baseline.turns += 1
            baseline.no_results += not hits
            for scored in hits:
                baseline.shown += 1
                baseline.violating += bool(turn.constraints.violations(scored.item))
                baseline.repeated += scored.item.id in named
            baseline_before |= {scored.item.id for scored in hits}
    latency = {stage: round(statistics.median(values), 1) for stage, values in timings.items() if values}
    return {
        "metrics": system.rates(),
        "baselines": {
            "embedding_only": {
                **baseline.rates(with_replies=False),
                "label": "embedding only, no filters (3 items a turn)",
            }
        },
        "latency_ms_median": latency,
        "violations": violations,
        "flagged_replies": flagged,
    }


def run(
    llm: str = "none",
    cache_dir: Path = DEFAULT_CACHE,
    scripts_path: Path = SCRIPTS,
    progress: bool = True,
    embedder: Embedder | None = None,
) -> dict:
    """The suite over the demo catalogue, the engine built as the app builds it (`embedder`: a test's fake, no LLM)."""
    started = time.perf_counter()
    settings = Settings(
        catalog=str(DEMO_CATALOG),
        index=str(Path(cache_dir) / "movies"),
        rebuild_index=True,  # its own cache
        llm=llm,
        no_log=True,
    )
    if embedder is None:
        engine = build_engine(settings, progress=progress)
    else:
        shipped = Settings().search_options  # the demo's collaborative model and ranker, as the app loads them
        engine = engine_over(
            cached_index(load_catalog(DEMO_CATALOG), embedder, cache_dir, "movies", progress),
            embedder,
            shipped.collaborative if shipped.collaborative != "none" else None,
            ranker=shipped.ranker,
        )
    scripts = load_scripts(scripts_path)
    measured = run_scripts(engine, scripts, progress)
    return {
        "benchmark": "grounding",
        "llm": llm
        if llm == "none"
        else f"{engine.settings.model_id}, adapter {project_path(engine.settings.adapter_id)}",
        "n": len(scripts),
        **measured,
        "seconds": round(time.perf_counter() - started, 1),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.grounding",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--llm",
        choices=("none", "local"),
        default="none",
        help="'none': rules and templates; 'local': the app's model plans and explains (slow)",
    )
    parser.add_argument("--scripts", type=Path, default=SCRIPTS, help="scripted conversations (JSON)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="folder for the cached demo index")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result = run(args.llm, args.cache, args.scripts)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"Grounding suite: {result['n']} conversations, {result['metrics']['turns']} turns, llm {result['llm']} "
        f"({result['seconds']} s)"
    )
    print(f"{'rate':32} {'system':>8} {'embedding only':>15}")
    for key, value in result["metrics"].items():
        if key.endswith("_rate"):
            other = result["baselines"]["embedding_only"].get(key)
            print(f"{key:32} {value if value is not None else '-':>8} {other if other is not None else '-':>15}")
    print("median ms:", ", ".join(f"{stage} {ms}" for stage, ms in result["latency_ms_median"].items()))
    for violation in result["violations"][:10]:
        print(
            f"  violation: {violation['conversation']} turn {violation['turn']}: {violation['item']} "
            f"({'; '.join(violation['broken'])})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
