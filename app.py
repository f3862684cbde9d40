"""The web app: read settings, build the engine, wire the Gradio chat UI, launch. The only module that knows Gradio.

    python app.py                      # embedded defaults, http://127.0.0.1:7860
    python app.py --catalog items.csv  # your own catalogue (indexed on first start)
    python app.py --help               # every setting, also settable by RECSYS_* variables or --config
"""

from __future__ import annotations

import argparse
import html
import logging
import sys

import gradio as gr

from chat.assemble import build_engine
from chat.engine import ChatEngine, ChatSession, ShownItem
from chat.llm import LLMError
from chat.settings import Settings, add_arguments, load_settings
from retrieval.catalog import CatalogError
from retrieval.embeddings import ModelUnavailableError

log = logging.getLogger("app")

SORRY = "Sorry, something went wrong on my side while answering. Your conversation is safe; please try again."
EXAMPLES = [
    "I loved Alien and The Thing, something scary but not gory",
    "A 90s comedy, nothing with zombies",
    "Something like Spirited Away for a family evening",
    "A western, under 2 hours, from before 1970",
]
CSS = """
.card {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin: 0;}
.card .title {font-weight: 600;} .card .meta {opacity: .75; font-size: .9em;} .card .why {margin-top: 4px;}
@media (max-width: 640px) { .cards-column {min-width: 100% !important;} }
"""


def card_html(shown: ShownItem) -> str:
    """An item card; every field is escaped, so markup in catalogue data stays inert."""
    item = shown.item
    meta = " · ".join(p for p in (str(item.year or ""), ", ".join(item.genres), ", ".join(item.directors[:2])) if p)
    return (
        f"<div class='card' data-item-id='{html.escape(item.id, quote=True)}'>"
        f"<div class='title'>{html.escape(item.title)}</div>"
        f"<div class='meta'>{html.escape(meta)}</div>"
        f"<div class='why'>{html.escape(shown.why)}</div></div>"
    )


def under_the_hood(result) -> dict:
    if result is None:
        return {}
    return {
        "tool_call": result.tool_call,
        "candidates": result.candidates[:10],
        "guard": result.guard_notes,
        "timings_ms": result.timings_ms,
        "kind": result.kind,
    }


def build_ui(engine: ChatEngine, settings: Settings) -> gr.Blocks:
    slots = settings.items_per_reply

    def new_session() -> ChatSession:
        return engine.new_session()

    def card_updates(items: list[ShownItem]) -> list:
        updates = []
        for slot in range(slots):
            visible = slot < len(items)
            updates.append(gr.update(value=card_html(items[slot]) if visible else "", visible=visible))
            updates.append(gr.update(visible=visible))
        return updates

    def respond(message: str, history: list, session: ChatSession | None, shown_ids: list):
        session = session or new_session()
        history = list(history or []) + [{"role": "user", "content": message}, {"role": "assistant", "content": "…"}]
        yield history, "", session, shown_ids, {}, *card_updates([])
        result, items = None, []
        try:
            for update in engine.respond(session, message):
                history[-1] = {"role": "assistant", "content": update.text}
                items, result = update.items, update.result
                yield history, "", session, [s.item.id for s in items], under_the_hood(result), *card_updates(items)
        except Exception:  # noqa: BLE001 - the edge: a person never sees a traceback
            log.exception("turn failed")
            history[-1] = {"role": "assistant", "content": SORRY}
            yield history, "", session, [], {}, *card_updates([])

    def item_feedback(kind: str, slot: int):
        def handler(session: ChatSession | None, shown_ids: list):
            if session is None or slot >= len(shown_ids):
                return gr.update()
            engine.feedback(session, kind, shown_ids[slot])
            labels = {"like": "Noted: you like it.", "dislike": "Noted: not for you.", "not_interested": "Noted: won't show it again."}
            gr.Info(labels[kind])
            return gr.update(visible=kind == "like")
        return handler

    def reply_feedback(data: gr.LikeData, session: ChatSession | None):
        if session is not None:
            engine.feedback(session, "like" if data.liked else "dislike")

    def reset():
        return [], "", new_session(), [], {}, *card_updates([])

    with gr.Blocks(title=settings.title) as demo:
        session = gr.State(None)
        shown_ids = gr.State([])
        gr.Markdown(f"# {html.escape(settings.title)}\n{html.escape(settings.subtitle)}")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                chatbot = gr.Chatbot(label="Conversation", height=480, elem_id="chat")
                with gr.Row():
                    box = gr.Textbox(placeholder="e.g. a 90s comedy, nothing with zombies", show_label=False,
                                     scale=5, elem_id="message", max_lines=4)
                    send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
                new = gr.Button("New conversation", size="sm", elem_id="new-conversation")
                gr.Examples(EXAMPLES, inputs=box)
            with gr.Column(scale=2, min_width=280, elem_classes="cards-column"):
                gr.Markdown("### Recommended")
                card_outputs, feedback_buttons = [], []
                for slot in range(slots):
                    with gr.Group(visible=True):
                        card = gr.HTML(visible=False, elem_id=f"card-{slot}")
                        with gr.Row(visible=False, elem_id=f"card-actions-{slot}") as actions:
                            up = gr.Button("Like", size="sm", elem_id=f"like-{slot}", min_width=40)
                            down = gr.Button("Dislike", size="sm", elem_id=f"dislike-{slot}", min_width=40)
                            skip = gr.Button("Not interested", size="sm", elem_id=f"skip-{slot}", min_width=60)
                    card_outputs += [card, actions]
                    feedback_buttons.append((slot, up, down, skip, actions))
                with gr.Accordion("Under the hood", open=False):
                    hood = gr.JSON(label="tool call, candidates and scores, guard, timings")
        outputs = [chatbot, box, session, shown_ids, hood, *card_outputs]
        send.click(respond, [box, chatbot, session, shown_ids], outputs)
        box.submit(respond, [box, chatbot, session, shown_ids], outputs)
        new.click(reset, None, outputs)
        chatbot.like(reply_feedback, [session], None)
        for slot, up, down, skip, actions in feedback_buttons:
            up.click(item_feedback("like", slot), [session, shown_ids], actions)
            down.click(item_feedback("dislike", slot), [session, shown_ids], actions)
            skip.click(item_feedback("not_interested", slot), [session, shown_ids], actions)
    return demo


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Conversational film recommender (web app).",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(parse_args(argv))
        engine = build_engine(settings)
    except (CatalogError, ValueError, LLMError, ModelUnavailableError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    demo = build_ui(engine, settings)
    demo.queue(default_concurrency_limit=4)
    demo.launch(server_name=settings.host, server_port=settings.port, share=settings.share, css=CSS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
