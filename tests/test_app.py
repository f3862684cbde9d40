"""The Gradio app served in-process with the fake models: the opt-out, the API surface, the Logs tab's presence and
sign-in, markup from a catalogue or a person shown as plain text, and a brought watch history."""

import json
import socket
from html.parser import HTMLParser

import gradio as gr
import pytest
from conftest import SMALL_CATALOG, make_engine
from fakes import StaggeredChatModel
from gradio_client import Client
from markdown_it import MarkdownIt

from app import WRITING, Conversation, build_ui, plain_text, stats_views
from chat import prompts
from chat.engine import ChatSession
from chat.history import history_reply, match_history, read_history
from chat.settings import AdminLogin, Settings
from retrieval.catalog import Item, load_catalog
from retrieval.index import ItemIndex

MESSAGE = "I loved Alien, a horror film but nothing gory"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tab_labels(demo: gr.Blocks) -> set[str]:
    return {block.label for block in demo.blocks.values() if isinstance(block, gr.Tab)}


@pytest.fixture
def served(engine):
    demo = build_ui(engine, Settings(), AdminLogin("admin", "s3cret"))
    port = free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def test_admin_login_needs_both_variables_and_compares_both_fields():
    assert AdminLogin.from_environment({"RECSYS_ADMIN_USER": "a"}) is None
    assert AdminLogin.from_environment({"RECSYS_ADMIN_USER": "a", "RECSYS_ADMIN_PASSWORD": ""}) is None
    login = AdminLogin.from_environment({"RECSYS_ADMIN_USER": "a", "RECSYS_ADMIN_PASSWORD": "pw"})
    assert login.matches("a", "pw") and not login.matches("a", "PW") and not login.matches("b", "pw")
    assert not login.matches("a", "pwé") and "pw" not in repr(login)


def test_logs_tab_is_present_only_with_admin_credentials(engine):
    assert "Logs" not in tab_labels(build_ui(engine, Settings()))
    assert {"Chat", "Logs"} <= tab_labels(build_ui(engine, Settings(), AdminLogin("admin", "s3cret")))


def test_under_the_hood_is_shown_to_visitors_only_when_the_setting_asks(engine):
    def hood_panel(settings: Settings) -> gr.Accordion:
        demo = build_ui(engine, settings)
        return next(block for block in demo.blocks.values() if getattr(block, "elem_id", None) == "under-the-hood")

    assert not hood_panel(Settings()).visible and hood_panel(Settings(show_internals=True)).visible

    for settings, shown in ((Settings(), False), (Settings(show_internals=True), True)):
        respond = next(fn.fn for fn in build_ui(engine, settings).fns.values() if fn.api_name == "respond")
        *_, last = respond("a horror film", [], True, Conversation(engine.new_session()))
        assert ("**Search call**" in last[2]) if shown else last[2] == gr.skip()  # nothing of it leaves the server


def test_logo_setting_must_name_a_file(tmp_path):
    with pytest.raises(ValueError, match="logo"):
        Settings(logo=str(tmp_path / "missing.png"))


def test_title_subtitle_and_logo_appear_in_the_header(engine, tmp_path):
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (8, 8), "orange").save(logo)
    demo = build_ui(engine, Settings(title="Acme <Films>", subtitle="for the board", logo=str(logo)))
    assert any(isinstance(block, gr.Image) and block.elem_id == "logo" for block in demo.blocks.values())
    title = next(block for block in demo.blocks.values() if block.elem_id == "title")
    assert "Acme &lt;Films&gt;" in title.value and "for the board" in title.value


def test_turns_are_logged_unless_the_person_opts_out(served, log_store):
    logged, opted_out = Client(served, verbose=False), Client(served, verbose=False)
    history = logged.predict(MESSAGE, [], False, api_name="/respond")[0]
    assert len(log_store.turns()) == 1
    opted_out.predict(MESSAGE, [], True, api_name="/respond")
    assert len(log_store.turns()) == 1
    logged.predict(
        "something older", history, True, api_name="/respond"
    )  # opting out mid-way forgets the earlier turns
    assert log_store.counts() == {"sessions": 0, "turns": 0, "feedback": 0}


def test_logs_views_summarise_the_store(engine, log_store):
    session = engine.new_session()
    result = [u.result for u in engine.respond(session, MESSAGE)][-1]
    engine.feedback(session, "like", result.items[0].item.id)
    summary, shown, liked, per_day = stats_views(log_store)
    assert "| 1 | 1 | 100% | 100% |" in summary
    assert len(shown) == len(result.items) and list(liked["likes"]) == [1] and list(per_day["turns"]) == [1]
    assert stats_views(None)[0].startswith("Logging is off")


def test_logs_tab_handlers_are_not_exposed_to_api_clients(served):
    endpoints = set(Client(served, verbose=False).view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert "/respond" in endpoints
    assert not {"/sign_in", "/refresh", "/prepare_export", "/set_log_choice"} & endpoints


# ----- markup stays inert --------------------------------------------------------------------

HOSTILE_TITLE = "<script>alert(1)</script> & *Stars*"
HOSTILE_FILM = {
    "id": "hostile-1999",
    "title": HOSTILE_TITLE,
    "year": 1999,
    "genres": ["western"],
    "keywords": ["<img src=x onerror=alert(1)>", "[a link](http://evil.example)"],
    "directors": ["**Bold** Director"],
    "cast": ["Ann Actor"],
    "runtime_min": 90,
    "synopsis": "<iframe src=http://evil.example></iframe> A western.",
}
HOSTILE_MESSAGE = "a western <i>please</i> **now** [see](http://evil.example) <img src=x onerror=alert(2)>"
# The engine's replies are Markdown (bold item labels) where they are logged and exported; marked, as Gradio renders
# Markdown (GFM, line breaks, HTML allowed), is stood in for by markdown-it with the same options.
MARKDOWN = MarkdownIt("commonmark", {"html": True, "breaks": True}).enable(["strikethrough", "table"])


class RenderedHTML(HTMLParser):
    """The tags, the text and the bold spans of rendered HTML."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.text, self.bold = "", []
        self._in_bold = False
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "strong":
            self._in_bold = True
            self.bold.append("")

    def handle_endtag(self, tag):
        self._in_bold = self._in_bold and tag != "strong"

    def handle_data(self, data):
        self.text += data
        if self._in_bold:
            self.bold[-1] += data


def rendered(markdown_text: str) -> RenderedHTML:
    return RenderedHTML(MARKDOWN.render(markdown_text))


@pytest.fixture
def hostile_engine(tmp_path, embedder):
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in [*SMALL_CATALOG, HOSTILE_FILM]) + "\n")
    catalog = load_catalog(path)
    return make_engine(catalog, ItemIndex.build(catalog, embedder, progress=False), embedder, llm=None)


def ui_turn(demo: gr.Blocks, session: ChatSession, message: str) -> tuple[list[dict], list]:
    """One turn through the app's own handler: the chat as Gradio sends it to the browser, and the card updates."""
    respond = next(fn.fn for fn in demo.fns.values() if fn.api_name == "respond")
    *_, last = respond(message, [], True, Conversation(session))
    history, cards = last[0], last[4:]  # chat, shown, under the hood, cards column, then the cards
    chatbot = next(block for block in demo.blocks.values() if getattr(block, "elem_id", None) == "chat")
    return chatbot.postprocess(history).model_dump(), cards


def test_the_cards_come_with_the_opening_line_and_say_writing_until_their_reason_comes(catalog, index, embedder):
    llm = StaggeredChatModel(['funny films"', "a fine pick for tonight with a strong mood"], finish_order=(0, 1, 2))
    demo = build_ui(make_engine(catalog, index, embedder, llm), Settings())
    respond = next(fn.fn for fn in demo.fns.values() if fn.api_name == "respond")
    screens = []  # per update: the reply's text, and per card slot its html (None when hidden) and whether its buttons show
    for update in respond("a comedy please", [], True, Conversation(ChatSession())):
        slots = [update[4 + 3 * slot : 7 + 3 * slot] for slot in range(3)]
        screens.append(
            (
                update[0][-1]["content"],
                [(card["value"] if card["visible"] else None, actions["visible"]) for card, actions, _ in slots],
            )
        )
    opening, first, *_, last = screens
    assert opening[0].count(WRITING) == 3 and all(WRITING in html and not buttons for html, buttons in opening[1])
    assert first[0].count(WRITING) == 2 and [WRITING in html for html, _ in first[1]] == [False, True, True]
    assert [buttons for _, buttons in first[1]] == [True, False, False]
    assert WRITING not in last[0] and all(html and WRITING not in html and buttons for html, buttons in last[1])


def test_markup_in_catalogue_fields_and_messages_is_shown_as_plain_text(hostile_engine):
    demo = build_ui(hostile_engine, Settings())
    chatbot = next(block for block in demo.blocks.values() if getattr(block, "elem_id", None) == "chat")
    assert not chatbot.render_markdown and chatbot.sanitize_html and chatbot.allow_tags is False
    assert chatbot.latex_delimiters == []

    # With Markdown off, the chat reads each message as HTML (then sanitizes it): Python's HTML parser stands in.
    messages, cards = ui_turn(demo, hostile_engine.new_session(), HOSTILE_MESSAGE)
    user, reply = (RenderedHTML(m["content"][0]["text"]) for m in messages)
    assert not user.tags and user.text == HOSTILE_MESSAGE
    assert not reply.tags, reply.tags
    assert f". {HOSTILE_TITLE} (1999): " in reply.text  # every character as the catalogue has it
    assert all(label in reply.text for label in ("Unforgiven (1992): ", "High Noon (1952): "))
    *_, last = hostile_engine.respond(hostile_engine.new_session(), HOSTILE_MESSAGE)  # the same turn, from the engine
    assert all(f": {item.why}" in reply.text for item in last.result.items)  # every reason as the engine wrote it
    hostile_card = next(card["value"] for card in cards[::3] if "hostile-1999" in card["value"])
    card = RenderedHTML(hostile_card)
    assert card.tags == {"div", "img"} and HOSTILE_TITLE in card.text and "**Bold** Director" in card.text


@pytest.mark.parametrize(
    "text",
    [
        "1990-1999, funny.",
        "M*A*S*H",
        "Thelma & Louise",
        "AT&T",
        "Q&A",
        "<3 a < b > c",
        "[x](y) **z** `w` # h",
        "Back\\slash",
    ],
)
def test_ordinary_text_reaches_the_chat_unchanged(text):
    assert plain_text(text) == text and RenderedHTML(text).text == text


@pytest.mark.parametrize(
    "text", ["<b>bold</b>", "</p>", "<!-- c -->", "<?x", "&amp;", "&copy 2020", "&#169;", "&notit;"]
)
def test_text_that_html_would_read_as_markup_is_escaped(text):
    escaped = plain_text(text)
    assert escaped != text and RenderedHTML(escaped).text == text and not RenderedHTML(escaped).tags


@pytest.mark.parametrize(
    "title",
    [
        "M*A*S*H",
        "Thelma & Louise",
        "Mission: Impossible",
        "<b>Up</b> &lt;i&gt;",
        "_Under_ `code` ~~gone~~ $$x^2$$ | a",
        "[click](http://evil.example) www.evil.example a@evil.example",
        "Back\\slash",
    ],
)
def test_item_labels_render_bold_and_exactly_as_written(title):
    line = rendered(prompts.item_line_prefix(1, Item(id="x", title=title, year=1970)) + "a reason.")
    assert line.tags == {"ol", "li", "strong"} and line.bold == [f"{title} (1970)"]


# ----- a brought watch history ---------------------------------------------------------------


def test_a_brought_history_is_said_back_as_plain_text_and_a_bad_file_changes_nothing(engine, log_store, tmp_path):
    demo = build_ui(engine, Settings())
    bring = next(fn.fn for fn in demo.fns.values() if fn.fn.__name__ == "bring_history")
    conversation = Conversation(engine.new_session())
    earlier = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello"}]
    history = tmp_path / "ratings.csv"
    history.write_text("Date,Name,Year,Rating\n2024-01-01,Alien,1979,5\n2024-01-02,<b>Nope</b> & Co,2022,4\n")
    chat = bring(str(history), earlier, False, conversation)
    assert chat[:2] == earlier and len(chat) == 3 and chat[2]["role"] == "assistant"
    assert RenderedHTML(chat[2]["content"]).text == history_reply(
        match_history(read_history(history), engine.catalog.items), engine.catalog
    )
    assert "Not found: <b>Nope</b> & Co (2022)." in RenderedHTML(chat[2]["content"]).text
    assert conversation.session.state.liked == ("alien-1979",) and log_store.turns()[-1]["kind"] == "history"

    bad = tmp_path / "notes.csv"
    bad.write_text("movie_id,stars\n1,5\n")
    turns = len(log_store.turns())
    with pytest.warns(UserWarning, match="notes.csv: needs a title column"):
        assert bring(str(bad), chat, False, conversation) == gr.skip()
    conversation.replying = True  # a reply is being written: the history waits
    with pytest.warns(UserWarning, match="Still writing the reply"):
        bring(str(history), chat, False, conversation)
    assert len(log_store.turns()) == turns and conversation.session.state.liked == ("alien-1979",)
