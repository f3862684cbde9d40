"""The turn engine: respond(session, message) runs one user turn end to end and streams the reply.

1. read the message and update the dialogue state (rules: `understanding`, `state`)
2. plan: the LLM writes the search call's query; the state adds the hard constraints; a malformed
   query is repaired from the state
3. search (`retrieval.item_search.ItemSearch`): every candidate source (dense FAISS, the
   collaborative model seeded with everything mentioned so far, popularity) recalls under the
   state's hard constraints and exclusions, the candidates are fused and ranked; a dialogue reranker
   (`chat.reranking`), when one was chosen, reorders them reading the state and the message
4. explain: the reply names exactly the chosen items (the engine writes each title); the LLM
   writes each item's reason (all items at once as one batch, or one after another), and the
   guard swaps any reason that names another film or a fact not on the card for a templated
   one before it is streamed
5. log the turn

A watch history the person brings seeds the state before (or between) turns: `seed_history`,
logged as a turn of kind "history".

Per-person state lives in `ChatSession`, never on the engine, which is shared by all sessions.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace

from chat import prompts, reason_text
from chat.choices import Explainer, Planner, check_choices
from chat.guard import MIN_REASON_WORDS, reason_problems, writable_numbers
from chat.history import HistoryMatch, history_reply
from chat.llm import ChatModel, LLMError, WritingRules, complete_as_done
from chat.logs import LogStore, LogStoreError, redact
from chat.reranking import DialogueReranker
from chat.state import (
    DialogueState,
    add_history,
    record_feedback,
    record_replacement,
    record_shown,
    relaxations,
    update_state,
)
from chat.titles import TitleMatcher
from chat.tools import QUERY_PREFIX, SearchCall, ToolCallError, parse_query, render_call
from chat.understanding import Reading, read_message
from chat.unknown_titles import not_in_catalogue_note, unknown_titles
from chat.wording import Wording
from retrieval.catalog import Catalog, Item
from retrieval.field_kinds import people_of
from retrieval.filters import normalize_term
from retrieval.item_search import ItemSearch, RetrievalError
from retrieval.retriever import ScoredItem, SearchRequest

log = logging.getLogger(__name__)
MAX_REFILLS = 20  # candidates kept past a reply's items, to fill cards set aside


@dataclass(frozen=True)
class EngineSettings:
    items_per_reply: int = 3
    candidates_k: int = 50
    planner: Planner = "llm"  # "llm": the model writes the search call; "rules": built from the dialogue state
    explainer: Explainer = "llm"  # "llm": the model writes each reason; "template": reasons from the card alone
    explain_batch: bool = True  # the model writes every item's reason at once (one batch) rather than one by one
    constrain_reasons: bool = True  # the batch keeps each reason to its card's numbers and the guard's least words
    plan_max_new_tokens: int = 24
    reason_max_new_tokens: int = 36
    model_id: str = ""
    adapter_id: str = ""
    app_version: str = ""
    wording: Wording = Wording()  # what the items are called in replies, prompts and templates

    def __post_init__(self) -> None:
        check_choices(self)
        if not 1 <= self.items_per_reply <= 10:
            raise ValueError(f"items_per_reply must be 1..10, got {self.items_per_reply}")


@dataclass(frozen=True)
class SessionSnapshot:
    """What a turn changes in a session, as it was before the turn: restored when the person retries it."""

    state: DialogueState
    turn_index: int
    asked_to_clarify: bool
    last_turn_id: int | None


@dataclass
class ChatSession:
    """One person's conversation."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: DialogueState = field(default_factory=DialogueState)
    turn_index: int = 0
    asked_to_clarify: bool = False
    last_turn_id: int | None = None
    logging_enabled: bool = True
    log_session_started: bool = False
    before_last_turn: SessionSnapshot | None = None  # None: there is no turn that may be retried
    candidates: list[ScoredItem] = field(
        default_factory=list
    )  # the latest search's ranked items: a set-aside card's refills


@dataclass(frozen=True)
class ShownItem:
    item: Item
    why: str
    score: float
    signals: dict[str, float]

    def as_json(self) -> dict:
        return {
            "id": self.item.id,
            "title": self.item.title,
            "year": self.item.year,
            "genres": list(self.item.genres),
            "why": self.why,
        }


@dataclass
class TurnResult:
    reply: str
    items: list[ShownItem]
    kind: str  # recommend, relaxed (nearest items, a constraint left out), no_results, clarify, small_talk, polite, error, history
    timings_ms: dict[str, float]
    tool_call: dict | None = None
    tool_call_valid: bool | None = None
    candidates: list[dict] = field(default_factory=list)
    guard_notes: list[str] = field(default_factory=list)
    error: str = ""
    turn_id: int | None = None
    plan_state: DialogueState | None = None  # the state the planner and explainer saw (for training data)
    explanations: list[dict] = field(
        default_factory=list
    )  # per LLM-explained item: prompt, prefix, draft, shown, problems

    def as_json(self) -> dict:
        return {"reply": self.reply, "items": [s.as_json() for s in self.items], "timings_ms": self.timings_ms}


@dataclass
class Ranking:
    """The search call of a turn and the reranked candidates it found."""

    call: SearchCall
    valid: bool | None  # None when no LLM planned
    notes: list[str]
    model_output: str
    ranked: list[ScoredItem]
    timings_ms: dict[str, float]


@dataclass(frozen=True)
class TurnUpdate:
    """A streamed view of the turn so far; the last one has `result` set."""

    text: str
    items: list[ShownItem]
    result: TurnResult | None = None
    pending: tuple[Item, ...] = ()  # the items still to come in this reply, in order: their reasons are being written


class ChatEngine:
    def __init__(
        self,
        catalog: Catalog,
        search: ItemSearch,
        llm: ChatModel | None,
        log_store: LogStore | None = None,
        settings: EngineSettings = EngineSettings(),
        reranker: DialogueReranker | None = None,  # reorders the search's candidates; None: the search's order stands
    ):
        self.catalog = catalog
        self.search = search
        self.llm = llm
        self.log_store = log_store
        self.settings = settings
        self.reranker = reranker
        self.titles = TitleMatcher(catalog.items)
        self.people = frozenset(
            normalize_term(name) for item in catalog.items for name in people_of(item) if name.strip()
        )
        self.fields = search.index.fields  # the catalogue's filterable fields: what a message can constrain

    def new_session(self) -> ChatSession:
        return ChatSession()

    # ----- one turn -------------------------------------------------------------------------

    def respond(self, session: ChatSession, message: str) -> Iterator[TurnUpdate]:
        started = time.perf_counter()
        session.before_last_turn = SessionSnapshot(
            session.state, session.turn_index, session.asked_to_clarify, session.last_turn_id
        )
        timings: dict[str, float] = {}

        def lap(name: str, since: float) -> float:
            now = time.perf_counter()
            timings[name] = round((now - since) * 1000, 1)
            return now

        if (
            self.log_store is not None and self.log_store.redact
        ):  # personal data is no request: the state never keeps it
            message = redact(message)
        reading = read_message(message, self.titles, self.people, self.fields)
        mark = lap("understand", started)
        canned = self._canned_reply(session, reading)
        if canned is not None:
            kind, text = canned
            timings["first_token"] = round((time.perf_counter() - started) * 1000, 1)
            result = TurnResult(reply=text, items=[], kind=kind, timings_ms=timings)
            yield self._finish(session, message, result, started)
            return

        session.state = update_state(session.state, reading, self.catalog)
        try:
            ranking = self.rank(session.state, reading)
        except RetrievalError as error:  # the index or a model failed: infrastructure, not the person's fault
            log.exception("retrieval failed")
            result = TurnResult(
                reply="Sorry, I can't search the catalogue right now. Please try again in a moment.",
                items=[],
                kind="error",
                timings_ms=timings,
                error=f"retrieval: {error}",
            )
            yield self._finish(session, message, result, started)
            return
        timings.update(ranking.timings_ms)
        mark = time.perf_counter()
        ranked, call, valid, notes, raw_call = (
            ranking.ranked,
            ranking.call,
            ranking.valid,
            ranking.notes,
            ranking.model_output,
        )
        chosen = ranked[: self.settings.items_per_reply]
        wording, shown_state, note = self.settings.wording, session.state, ""
        if not chosen:  # nothing meets every constraint: the nearest items without one of them, said plainly
            shown_state, dropped, chosen = self._relaxed(session.state, call)
            constraints = session.state.filters().describe() or "that"
            note = wording.relaxed(constraints, dropped) + "\n" if chosen else ""
            ranked = chosen or ranked
        candidate_log = [
            {"id": s.item.id, "score": round(s.score, 4), **{k: round(v, 4) for k, v in s.signals.items()}}
            for s in ranked[:20]
        ]
        tool_call = {"text": render_call(call), "valid": valid, "model_output": raw_call}

        missing = not_in_catalogue_note(unknown_titles(message, self.titles.find(message)))
        missing = missing + " " if missing else ""
        if not chosen:
            text = missing + wording.no_results(session.state.filters().describe() or "that")
            timings["first_token"] = round((time.perf_counter() - started) * 1000, 1)
            result = TurnResult(text, [], "no_results", timings, tool_call, valid, candidate_log, notes)
            yield self._finish(session, message, result, started)
            return

        intro = missing + note + prompts.intro_line(shown_state, self.catalog, len(chosen), wording)
        timings["first_token"] = round((time.perf_counter() - started) * 1000, 1)
        yield TurnUpdate(intro, [], pending=tuple(s.item for s in chosen))
        shown: list[ShownItem] = []
        explanations: list[dict] = []
        text = intro
        for update in self._explain(shown_state, reading.text, chosen, notes, explanations):
            shown.append(update)
            number = len(shown)
            text += "\n" + prompts.item_line_prefix(number, update.item) + update.why
            yield TurnUpdate(text, list(shown), pending=tuple(s.item for s in chosen[number:]))
        lap("explain", mark)
        plan_state = session.state
        session.state = record_shown(session.state, [s.item.id for s in shown])
        session.candidates = ranked[: MAX_REFILLS + len(shown)]
        kind = "relaxed" if note else "recommend"
        result = TurnResult(
            text,
            shown,
            kind,
            timings,
            tool_call,
            valid,
            candidate_log,
            notes,
            plan_state=plan_state,
            explanations=explanations,
        )
        yield self._finish(session, message, result, started)

    def rank(self, state: DialogueState, reading: Reading) -> Ranking:
        """Plan, recall and rerank for a state: every candidate in order, nothing shown or logged.

        Raises RetrievalError when the index or a model behind the search fails.
        """
        timings: dict[str, float] = {}
        mark = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal mark
            now = time.perf_counter()
            timings[name] = round((now - mark) * 1000, 1)
            mark = now

        call, valid, notes, raw_call = self._plan(state, reading)
        lap("plan")
        ranked = self.search.run(self.search_request(state, call))
        lap("search")
        if self.reranker is not None:
            ranked = self.reranker.rerank(ranked, state, reading.text, notes)
            lap(f"{self.reranker.name}_rerank")
        return Ranking(call, valid, notes, raw_call, ranked, timings)

    def search_request(self, state: DialogueState, call: SearchCall) -> SearchRequest:
        """What the search is asked for a planned call: its query, the state's items and constraints."""
        return SearchRequest(
            query=call.query,
            liked=state.liked,
            filters=state.filters(),
            exclude=state.excluded,
            k=self.settings.candidates_k,
            disliked=state.disliked,
            mentioned=state.mentioned,
        )

    def _relaxed(self, state: DialogueState, call: SearchCall) -> tuple[DialogueState, str, list[ScoredItem]]:
        """The first state of `chat.state.relaxations` whose search finds items, what it left out, and those items;
        (state, "", []) when none does."""
        for dropped, relaxed in relaxations(state):
            found = self.search.run(self.search_request(relaxed, call))[: self.settings.items_per_reply]
            if found:
                return relaxed, dropped, found
        return state, "", []

    def plan(self, state: DialogueState, reading: Reading) -> SearchCall:
        """The turn's search call alone (for training data: nothing is searched, shown or logged)."""
        return self._plan(state, reading)[0]

    def explain(self, state: DialogueState, message: str, items: list[Item]) -> tuple[list[ShownItem], list[dict]]:
        """The turn's explain step alone (for evaluation: nothing is searched, logged or changed): each item with the
        reason shown for it, and per LLM-explained item what the model was asked and wrote and the guard's problems
        with it (as in `TurnResult.explanations`)."""
        explanations: list[dict] = []
        shown = list(self._explain(state, message, [ScoredItem(item, 0.0, {}) for item in items], [], explanations))
        return shown, explanations

    def _canned_reply(self, session: ChatSession, reading: Reading) -> tuple[str, str] | None:
        """Replies that need no search: empty, other language, small talk, a vague opening."""
        if not reading.text:
            return "polite", self.settings.wording.nothing_heard()
        if reading.not_english:
            return "polite", self.settings.wording.english_only()
        if reading.has_request:
            return None
        if reading.thanks:
            return "small_talk", "You're welcome! Say the word if you'd like more picks."
        if reading.small_talk:
            return "small_talk", self.settings.wording.about_me()
        if not session.state.knows_something and not session.asked_to_clarify:
            session.asked_to_clarify = True
            greeting = "Hi! " if reading.greeting else ""
            return "clarify", greeting + self.settings.wording.clarifying_question()
        return None

    def _plan(self, state: DialogueState, reading: Reading) -> tuple[SearchCall, bool | None, list[str], str]:
        """The search call for this turn: the LLM's query joined with the state's, or the state's alone."""
        liked = [self.catalog[i] for i in state.liked[-2:] if i in self.catalog]
        # A title's words make a poor query ("Groundhog Day" finds films with "Day" in them): describe the liked films.
        described = " ".join(dict.fromkeys(w for item in liked for w in (*item.genres, *item.keywords[:4])))
        fallback = described or f"well-loved {self.settings.wording.plural}"
        from_state = SearchCall.searching(state.query_text() or fallback, state.conditions, state.avoid_terms)
        if self.llm is None or self.settings.planner == "rules":
            return from_state, None, [], ""
        messages, _ = prompts.planner_messages(state, self.catalog, reading.text, self.settings.wording)
        try:  # the model writes the query alone; the hard constraints come from the state
            raw = "".join(self.llm.stream(messages, QUERY_PREFIX, self.settings.plan_max_new_tokens, stop=['"']))
        except LLMError as error:
            log.warning("planner failed, using the dialogue state: %s", error)
            return from_state, False, [f"planner error: {error}"], ""
        try:
            model_query = parse_query(raw)
        except ToolCallError as error:
            return from_state, False, [f"tool call repaired from state: {error}"], raw
        # The model's words join the state's, minus anything the person ruled out ("no zombies" is no query for zombies).
        ruled_out = {w for term in state.avoid_terms | state.avoided("genres") for w in term.split()}
        ruled_out |= {
            normalize_term(w)
            for i in (*state.liked, *state.disliked)
            if i in self.catalog
            for w in self.catalog[i].title.split()
        }  # named films are searched by their vectors, not their words
        words = [w for w in (from_state.query + " " + model_query).split() if normalize_term(w) not in ruled_out]
        query = " ".join(dict.fromkeys(words)) or from_state.query
        return replace(from_state, query=query), True, [], raw

    def _explain(
        self, state: DialogueState, message: str, chosen: list[ScoredItem], notes: list[str], explanations: list[dict]
    ) -> Iterator[ShownItem]:
        """Each chosen item with its reason, LLM-written where the guard accepts it.

        With `explain_batch` the model writes all reasons at once, each row continuing the reply
        with templated reasons on the lines before its own, and each item comes out as soon as its
        row and the rows before it are written; otherwise one after another, each continuing the reply so far.
        (Given only its own line's start, a row often restated item 1's year and director: of the latency
        benchmark's 30 reasons the guard kept 14 that way, 20 this way, 22 one by one.) Either way the guard
        reads the reasons in order, each against the ones it accepted before; where it rejects one, or there is
        no model, `_fallback_reason` writes what is shown (the model's prompt keeps the trained stand-in). Each
        LLM-explained item adds what the model was asked and wrote, and what was shown, to `explanations` (logged
        for preference pairs).
        """
        allowed = {s.item.id for s in chosen} | set(state.liked) | set(state.disliked)
        items = [s.item for s in chosen]
        wording = self.settings.wording
        stand_ins = [prompts.template_reason(item, state, self.catalog, wording) for item in items]  # as trained
        draws = random.Random(f"{len(state.shown)}:{','.join(item.id for item in items)}")  # the same for the same turn
        use_llm = self.llm is not None and self.settings.explainer == "llm"
        messages = prompts.explainer_messages(state, self.catalog, message, items, wording) if use_llm else []
        rows: Iterator[tuple[int, str]] | None = None  # the batch's rows, (position, text) as each is written
        drafts: dict[int, str] = {}
        if use_llm and self.settings.explain_batch:
            prefixes = prompts.reason_prefixes(items, stand_ins)
            rules = self._writing_rules(items, state.liked) if self.settings.constrain_reasons else None
            rows = complete_as_done(
                self.llm, messages, prefixes, self.settings.reason_max_new_tokens, stop=["\n"], rules=rules
            )

        def draft(position: int, written: str) -> str:
            """The model's reason for the item at `position`: its batch row (waiting for it), or streamed after `written`."""
            if rows is None:
                return "".join(self.llm.stream(messages, written, self.settings.reason_max_new_tokens, stop=["\n"]))
            while position not in drafts:
                done = next(rows, None)
                if done is None:
                    raise LLMError(f"the batch ended without row {position + 1}")
                drafts[done[0]] = done[1]
            return drafts[position]

        written = ""  # the reply so far as the model reads it: its accepted reasons, else the trained stand-ins
        accepted: list[str] = []
        shown: list[str] = []
        try:
            for number, scored in enumerate(chosen, start=1):
                item = scored.item
                written += prompts.item_line_prefix(number, item)
                reason, problems = "", ["no model"]
                if use_llm:
                    prefix = prefixes[number - 1] if rows is not None else written
                    try:
                        reason = draft(number - 1, written).strip()
                    except LLMError as error:
                        notes.append(f"explainer error: {error}")
                        use_llm = False
                if use_llm:
                    problems = (
                        reason_problems(
                            reason, item, allowed, self.titles, self.catalog, self.people, tuple(accepted), wording.noun
                        )
                        if reason
                        else ["empty"]
                    )
                    if problems:
                        notes.append(f"{item.id}: {'; '.join(problems)}")
                    else:
                        accepted.append(reason)
                    explanations.append(
                        {
                            "position": number,
                            "item_id": item.id,
                            "prompt": messages,
                            "prefix": prefix,
                            "draft": reason,
                            "problems": problems,
                        }
                    )
                if problems:
                    written += stand_ins[number - 1] + "\n"
                    reason = self._fallback_reason(item, state, allowed, shown, draws, number - 1)
                else:
                    written += reason + "\n"
                if use_llm:
                    explanations[-1]["shown"] = reason
                shown.append(reason)
                yield ShownItem(item, reason, scored.score, scored.signals)
        finally:
            if rows is not None:
                rows.close()  # a turn stopped early stops the batch too

    def _writing_rules(self, items: list[Item], liked: Sequence[str]) -> list[WritingRules]:
        """Per item, what the model may write in its reason: only numbers its card holds (or a liked title holds), not
        fewer words than the guard asks for, and after "for fans of" only a liked title of one of its genres, each
        liked title on one line of the reply only, the first whose item shares a genre with it (none left: no "for
        fans of" at all), as the templates tie them. Decoding so keeps the drafts the guard rejected most often (a
        stray year, a line cut short), titles made up and a tie said on every line from being written."""
        liked_items = [self.catalog[i] for i in liked if i in self.catalog]
        numbers_named = [other.title for other in liked_items]
        unused = list(liked_items)
        rules = []
        for item in items:
            ties = [other for other in unused if set(other.genres) & set(item.genres)]
            unused = [other for other in unused if other not in ties]
            rules.append(
                WritingRules(
                    writable_numbers(item, numbers_named),
                    MIN_REASON_WORDS,
                    prompts.TITLE_LEAD_INS,
                    tuple(other.title for other in ties),
                )
            )
        return rules

    def _fallback_reason(
        self,
        item: Item,
        state: DialogueState,
        allowed: set[str],
        earlier: list[str],
        draws: random.Random,
        position: int,
    ) -> str:
        """The reason shown where the model's was rejected or there is no model: for films, one drawn from the card by
        the grounded-reason recipe (`chat.reason_text`) that the guard accepts and that shares no 3-word phrase with
        the reply's lines before it; else, or where no draw passed, the template (its tie to a liked item varied by
        `position`)."""
        wording = self.settings.wording
        if wording.is_film:

            def accept(reason: str, item: Item, earlier: Sequence[str]) -> bool:
                return not reason_problems(
                    reason, item, allowed, self.titles, self.catalog, self.people, tuple(earlier), wording.noun
                )

            drawn = reason_text.drawn_reason(item, state, self.catalog, draws, accept, earlier)
            if drawn:
                return drawn
        return prompts.template_reason(item, state, self.catalog, wording, variant=position)

    def _finish(self, session: ChatSession, message: str, result: TurnResult, started: float) -> TurnUpdate:
        result.timings_ms["total"] = round((time.perf_counter() - started) * 1000, 1)
        session.turn_index += 1
        if self.log_store is not None and session.logging_enabled:
            result.turn_id = self._log(session, message, result)
            session.last_turn_id = result.turn_id
        return TurnUpdate(result.reply, result.items, result)

    def _log(self, session: ChatSession, message: str, result: TurnResult) -> int | None:
        try:
            if not session.log_session_started:
                self.log_store.ensure_session(
                    session.id, "engine", self.settings.model_id, self.settings.adapter_id, self.settings.app_version
                )
                session.log_session_started = True
            return self.log_store.append_turn(
                session.id,
                session.turn_index,
                message,
                result.reply,
                result.kind,
                tool_call=result.tool_call,
                candidates=result.candidates,
                shown=[s.as_json() for s in result.items],
                guard=result.guard_notes,
                state=_state_json(session.state),
                timings_ms=result.timings_ms,
                error=result.error,
                explanations=result.explanations,
            )
        except LogStoreError:
            log.exception("could not log turn %d of session %s", session.turn_index, session.id)
            return None

    def set_logging(self, session: ChatSession, enabled: bool) -> bool:
        """The person's choice whether this conversation is logged, for every front end. Opting out stops the logging
        of its turns, feedback and replacement cards, and deletes what was logged of it so far: True when that
        deletion ran. Opting back in logs its turns from then on. Raises LogStoreError when the deletion fails (the
        conversation is still not logged from then on)."""
        was_logging = session.logging_enabled
        session.logging_enabled = enabled
        if enabled or not was_logging or not session.log_session_started or self.log_store is None:
            return False
        self.log_store.delete_sessions([session.id])
        session.log_session_started, session.last_turn_id = False, None
        return True

    def rewind(self, session: ChatSession) -> bool:
        """Undoes the session's last turn so that it can be answered again (retried, or its message edited): the
        session is as it was before it, and its logged turn is marked retried. False when there is no such turn."""
        before = session.before_last_turn
        if before is None:
            return False
        retried = session.last_turn_id if session.last_turn_id != before.last_turn_id else None
        session.state, session.turn_index = before.state, before.turn_index
        session.asked_to_clarify, session.last_turn_id = before.asked_to_clarify, before.last_turn_id
        session.before_last_turn, session.candidates = None, []
        if retried is not None and self.log_store is not None:
            try:
                self.log_store.mark_retried(retried)
            except LogStoreError:
                log.exception("could not mark turn %d of session %s as retried", retried, session.id)
        return True

    def replacement(self, session: ChatSession, set_aside: str) -> ShownItem | None:
        """The next-best item of the latest search not yet shown, liked, disliked or set aside, to fill the card of
        `set_aside`; None when there is none left. Its reason is a fallback reason (`_fallback_reason`: drawn from
        the card and guard-checked, no model call, so a card fills at once). It counts as shown (`record_replacement`)
        and joins the logged shown items of the latest turn, with the id of the item it replaces."""
        state = session.state
        scored = next((s for s in session.candidates if s.item.id not in state.excluded), None)
        if scored is None:
            return None
        allowed = {scored.item.id, *state.last_shown, *state.liked, *state.disliked}
        draws = random.Random(f"{len(state.shown)}:{scored.item.id}")  # the same card for the same moment
        why = self._fallback_reason(scored.item, state, allowed, [], draws, position=0)
        shown = ShownItem(scored.item, why, scored.score, scored.signals)
        session.state = record_replacement(session.state, set_aside, scored.item.id)
        if self.log_store is not None and session.logging_enabled and session.last_turn_id is not None:
            try:
                self.log_store.add_shown(session.last_turn_id, {**shown.as_json(), "replaces": set_aside})
            except LogStoreError:
                log.exception("could not log the replacement shown in session %s", session.id)
        return shown

    # ----- a brought watch history -----------------------------------------------------------

    def seed_history(self, session: ChatSession, history: HistoryMatch) -> TurnResult:
        """Seeds the conversation with a matched watch history (`chat.state.add_history`) and logs that as a turn of
        kind "history": its user text says how many titles came, its reply (`history_reply`) is what to show the
        person, its state holds the seeded items."""
        started = time.perf_counter()
        session.before_last_turn = None  # a seeded history is no turn to retry
        session.state = add_history(session.state, history.liked_ids(), history.disliked_ids(), history.item_ids())
        result = TurnResult(history_reply(history, self.catalog, self.settings.wording), [], "history", {})
        brought = f"[watch history: {len(history.matched) + len(history.unmatched)} titles]"
        return self._finish(session, brought, result, started).result

    # ----- feedback -------------------------------------------------------------------------

    def feedback(self, session: ChatSession, kind: str, item_id: str = "") -> None:
        """like / dislike / not_interested on an item (or on the last reply when item_id is empty)."""
        if kind not in ("like", "dislike", "not_interested"):
            raise ValueError(f"unknown feedback kind {kind!r}")
        if item_id:
            session.state = record_feedback(session.state, item_id, positive=kind == "like")
        if self.log_store is not None and session.logging_enabled:
            try:
                if not session.log_session_started:
                    self.log_store.ensure_session(
                        session.id,
                        "engine",
                        self.settings.model_id,
                        self.settings.adapter_id,
                        self.settings.app_version,
                    )
                    session.log_session_started = True
                self.log_store.record_feedback(session.id, kind, item_id, session.last_turn_id)
            except LogStoreError:
                log.exception("could not log feedback for session %s", session.id)


def _state_json(state: DialogueState) -> dict:
    record = {key: sorted(value) if isinstance(value, frozenset) else value for key, value in asdict(state).items()}
    record["conditions"] = [condition.text() for condition in state.conditions]  # "genres=horror", "year=1990..1999"
    return record
