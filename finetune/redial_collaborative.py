"""The demo catalogue's collaborative model from ReDial train dialogues: `python -m finetune.redial_collaborative --redial DIR`.

Each ReDial training dialogue (`train_part_*.jsonl` only: never test, never the item text) is
one "user" whose items are the catalogue films mentioned in it (matched by title and year,
`finetune.redial.MovieMapper`). From these baskets it writes `--out` (default `data/`):
`collaborative.npz` (EASE item-item weights and mention counts, `retrieval.ranking.collaborative`) and
`collaborative.json` (what was used). The app loads it by default for the demo catalogue.
ReDial: Li et al. 2018, CC BY 4.0 (attribution in data/README.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from chat.settings import DEMO_CATALOG, PROJECT_ROOT
from corpora.redial import MovieMapper, read_dialogues, read_movie_names
from retrieval.catalog import load_catalog
from retrieval.ranking import EASE_LAMBDA, Interactions, ItemItemModel


def interactions_from_redial(redial: Path, catalog_path: Path) -> tuple[Interactions, set[str]]:
    """(dialogue id, catalogue item id) rows for every train-part mention of a catalogue film, and the catalogue's ids."""
    catalog = load_catalog(catalog_path)
    names = read_movie_names(redial / "movies_with_mentions.csv")
    mapper = MovieMapper(catalog, names)
    users, items = [], []
    for path in sorted(redial.glob("train_part_*.jsonl")):
        for dialogue in read_dialogues(path, names):
            for item_id in dict.fromkeys(mapper.item_id(m) for turn in dialogue.turns for m in turn.movie_ids):
                if item_id:
                    users.append(dialogue.id)
                    items.append(item_id)
    if not users:
        raise FileNotFoundError(f"no train_part_*.jsonl dialogues mentioning catalogue films in {redial}")
    interactions = Interactions(
        np.asarray(users, dtype=str),
        np.asarray(items, dtype=str),
        None,
        None,
        "ReDial train parts (Li et al. 2018, CC BY 4.0)",
    )
    return interactions, {item.id for item in catalog}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m finetune.redial_collaborative",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--redial", type=Path, required=True, help="ReDial folder with train_part_*.jsonl and movies_with_mentions.csv"
    )
    parser.add_argument("--catalog", type=Path, default=DEMO_CATALOG, help="catalogue whose films the model covers")
    parser.add_argument(
        "--out", type=Path, default=PROJECT_ROOT / "data", help="folder for collaborative.npz and .json"
    )
    parser.add_argument("--ease-lambda", type=float, default=EASE_LAMBDA, help="EASE's L2 weight")
    args = parser.parse_args(argv)
    try:
        interactions, known = interactions_from_redial(args.redial, args.catalog)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    model, report = ItemItemModel.build(interactions, known, method="ease", ease_lambda=args.ease_lambda)
    model.save(args.out, report)
    print(f"collaborative model: {report.summary()}; saved to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
