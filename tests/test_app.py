"""The Gradio app served in-process with the fake models: the opt-out, the API surface, the Logs tab's presence and sign-in."""

import socket

import gradio as gr
import pytest
from gradio_client import Client

from app import build_ui, stats_views
from chat.settings import AdminLogin, Settings

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
    logged.predict("something older", history, True, api_name="/respond")  # opting out mid-way forgets the earlier turns
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
