"""DPO on preference pairs from the logs through TRL: `python -m finetune.train --method dpo --data pairs.jsonl ...`.

The pairs are what `python -m chat.logs export --format pairs` writes (format in
`chat/logs/reports.py`): the chat messages the model was given, the assistant text it continued
(`prefix`), and a chosen and a rejected continuation. Each is rendered to text exactly as the
local backend prompts the model (the chat template with the generation prompt, then the prefix),
so DPO moves the probabilities the engine decodes from. A reason pair's texts end with the line
break at which the engine stops a reason.

Started from `--adapter-init` (the shipped SFT adapter), TRL keeps a frozen copy of that adapter
as the reference model; from a fresh LoRA, the base model is the reference. Pairs are held out for
evaluation by conversation (`finetune.examples.split_of`), never by pair.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from finetune.examples import split_of
from finetune.train import TrainArgs, load_for_training, save_trained, trainer_settings

log = logging.getLogger("finetune.preference")

EVAL_FRACTION = 0.1  # of conversations, held out for evaluation
PAIR_FIELDS = ("prompt", "prefix", "chosen", "rejected")


@dataclass(frozen=True)
class Pair:
    """A preference pair as text: the prompt the model reads, and the continuation preferred over the other."""

    prompt: str
    chosen: str
    rejected: str
    kind: str
    conversation: str


def read_pairs(paths: tuple[str, ...]) -> list[dict]:
    """The pair records of the files, checked: a bad line is an error naming its file, line and field."""
    records = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: not JSON: {error.msg}") from error
                for name in PAIR_FIELDS:
                    if name not in record:
                        raise ValueError(
                            f"{path}:{number}:{name}: missing (pairs come from `chat.logs export --format pairs`)"
                        )
                prompt = record["prompt"]
                if (
                    not isinstance(prompt, list)
                    or not prompt
                    or not all(isinstance(m, dict) and "role" in m for m in prompt)
                ):
                    raise ValueError(f"{path}:{number}:prompt: must be a non-empty list of chat messages")
                for name in ("prefix", "chosen", "rejected"):
                    if not isinstance(record[name], str):
                        raise ValueError(f"{path}:{number}:{name}: must be a string")
                if (
                    not record["chosen"].strip()
                    or not record["rejected"].strip()
                    or record["chosen"] == record["rejected"]
                ):
                    raise ValueError(
                        f"{path}:{number}:chosen: chosen and rejected must be two different non-empty texts"
                    )
                records.append(record)
    return records


def as_text(record: dict, tokenizer) -> Pair:
    """The pair rendered as the local backend prompts the model.

    The prompt's trailing spaces (a reason's prefix ends "...**: ") move to the start of both
    continuations, so the tokenizer reads " word" as in the SFT data rather than a lone space.
    """
    prompt = (
        tokenizer.apply_chat_template(record["prompt"], add_generation_prompt=True, tokenize=False) + record["prefix"]
    )
    stripped = prompt.rstrip(" ")
    gap = prompt[len(stripped) :]
    ending = "\n" if record["prefix"] else ""  # a reason line ends where the engine stops it
    return Pair(
        stripped,
        gap + record["chosen"].strip() + ending,
        gap + record["rejected"].strip() + ending,
        record.get("kind", ""),
        record.get("session_id", ""),
    )


def fits(pair: Pair, tokenizer, max_length: int) -> bool:
    prompt = len(tokenizer(pair.prompt, add_special_tokens=False)["input_ids"])
    longest = max(len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in (pair.chosen, pair.rejected))
    return prompt + longest + 1 <= max_length  # + the end-of-sequence token TRL adds


def train_dpo(args: TrainArgs):
    """Train and save the adapter with DPO; returns (training_meta, the trained peft model)."""
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    started = time.perf_counter()
    records = read_pairs(args.data)
    loaded = load_for_training(args)
    tokenizer = loaded.tokenizer
    pairs = [as_text(record, tokenizer) for record in records]
    kept = [pair for pair in pairs if fits(pair, tokenizer, args.max_length)]
    train_pairs = [p for p in kept if split_of(p.conversation, EVAL_FRACTION) == "train"]
    eval_pairs = [p for p in kept if split_of(p.conversation, EVAL_FRACTION) == "eval"][: args.max_eval_examples]
    log.info(
        "%d training pairs (%d longer than %d tokens dropped), %d for evaluation",
        len(train_pairs),
        len(pairs) - len(kept),
        args.max_length,
        len(eval_pairs),
    )
    if not train_pairs:
        raise ValueError("no training pairs left")

    def dataset(chosen: list[Pair]):
        return Dataset.from_dict(
            {
                "prompt": [p.prompt for p in chosen],
                "chosen": [p.chosen for p in chosen],
                "rejected": [p.rejected for p in chosen],
            }
        )

    has_eval = bool(eval_pairs)
    # float32 like the SFT path (TRL would ask for bfloat16, which a CPU may lack); pairs were length-checked above
    config = DPOConfig(
        **trainer_settings(args, has_eval), beta=args.beta, max_length=None, bf16=False, gradient_checkpointing=False
    )  # a small model needs no recomputation to fit
    trainer = DPOTrainer(
        model=loaded.model,
        args=config,
        train_dataset=dataset(train_pairs),
        eval_dataset=dataset(eval_pairs) if has_eval else None,
        processing_class=tokenizer,
    )
    result = trainer.train()
    metrics = {"train_loss": round(result.training_loss, 4), "steps": result.global_step}
    if has_eval:
        evaluated = [h for h in trainer.state.log_history if "eval_loss" in h]
        last = evaluated[-1] if evaluated and evaluated[-1]["step"] == result.global_step else trainer.evaluate()
        metrics.update(
            {
                name: round(last[name], 4)
                for name in ("eval_loss", "eval_rewards/accuracies", "eval_rewards/margins")
                if name in last
            }
        )
    kinds = {kind: sum(p.kind == kind for p in train_pairs) for kind in sorted({p.kind for p in train_pairs})}
    examples = {
        "train": len(train_pairs),
        "eval": len(eval_pairs),
        "dropped_too_long": len(pairs) - len(kept),
        "train_by_kind": kinds,
    }
    meta = save_trained(
        args,
        loaded,
        trainer,
        metrics,
        examples,
        started,
        {"dpo": {"eval_fraction": EVAL_FRACTION}},
        plot_label="DPO loss",
    )
    return meta, loaded.model
