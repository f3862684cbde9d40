"""The conversation log store: sessions, turns (with tool call, candidates, shown items, timings) and feedback, in SQL.

SQLite by default (one file, WAL journal, so readers never block the writer); any SQLAlchemy
URL works, PostgreSQL included, when several app replicas share one store. Each turn is
committed when it completes, so a crash loses at most the turn in flight. E-mail addresses and
phone numbers are redacted before anything is stored unless redaction is turned off.

A turn the person retried (or whose message they edited) stays stored, marked `retried`, and its replacement is
stored with the same turn index; reading back skips retried turns unless asked. Stores made before that column
existed get it when opened.

Each LLM-written reason of a turn is kept too (`explanations`): the explainer's prompt and the
assistant prefix the model continued, its draft, the reason shown and the guard's problems, so a
rejected draft and the text shown in its place make a preference pair (`chat.logs.reports`).
It is a table of its own, so a store made before it gains it on open and nothing else changes.

Reading back: `turns`, `feedback`, `explanations` and `latencies_ms` (optionally only for conversations active
since a date), `counts`; deleting: `delete_sessions` (one person's opt-out) and
`purge_older_than` (retention). Reports over these rows live in `chat.logs.reports`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    delete,
    event,
    false,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A phone number is recognised by its shape, never by being a long run of digits: "1990-1999",
# "2024-01-31", "tt0111161", "item-1234-5678" and "$12.99" are not phone-shaped. Each shape comes
# with the fewest digits it may hold. Not after a word character, "$" or a separator (ids, prices),
# not before a word character or another digit group.
_NOT_AFTER = r"(?<![\w$£€#/.,:+-])"
_NOT_BEFORE = r"(?![\w/]|[.,:-]\d)"
_PHONE_SHAPES = tuple(
    (re.compile(_NOT_AFTER + shape + _NOT_BEFORE), fewest_digits)
    for shape, fewest_digits in (
        (r"\+\s?\d{1,4}(?:[ .-]?\(\d{1,4}\)|[ .-]?\d{1,5}){1,6}", 8),  # +1 415 555 0132, +44 (0)20 7946 0958
        (r"(?:1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}", 10),  # (415) 555-0132, 415.555.0132
        (r"\(0\d{1,4}\)[ .-]?\d{3,8}(?:[ .-]\d{3,4})?", 9),  # (020) 7946 0958
        (r"0\d{1,4}(?:[ .-]?\d{2,8}){1,4}", 10),  # 07700 900123, 020 7946 0958, 01 23 45 67 89
        (r"\d{10,11}", 10),  # 4155550132
    )
)
# Seven or more digits right after "call", "phone", "my number is", ...: a local number such as 555-0132.
_CUED_PHONE = re.compile(
    r"(?i:\b(?:call|phone|tel|telephone|mobile|cell|text|ring|whatsapp|fax|number)\b"
    r"(?:[\s:.,]+(?:me|us|on|at|is|my|number))*[\s:.]*)(\d[\d .-]{5,16}\d)" + _NOT_BEFORE
)
_YEAR_OR_DATE = re.compile(r"(?:(?:1[89]|20)\d\d[ .-]*)+|(?:19|20)\d\d([-./])\d\d\1\d\d|\d\d([-./])\d\d\2(?:19|20)\d\d")
_ISBN_BEFORE = re.compile(r"ISBN(?:-1[03])?:?\s*$", re.IGNORECASE)
MOST_PHONE_DIGITS = 15  # E.164


def _phone_part(text: str, fewest_digits: int) -> int:
    """How many leading characters of `text` are a phone number (0: none). A shape may run on into a year
    ("+1 415 555 0132 1999"): the longest run of whole digit groups with an allowed count is the number."""
    if _YEAR_OR_DATE.fullmatch(text.strip()):
        return 0
    for group in reversed(list(re.finditer(r"\d+\)?", text))):
        digits = sum(character.isdigit() for character in text[: group.end()])
        if digits < fewest_digits:
            return 0
        if digits <= MOST_PHONE_DIGITS:
            return group.end()
    return 0


def _redact_phones(text: str, pattern: re.Pattern, fewest_digits: int) -> str:
    def replace(match: re.Match) -> str:
        number = match.group(match.lastindex or 0)
        start = match.start(match.lastindex or 0)
        length = 0 if _ISBN_BEFORE.search(match.string[:start]) else _phone_part(number, fewest_digits)
        if not length:
            return match.group()
        return match.group()[: start - match.start()] + "[phone]" + number[length:]

    return pattern.sub(replace, text)


def redact(text: str) -> str:
    """Replace e-mail addresses and phone numbers; years, ranges, dates, runtimes, prices, ids, ISBNs and
    titles with numbers stay as they are (tests/test_redaction.py holds the table of both).

    Example: "mail me at a.b@c.org or +1 (555) 123-4567 about 1990-1999"
             -> "mail me at [email] or [phone] about 1990-1999"
    """
    text = _EMAIL.sub("[email]", text)
    for pattern, fewest_digits in (*_PHONE_SHAPES, (_CUED_PHONE, 7)):
        text = _redact_phones(text, pattern, fewest_digits)
    return text


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class SessionRow(Base):
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    client: Mapped[str] = mapped_column(String(32), default="")
    model_id: Mapped[str] = mapped_column(String(300), default="")
    adapter_id: Mapped[str] = mapped_column(String(300), default="")
    app_version: Mapped[str] = mapped_column(String(32), default="")


class TurnRow(Base):
    __tablename__ = "turns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    turn_index: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    user_text: Mapped[str] = mapped_column(Text)
    reply: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))  # recommend, clarify, small_talk, polite, error, history
    tool_call: Mapped[Any] = mapped_column(JSON, nullable=True)
    candidates: Mapped[Any] = mapped_column(JSON, default=list)
    shown: Mapped[Any] = mapped_column(JSON, default=list)
    guard: Mapped[Any] = mapped_column(JSON, default=list)
    state: Mapped[Any] = mapped_column(JSON, default=dict)
    timings_ms: Mapped[Any] = mapped_column(JSON, default=dict)
    total_ms: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str] = mapped_column(Text, default="")
    retried: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # replaced by a later turn


class FeedbackRow(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    turn_id: Mapped[int | None] = mapped_column(ForeignKey("turns.id"), nullable=True)
    item_id: Mapped[str] = mapped_column(String(300), default="")  # empty for feedback on a whole reply
    kind: Mapped[str] = mapped_column(String(32))  # like, dislike, not_interested
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ExplanationRow(Base):
    """One item's reason in a turn the LLM explained: what the model was asked, what it wrote, what was shown."""

    __tablename__ = "explanations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1 for the reply's first item
    item_id: Mapped[str] = mapped_column(String(300))
    prompt: Mapped[Any] = mapped_column(JSON)  # the explainer's chat messages
    prefix: Mapped[str] = mapped_column(Text)  # the assistant text the model continued (its line's start)
    draft: Mapped[str] = mapped_column(Text)  # the model's reason ("" when it wrote none)
    shown: Mapped[str] = mapped_column(Text)  # the reason the person read: the draft if kept, else a template
    problems: Mapped[Any] = mapped_column(JSON, default=list)  # the guard's; empty when the draft was kept


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


class LogStoreError(RuntimeError):
    """The log store could not be read or written (the database is unreachable, locked, full or damaged)."""


def _store_errors(method: Callable) -> Callable:
    """The method with its database errors raised as LogStoreError naming the store, so callers need no SQLAlchemy."""

    @functools.wraps(method)
    def wrapped(self: LogStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except SQLAlchemyError as error:
            raise LogStoreError(
                f"log store {_without_password(self.url)}: {method.__name__} failed: {error}"
            ) from error

    return wrapped


def _without_password(url: str) -> str:
    """The URL as an error may show it. Example: "postgresql://app:secret@db/logs" -> "postgresql://app:***@db/logs" """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unreadable URL)"


class LogStoreNotFoundError(FileNotFoundError):
    """A reader asked for an SQLite log file that does not exist (a typo should not create an empty store)."""


def sqlite_file(url: str) -> Path | None:
    """The file behind an SQLite URL, None for other databases and in-memory SQLite.

    Example: "sqlite:///var/conversations.db" -> Path("var/conversations.db")
    """
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        return Path(url[len("sqlite:///") :])
    return None


def as_utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back without a zone; every stored time is UTC."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


@dataclass(frozen=True)
class PurgeCounts:
    sessions: int
    turns: int
    feedback: int


def make_engine(url: str) -> Engine:
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        _sqlite_pragmas(engine)
    Base.metadata.create_all(engine)
    _add_missing_columns(engine)
    return engine


def _add_missing_columns(engine: Engine) -> None:
    """Columns added since a store was made (`turns.retried`), added to it in place; existing rows get the default."""
    if "retried" not in {column["name"] for column in inspect(engine).get_columns("turns")}:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE turns ADD COLUMN retried BOOLEAN NOT NULL DEFAULT FALSE"))


class LogStore:
    """append_turn / record_feedback / read back. Safe to share across threads (one SQL session per call)."""

    @_store_errors
    def __init__(self, url: str, redact_personal_data: bool = True):
        self.url = url
        self.redact = redact_personal_data
        self.engine = make_engine(url)

    @classmethod
    def open_existing(cls, url: str) -> LogStore:
        """The store at `url` for reading or purging; raises LogStoreNotFoundError when its SQLite file is missing."""
        path = sqlite_file(url)
        if path is not None and not path.is_file():
            raise LogStoreNotFoundError(f"no log store at {path}")
        return cls(url)

    def _clean(self, value: Any) -> Any:
        """The value with every string in it redacted (when redaction is on): texts, and the JSON of the tool call
        and the state, which can carry the person's words (a planner may copy a phone number into its query)."""
        if not self.redact:
            return value
        if isinstance(value, str):
            return redact(value)
        if isinstance(value, dict):
            return {key: self._clean(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._clean(item) for item in value]
        return value

    @_store_errors
    def ensure_session(self, session_id: str, client: str, model_id: str, adapter_id: str, app_version: str) -> None:
        """Record a session the first time it is seen."""
        with Session(self.engine) as db, db.begin():
            if db.get(SessionRow, session_id) is None:
                db.add(
                    SessionRow(
                        id=session_id, client=client, model_id=model_id, adapter_id=adapter_id, app_version=app_version
                    )
                )

    @_store_errors
    def append_turn(
        self,
        session_id: str,
        turn_index: int,
        user_text: str,
        reply: str,
        kind: str,
        explanations: Sequence[dict] = (),
        **details: Any,
    ) -> int:
        """Store one completed turn with its explanations (dicts of the ExplanationRow fields from `position` on),
        in one transaction; returns its id. `details` are the optional TurnRow columns."""
        personal = {name: self._clean(details[name]) for name in ("tool_call", "state") if name in details}
        row = TurnRow(
            session_id=session_id,
            turn_index=turn_index,
            user_text=self._clean(user_text),
            reply=self._clean(reply),
            kind=kind,
            **{**details, **personal},
        )
        row.total_ms = float((details.get("timings_ms") or {}).get("total", 0.0))
        with Session(self.engine) as db, db.begin():
            db.add(row)
            db.flush()
            db.add_all(
                ExplanationRow(session_id=session_id, turn_id=row.id, **self._clean(dict(explanation)))
                for explanation in explanations
            )
            return row.id

    @_store_errors
    def mark_retried(self, turn_id: int) -> None:
        """Marks a turn as replaced: the person retried it or edited its message."""
        with Session(self.engine) as db, db.begin():
            db.execute(update(TurnRow).where(TurnRow.id == turn_id).values(retried=True))

    @_store_errors
    def add_shown(self, turn_id: int, entry: dict) -> None:
        """Appends an item shown after the turn's reply (a card filled again) to the turn's shown items."""
        with Session(self.engine) as db, db.begin():
            row = db.get(TurnRow, turn_id)
            if row is not None:
                row.shown = [*(row.shown or []), entry]

    @_store_errors
    def record_feedback(self, session_id: str, kind: str, item_id: str = "", turn_id: int | None = None) -> None:
        with Session(self.engine) as db, db.begin():
            db.add(FeedbackRow(session_id=session_id, turn_id=turn_id, item_id=item_id, kind=kind))

    # ----- reading back ----------------------------------------------------------------------

    def _active_since(self, since: dt.datetime):
        """Ids of the sessions with a turn at or after `since` (a subquery)."""
        return select(TurnRow.session_id).where(TurnRow.created_at >= as_utc(since)).distinct()

    @_store_errors
    def turns(
        self,
        session_id: str | None = None,
        since: dt.datetime | None = None,
        whole_sessions: bool = False,
        columns: Sequence[str] | None = None,
        include_retried: bool = False,
    ) -> list[dict]:
        """Turns in the order they were stored; those replaced by a retry only with include_retried.

        since: only turns created at or after it; with whole_sessions, every turn of the sessions
        that had one (the history an exported example needs). columns: only these fields.
        """
        selected = [getattr(TurnRow, name) for name in columns] if columns else [TurnRow]
        query = select(*selected).order_by(TurnRow.id)
        if not include_retried:
            query = query.where(TurnRow.retried.is_(False))
        if session_id:
            query = query.where(TurnRow.session_id == session_id)
        if since is not None:
            query = query.where(
                TurnRow.session_id.in_(self._active_since(since))
                if whole_sessions
                else TurnRow.created_at >= as_utc(since)
            )
        with Session(self.engine) as db:
            if columns:
                return [dict(row._mapping) for row in db.execute(query)]
            return [_as_dict(row) for row in db.scalars(query)]

    @_store_errors
    def feedback(self, session_id: str | None = None, since: dt.datetime | None = None) -> list[dict]:
        """Feedback events in the order they were stored; with since, those of sessions active since then."""
        return self._session_rows(FeedbackRow, session_id, since)

    @_store_errors
    def explanations(self, session_id: str | None = None, since: dt.datetime | None = None) -> list[dict]:
        """Explained reasons in the order they were stored; with since, those of sessions active since then."""
        return self._session_rows(ExplanationRow, session_id, since)

    def _session_rows(
        self, table: type[FeedbackRow] | type[ExplanationRow], session_id: str | None, since: dt.datetime | None
    ) -> list[dict]:
        query = select(table).order_by(table.id)
        if session_id:
            query = query.where(table.session_id == session_id)
        if since is not None:
            query = query.where(table.session_id.in_(self._active_since(since)))
        with Session(self.engine) as db:
            return [_as_dict(row) for row in db.scalars(query)]

    @_store_errors
    def counts(self) -> dict[str, int]:
        """Rows per table: {"sessions": ..., "turns": ..., "feedback": ...}."""
        with Session(self.engine) as db:
            return {
                name: db.scalar(select(func.count()).select_from(table)) or 0
                for name, table in (("sessions", SessionRow), ("turns", TurnRow), ("feedback", FeedbackRow))
            }

    # ----- deleting --------------------------------------------------------------------------

    @_store_errors
    def delete_sessions(self, session_ids: Iterable[str]) -> PurgeCounts:
        """Delete these sessions with their turns and feedback, in one transaction."""
        ids = list(session_ids)
        return self._delete(ids) if ids else PurgeCounts(0, 0, 0)

    @_store_errors
    def purge_older_than(self, days: float, now: dt.datetime | None = None) -> PurgeCounts:
        """Delete the sessions started more than `days` ago, with their turns and feedback."""
        if days < 0:
            raise ValueError(f"days: must be 0 or more, got {days}")
        cutoff = as_utc(now or _now()) - dt.timedelta(days=days)
        return self._delete(select(SessionRow.id).where(SessionRow.started_at < cutoff))

    def _delete(self, session_ids) -> PurgeCounts:
        """session_ids: a list or a subquery of ids; children first, so foreign keys hold on any database."""
        with Session(self.engine) as db, db.begin():
            feedback = db.execute(delete(FeedbackRow).where(FeedbackRow.session_id.in_(session_ids))).rowcount
            db.execute(delete(ExplanationRow).where(ExplanationRow.session_id.in_(session_ids)))
            turns = db.execute(delete(TurnRow).where(TurnRow.session_id.in_(session_ids))).rowcount
            sessions = db.execute(delete(SessionRow).where(SessionRow.id.in_(session_ids))).rowcount
        return PurgeCounts(sessions, turns, feedback)


def _as_dict(row: Base) -> dict:
    return {column.name: getattr(row, column.name) for column in row.__table__.columns}
