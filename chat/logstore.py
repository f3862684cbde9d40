"""The conversation log store: sessions, turns (with tool call, candidates, shown items, timings) and feedback, in SQL.

SQLite by default (one file, WAL journal, so readers never block the writer); any SQLAlchemy
URL works, PostgreSQL included, when several app replicas share one store. Each turn is
committed when it completes, so a crash loses at most the turn in flight. E-mail addresses and
phone numbers are redacted before anything is stored unless redaction is turned off.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE = re.compile(r"(?<!\w)(?:\+?\d[\d ().-]{7,}\d)(?!\w)")


def redact(text: str) -> str:
    """Replace e-mail addresses and phone numbers.

    Example: "mail me at a.b@c.org or +1 (555) 123-4567" -> "mail me at [email] or [phone]"
    """
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


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
    kind: Mapped[str] = mapped_column(String(32))  # recommend, clarify, small_talk, polite, error
    tool_call: Mapped[Any] = mapped_column(JSON, nullable=True)
    candidates: Mapped[Any] = mapped_column(JSON, default=list)
    shown: Mapped[Any] = mapped_column(JSON, default=list)
    guard: Mapped[Any] = mapped_column(JSON, default=list)
    state: Mapped[Any] = mapped_column(JSON, default=dict)
    timings_ms: Mapped[Any] = mapped_column(JSON, default=dict)
    total_ms: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str] = mapped_column(Text, default="")


class FeedbackRow(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    turn_id: Mapped[int | None] = mapped_column(ForeignKey("turns.id"), nullable=True)
    item_id: Mapped[str] = mapped_column(String(300), default="")  # empty for feedback on a whole reply
    kind: Mapped[str] = mapped_column(String(32))  # like, dislike, not_interested
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        _sqlite_pragmas(engine)
    Base.metadata.create_all(engine)
    return engine


class LogStore:
    """append_turn / record_feedback / read back. Safe to share across threads (one SQL session per call)."""

    def __init__(self, url: str, redact_personal_data: bool = True):
        self.url = url
        self.redact = redact_personal_data
        self.engine = make_engine(url)

    def _clean(self, text: str) -> str:
        return redact(text) if self.redact else text

    def ensure_session(self, session_id: str, client: str, model_id: str, adapter_id: str, app_version: str) -> None:
        """Record a session the first time it is seen."""
        with Session(self.engine) as db, db.begin():
            if db.get(SessionRow, session_id) is None:
                db.add(SessionRow(id=session_id, client=client, model_id=model_id, adapter_id=adapter_id, app_version=app_version))

    def append_turn(self, session_id: str, turn_index: int, user_text: str, reply: str, kind: str, **details: Any) -> int:
        """Store one completed turn; returns its id. `details` are the optional TurnRow columns."""
        row = TurnRow(
            session_id=session_id,
            turn_index=turn_index,
            user_text=self._clean(user_text),
            reply=self._clean(reply),
            kind=kind,
            **details,
        )
        row.total_ms = float((details.get("timings_ms") or {}).get("total", 0.0))
        with Session(self.engine) as db, db.begin():
            db.add(row)
            db.flush()
            return row.id

    def record_feedback(self, session_id: str, kind: str, item_id: str = "", turn_id: int | None = None) -> None:
        with Session(self.engine) as db, db.begin():
            db.add(FeedbackRow(session_id=session_id, turn_id=turn_id, item_id=item_id, kind=kind))

    def turns(self, session_id: str | None = None) -> list[dict]:
        with Session(self.engine) as db:
            query = select(TurnRow).order_by(TurnRow.id)
            if session_id:
                query = query.where(TurnRow.session_id == session_id)
            return [_as_dict(row) for row in db.scalars(query)]

    def feedback(self, session_id: str | None = None) -> list[dict]:
        with Session(self.engine) as db:
            query = select(FeedbackRow).order_by(FeedbackRow.id)
            if session_id:
                query = query.where(FeedbackRow.session_id == session_id)
            return [_as_dict(row) for row in db.scalars(query)]


def _as_dict(row: Base) -> dict:
    return {column.name: getattr(row, column.name) for column in row.__table__.columns}

