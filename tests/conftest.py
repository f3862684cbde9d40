"""Shared fixtures: a small real catalogue file, a real FAISS index over fake embeddings, an engine with fakes."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from fakes import HashingEmbedder, ScriptedChatModel  # noqa: E402

from chat.engine import ChatEngine, EngineSettings  # noqa: E402
from chat.logs import LogStore  # noqa: E402
from retrieval.catalog import load_catalog  # noqa: E402
from retrieval.index import ItemIndex  # noqa: E402
from retrieval.item_search import ItemSearch, SearchOptions  # noqa: E402

DEMO_CATALOG = ROOT / "data" / "movies.jsonl"


def _film(
    item_id,
    title,
    year,
    genres,
    keywords,
    directors=("Someone Director",),
    cast=("Ann Actor", "Bob Actor"),
    runtime=100,
    synopsis="",
):
    return {
        "id": item_id,
        "title": title,
        "year": year,
        "genres": list(genres),
        "keywords": list(keywords),
        "directors": list(directors),
        "cast": list(cast),
        "runtime_min": runtime,
        "synopsis": synopsis or f"A {' '.join(genres)} story that is {' '.join(keywords)}.",
    }


SMALL_CATALOG = [
    _film(
        "alien-1979",
        "Alien",
        1979,
        ["horror", "science fiction"],
        ["space", "creature", "tense", "gore"],
        ["Ridley Scott"],
        ["Sigourney Weaver"],
    ),
    _film(
        "the-thing-1982",
        "The Thing",
        1982,
        ["horror", "science fiction"],
        ["paranoid", "creature", "gore", "snow"],
        ["John Carpenter"],
        ["Kurt Russell"],
    ),
    _film(
        "the-shining-1980",
        "The Shining",
        1980,
        ["horror", "drama"],
        ["atmospheric", "ghosts", "hotel", "tense"],
        ["Stanley Kubrick"],
        ["Jack Nicholson"],
    ),
    _film(
        "the-others-2001",
        "The Others",
        2001,
        ["horror", "mystery"],
        ["ghosts", "atmospheric", "tense"],
        ["Alejandro Amenabar"],
        ["Nicole Kidman"],
    ),
    _film(
        "poltergeist-1982", "Poltergeist", 1982, ["horror", "fantasy"], ["ghosts", "family", "tense"], ["Tobe Hooper"]
    ),
    _film(
        "rosemarys-baby-1968",
        "Rosemary's Baby",
        1968,
        ["horror", "drama"],
        ["paranoid", "tense", "slow-burn"],
        ["Roman Polanski"],
    ),
    _film(
        "psycho-1960",
        "Psycho",
        1960,
        ["horror", "thriller"],
        ["tense", "motel", "black and white"],
        ["Alfred Hitchcock"],
    ),
    _film(
        "dawn-of-the-dead-1978", "Dawn of the Dead", 1978, ["horror"], ["zombies", "gore", "mall"], ["George A. Romero"]
    ),
    _film(
        "groundhog-day-1993",
        "Groundhog Day",
        1993,
        ["comedy", "fantasy", "romance"],
        ["time loop", "feel-good", "funny"],
        ["Harold Ramis"],
        ["Bill Murray"],
    ),
    _film(
        "dumb-and-dumber-1994",
        "Dumb and Dumber",
        1994,
        ["comedy"],
        ["road trip", "silly", "funny"],
        ["Peter Farrelly"],
        ["Jim Carrey"],
    ),
    _film(
        "clueless-1995",
        "Clueless",
        1995,
        ["comedy", "romance"],
        ["high school", "funny", "feel-good"],
        ["Amy Heckerling"],
    ),
    _film("braindead-1992", "Braindead", 1992, ["comedy", "horror"], ["zombies", "gore", "funny"], ["Peter Jackson"]),
    _film("office-space-1999", "Office Space", 1999, ["comedy"], ["workplace", "satire", "funny"], ["Mike Judge"]),
    _film(
        "top-gun-1986",
        "Top Gun",
        1986,
        ["action", "drama"],
        ["pilots", "fast-paced"],
        ["Tony Scott"],
        ["Tom Cruise", "Kelly McGillis"],
    ),
    _film(
        "mission-impossible-1996",
        "Mission: Impossible",
        1996,
        ["action", "thriller"],
        ["spies", "heist"],
        ["Brian De Palma"],
        ["Tom Cruise", "Jon Voight"],
    ),
    _film(
        "heat-1995",
        "Heat",
        1995,
        ["crime", "thriller"],
        ["heist", "los angeles", "tense"],
        ["Michael Mann"],
        ["Al Pacino", "Robert De Niro"],
    ),
    _film(
        "toy-story-1995",
        "Toy Story",
        1995,
        ["animation", "family", "comedy"],
        ["toys", "friendship", "feel-good"],
        ["John Lasseter"],
        ["Tom Hanks", "Tim Allen"],
    ),
    _film(
        "spirited-away-2001",
        "Spirited Away",
        2001,
        ["animation", "fantasy", "family"],
        ["spirits", "coming of age", "subtitles"],
        ["Hayao Miyazaki"],
    ),
    _film(
        "unforgiven-1992",
        "Unforgiven",
        1992,
        ["western", "drama"],
        ["revenge", "bleak"],
        ["Clint Eastwood"],
        ["Clint Eastwood", "Gene Hackman"],
        130,
    ),
    _film(
        "high-noon-1952",
        "High Noon",
        1952,
        ["western"],
        ["tense", "duty", "black and white"],
        ["Fred Zinnemann"],
        ["Gary Cooper"],
        85,
    ),
]


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    path = tmp_path / "films.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in SMALL_CATALOG) + "\n")
    return path


@pytest.fixture
def catalog(catalog_path):
    return load_catalog(catalog_path)


@pytest.fixture
def embedder():
    return HashingEmbedder()


@pytest.fixture
def index(catalog, embedder):
    return ItemIndex.build(catalog, embedder, progress=False)


@pytest.fixture
def log_store(tmp_path):
    return LogStore(f"sqlite:///{tmp_path / 'logs.db'}")


def make_engine(catalog, index, embedder, llm=None, log_store=None, reranker=None, **settings) -> ChatEngine:
    search = ItemSearch.open(index, embedder, SearchOptions(collaborative="none", ranker="none"))
    return ChatEngine(catalog, search, llm, log_store, EngineSettings(**settings), reranker)


@pytest.fixture
def engine(catalog, index, embedder, log_store):
    return make_engine(catalog, index, embedder, ScriptedChatModel(), log_store)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for a module of browser tests."""
    from served_app import chromium

    with chromium() as browser:
        yield browser


@pytest.fixture
def page(app, browser):
    """A page of the module's `app` fixture (a `served_app.serve_app`), in a browser context of its own."""
    from served_app import chat_page

    with chat_page(browser, app[0]) as page:
        yield page
