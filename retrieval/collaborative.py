"""The collaborative signal: item-to-item co-occurrence learned from user-item interactions, saved beside the index.

Interactions are rows of (user, item[, rating, timestamp]) in CSV, TSV, Parquet or RecBole's
`.inter` format (tab-separated, headers like `user_id:token  item_id:token  rating:float`).
Column names are detected (user/user_id/userId, item/item_id/movieId/product_id, rating,
timestamp). Two items co-occur when one user interacted with both; their similarity is the
cosine of their user sets, c_ij / sqrt(n_i * n_j) (classic item-based collaborative filtering),
and each item keeps its NEIGHBOURS most similar items. Item ids the index does not know are
counted and reported, never fatal. `scores_for(liked)` is what the reranker gets.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Collection, Sequence

import numpy as np

from retrieval.catalog import bare_column

NEIGHBOURS = 50
MAX_ITEMS_PER_USER = 200  # the most recent ones; bounds the pair count of very active users
SCORES_FILE, REPORT_FILE = "collaborative.npz", "collaborative.json"
USER_NAMES = ("user", "user_id", "userid", "uid", "customer_id", "customer", "visitor_id", "session_id")
ITEM_NAMES = ("item", "item_id", "itemid", "iid", "movie_id", "movieid", "product_id", "productid", "book_id",
              "course_id", "sku", "asin", "id")
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
    built_at: str = ""

    def summary(self) -> str:
        unknown = (f"; {self.unknown_item_rows} rows name {self.unknown_item_ids} item id(s) not in the index"
                   f" (e.g. {', '.join(repr(x) for x in self.unknown_examples)})" if self.unknown_item_rows else "")
        skipped = f"; {self.empty_rows} rows without a user or item" if self.empty_rows else ""
        low = f"; {self.below_min_rating} rows under the minimum rating" if self.below_min_rating else ""
        return (f"{self.rows_used} of {self.rows} interactions used from {self.users} users; "
                f"{self.items_with_neighbours} items have neighbours{unknown}{skipped}{low}")


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
            raise InteractionsError(f"{path}: unsupported interactions format {suffix!r} (use .csv, .tsv, .inter or .parquet)")
    except (OSError, pa.ArrowInvalid) as error:
        raise InteractionsError(f"{path}: cannot read interactions: {error}") from error
    header = table.column_names
    user, item = _pick(header, USER_NAMES), _pick(header, ITEM_NAMES)
    if user is None or item is None:
        raise InteractionsError(f"{path}: needs a user and an item column (e.g. user_id, item_id); header is {header[:10]}")
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
            try:
                numeric[row] = float(value)
            except (TypeError, ValueError):
                pass
        return numeric

    return Interactions(strings(user), strings(item), numbers(rating), numbers(timestamp), str(path))


class ItemCooccurrence:
    """Each item's most co-occurring items with their cosine similarity, keyed by item id."""

    def __init__(self, names: Sequence[str], indptr: np.ndarray, indices: np.ndarray, scores: np.ndarray):
        self.names = list(names)
        self._position = {name: position for position, name in enumerate(self.names)}
        self._indptr, self._indices, self._scores = indptr, indices, scores

    def __len__(self) -> int:
        return int(np.count_nonzero(np.diff(self._indptr)))

    def neighbours(self, item_id: str) -> list[tuple[str, float]]:
        """Co-occurring items, most similar first (empty for an item without interactions)."""
        position = self._position.get(item_id)
        if position is None:
            return []
        start, end = self._indptr[position], self._indptr[position + 1]
        return [(self.names[i], float(s)) for i, s in zip(self._indices[start:end], self._scores[start:end])]

    def scores_for(self, liked: Sequence[str]) -> dict[str, float]:
        """item id -> mean similarity to the liked items, in [0, 1]; items co-occurring with none are left out."""
        totals: dict[str, float] = {}
        for item_id in liked:
            for neighbour, score in self.neighbours(item_id):
                totals[neighbour] = totals.get(neighbour, 0.0) + score
        return {item_id: total / len(liked) for item_id, total in totals.items()} if liked else {}

    @classmethod
    def build(cls, interactions: Interactions, known_ids: Collection[str], min_rating: float | None = None,
              neighbours: int = NEIGHBOURS, max_items_per_user: int = MAX_ITEMS_PER_USER) -> tuple["ItemCooccurrence", InteractionReport]:
        from scipy import sparse

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
        order_key = -interactions.timestamps[keep] if interactions.timestamps is not None else -np.arange(len(item_codes), dtype=float)
        order = np.lexsort((np.nan_to_num(order_key, nan=np.inf), user_codes))  # per user, newest first
        user_codes, item_codes = user_codes[order], item_codes[order]
        pairs = np.unique(np.stack([user_codes, item_codes]), axis=1, return_index=True)[1]  # first = newest
        user_codes, item_codes = user_codes[np.sort(pairs)], item_codes[np.sort(pairs)]
        starts = np.searchsorted(user_codes, user_codes, side="left")
        recent = (np.arange(len(user_codes)) - starts) < max_items_per_user
        user_codes, item_codes = user_codes[recent], item_codes[recent]

        n_users = int(user_codes.max()) + 1 if len(user_codes) else 0
        matrix = sparse.csr_matrix((np.ones(len(user_codes), dtype=np.float32), (user_codes, item_codes)),
                                   shape=(n_users, len(distinct)))
        counts = (matrix.T @ matrix).tocsr()
        per_item = counts.diagonal()
        counts.setdiag(0)
        counts.eliminate_zeros()
        coo = counts.tocoo()
        cosine = coo.data / np.sqrt(per_item[coo.row] * per_item[coo.col])
        similar = sparse.csr_matrix((cosine, (coo.row, coo.col)), shape=counts.shape)

        indptr, indices, scores = [0], [], []
        for row in range(similar.shape[0]):
            start, end = similar.indptr[row], similar.indptr[row + 1]
            columns, values = similar.indices[start:end], similar.data[start:end]
            best = np.argsort(-values, kind="stable")[:neighbours]
            indices.append(columns[best])
            scores.append(values[best])
            indptr.append(indptr[-1] + len(best))
        index = cls(
            [str(name) for name in distinct],
            np.asarray(indptr, dtype=np.int64),
            np.concatenate(indices).astype(np.int32) if indices else np.zeros(0, np.int32),
            np.concatenate(scores).astype(np.float32) if scores else np.zeros(0, np.float32),
        )
        report = InteractionReport(
            source=interactions.source,
            rows=total,
            rows_used=int(len(user_codes)),
            users=n_users,
            items_with_neighbours=len(index),
            unknown_item_rows=int(unknown_rows.sum()),
            unknown_item_ids=len(unknown_ids),
            unknown_examples=tuple(str(x) for x in unknown_ids[:5]),
            empty_rows=empty_rows,
            below_min_rating=below,
            built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        )
        return index, report

    def save(self, folder: str | Path, report: InteractionReport) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / (SCORES_FILE + ".tmp.npz")
        np.savez(temporary, names=np.asarray(self.names, dtype=str), indptr=self._indptr, indices=self._indices,
                 scores=self._scores)
        temporary.replace(folder / SCORES_FILE)
        (folder / REPORT_FILE).write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False))

    @classmethod
    def load(cls, folder: str | Path) -> "ItemCooccurrence | None":
        """The co-occurrence saved in an index folder, or None when it has none."""
        path = Path(folder) / SCORES_FILE
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as data:
            return cls(data["names"].tolist(), data["indptr"], data["indices"], data["scores"])
