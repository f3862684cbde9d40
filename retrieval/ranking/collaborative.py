"""The collaborative model: item-to-item weights learned from user-item interactions, saved beside the index.

Interactions are rows of (user, item[, rating, timestamp]) in CSV, TSV, Parquet or RecBole's
`.inter` format (tab-separated, headers like `user_id:token  item_id:token  rating:float`).
Column names are detected (user/user_id/userId, item/item_id/movieId/product_id, rating,
timestamp). Two ways to weigh item j for a person who interacted with item i:
- "ease" (the default): EASE (Steck, "Embarrassingly Shallow Autoencoders", WWW 2019), the
  closed-form item-item regression B = I - P / diag(P) with P = (X^T X + lambda I)^-1 over the
  binary user x item matrix X, diagonal forced to 0
- "cosine": the cosine of the two items' user sets, c_ij / sqrt(n_i * n_j) (classic item-based CF)
Each item keeps its `neighbours` highest weights; the model also keeps how many users
interacted with each item (the popularity prior). Item ids the index does not know are counted
and reported, never fatal. `weighted_scores(seeds, weights)` is what the collaborative source
asks for; `scores_for(liked)` (mean weight) is the co-occurrence baseline's view.

Recency weighting, optional everywhere a history seeds the model: `recency_weights(history, decay)`
weights each distinct item by decay ** (items after its latest occurrence), so decay 1 weighs
all alike; `history_scores(history, decay)` is the model's scores for such a history.
`ease_weights` is the one EASE closed form (the sequential benchmark uses it over a dense matrix).
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from retrieval.catalog import bare_column

log = logging.getLogger(__name__)

NEIGHBOURS = 100
EASE_LAMBDA = 500.0  # chosen on the ReDial validation dialogues (evaluation.tune_redial; docs/benchmarks.md)
MAX_EASE_ITEMS = 20_000  # EASE inverts an items x items matrix; past this, cosine
METHODS = ("ease", "cosine")
MAX_ITEMS_PER_USER = 200  # the most recent ones; bounds the pair count of very active users
SCORES_FILE, REPORT_FILE = "collaborative.npz", "collaborative.json"
USER_NAMES = ("user", "user_id", "userid", "uid", "customer_id", "customer", "visitor_id", "session_id")
ITEM_NAMES = (
    "item",
    "item_id",
    "itemid",
    "iid",
    "movie_id",
    "movieid",
    "product_id",
    "productid",
    "book_id",
    "course_id",
    "sku",
    "asin",
    "id",
)
RATING_NAMES = ("rating", "score", "stars")
TIMESTAMP_NAMES = ("timestamp", "time", "ts", "datetime", "date")


class InteractionsError(ValueError):
    """An interactions file that cannot be read: missing, unreadable, or without user and item columns."""


@dataclass(frozen=True)
class Interactions:
    """Columns of an interactions file; `rating` and `timestamp` are NaN where absent."""

    users: np.ndarray  # str
    items: np.ndarray  # str
    ratings: np.ndarray | None
    timestamps: np.ndarray | None
    source: str


@dataclass(frozen=True)
class InteractionReport:
    """What building the co-occurrence used and what it left out."""

    source: str
    rows: int
    rows_used: int
    users: int
    items_with_neighbours: int
    unknown_item_rows: int
    unknown_item_ids: int
    unknown_examples: tuple[str, ...]
    empty_rows: int
    below_min_rating: int
    method: str = "cosine"
    ease_lambda: float | None = None
    built_at: str = ""

    def summary(self) -> str:
        unknown = (
            f"; {self.unknown_item_rows} rows name {self.unknown_item_ids} item id(s) not in the index"
            f" (e.g. {', '.join(repr(x) for x in self.unknown_examples)})"
            if self.unknown_item_rows
            else ""
        )
        skipped = f"; {self.empty_rows} rows without a user or item" if self.empty_rows else ""
        low = f"; {self.below_min_rating} rows under the minimum rating" if self.below_min_rating else ""
        return (
            f"{self.method}: {self.rows_used} of {self.rows} interactions used from {self.users} users; "
            f"{self.items_with_neighbours} items have neighbours{unknown}{skipped}{low}"
        )


def _pick(header: Sequence[str], names: Sequence[str]) -> str | None:
    by_bare = {bare_column(column): column for column in reversed(header)}
    return next((by_bare[name] for name in names if name in by_bare), None)


def read_interactions(path: str | Path) -> Interactions:
    """The user, item, rating and timestamp columns of an interactions file (pyarrow reads it)."""
    path = Path(path)
    if not path.is_file():
        raise InteractionsError(f"{path}: file not found")
    try:
        import pyarrow as pa
        import pyarrow.csv as pa_csv
        import pyarrow.parquet as parquet
    except ImportError as error:
        raise InteractionsError("reading interactions needs pyarrow (pip install pyarrow)") from error
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            table = parquet.read_table(path)
        elif suffix in (".csv", ".tsv", ".tab", ".inter", ".txt"):
            delimiter = "," if suffix == ".csv" else "\t"
            with open(path, encoding="utf-8-sig", errors="replace") as handle:
                header = next(csv.reader(handle, delimiter=delimiter), [])
            table = pa_csv.read_csv(
                path,
                parse_options=pa_csv.ParseOptions(delimiter=delimiter),
                convert_options=pa_csv.ConvertOptions(column_types={name: pa.string() for name in header}),
            )
        else:
            raise InteractionsError(
                f"{path}: unsupported interactions format {suffix!r} (use .csv, .tsv, .inter or .parquet)"
            )
    except (OSError, pa.ArrowInvalid) as error:
        raise InteractionsError(f"{path}: cannot read interactions: {error}") from error
    header = table.column_names
    user, item = _pick(header, USER_NAMES), _pick(header, ITEM_NAMES)
    if user is None or item is None:
        raise InteractionsError(
            f"{path}: needs a user and an item column (e.g. user_id, item_id); header is {header[:10]}"
        )
    rating, timestamp = _pick(header, RATING_NAMES), _pick(header, TIMESTAMP_NAMES)

    def strings(name: str) -> np.ndarray:
        values = table.column(name).cast(pa.string()).fill_null("").to_numpy(zero_copy_only=False)
        return np.char.strip(values.astype(str))

    def numbers(name: str | None) -> np.ndarray | None:
        if name is None:
            return None
        column = table.column(name)
        if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
            column = column.cast(pa.timestamp("s")).cast(pa.int64())
        values = column.to_numpy(zero_copy_only=False)
        numeric = np.full(len(values), np.nan)
        for row, value in enumerate(values):
            try:  # noqa: SIM105 (contextlib.suppress costs more per row)
                numeric[row] = float(value)
            except (TypeError, ValueError):
                pass
        return numeric

    return Interactions(strings(user), strings(item), numbers(rating), numbers(timestamp), str(path))


def recency_weights(history: Sequence[str], decay: float = 1.0) -> tuple[list[str], list[float]]:
    """Each distinct item of a history (oldest first) with the weight of its latest occurrence: decay ** (items after it).

    Example: recency_weights(["a", "b", "a", "c"], 0.5) -> (["b", "a", "c"], [0.25, 0.5, 1.0])
    """
    latest = {item_id: position for position, item_id in enumerate(history)}
    last = len(history) - 1
    seeds = sorted(latest, key=latest.get)
    return seeds, [decay ** (last - latest[item_id]) for item_id in seeds]


def ease_weights(matrix, lam: float) -> np.ndarray:
    """EASE's item-item weights for a (users x items) 0/1 matrix (dense or scipy sparse): B = I - P / diag(P), P = (X^T X + lam I)^-1, diag(B) = 0.

    Example: two users who both hold items a and b, lam=1 -> B[a, b] = B[b, a] = 2/3 (one fewer for each, shrunk)
    """
    gram = matrix.T @ matrix
    gram = (gram.toarray() if hasattr(gram, "toarray") else gram).astype(np.float64)
    gram[np.diag_indices_from(gram)] += lam
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)[None, :]
    np.fill_diagonal(weights, 0.0)
    return weights.astype(np.float32)


def _top_rows(weights, neighbours: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays (indptr, indices, values) keeping each row's `neighbours` largest positive weights, largest first."""
    from scipy import sparse

    rows = sparse.csr_matrix(weights)
    indptr, indices, scores = [0], [], []
    for row in range(rows.shape[0]):
        start, end = rows.indptr[row], rows.indptr[row + 1]
        columns, values = rows.indices[start:end], rows.data[start:end]
        positive = values > 0
        columns, values = columns[positive], values[positive]
        best = np.argsort(-values, kind="stable")[:neighbours]
        indices.append(columns[best])
        scores.append(values[best])
        indptr.append(indptr[-1] + len(best))
    return (
        np.asarray(indptr, dtype=np.int64),
        np.concatenate(indices).astype(np.int32) if indices else np.zeros(0, np.int32),
        np.concatenate(scores).astype(np.float32) if scores else np.zeros(0, np.float32),
    )


class ItemItemModel:
    """Each item's highest-weighted other items (EASE or cosine), and each item's interaction count, keyed by item id."""

    def __init__(
        self,
        names: Sequence[str],
        indptr: np.ndarray,
        indices: np.ndarray,
        scores: np.ndarray,
        counts: np.ndarray | None = None,
        method: str = "cosine",
    ):
        self.names = list(names)
        self.method = method
        self._position = {name: position for position, name in enumerate(self.names)}
        self._indptr, self._indices, self._scores = indptr, indices, scores
        self.counts = counts if counts is not None else np.zeros(len(self.names), dtype=np.float32)

    def __len__(self) -> int:
        return int(np.count_nonzero(np.diff(self._indptr)))

    def position(self, item_id: str) -> int | None:
        return self._position.get(item_id)

    def neighbours(self, item_id: str) -> list[tuple[str, float]]:
        """Weighted items, highest first (empty for an item without interactions)."""
        position = self._position.get(item_id)
        if position is None:
            return []
        start, end = self._indptr[position], self._indptr[position + 1]
        return [(self.names[i], float(s)) for i, s in zip(self._indices[start:end], self._scores[start:end])]

    def weighted_scores(self, seeds: Sequence[str], weights: Sequence[float] | None = None) -> np.ndarray:
        """One score per model item (in `names` order): the weighted sum of the seeds' rows; unknown seeds add nothing.

        Example: seeds ("a", "b"), weights (1.0, 0.5) -> 1.0 * row(a) + 0.5 * row(b)
        """
        total = np.zeros(len(self.names), dtype=np.float32)
        weights = [1.0] * len(seeds) if weights is None else weights
        for item_id, weight in zip(seeds, weights):
            position = self._position.get(item_id)
            if position is None:
                continue
            start, end = self._indptr[position], self._indptr[position + 1]
            np.add.at(total, self._indices[start:end], weight * self._scores[start:end])
        return total

    def history_scores(self, history: Sequence[str], recency_decay: float = 1.0) -> np.ndarray:
        """One score per model item for a history (oldest first), recent items weighted up (`recency_weights`)."""
        seeds, weights = recency_weights(history, recency_decay)
        return self.weighted_scores(seeds, weights)

    def scores_for(self, liked: Sequence[str]) -> dict[str, float]:
        """item id -> mean weight from the liked items; items no liked item points to are left out."""
        if not liked:
            return {}
        total = self.weighted_scores(liked) / len(liked)
        return {self.names[i]: float(total[i]) for i in np.flatnonzero(total)}

    @classmethod
    def build(
        cls,
        interactions: Interactions,
        known_ids: Collection[str],
        min_rating: float | None = None,
        neighbours: int = NEIGHBOURS,
        max_items_per_user: int = MAX_ITEMS_PER_USER,
        method: str = "ease",
        ease_lambda: float = EASE_LAMBDA,
    ) -> tuple[ItemItemModel, InteractionReport]:
        from scipy import sparse

        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        users, items = interactions.users, interactions.items
        total = len(items)
        keep = (users != "") & (items != "")
        empty_rows = int(total - keep.sum())
        below = 0
        if min_rating is not None and interactions.ratings is not None:
            low = keep & ~(interactions.ratings >= min_rating)
            below = int(low.sum())
            keep &= ~low
        distinct, inverse = np.unique(items, return_inverse=True)
        known = np.fromiter((name in known_ids for name in distinct), dtype=bool, count=len(distinct))
        unknown_rows = keep & ~known[inverse]
        unknown_ids = np.unique(items[unknown_rows])
        keep &= known[inverse]

        user_codes = np.unique(users[keep], return_inverse=True)[1]
        item_codes = inverse[keep]
        order_key = (
            -interactions.timestamps[keep]
            if interactions.timestamps is not None
            else -np.arange(len(item_codes), dtype=float)
        )
        order = np.lexsort((np.nan_to_num(order_key, nan=np.inf), user_codes))  # per user, newest first
        user_codes, item_codes = user_codes[order], item_codes[order]
        pairs = np.unique(np.stack([user_codes, item_codes]), axis=1, return_index=True)[1]  # first = newest
        user_codes, item_codes = user_codes[np.sort(pairs)], item_codes[np.sort(pairs)]
        starts = np.searchsorted(user_codes, user_codes, side="left")
        recent = (np.arange(len(user_codes)) - starts) < max_items_per_user
        user_codes, item_codes = user_codes[recent], item_codes[recent]

        n_users = int(user_codes.max()) + 1 if len(user_codes) else 0
        matrix = sparse.csr_matrix(
            (np.ones(len(user_codes), dtype=np.float32), (user_codes, item_codes)), shape=(n_users, len(distinct))
        )
        counts = np.asarray(matrix.sum(axis=0)).ravel().astype(np.float32)
        used = np.flatnonzero(counts)
        if method == "ease" and len(used) > MAX_EASE_ITEMS:
            log.warning("%d items have interactions: more than EASE's %d, using cosine", len(used), MAX_EASE_ITEMS)
            method = "cosine"
        if method == "ease":
            weights = np.zeros((len(distinct), len(distinct)), dtype=np.float32)
            weights[np.ix_(used, used)] = ease_weights(matrix[:, used].toarray(), ease_lambda)
        else:
            overlap = (matrix.T @ matrix).tocsr()
            overlap.setdiag(0)
            overlap.eliminate_zeros()
            coo = overlap.tocoo()
            weights = sparse.csr_matrix(
                (coo.data / np.sqrt(counts[coo.row] * counts[coo.col]), (coo.row, coo.col)), shape=overlap.shape
            )
        model = cls([str(name) for name in distinct], *_top_rows(weights, neighbours), counts=counts, method=method)
        report = InteractionReport(
            source=interactions.source,
            rows=total,
            rows_used=int(len(user_codes)),
            users=n_users,
            items_with_neighbours=len(model),
            unknown_item_rows=int(unknown_rows.sum()),
            unknown_item_ids=len(unknown_ids),
            unknown_examples=tuple(str(x) for x in unknown_ids[:5]),
            empty_rows=empty_rows,
            below_min_rating=below,
            method=method,
            ease_lambda=ease_lambda if method == "ease" else None,
            built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        )
        return model, report

    def save(self, folder: str | Path, report: InteractionReport) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / (SCORES_FILE + ".tmp.npz")
        np.savez_compressed(
            temporary,
            names=np.asarray(self.names, dtype=str),
            indptr=self._indptr,
            indices=self._indices,
            scores=self._scores,
            counts=self.counts,
            method=np.asarray(self.method),
        )
        temporary.replace(folder / SCORES_FILE)
        (folder / REPORT_FILE).write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False))

    @classmethod
    def load(cls, path: str | Path) -> ItemItemModel | None:
        """The model saved in an index folder (or the file itself), or None when there is none."""
        path = Path(path)
        path = path / SCORES_FILE if path.is_dir() or path.suffix != ".npz" else path
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as data:
            counts = data.get("counts")
            method = str(data["method"]) if "method" in data else "cosine"
            return cls(data["names"].tolist(), data["indptr"], data["indices"], data["scores"], counts, method)
