"""SASRec, the sequential recommender: scores every item as the next one after an ordered history of item ids.

SASRec (Kang & McAuley, ICDM 2018) embeds the last `max_length` items of a history with
learned position embeddings (counted back from the newest item, so a batch is padded only to
its longest history), runs `blocks` pre-norm causal self-attention blocks over them
and scores each item by the dot product of the last position's state with the item's (shared)
embedding. Trained with cross-entropy over all items at every position (`retrieval.train_sequential`),
which on small catalogues trains faster and better than the paper's one sampled negative.

Why our own compact torch model rather than a library: RecBole, the usual home of SASRec,
does not run with numpy 2 (its metrics use `np.float`, removed in numpy 1.24), pins ray
<= 2.6.3 and tensorboard among its requirements, and brings its own config and data pipeline;
the model itself is about 80 lines of torch.

`SequentialRecommender` is the loaded model for inference: `scores_for(history)` gives
{item id: score} like the collaborative signal, `top(history, k)` the best k, so it can serve
as a candidate source. Unknown ids in a history are skipped; an empty history scores nothing.
A model folder holds `sequential.safetensors` and `sequential.json` (hyperparameters, item
vocabulary, training data hash, library versions, validation scores).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

WEIGHTS_FILE, METADATA_FILE = "sequential.safetensors", "sequential.json"
PAD = 0  # item index 0 is padding; item i of the vocabulary is index i + 1


class SequentialModelError(ValueError):
    """A model folder that cannot be loaded: missing files or metadata that does not match the weights."""


@dataclass(frozen=True)
class SasrecConfig:
    """The network's shape."""

    items: int  # vocabulary size, padding excluded
    hidden: int = 64
    blocks: int = 2
    heads: int = 1
    max_length: int = 200
    dropout: float = 0.2

    def __post_init__(self) -> None:
        for name in ("items", "hidden", "blocks", "heads", "max_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.hidden % self.heads:
            raise ValueError(f"hidden ({self.hidden}) must be a multiple of heads ({self.heads})")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


class SasrecNetwork(nn.Module):
    """Item and position embeddings, causal self-attention blocks, and item scores from the shared item embedding."""

    def __init__(self, config: SasrecConfig):
        super().__init__()
        self.config = config
        self.item_embedding = nn.Embedding(config.items + 1, config.hidden, padding_idx=PAD)
        self.position_embedding = nn.Embedding(config.max_length, config.hidden)
        self.dropout = nn.Dropout(config.dropout)
        layer = nn.TransformerEncoderLayer(
            config.hidden,
            config.heads,
            dim_feedforward=config.hidden,
            dropout=config.dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.blocks = nn.TransformerEncoder(layer, config.blocks, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(config.hidden)
        nn.init.normal_(self.item_embedding.weight, std=0.02)
        nn.init.normal_(self.position_embedding.weight, std=0.02)

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        """Hidden states [batch, length, hidden] of left-padded index sequences [batch, length]."""
        batch, length = sequences.shape
        positions = torch.arange(length - 1, -1, -1, device=sequences.device)  # counted from the newest: padding-free
        states = self.item_embedding(sequences) * self.config.hidden**0.5 + self.position_embedding(positions)
        padding = sequences == PAD
        states = self.dropout(states) * ~padding.unsqueeze(-1)
        future = torch.triu(torch.ones(length, length, dtype=torch.bool, device=sequences.device), diagonal=1)
        blocked = future.unsqueeze(0) | padding.unsqueeze(1)  # [batch, query, key]
        blocked &= ~torch.eye(
            length, dtype=torch.bool, device=sequences.device
        )  # a padded query sees itself, never nothing
        mask = blocked.repeat_interleave(self.config.heads, dim=0)
        states = self.blocks(states, mask=mask)
        return self.norm(states) * ~padding.unsqueeze(-1)

    def item_scores(self, states: torch.Tensor) -> torch.Tensor:
        """Scores of every item (padding column included, index 0) for hidden states [..., hidden]."""
        return states @ self.item_embedding.weight.T


def left_padded(histories: Sequence[Sequence[int]], length: int) -> torch.Tensor:
    """The last `length` indices of each history, padded on the left with 0.

    Example: left_padded([[3, 4, 5], [7]], 2) -> tensor([[4, 5], [0, 7]])
    """
    rows = torch.zeros(len(histories), length, dtype=torch.long)
    for row, history in enumerate(histories):
        tail = list(history)[-length:]
        if tail:
            rows[row, length - len(tail) :] = torch.tensor(tail, dtype=torch.long)
    return rows


class SequentialRecommender:
    """A trained SASRec with its item vocabulary: next-item scores for histories of item ids."""

    def __init__(self, network: SasrecNetwork, items: Sequence[str], metadata: dict | None = None):
        if len(items) != network.config.items:
            raise SequentialModelError(f"{len(items)} item ids for a network of {network.config.items} items")
        self.network = network.eval()
        self.items = list(items)
        self.metadata = metadata or {}
        self._index = {item_id: number + 1 for number, item_id in enumerate(self.items)}

    def indices(self, history: Sequence[str]) -> list[int]:
        """The network's indices of the known ids of a history, in order."""
        return [self._index[item_id] for item_id in history if item_id in self._index]

    @torch.no_grad()
    def score_histories(self, histories: Sequence[Sequence[str]], batch_size: int = 256) -> np.ndarray:
        """Scores [len(histories), len(items)], columns in `items` order; a row of an empty history is all zeros."""
        length = self.network.config.max_length
        out = np.zeros((len(histories), len(self.items)), dtype=np.float32)
        for start in range(0, len(histories), batch_size):
            chunk = [self.indices(history) for history in histories[start : start + batch_size]]
            known = [row for row, indices in enumerate(chunk) if indices]
            if not known:
                continue
            states = self.network(left_padded([chunk[row] for row in known], length))[:, -1, :]
            out[[start + row for row in known]] = self.network.item_scores(states)[:, 1:].numpy()
        return out

    def scores_for(self, history: Sequence[str]) -> dict[str, float]:
        """item id -> next-item score after this history (oldest first); {} when no id of it is known."""
        if not self.indices(history):
            return {}
        row = self.score_histories([history])[0]
        return dict(zip(self.items, row.tolist()))

    def top(self, history: Sequence[str], k: int, exclude: Collection[str] = frozenset()) -> list[tuple[str, float]]:
        """The k best (item id, score) after this history, never an excluded id; [] when no id of it is known."""
        if not self.indices(history):
            return []
        row = self.score_histories([history])[0]
        order = np.argsort(-row, kind="stable")
        best = [(self.items[i], float(row[i])) for i in order[: k + len(exclude)] if self.items[i] not in exclude]
        return best[:k]

    def save(self, folder: str | Path) -> None:
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_file(
            {name: tensor.contiguous() for name, tensor in self.network.state_dict().items()}, folder / WEIGHTS_FILE
        )
        metadata = {**self.metadata, "config": asdict(self.network.config), "items": self.items}
        (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: str | Path) -> SequentialRecommender:
        from safetensors.torch import load_file

        folder = Path(folder)
        if not (folder / WEIGHTS_FILE).is_file() or not (folder / METADATA_FILE).is_file():
            raise SequentialModelError(
                f"{folder}: needs {WEIGHTS_FILE} and {METADATA_FILE} (train with retrieval.train_sequential)"
            )
        metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
        network = SasrecNetwork(SasrecConfig(**metadata.pop("config")))
        try:
            network.load_state_dict(load_file(folder / WEIGHTS_FILE))
        except RuntimeError as error:
            raise SequentialModelError(f"{folder}: weights do not match the metadata: {error}") from error
        return cls(network, metadata.pop("items"), metadata)
