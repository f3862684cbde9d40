"""Settings for the app and the CLI: one frozen dataclass, read once at the entry point.

Sources, later ones winning: the defaults below, a TOML file (`--config`), environment
variables (`RECSYS_` + the field name in capitals, e.g. `RECSYS_BASE_MODEL`), command-line flags.
Every field documents itself; `--help` prints the same text.

The Logs tab's credentials are the one exception: `AdminLogin` reads them from the environment
only (`RECSYS_ADMIN_USER`, `RECSYS_ADMIN_PASSWORD`), so they never show in a process list or a
config file, and never in `--help`.
"""

from __future__ import annotations

import argparse
import hmac
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from chat.choices import Dtype, Explainer, LLMBackend, Planner, Quantize, Reranker, check_choices, choices_of
from chat.wording import Wording
from retrieval.index import IndexMissingError, StaleIndexError, read_manifest
from retrieval.item_search import CANDIDATES_PER_SOURCE, SearchOptions
from retrieval.ranking import RECENCY_DECAY, RerankWeights

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEMO_CATALOG = PROJECT_ROOT / "data" / "movies.jsonl"
DEMO_COLLABORATIVE = (
    PROJECT_ROOT / "data" / "collaborative.npz"
)  # EASE over the ReDial train dialogues (data/README.md)
DEMO_RANKER = PROJECT_ROOT / "data" / "ranker"
ENV_PREFIX = "RECSYS_"
DEMO_PLACEHOLDER = "e.g. a 90s comedy, nothing with zombies"
DEMO_EXAMPLES = (
    "I loved Alien and The Thing, something scary but not gory",
    "A 90s comedy, nothing with zombies",
    "Something like Spirited Away for a family evening",
    "A western, under 2 hours, from before 1970",
)


def _doc(text: str, default: Any, **extra: Any) -> Any:
    return field(default=default, metadata={"help": text, **extra})


@dataclass(frozen=True)
class Settings:
    catalog: str = _doc(
        "catalogue file (JSONL, CSV, TSV or Parquet); empty: the one the --index folder was built from, "
        "else the demo catalogue data/movies.jsonl",
        "",
    )
    index: str = _doc(
        "index folder built by retrieval.build_index, used with the catalogue it was built from (a --catalog "
        "that disagrees is an error); built there when missing, never rebuilt without --rebuild-index "
        "(default: the app's own folder var/index/<catalogue name>, rebuilt whenever stale)",
        "",
    )
    rebuild_index: bool = _doc(
        "with --index: rebuild that folder in place when it is stale or was built from another "
        "catalogue than --catalog",
        False,
    )
    embedding_model: str = _doc(
        "sentence-transformers id or folder; 'default' is the embedded all-MiniLM-L6-v2", "default"
    )
    base_model: str = _doc(
        "LLM: hub id, folder or .gguf file; 'default' is the embedded SmolLM2-135M-Instruct", "default"
    )
    adapter: str = _doc("LoRA adapter folder, or 'none'; 'auto' uses adapters/default when it exists", "auto")
    llm: LLMBackend = _doc(
        "'local' runs the model in this process; 'remote' uses an OpenAI-compatible server (remote_url); "
        "'none' runs without an LLM (rules + templates)",
        "local",
    )
    dtype: Dtype = _doc("local model weights: float32 or bfloat16", "float32")
    quantize: Quantize = _doc(
        "local model CPU speed-up: 'int8' decodes with int8 weights (about 1.7x faster, same output), "
        "'int8-dynamic' is torch's dynamic quantization (breaks the adapter's format), 'none'",
        "int8",
    )
    threads: int = _doc("CPU threads for torch (0: torch's default)", 0)
    model_cache: str = _doc(
        "folder where a GGUF base model is kept dequantized (with the adapter merged) for fast starts; "
        "'none' to turn off",
        str(PROJECT_ROOT / "var" / "models"),
    )
    remote_url: str = _doc(
        "with llm=remote: base URL of an OpenAI-compatible API (vLLM, TGI, llama.cpp, Ollama, chat.serve)",
        "http://127.0.0.1:8000/v1",
    )
    remote_model: str = _doc("with llm=remote: the model name the server knows", "default")
    remote_api_key: str = _doc("with llm=remote: API key sent to the server (prefer the environment variable)", "none")
    items_per_reply: int = _doc("how many items each reply recommends", 3)
    candidates_k: int = _doc("how many ranked candidates a search keeps (the reply shows the first few)", 50)
    candidates_per_source: int = _doc(
        "how many candidates each source (dense, collaborative, popularity) recalls before they are fused and ranked",
        CANDIDATES_PER_SOURCE,
    )
    collaborative_model: str = _doc(
        "item-item model (collaborative.npz written by build_index --interactions), 'none', "
        "or 'auto': the index folder's own, else the shipped one for the demo catalogue",
        "auto",
    )
    ranker_model: str = _doc(
        "learned ranker folder (finetune.train_ranker), 'none' for the weighted ranker, or 'auto': "
        "the index folder's ranker/, else the shipped one for the demo catalogue",
        "auto",
    )
    sequential_model: str = _doc(
        "sequential recommender folder (retrieval.train_sequential), 'none', or 'auto': the index "
        "folder's sequential/ when it has one",
        "auto",
    )
    recency_decay: float = _doc(
        "weight of an earlier mention in the collaborative seeds, per later mention", RECENCY_DECAY
    )
    planner: Planner = _doc("'llm': the model writes the search call; 'rules': built from the dialogue state", "llm")
    explainer: Explainer = _doc("'llm': the model writes each reason; 'template': reasons from item facts", "llm")
    explain_batch: bool = _doc(
        "with explainer=llm: the model writes every item's reason at once, as one batch (about "
        "a third of the decoding steps), each after templated reasons for the items before it; off: one "
        "after another, each after the reasons written before it",
        True,
    )
    constrain_reasons: bool = _doc(
        "with explainer=llm and the local model: while it writes a reason, the model may write no number that is "
        "not on the item's card, may not end the reason before it says enough for the guard (7 words), and after "
        "'for fans of' may name only an item the person liked (chat.llm.constrained)",
        True,
    )
    reranker: Reranker = _doc(
        "'weights': the weighted signals below; 'llm': then the local LLM (with its adapter) reorders the top "
        "candidates by its probability of 'yes, it suits them' (TALLRec-style; about 1 s more per turn on a CPU)",
        "weights",
    )
    scorer_candidates: int = _doc("with reranker=llm: how many of the top candidates the LLM scores", 10)
    rerank_semantic: float = _doc(
        "weighted ranker: fusion weight of the dense (text similarity) source", RerankWeights.semantic
    )
    rerank_liked: float = _doc("weighted ranker: weight of closeness to films the person liked", RerankWeights.liked)
    rerank_disliked: float = _doc(
        "weighted ranker: weight of distance from films the person disliked", RerankWeights.disliked
    )
    rerank_popularity: float = _doc("weighted ranker: fusion weight of the popularity source", RerankWeights.popularity)
    rerank_collaborative: float = _doc(
        "weighted ranker: fusion weight of the collaborative source", RerankWeights.collaborative
    )
    log_db: str = _doc(
        "SQLAlchemy URL of the conversation log store", f"sqlite:///{PROJECT_ROOT / 'var' / 'conversations.db'}"
    )
    no_log: bool = _doc("do not store conversations", False)
    redact: bool = _doc("redact e-mail addresses and phone numbers before storing", True)
    host: str = _doc("address the web app binds", "127.0.0.1", ui=True)
    port: int = _doc("port of the web app", 7860, ui=True)
    share: bool = _doc("create a public share link (off unless asked)", False, ui=True)
    title: str = _doc("title shown at the top of the web app", "Film Finder", ui=True)
    subtitle: str = _doc(
        "subtitle under the title", "Tell me what you like and what to avoid; I'll suggest films and say why.", ui=True
    )
    logo: str = _doc("image file shown beside the title (PNG, JPEG, SVG, ...); empty for none", "", ui=True)
    item_noun: str = _doc(
        "what one item is called in replies, prompts and reasons ('book', 'game'); empty: 'film' for "
        "the demo catalogue, else 'item'",
        "",
    )
    item_noun_plural: str = _doc("what several items are called ('books'); empty: the noun with an 's'", "")
    placeholder: str = _doc(
        "hint shown in the empty message box; empty: the demo's for the demo catalogue, else a plain one", "", ui=True
    )
    examples: str = _doc(
        "example messages under the box, separated by ' | '; empty: the demo's for the demo catalogue, else none",
        "",
        ui=True,
    )
    show_internals: bool = _doc(
        "show every visitor 'Under the hood' (the search call, the top candidates with each "
        "signal, guard notes, timings); off: only an admin signed in to the Logs tab sees it",
        False,
        ui=True,
    )
    welcome_message: str = _doc(
        "welcome shown in the empty chat, above example requests; empty: written from the "
        "catalogue (how many titles, which years and genres, what to ask)",
        "",
        ui=True,
    )

    def __post_init__(self) -> None:
        if self.items_per_reply < 1 or self.items_per_reply > 10:
            raise ValueError(f"items_per_reply: must be between 1 and 10, got {self.items_per_reply}")
        if self.candidates_k < self.items_per_reply:
            raise ValueError(f"candidates_k: must be at least items_per_reply ({self.items_per_reply})")
        if not 0 < self.port < 65536:
            raise ValueError(f"port: not a TCP port: {self.port}")
        check_choices(self)
        if not self.remote_url.startswith(("http://", "https://")):
            raise ValueError(f"remote_url: must start with http:// or https://, got {self.remote_url!r}")
        if self.logo and not Path(self.logo).is_file():
            raise ValueError(f"logo: no such file: {self.logo}")
        _ = self.wording  # checks item_noun and item_noun_plural

    @property
    def is_demo(self) -> bool:
        return self.catalog_source.resolve() == DEMO_CATALOG.resolve()

    @property
    def wording(self) -> Wording:
        """What the items are called: the settings' nouns, else "film" for the demo catalogue and "item" for others."""
        noun = self.item_noun.strip() or ("film" if self.is_demo else "item")
        return Wording(noun, self.item_noun_plural.strip() or noun + "s")

    @property
    def message_placeholder(self) -> str:
        return self.placeholder or (
            DEMO_PLACEHOLDER if self.is_demo else f"e.g. {self.wording.plural} like one you loved"
        )

    @property
    def example_messages(self) -> list[str]:
        """The examples as a list. Example: "a | b" -> ["a", "b"]"""
        examples = self.examples or (" | ".join(DEMO_EXAMPLES) if self.is_demo else "")
        return [text.strip() for text in examples.split(" | ") if text.strip()]

    @property
    def rerank_weights(self) -> RerankWeights:
        return RerankWeights(
            self.rerank_semantic,
            self.rerank_liked,
            self.rerank_disliked,
            self.rerank_popularity,
            self.rerank_collaborative,
        )

    @property
    def catalog_path(self) -> Path:
        """The catalogue given, else the demo one (a named --index brings its own: see chat.assemble)."""
        return Path(self.catalog) if self.catalog else DEMO_CATALOG

    @property
    def catalog_source(self) -> Path:
        """The catalogue the search will hold: --catalog, else the one a named --index was built from, else the demo's."""
        if self.index and not self.catalog:
            try:
                return Path(read_manifest(self.index).catalog_source or self.index)
            except IndexMissingError:  # built on first use from the demo catalogue
                pass
            except StaleIndexError:  # unreadable: not known to be the demo's
                return Path(self.index)
        return self.catalog_path

    @property
    def search_options(self) -> SearchOptions:
        """How the search is assembled; "auto" models resolve to the index folder's, else the demo's shipped ones."""
        demo = self.catalog_source.resolve() == DEMO_CATALOG.resolve()

        def resolve(choice: str, in_index: Path, shipped: Path) -> str:
            if choice != "auto":
                return choice
            if in_index.exists():
                return str(in_index)
            return str(shipped) if demo and shipped.exists() else "none"

        return SearchOptions(
            collaborative=resolve(self.collaborative_model, self.index_dir / "collaborative.npz", DEMO_COLLABORATIVE),
            ranker=resolve(self.ranker_model, self.index_dir / "ranker", DEMO_RANKER),
            sequential=resolve(self.sequential_model, self.index_dir / "sequential", self.index_dir / "sequential"),
            weights=self.rerank_weights,
            recency_decay=self.recency_decay,
            candidates_per_source=self.candidates_per_source,
        )

    @property
    def index_dir(self) -> Path:
        return Path(self.index) if self.index else PROJECT_ROOT / "var" / "index" / self.catalog_path.stem

    @property
    def adapter_path(self) -> str | None:
        if self.adapter == "none":
            return None
        if self.adapter == "auto":
            default = PROJECT_ROOT / "adapters" / "default"
            return str(default) if (default / "adapter_config.json").is_file() else None
        return self.adapter


@dataclass(frozen=True)
class AdminLogin:
    """Who may open the app's Logs tab."""

    user: str
    password: str = field(repr=False)

    def matches(self, user: str, password: str) -> bool:
        """Constant-time comparison of both fields, so timing tells nothing about either."""
        same_user = hmac.compare_digest(user.encode(), self.user.encode())
        same_password = hmac.compare_digest(password.encode(), self.password.encode())
        return same_user & same_password

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> AdminLogin | None:
        """The login when both RECSYS_ADMIN_USER and RECSYS_ADMIN_PASSWORD are set and non-empty, else None (no Logs tab)."""
        environ = os.environ if environ is None else environ
        user, password = environ.get(ENV_PREFIX + "ADMIN_USER", ""), environ.get(ENV_PREFIX + "ADMIN_PASSWORD", "")
        return cls(user, password) if user and password else None


def _convert(name: str, kind: type, raw: Any) -> Any:
    if kind is bool and isinstance(raw, str):
        lowered = raw.strip().lower()
        if lowered not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            raise ValueError(f"{name}: expected true/false, got {raw!r}")
        return lowered in ("1", "true", "yes", "on")
    try:
        return kind(raw)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}: expected {kind.__name__}, got {raw!r}") from error


def _shown_default(value: Any) -> str:
    """A default as --help shows it: paths inside the project relative to it. Example: f"sqlite:///{PROJECT_ROOT}/var/c.db"
    -> "'sqlite:///var/c.db'" """
    if isinstance(value, str) and str(PROJECT_ROOT) in value:
        return repr(value.replace(str(PROJECT_ROOT) + os.sep, "").replace(str(PROJECT_ROOT), "."))
    return repr(value)


def add_arguments(parser: argparse.ArgumentParser, only: tuple[str, ...] | None = None, ui: bool = True) -> None:
    """One flag per setting (`--base-model`, `--no-log`, ...); a flag not given sets nothing, so it overrides nothing.
    `only` keeps the named settings; `ui=False` leaves out the web app's own (address, branding).

    Each help line names the real default and the environment variable; a yes/no setting named
    `no_...` is one flag (`--no-log`), the others a pair (`--redact` / `--no-redact`).
    """
    parser.add_argument("--config", default=argparse.SUPPRESS, help="TOML file with settings (keys as the field names)")
    for f in fields(Settings):
        if (only is not None and f.name not in only) or (not ui and f.metadata.get("ui")):
            continue
        flag = "--" + f.name.replace("_", "-")
        kind = type(f.default)
        help_text = f"{f.metadata['help']} (default: {_shown_default(f.default)}; env {ENV_PREFIX}{f.name.upper()})"
        if kind is bool:
            action = "store_true" if f.name.startswith("no_") else argparse.BooleanOptionalAction
            parser.add_argument(flag, action=action, default=argparse.SUPPRESS, help=help_text)
        else:
            parser.add_argument(
                flag, type=kind, default=argparse.SUPPRESS, choices=choices_of(Settings, f.name), help=help_text
            )


def load_settings(args: argparse.Namespace | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Defaults, then --config file, then environment, then flags."""
    environ = os.environ if environ is None else environ
    kinds = {f.name: type(f.default) for f in fields(Settings)}
    values: dict[str, Any] = {}
    config = getattr(args, "config", None) or environ.get(ENV_PREFIX + "CONFIG")
    if config:
        try:
            table = tomllib.loads(Path(config).read_text())
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ValueError(f"config file {config}: {error}") from error
        for key, raw in table.items():
            if key not in kinds:
                raise ValueError(f"config file {config}: unknown setting {key!r}")
            values[key] = _convert(key, kinds[key], raw)
    for name, kind in kinds.items():
        if ENV_PREFIX + name.upper() in environ:
            values[name] = _convert(f"{ENV_PREFIX}{name.upper()}", kind, environ[ENV_PREFIX + name.upper()])
    for name in kinds:
        flag_value = getattr(args, name, None) if args is not None else None
        if flag_value is not None:
            values[name] = flag_value
    return replace(Settings(), **values)
