"""The web app: read settings, build the engine, wire the Gradio chat UI, launch. The only module that knows Gradio.

    python app.py                      # embedded defaults, http://127.0.0.1:7860
    python app.py --catalog items.csv  # your own catalogue (indexed on first start)
    python app.py --help               # every setting, also settable by RECSYS_* variables or --config

With RECSYS_ADMIN_USER and RECSYS_ADMIN_PASSWORD set, a "Logs" tab (behind a sign-in) shows the
log store's stats and offers its export; without them the tab is absent.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import html.entities
import logging
import re
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr
import pandas as pd

from chat import prompts
from chat.assemble import build_engine
from chat.card_images import CardImages
from chat.engine import ChatEngine, ChatSession, ShownItem
from chat.history import HistoryError, match_history, read_history
from chat.internals import turn_report
from chat.llm import LLMError
from chat.logs import EXPORT_FORMATS, LogStore, LogStoreError, export_logs, log_stats, stats_markdown
from chat.settings import AdminLogin, Settings, add_arguments, load_settings
from chat.welcome import example_requests, welcome_markdown
from chat.wording import Wording
from retrieval.catalog import CatalogError, Item
from retrieval.embeddings import ModelUnavailableError
from retrieval.index import StaleIndexError
from retrieval.retriever import SearchRequest

log = logging.getLogger("app")

SORRY = "Sorry, something went wrong on my side while answering. Your conversation is safe; please try again."
CSS = """
.card {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin: 0; display: flex; gap: 10px;}
.card .thumb {width: 64px; height: 96px; flex: none; object-fit: cover; border-radius: 4px;} .card .body {flex: 1; min-width: 0;}
#header {align-items: center;} #logo {flex-grow: 0 !important;}
.card .title {font-weight: 600;} .card .mark {font-size: .8em; font-weight: 600; float: right; border-radius: 4px; padding: 0 6px; color: white;}
.card.like .mark {background: #16a34a;} .card.dislike .mark {background: #b91c1c;}
.card.like {border-color: #16a34a; background: rgba(22, 163, 74, .08);}
.card.dislike {border-color: #b91c1c; background: rgba(185, 28, 28, .06); opacity: .8;} .card .meta {opacity: .75; font-size: .9em;} .card .why {margin-top: 4px;}
.card.pending .why {font-style: italic; opacity: .6;}
#history-formats {opacity: .75; font-size: .9em;}
@media (max-width: 640px) {
  /* On a phone the chat column's parts join the row, so the cards can sit right under the conversation. */
  #main-row {flex-direction: column !important;}
  #chat-column {display: contents !important;}
  #chat-column > * {order: 3;}
  #chat-column > #chat, #chat-column > :has(> #chat) {order: 1;}
  #cards {order: 2; min-width: 100% !important;}
}
"""
BUSY = (
    "Still writing the reply to your last message. Your new message stays in the box: send it when the reply is done."
)
STOPPED = "(stopped: this message is not part of the conversation; retry or edit it to send it again)"
ONLY_LATEST = "Only your latest message can be edited, and only the latest reply retried."
HISTORY_BUSY = "Still writing the reply to your last message. Bring your history again when the reply is done."
CARD_MARKS = {"like": "You liked this", "dislike": "Not for you"}
WRITING = "writing…"  # where a reason still being written will be, on its card and its line of the reply
FEEDBACK_NOTICES = {
    "like": "Noted: you like it; the next picks follow.",
    "dislike": "Noted: not for you.",
    "not_interested": 'Set aside: it won\'t be shown again. "Show another" fills its place.',
}
NO_MORE_PICKS = "No more picks from this search; ask for more any time."
HISTORY_FORMATS = "a CSV with title, year, rating, date"
FILM_HISTORY_FORMATS = "Letterboxd or IMDb export, or " + HISTORY_FORMATS


def history_formats(wording: Wording) -> str:
    """The history files the upload reads, as told to the person: film services' exports only for films."""
    return FILM_HISTORY_FORMATS if wording.is_film else HISTORY_FORMATS


# A `<` that would open a tag, comment or declaration, and a `&` that would start a character reference (HTML5 reads
# some names without their `;`, like "&copy").
_LEGACY_REFERENCES = sorted((name for name in html.entities.html5 if not name.endswith(";")), key=len, reverse=True)
_MARKUP_STARTS = re.compile(r"<(?=[A-Za-z/!?])|&(?=#|[A-Za-z0-9]+;|" + "|".join(_LEGACY_REFERENCES) + ")")


def plain_text(text: str) -> str:
    """Text that the chat shows exactly as written, and that its copy button and screen readers get as written.

    The chat renders no Markdown (`render_markdown=False`): a message is read as HTML, then sanitized. Only what
    HTML would read as markup is escaped, so nearly every message is sent unchanged.
    Example: "1990-1999, funny. Thelma & Louise <3 M*A*S*H" -> unchanged;
             "<b>hi</b> &amp;" -> "&lt;b>hi&lt;/b> &amp;amp;"
    """
    return _MARKUP_STARTS.sub(lambda match: "&lt;" if match.group() == "<" else "&amp;", text)


def reply_text(text: str, items: Sequence[ShownItem], pending: Sequence[Item] = ()) -> str:
    """An engine reply for the chat: each item line starts "1. Title (year): " rather than with its Markdown label;
    the items still to come follow, each on its line with "writing…".

    Example: "Try these:\n1. **M\\*A\\*S\\*H (1970)**: funny." -> "Try these:\n1. M*A*S*H (1970): funny."
             ("Try these:", [], [Heat]) -> "Try these:\n1. Heat (1995): writing…"
    """
    labels = {
        prompts.item_line_prefix(number, shown.item): f"{number}. {shown.item.label}: "
        for number, shown in enumerate(items, start=1)
    }
    lines = []
    for line in text.split("\n"):
        prefix = next((p for p in labels if line.startswith(p)), "")
        lines.append(labels.get(prefix, "") + line[len(prefix) :])
    lines += [f"{number}. {item.label}: {WRITING}" for number, item in enumerate(pending, start=len(items) + 1)]
    return plain_text("\n".join(lines))


@dataclass(frozen=True)
class TakenMessage:
    """A message taken from the box, with the session it was sent in and the chat it was shown in."""

    text: str
    session: ChatSession
    chat: list[dict]  # the messages on screen, this one and a placeholder for its reply last


@dataclass
class Conversation:
    """What one browser tab's chat shows: the engine session behind it, and the turn under way.

    Gradio hands every event of a browser session the same State object, so "New conversation" can swap the session
    while a reply streams, and the reply's handler sees the swap and leaves the screen alone.
    """

    session: ChatSession
    replying: bool = False  # a message was taken and its reply is not finished
    admin: bool = False  # signed in to the Logs tab: sees "under the hood"
    last_message: str = ""  # the latest message taken, as typed: what a retry sends again
    stopping: bool = False  # the person asked the reply being written to stop
    last_stopped: bool = False  # the latest turn was stopped: already undone, so a retry or an edit needs no rewind
    taken: list[TakenMessage] = field(default_factory=list)  # taken, not yet being answered; oldest first


def card_html(shown: ShownItem, feedback: str = "", images: CardImages = CardImages(None)) -> str:
    """An item card with its picture (see `CardImages`), marked with the feedback given on it ("like" or "dislike");
    every field is escaped, so markup in catalogue data stays inert."""
    item = shown.item
    meta = " · ".join(p for p in (str(item.year or ""), ", ".join(item.genres), ", ".join(item.directors[:2])) if p)
    mark = f"<div class='mark'>{CARD_MARKS[feedback]}</div>" if feedback in CARD_MARKS else ""
    return (
        f"<div class='card {feedback}' data-item-id='{html.escape(item.id, quote=True)}' data-feedback='{feedback}'>"
        f"{images.img_html(item)}<div class='body'>{mark}<div class='title'>{html.escape(item.title)}</div>"
        f"<div class='meta'>{html.escape(meta)}</div>"
        f"<div class='why'>{html.escape(shown.why)}</div></div></div>"
    )


def pending_card_html(item: Item, images: CardImages = CardImages(None)) -> str:
    """The card of an item whose reason is still being written: its facts, and "writing…" where the reason will be."""
    return card_html(ShownItem(item, WRITING, 0.0, {}), "pending", images)


def stats_views(store: LogStore | None) -> tuple[str, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The Logs tab's summary and chart data."""
    if store is None:

        def empty(x: str, y: str) -> pd.DataFrame:
            return pd.DataFrame({x: pd.Series(dtype=str), y: pd.Series(dtype=int)})

        return (
            "Logging is off (`--no-log`): nothing is stored.",
            empty("item", "times shown"),
            empty("item", "likes"),
            empty("day", "turns"),
        )
    stats = log_stats(store)
    shown = pd.DataFrame(
        {"item": [r["title"] for r in stats.top_shown], "times shown": [r["count"] for r in stats.top_shown]}
    )
    liked = pd.DataFrame(
        {"item": [r["title"] for r in stats.top_liked], "likes": [r["count"] for r in stats.top_liked]}
    )
    per_day = pd.DataFrame(
        {"day": [d["day"] for d in stats.turns_per_day], "turns": [d["turns"] for d in stats.turns_per_day]}
    )
    return stats_markdown(stats), shown, liked, per_day


def build_logs_tab(store: LogStore | None, admin: AdminLogin) -> tuple[gr.State, list]:
    """The Logs tab: a sign-in, then stats, charts and an export. Its events are not callable through the API,
    and each handler checks the per-browser-session sign-in itself. Returns the sign-in state and events."""
    export_dirs: list[Path] = []  # made on the first export; every later export overwrites its file there

    def views() -> tuple:
        try:
            return stats_views(store)
        except LogStoreError as error:
            log.exception("could not read the log store")
            raise gr.Error("Could not read the log store; see the server log.") from error

    def sign_in(user: str, password: str):
        if not admin.matches(user or "", password or ""):
            log.warning("failed sign-in to the Logs tab")
            gr.Warning("Wrong user or password.")
            return False, "", gr.update(), gr.update(), *[gr.update()] * 4
        return True, "", gr.update(visible=False), gr.update(visible=True), *views()

    def refresh(signed_in: bool):
        if not signed_in:
            raise gr.Error("Sign in first.")
        return views()

    def prepare_export(signed_in: bool, export_format: str, only_positive: bool):
        if not signed_in:
            raise gr.Error("Sign in first.")
        if store is None:
            raise gr.Error("Logging is off: there is nothing to export.")
        suffix = "csv" if export_format == "csv" else "jsonl"
        if not export_dirs:
            export_dirs.append(Path(tempfile.mkdtemp(prefix="film-finder-exports-")))
        out = export_dirs[0] / f"conversations-{export_format}{'-positive' if only_positive else ''}.{suffix}"
        try:
            written = export_logs(store, export_format, out, only_positive=only_positive)
        except LogStoreError as error:
            log.exception("export failed")
            raise gr.Error("Could not read the log store; see the server log.") from error
        gr.Info(f"Export ready: {written} records.")
        return str(out)

    with gr.Tab("Logs", elem_id="logs-tab"):
        signed_in = gr.State(False)
        with gr.Column(visible=True) as login_panel:
            gr.Markdown("Sign in to see the conversation log.")
            user = gr.Textbox(label="User", elem_id="admin-user")
            password = gr.Textbox(label="Password", type="password", elem_id="admin-password")
            sign_in_button = gr.Button("Sign in", variant="primary", elem_id="admin-sign-in")
        with gr.Column(visible=False) as logs_panel:
            summary = gr.Markdown(elem_id="log-stats")
            with gr.Row():
                shown_plot = gr.BarPlot(
                    x="item",
                    y="times shown",
                    title="Most shown items",
                    sort="-y",
                    x_label_angle=-30,
                    y_lim=[0, None],
                    height=320,
                    min_width=280,
                )
                liked_plot = gr.BarPlot(
                    x="item",
                    y="likes",
                    title="Most liked items",
                    sort="-y",
                    x_label_angle=-30,
                    y_lim=[0, None],
                    height=320,
                    min_width=280,
                )
            per_day_plot = gr.BarPlot(x="day", y="turns", title="Turns per day (UTC)", y_lim=[0, None], height=240)
            refresh_button = gr.Button("Refresh", size="sm", elem_id="logs-refresh")
            with gr.Row():
                export_format = gr.Radio(list(EXPORT_FORMATS), value="sft", label="Export format")
                only_positive = gr.Checkbox(label="Only turns with positive feedback")
                prepare = gr.Button("Prepare export", elem_id="prepare-export")
            export_file = gr.File(label="Export", interactive=False, elem_id="export-file")
        view_outputs = [summary, shown_plot, liked_plot, per_day_plot]
        sign_ins = [
            trigger(
                sign_in,
                [user, password],
                [signed_in, password, login_panel, logs_panel, *view_outputs],
                api_visibility="private",
            )
            for trigger in (sign_in_button.click, password.submit)
        ]
        refresh_button.click(refresh, [signed_in], view_outputs, api_visibility="private")
        prepare.click(prepare_export, [signed_in, export_format, only_positive], export_file, api_visibility="private")
    return signed_in, sign_ins


def build_ui(engine: ChatEngine, settings: Settings, admin: AdminLogin | None = None) -> gr.Blocks:
    """The chat; with `admin`, a Logs tab beside it."""
    slots = settings.items_per_reply
    store = engine.log_store
    images = CardImages.for_source(engine.catalog.source)

    claims = threading.Lock()  # makes "is a reply being written? if not, one is now" a single step

    def new_conversation() -> Conversation:
        return Conversation(engine.new_session())

    def set_log_choice(dont_log: bool, session: ChatSession) -> None:
        try:
            if engine.set_logging(session, not dont_log):
                gr.Info("This conversation is not logged any more; what was logged of it is deleted.")
        except LogStoreError:
            log.exception("could not delete the logged turns of session %s", session.id)
            gr.Warning("Nothing more of this conversation will be logged, but its earlier turns could not be deleted.")

    def card_updates(items: list[ShownItem], started_over: bool = False, pending: Sequence[Item] = ()) -> list:
        """The cards column (shown from the conversation's first picks until it starts over) and each card slot: the
        shown items', then the pending ones' (no buttons until their reason comes)."""
        cards = [card_html(shown, images=images) for shown in items] + [
            pending_card_html(item, images) for item in pending
        ]
        updates = [gr.update(visible=True) if cards else gr.update(visible=False) if started_over else gr.update()]
        for slot in range(slots):
            visible = slot < len(cards)
            updates.append(gr.update(value=cards[slot] if visible else "", visible=visible))
            updates.append(gr.update(visible=slot < len(items)))
            updates.append(gr.update(visible=False))  # the slot's "Show another"
        return updates

    def take(message: str, history: list, conversation: Conversation, again: bool = False) -> TakenMessage | None:
        """Takes the message for a reply, unless one is still being written: then a notice says so, and None.

        again: the message replaces the last one (retried or edited): the engine session is rewound to before the last
        turn, and `history` is the chat before that turn's message. None, with a notice, when there is none to replace.
        """
        chat = [
            *(history or []),
            {"role": "user", "content": plain_text(message)},
            {"role": "assistant", "content": "…"},
        ]
        with claims:
            busy = conversation.replying
            rewound = not busy and (not again or conversation.last_stopped or engine.rewind(conversation.session))
            if rewound:
                taken = TakenMessage(message, conversation.session, chat)
                conversation.replying, conversation.last_message, conversation.last_stopped = True, message, False
                conversation.taken.append(taken)
        if busy:
            gr.Warning(BUSY, title="One message at a time")
        elif not rewound:
            gr.Info(ONLY_LATEST)
        return taken if rewound else None

    def take_message(message: str, history: list, conversation: Conversation):
        """The box's message into the chat, or, while a reply is being written, left in the box."""
        taken = take(message, history, conversation)
        return ("", taken.chat) if taken else (gr.skip(), gr.skip())

    def write_reply(dont_log: bool, conversation: Conversation):
        """Streams the reply to the oldest taken message, if any (a refused message leaves none). The turn runs to its
        end and is logged, unless the person stops it: then it ends at its next update, is undone in the engine
        session and not logged, and what was shown of it stays, marked stopped. Once the person has started over,
        nothing more of it reaches the screen."""
        with claims:
            if not conversation.taken:
                return
            message = conversation.taken.pop(0)
        session, history = message.session, list(message.chat)
        try:
            set_log_choice(bool(dont_log), session)
            updates = engine.respond(session, message.text)
            written = history[-1]["content"]  # the reply so far, without the lines of reasons still being written
            for update in updates:
                if conversation.session is session and conversation.stopping and update.result is None:
                    updates.close()
                    engine.rewind(session)
                    conversation.last_stopped = True
                    history[-1] = {"role": "assistant", "content": written + "\n" + STOPPED}
                    yield history, [], gr.skip(), *card_updates([])
                    return
                if conversation.session is session:
                    written = reply_text(update.text, update.items)
                    history[-1] = {
                        "role": "assistant",
                        "content": reply_text(update.text, update.items, update.pending),
                    }
                    hood = turn_report(update.result, engine.catalog) if update.result else gr.skip()
                    yield (
                        history,
                        update.items,
                        hood if settings.show_internals or conversation.admin else gr.skip(),
                        *card_updates(update.items, pending=update.pending),
                    )
        except Exception:  # noqa: BLE001 - the edge: a person never sees a traceback
            log.exception("turn failed")
            if conversation.session is session:
                history[-1] = {"role": "assistant", "content": SORRY}
                yield history, [], "", *card_updates([])
        finally:
            with claims:
                if conversation.session is session:
                    conversation.replying = conversation.stopping = False

    def stop(conversation: Conversation) -> None:
        """Asks the reply being written to stop (see `write_reply`)."""
        with claims:
            conversation.stopping = conversation.replying

    def before_last_message(history: list) -> list | None:
        """The chat before its last message from the person, or None when the person has sent none."""
        users = [index for index, message in enumerate(history or []) if message["role"] == "user"]
        return history[: users[-1]] if users else None

    def retry(history: list, conversation: Conversation):
        """The latest reply written again: the turn is undone in the engine and the log, and its message sent again."""
        earlier = before_last_message(history)
        taken = take(conversation.last_message, earlier, conversation, again=True) if earlier is not None else None
        return taken.chat if taken else gr.skip()

    def edit(data: gr.EditData, history: list, conversation: Conversation):
        """The person's latest message, edited, replaces it: the turn is undone in the engine and the log, and the
        edited message answered. An earlier message cannot be edited: the chat stays as it was."""
        earlier = before_last_message(history)
        taken = None
        if earlier is not None and data.index == len(earlier) and str(data.value).strip():
            taken = take(str(data.value), earlier, conversation, again=True)
        elif earlier is not None:
            gr.Info(ONLY_LATEST)
        return taken.chat if taken else history

    def respond(message: str, history: list, dont_log: bool, conversation: Conversation):
        """One turn for API clients: what sending a message does in the browser, in one call."""
        if take(message, history, conversation) is None:
            yield history, gr.skip(), gr.skip(), gr.skip(), *[gr.skip()] * (3 * slots)
            return
        yield from write_reply(dont_log, conversation)

    def start_over(conversation: Conversation):
        """A new engine session (so a new log session) behind an empty chat; a reply still streaming stays off screen."""
        with claims:
            conversation.session, conversation.replying = engine.new_session(), False
            conversation.stopping = conversation.last_stopped = False
        return [], [], "", *card_updates([], started_over=True)

    def bring_history(path: str | None, history: list, dont_log: bool, conversation: Conversation):
        """Seeds this conversation with an uploaded watch history, and says in the chat what matched and what did not.
        A file that cannot be read, or one brought while a reply is being written, is a notice and changes nothing."""
        if not path:
            return gr.skip()
        try:
            found = match_history(read_history(path), engine.catalog.items)
        except HistoryError as error:
            notice = f"{Path(path).name}: {error.reason}. Expected: {history_formats(settings.wording)}."
            gr.Warning(html.escape(notice, quote=False), title="Could not read that history")  # a toast reads HTML
            return gr.skip()
        with claims:  # not while a reply changes the same state; a start-over waits for the seeding, then clears it
            busy = conversation.replying
            if not busy:
                set_log_choice(bool(dont_log), conversation.session)
                seeded = engine.seed_history(conversation.session, found)
        if busy:
            gr.Warning(HISTORY_BUSY, title="One thing at a time")
            return gr.skip()
        return [*(history or []), {"role": "assistant", "content": plain_text(seeded.reply)}]

    def item_feedback(kind: str, slot: int):
        """Records feedback on the card in `slot` and shows it there: a liked or disliked card is marked, a card set
        aside ("not interested") leaves the screen, and its slot offers "Show another"."""

        def handler(conversation: Conversation, shown: list[ShownItem]):
            if slot >= len(shown):
                return gr.update(), gr.update(), gr.update()
            engine.feedback(conversation.session, kind, shown[slot].item.id)
            gr.Info(FEEDBACK_NOTICES[kind], duration=3)
            if kind == "not_interested":
                return gr.update(visible=False), gr.update(visible=False), gr.update(visible=True)
            return gr.update(value=card_html(shown[slot], kind, images)), gr.update(), gr.update()

        return handler

    def refill(slot: int):
        """Fills the set-aside card's slot with the latest search's next-best item not yet shown (`ChatEngine.
        replacement`); when there is none, or a reply is being written, a notice, and the slot stays as it is."""

        def handler(conversation: Conversation, shown: list[ShownItem]):
            unchanged = gr.update(), gr.update(), gr.update(), gr.skip()
            with claims:  # not while a reply changes the same state
                busy = conversation.replying
                new = (
                    None
                    if busy or slot >= len(shown)
                    else engine.replacement(conversation.session, shown[slot].item.id)
                )
            if new is None:
                gr.Info(BUSY if busy else NO_MORE_PICKS, duration=4)
                return unchanged if busy else (gr.update(), gr.update(), gr.update(visible=False), gr.skip())
            shown = [*shown[:slot], new, *shown[slot + 1 :]]
            return (
                gr.update(value=card_html(new, images=images), visible=True),
                gr.update(visible=True),
                gr.update(visible=False),
                shown,
            )

        return handler

    def reply_feedback(data: gr.LikeData, conversation: Conversation, history: list):
        if data.index != len(history or []) - 1:
            # The engine files reply feedback under the latest turn; an older reply's would be mislabelled.
            gr.Info("Feedback is recorded for the latest reply only.")
            return
        engine.feedback(conversation.session, "like" if data.liked else "dislike")

    well_known = SearchRequest(query=f"well-loved {settings.wording.plural}", k=20)  # an empty conversation's search
    examples = settings.example_messages or example_requests(
        engine.catalog, [scored.item for scored in engine.search.run(well_known)]
    )
    welcome = welcome_markdown(engine.catalog, examples, slots, settings.welcome_message)

    with gr.Blocks(title=settings.title) as demo:
        conversation = gr.State(new_conversation)
        shown_items = gr.State([])  # the ShownItems on the cards, in slot order
        with gr.Row(elem_id="header"):
            if settings.logo:
                gr.Image(
                    settings.logo,
                    show_label=False,
                    container=False,
                    interactive=False,
                    buttons=[],
                    height=64,
                    width=64,
                    scale=0,
                    min_width=64,
                    elem_id="logo",
                )
            gr.Markdown(f"# {html.escape(settings.title)}\n{html.escape(settings.subtitle)}", elem_id="title")
        with gr.Tabs() if admin else contextlib.nullcontext():
            with gr.Tab("Chat", elem_id="chat-tab") if admin else contextlib.nullcontext():  # noqa: SIM117 (the nesting is the page's layout)
                with gr.Row(equal_height=False, elem_id="main-row"):
                    with gr.Column(scale=3, min_width=320, elem_id="chat-column"):
                        # Messages are plain text (`plain_text`), so the copy button and screen readers get them as
                        # written; Gradio's sanitizer stays on as a second line, with no custom tags and no LaTeX.
                        chatbot = gr.Chatbot(
                            label="Conversation",
                            height=480,
                            elem_id="chat",
                            render_markdown=False,
                            sanitize_html=True,
                            allow_tags=False,
                            latex_delimiters=[],
                            placeholder=welcome,
                            editable="user",
                        )
                        with gr.Row():
                            box = gr.Textbox(
                                placeholder=settings.message_placeholder,
                                show_label=False,
                                scale=5,
                                elem_id="message",
                                max_lines=4,
                            )
                            send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
                        with gr.Row():
                            stop_button = gr.Button("Stop", size="sm", elem_id="stop", min_width=60)
                            new = gr.Button("New conversation", size="sm", elem_id="new-conversation")
                            bring = gr.UploadButton(
                                "Bring your watch history" if settings.wording.is_film else "Bring your history",
                                size="sm",
                                elem_id="history-upload",
                                file_types=[".csv", ".tsv", ".txt"],
                            )
                            dont_log = gr.Checkbox(
                                False,
                                label="Don't log this conversation",
                                elem_id="dont-log",
                                visible=store is not None,
                            )
                        gr.Markdown(
                            f"{'Watch history' if settings.wording.is_film else 'History'}: "
                            f"{history_formats(settings.wording)}.",
                            elem_id="history-formats",
                        )
                        gr.Examples(examples, inputs=box, elem_id="examples")
                    with gr.Column(
                        scale=2, min_width=280, elem_classes="cards-column", elem_id="cards", visible=False
                    ) as cards_column:
                        gr.Markdown("### Recommended")
                        card_outputs, feedback_buttons = [], []
                        for slot in range(slots):
                            with gr.Group(visible=True):
                                card = gr.HTML(visible=False, elem_id=f"card-{slot}")
                                with gr.Row(visible=False, elem_id=f"card-actions-{slot}") as actions:
                                    up = gr.Button("Like", size="sm", elem_id=f"like-{slot}", min_width=40)
                                    down = gr.Button("Dislike", size="sm", elem_id=f"dislike-{slot}", min_width=40)
                                    skip = gr.Button("Not interested", size="sm", elem_id=f"skip-{slot}", min_width=60)
                                another = gr.Button("Show another", size="sm", visible=False, elem_id=f"another-{slot}")
                            card_outputs += [card, actions, another]
                            feedback_buttons.append((slot, up, down, skip, card, actions, another))
                        with gr.Accordion(
                            "Under the hood", open=False, visible=settings.show_internals, elem_id="under-the-hood"
                        ) as hood_panel:
                            hood = gr.Markdown(elem_id="hood")
            if admin:
                signed_in, sign_ins = build_logs_tab(store, admin)

                def reveal_internals(signed: bool, current: Conversation):
                    current.admin = bool(signed)
                    return gr.update(visible=settings.show_internals or current.admin)

                for signing_in in sign_ins:
                    signing_in.then(reveal_internals, [signed_in, conversation], hood_panel, api_visibility="private")
        reply_outputs = [chatbot, shown_items, hood, cards_column, *card_outputs]
        # Taking a message (sent, retried or edited) has no concurrency limit, so it never waits behind others'
        # replies: the box empties, or the refusal shows, at once. Its reply may start while a reply the person walked
        # away from (by starting over) still runs: "multiple", or the browser would drop it.
        takings = [
            trigger(
                take_message,
                [box, chatbot, conversation],
                [box, chatbot],
                concurrency_limit=None,
                api_visibility="private",
            )
            for trigger in (send.click, box.submit)
        ]
        takings += [
            chatbot.retry(retry, [chatbot, conversation], chatbot, concurrency_limit=None, api_visibility="private"),
            chatbot.edit(edit, [chatbot, conversation], chatbot, concurrency_limit=None, api_visibility="private"),
        ]
        for taking in takings:
            taking.then(
                write_reply, [dont_log, conversation], reply_outputs, api_visibility="private", trigger_mode="multiple"
            )
        stop_button.click(stop, [conversation], None, concurrency_limit=None, api_visibility="private")
        api = gr.Button(visible=False)  # the one API endpoint for a turn, as in Gradio's ChatInterface
        api.click(respond, [box, chatbot, dont_log, conversation], reply_outputs, api_name="respond")
        new.click(start_over, [conversation], reply_outputs, api_visibility="private")
        bring.upload(bring_history, [bring, chatbot, dont_log, conversation], chatbot, api_visibility="private")
        chatbot.clear(start_over, [conversation], reply_outputs, api_visibility="private")
        dont_log.change(
            lambda choice, current: set_log_choice(choice, current.session),
            [dont_log, conversation],
            None,
            api_visibility="private",
        )
        chatbot.like(reply_feedback, [conversation, chatbot], None)
        for slot, up, down, skip, card, actions, another in feedback_buttons:
            for button, kind in ((up, "like"), (down, "dislike"), (skip, "not_interested")):
                button.click(item_feedback(kind, slot), [conversation, shown_items], [card, actions, another])
            another.click(
                refill(slot),
                [conversation, shown_items],
                [card, actions, another, shown_items],
                api_visibility="private",
            )
    return demo


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Conversational film recommender (web app).", formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(parse_args(argv))
        admin = AdminLogin.from_environment()
        engine = build_engine(settings)
    except (CatalogError, ValueError, LLMError, ModelUnavailableError, StaleIndexError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    demo = build_ui(engine, settings, admin)
    demo.queue(default_concurrency_limit=4)
    pictures = CardImages.for_source(engine.catalog.source).allowed_files(engine.catalog)  # only these files are served
    demo.launch(
        server_name=settings.host, server_port=settings.port, share=settings.share, css=CSS, allowed_paths=pictures
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
