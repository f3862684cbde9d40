"""Settings: defaults, config file, environment and flags, later winning; bad values name the field."""

import argparse
import json
from pathlib import Path

import pytest

from chat.settings import Settings, add_arguments, load_settings
from retrieval.ranking import RerankWeights


def parse(argv):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_flags_beat_environment_which_beats_config(tmp_path):
    config = tmp_path / "s.toml"
    config.write_text('items_per_reply = 5\nport = 9000\ntitle = "From file"\n')
    settings = load_settings(parse(["--config", str(config), "--port", "9100"]), {"RECSYS_ITEMS_PER_REPLY": "4"})
    assert (settings.items_per_reply, settings.port, settings.title) == (4, 9100, "From file")


def test_boolean_environment_values(tmp_path):
    assert load_settings(parse([]), {"RECSYS_NO_LOG": "yes"}).no_log is True
    with pytest.raises(ValueError, match="RECSYS_NO_LOG"):
        load_settings(parse([]), {"RECSYS_NO_LOG": "maybe"})


def test_bad_values_name_the_field(tmp_path):
    with pytest.raises(ValueError, match="items_per_reply"):
        load_settings(parse(["--items-per-reply", "0"]), {})
    config = tmp_path / "s.toml"
    config.write_text("colour = 'blue'\n")
    with pytest.raises(ValueError, match="unknown setting 'colour'"):
        load_settings(parse(["--config", str(config)]), {})


def test_binds_loopback_by_default():
    settings = load_settings(parse([]), {})
    assert settings.host == "127.0.0.1" and settings.share is False


def test_reranker_weights_are_settings():
    settings = load_settings(None, {"RECSYS_RERANK_POPULARITY": "0.2", "RECSYS_RERANK_LIKED": "0"})
    assert settings.rerank_weights.popularity == 0.2 and settings.rerank_weights.liked == 0.0
    assert Settings().rerank_weights == RerankWeights()


def test_demo_catalogue_loads_the_shipped_collaborative_model_and_ranker_by_default(tmp_path):
    from chat.settings import DEMO_COLLABORATIVE, DEMO_RANKER

    options = Settings(index=str(tmp_path / "empty-index")).search_options
    assert options.collaborative == str(DEMO_COLLABORATIVE) and DEMO_COLLABORATIVE.is_file()
    assert options.ranker == str(DEMO_RANKER) and (DEMO_RANKER / "ranker.txt").is_file()
    assert Settings(ranker_model="none").search_options.ranker == "none"  # the weighted fallback, when asked
    other = Settings(catalog=str(tmp_path / "mine.csv"), index=str(tmp_path / "idx")).search_options
    assert other.collaborative == "none" and other.ranker == "none"
    (tmp_path / "books").mkdir()  # a named index built from another catalogue never gets the demo's model
    (tmp_path / "books" / "manifest.json").write_text(json.dumps({"catalog_source": str(tmp_path / "books.csv")}))
    assert Settings(index=str(tmp_path / "books")).search_options.collaborative == "none"


def test_help_shows_real_defaults_without_machine_paths_or_double_negatives():
    from chat.settings import PROJECT_ROOT

    parser = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_arguments(parser)
    text = parser.format_help()
    assert "(default: None)" not in text and "--no-no-log" not in text and "--no-log" in text
    assert str(PROJECT_ROOT) not in text and "'sqlite:///var/conversations.db'" in text
    assert vars(parser.parse_args([])) == {}  # flags not given set nothing, so they override nothing
    assert load_settings(parser.parse_args(["--no-log"]), {}).no_log is True


def test_the_readme_brands_and_words_the_app_for_a_catalogue_in_one_toml_file(tmp_path):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    config = tmp_path / "books.toml"
    config.write_text(block)
    settings = load_settings(parse(["--config", str(config)]), {})
    assert (settings.wording.noun, settings.wording.plural) == ("book", "books")
    assert settings.title == "Book Finder" and "pages" in settings.placeholder
    assert len(settings.example_messages) == 3
    assert "film" not in settings.wording.clarifying_question() + settings.wording.about_me()


def test_item_nouns_come_from_the_environment_and_must_be_plain_words():
    settings = load_settings(None, {"RECSYS_ITEM_NOUN": "game", "RECSYS_ITEM_NOUN_PLURAL": "games"})
    assert settings.wording.a_noun == "a game"
    assert load_settings(None, {}).wording.noun == "film"
    assert load_settings(None, {"RECSYS_ITEM_NOUN": "album"}).wording.plural == "albums"
    with pytest.raises(ValueError, match="item_noun"):
        load_settings(None, {"RECSYS_ITEM_NOUN": "**book**"})


def test_another_catalogue_is_never_called_films_by_default(tmp_path):
    books = Path(__file__).resolve().parent / "data" / "books.csv"
    settings = load_settings(parse(["--catalog", str(books)]), {})
    assert (settings.wording.noun, settings.wording.plural) == ("item", "items")
    assert settings.example_messages == [] and "comedy" not in settings.message_placeholder
    demo = load_settings(parse([]), {})
    assert demo.wording.plural == "films" and len(demo.example_messages) == 4 and "comedy" in demo.message_placeholder


@pytest.mark.parametrize("source", ["environment", "config", "constructor"])
def test_a_value_outside_a_settings_choices_is_an_error_naming_the_field(tmp_path, source):
    config = tmp_path / "s.toml"
    config.write_text('dtype = "float16"\n')
    with pytest.raises(ValueError, match="dtype: must be one of 'float32', 'bfloat16'; got 'float16'"):
        if source == "environment":
            load_settings(parse([]), {"RECSYS_DTYPE": "float16"})
        elif source == "config":
            load_settings(parse(["--config", str(config)]), {})
        else:
            Settings(dtype="float16")


def test_engine_settings_check_the_same_choices():
    from chat.engine import EngineSettings

    with pytest.raises(ValueError, match="planner: must be one of 'llm', 'rules'"):
        EngineSettings(planner="gpt")


def test_the_cli_offers_every_engine_setting_and_none_of_the_web_apps():
    from chat.__main__ import parse_args

    args = parse_args(["--jsonl", "--ranker-model", "none", "--model-cache", "none", "--recency-decay", "0.5"])
    assert (args.ranker_model, args.model_cache, args.recency_decay) == ("none", "none", 0.5)
    with pytest.raises(SystemExit):
        parse_args(["--jsonl", "--port", "9000"])
