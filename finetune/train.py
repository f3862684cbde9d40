"""LoRA fine-tuning: `python -m finetune.train [--method sft|dpo] --data FILE... --base-model ID|PATH --out adapters/NAME`.

sft (the default): peft LoRA through transformers' Trainer: loss on the assistant turn only, the
`eval` split of the data for evaluation, a fixed step budget with optional early stopping. dpo:
preference pairs (`python -m chat.logs export --format pairs`) through TRL's DPOTrainer
(`finetune.preference`), usually from `--adapter-init adapters/default`. Either way: a progress
bar, a loss-curve PNG and `training_meta.json` (data hashes, hyperparameters, versions) beside the
adapter, stored in 16-bit by default. Runs on the CPU at the default size;
`accelerate launch -m finetune.train ...` runs the same command on GPUs for bigger base models.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

log = logging.getLogger("finetune.train")

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
IGNORE = -100


METHODS = ("sft", "dpo")


@dataclass(frozen=True)
class TrainArgs:
    data: tuple[str, ...] = field(
        metadata={
            "help": "sft: JSONL files from finetune.build_data; dpo: pairs from "
            "`python -m chat.logs export --format pairs`"
        }
    )
    out: str = field(metadata={"help": "adapter output folder"})
    method: str = field(
        default="sft", metadata={"help": "sft: supervised on examples; dpo: preference pairs through TRL"}
    )
    adapter_init: str = field(
        default="",
        metadata={
            "help": "adapter folder to start from (with dpo also the reference "
            "model); empty: a fresh LoRA of --rank/--alpha/--dropout"
        },
    )
    beta: float = field(default=0.1, metadata={"help": "dpo: how strongly the reference model holds the policy back"})
    base_model: str = field(
        default="default", metadata={"help": "hub id, folder or .gguf; 'default' = embedded SmolLM2-135M"}
    )
    rank: int = field(default=8, metadata={"help": "LoRA rank"})
    alpha: int = field(default=16, metadata={"help": "LoRA alpha"})
    dropout: float = field(default=0.05, metadata={"help": "LoRA dropout"})
    learning_rate: float = field(default=1e-3, metadata={"help": "peak learning rate"})
    batch_size: int = field(default=8, metadata={"help": "examples per optimizer step (per device)"})
    max_steps: int = field(default=120, metadata={"help": "optimizer steps (the fixed budget)"})
    max_length: int = field(default=512, metadata={"help": "longest example in tokens; longer ones are dropped"})
    eval_steps: int = field(default=40, metadata={"help": "evaluate every N steps"})
    early_stopping: int = field(default=0, metadata={"help": "stop after N evaluations without improvement (0: off)"})
    max_eval_examples: int = field(default=64, metadata={"help": "cap on evaluation examples, for speed"})
    save_dtype: str = field(default="float16", metadata={"help": "float16, bfloat16 or float32 for the saved adapter"})
    threads: int = field(default=0, metadata={"help": "torch CPU threads (0: default)"})
    seed: int = field(default=0, metadata={"help": "random seed"})

    def __post_init__(self) -> None:
        for path in self.data:
            if not Path(path).is_file():
                raise ValueError(f"data: no such file {path}")
        if self.rank < 1 or self.max_steps < 1 or self.batch_size < 1:
            raise ValueError("rank, max_steps and batch_size must be positive")
        if self.save_dtype not in ("float16", "bfloat16", "float32"):
            raise ValueError(f"save_dtype: must be float16, bfloat16 or float32, got {self.save_dtype!r}")
        if self.method not in METHODS:
            raise ValueError(f"method: must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.adapter_init and not (Path(self.adapter_init) / "adapter_config.json").is_file():
            raise ValueError(f"adapter_init: no adapter (adapter_config.json) in {self.adapter_init}")
        if self.beta <= 0:
            raise ValueError(f"beta: must be positive, got {self.beta}")


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def base_model_name(location) -> str:
    """How the adapter names its base model: the embedded default by name (also when given as a copy of its
    .gguf file, e.g. on a GPU machine), a hub id as given, never a local path."""
    from chat.llm import DEFAULT_BASE_MODEL, LLMError
    from chat.llm.local import locate_base_model

    if not location.gguf_file:
        return location.name if not Path(location.path).exists() else Path(location.path).name
    try:
        default = locate_base_model(DEFAULT_BASE_MODEL)
    except LLMError:
        return location.gguf_file
    same_file = sha256_of(Path(location.path) / location.gguf_file) == sha256_of(Path(default.path) / default.gguf_file)
    return default.name if same_file else location.gguf_file


def read_examples(paths: tuple[str, ...]) -> tuple[list[dict], list[dict]]:
    train, evaluation = [], []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                record = json.loads(line)
                messages = record.get("messages")
                if not messages or messages[-1].get("role") != "assistant":
                    raise ValueError(f"{path}:{number}:messages: the last message must be the assistant's")
                (evaluation if record.get("split") == "eval" else train).append(record)
    return train, evaluation


def tokenize(tokenizer, messages: list[dict], max_length: int) -> dict | None:
    """Input ids and labels with the prompt masked: loss falls on the assistant's reply (and its end tag) only."""
    prompt = tokenizer.apply_chat_template(messages[:-1], add_generation_prompt=True, tokenize=False)
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    if not full.startswith(prompt):
        raise ValueError("the chat template does not render the prompt as a prefix of the full conversation")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    reply_ids = tokenizer(full[len(prompt) :], add_special_tokens=False)["input_ids"]
    ids = prompt_ids + reply_ids
    if len(ids) > max_length:
        return None
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": [IGNORE] * len(prompt_ids) + reply_ids}


def plot_loss(
    history: list[dict], path: Path, ylabel: str = "loss (assistant tokens)", title: str = "LoRA fine-tuning"
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [(h["step"], h["loss"]) for h in history if "loss" in h]
    evaluation = [(h["step"], h["eval_loss"]) for h in history if "eval_loss" in h]
    figure, axes = plt.subplots(figsize=(6, 3.5))
    if train:
        axes.plot(*zip(*train), label="train")
    if evaluation:
        axes.plot(*zip(*evaluation), marker="o", label="eval")
    axes.set_xlabel("step")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    if train or evaluation:
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def store_adapter_in(folder: Path, dtype_name: str) -> None:
    """Rewrite the saved adapter weights in the chosen precision (LoRA weights are small and tolerate 16 bits)."""
    import torch
    from safetensors.torch import load_file, save_file

    path = folder / "adapter_model.safetensors"
    dtype = getattr(torch, dtype_name)
    save_file({k: v.to(dtype).contiguous() for k, v in load_file(path).items()}, path, metadata={"format": "pt"})


@dataclass
class Loaded:
    """The model to train (a peft model: a fresh LoRA or the --adapter-init one, trainable) and what made it."""

    location: object  # chat.llm.local.ModelLocation
    tokenizer: object
    model: object
    trainable: int


def load_for_training(args: TrainArgs) -> Loaded:
    """Seeds, threads, the tokenizer and the base model in float32 with a trainable LoRA on it."""
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

    from chat.llm.local import locate_base_model

    set_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    location = locate_base_model(args.base_model)
    kwargs = {"gguf_file": location.gguf_file} if location.gguf_file else {}
    tokenizer = AutoTokenizer.from_pretrained(location.path, **kwargs)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(location.path, dtype=torch.float32, **kwargs)
    if location.gguf_file:
        # GGUF weights are dequantized to float32 on load; only the marker remains, and it blocks training.
        model.hf_quantizer = None
        model.is_quantized = False
    if args.adapter_init:
        model = PeftModel.from_pretrained(model, args.adapter_init, is_trainable=True)
        for parameter in model.parameters():  # a 16-bit stored adapter trains in float32 like the base
            if parameter.requires_grad:
                parameter.data = parameter.data.float()
    else:
        model = get_peft_model(
            model,
            LoraConfig(
                r=args.rank,
                lora_alpha=args.alpha,
                lora_dropout=args.dropout,
                target_modules=list(LORA_TARGETS),
                task_type="CAUSAL_LM",
            ),
        )
    trainable, total = model.get_nb_trainable_parameters()
    log.info("LoRA: %d trainable of %d parameters", trainable, total)
    return Loaded(location, tokenizer, model, trainable)


def save_trained(
    args: TrainArgs,
    loaded: Loaded,
    trainer,
    metrics: dict,
    examples: dict,
    started: float,
    extra_meta: dict | None = None,
    plot_label: str = "loss (assistant tokens)",
) -> dict:
    """Saves the trained adapter (only it, in the chosen precision), the loss curve and training_meta.json; returns the meta."""
    import shutil

    import torch

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    loaded.model.save_pretrained(out, selected_adapters=["default"])
    (out / "README.md").unlink(missing_ok=True)  # peft's empty model-card template; training_meta.json says it all
    config_path = out / "adapter_config.json"
    config = json.loads(config_path.read_text())
    base_name = base_model_name(loaded.location)
    config["base_model_name_or_path"] = base_name  # never this machine's path
    config_path.write_text(json.dumps(config, indent=2))
    store_adapter_in(out, args.save_dtype)
    plot_loss(trainer.state.log_history, out / "loss.png", plot_label, f"LoRA fine-tuning ({args.method})")
    seconds = round(time.perf_counter() - started, 1)
    location = loaded.location
    libraries = ("torch", "transformers", "peft", "accelerate") + (("trl",) if args.method == "dpo" else ())
    hidden = ("data", "out") + (("rank", "alpha", "dropout") if args.adapter_init else ())  # set by the initial adapter
    meta = {
        "method": args.method,
        "base_model": base_name,
        "base_model_file_sha256": sha256_of(Path(location.path) / location.gguf_file) if location.gguf_file else None,
        "adapter_init": (
            {
                "name": Path(args.adapter_init).name,
                "sha256": sha256_of(Path(args.adapter_init) / "adapter_model.safetensors"),
            }
            if args.adapter_init
            else None
        ),
        "data": [{"path": Path(p).name, "sha256": sha256_of(p)} for p in args.data],
        "examples": examples,
        "hyperparameters": {**{k: v for k, v in asdict(args).items() if k not in hidden}, "base_model": base_name},
        "lora": {"r": config["r"], "alpha": config["lora_alpha"], "dropout": config["lora_dropout"]},
        "lora_target_modules": list(LORA_TARGETS),
        "trainable_parameters": loaded.trainable,
        "metrics": metrics,
        "seconds": seconds,
        "device": f"cuda ({torch.cuda.get_device_name()})"
        if torch.cuda.is_available()
        else f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)",
        "versions": {name: version(name) for name in libraries},
        **(extra_meta or {}),
        "loss_history": [h for h in trainer.state.log_history if "loss" in h or "eval_loss" in h],
    }
    (out / "training_meta.json").write_text(json.dumps(meta, indent=2))
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
    log.info("adapter saved to %s in %.0f s: %s", out, seconds, metrics)
    return meta


def trainer_settings(args: TrainArgs, has_eval: bool) -> dict:
    """The Trainer settings both methods share: the step budget, cosine schedule, evaluation and early stopping."""
    return dict(
        output_dir=str(Path(args.out) / "checkpoints"),
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=max(1, args.max_steps // 20),
        max_steps=args.max_steps,
        logging_steps=5,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=args.eval_steps,
        save_strategy="steps" if args.early_stopping and has_eval else "no",
        save_steps=args.eval_steps,
        save_total_limit=1,
        load_best_model_at_end=bool(args.early_stopping and has_eval),
        metric_for_best_model="eval_loss",
        report_to="none",
        seed=args.seed,
        dataloader_num_workers=0,
        dataloader_pin_memory=False,
    )


def train(args: TrainArgs):
    """Train and save the adapter; returns (training_meta, the trained peft model)."""
    if args.method == "dpo":
        from finetune.preference import train_dpo

        return train_dpo(args)
    from transformers import DataCollatorForSeq2Seq, EarlyStoppingCallback, Trainer, TrainingArguments

    started = time.perf_counter()
    loaded = load_for_training(args)
    tokenizer, model = loaded.tokenizer, loaded.model

    train_records, eval_records = read_examples(args.data)
    train_set = [t for t in (tokenize(tokenizer, r["messages"], args.max_length) for r in train_records) if t]
    eval_set = [
        t
        for t in (tokenize(tokenizer, r["messages"], args.max_length) for r in eval_records[: args.max_eval_examples])
        if t
    ]
    dropped = len(train_records) - len(train_set)
    log.info(
        "%d training examples (%d longer than %d tokens dropped), %d for evaluation",
        len(train_set),
        dropped,
        args.max_length,
        len(eval_set),
    )
    if not train_set:
        raise ValueError("no training examples left")

    has_eval = bool(eval_set)
    training_args = TrainingArguments(**trainer_settings(args, has_eval))
    callbacks = [EarlyStoppingCallback(args.early_stopping)] if args.early_stopping and has_eval else []
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train_set,
        eval_dataset=eval_set or None,
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=IGNORE),
        callbacks=callbacks,
    )
    result = trainer.train()
    metrics = {"train_loss": round(result.training_loss, 4), "steps": result.global_step}
    if has_eval:
        metrics["eval_loss"] = round(trainer.evaluate()["eval_loss"], 4)
    examples = {"train": len(train_set), "eval": len(eval_set), "dropped_too_long": dropped}
    return save_trained(args, loaded, trainer, metrics, examples, started), model


def parse_args(argv: list[str] | None = None) -> TrainArgs:
    parser = argparse.ArgumentParser(
        prog="python -m finetune.train",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for f in TrainArgs.__dataclass_fields__.values():
        flag = "--" + f.name.replace("_", "-")
        if f.name == "data":
            parser.add_argument(flag, nargs="+", required=True, help=f.metadata["help"])
        elif f.name == "out":
            parser.add_argument(flag, required=True, help=f.metadata["help"])
        elif f.name == "method":
            parser.add_argument(flag, choices=METHODS, default=f.default, help=f.metadata["help"])
        else:
            parser.add_argument(flag, type=type(f.default), default=f.default, help=f.metadata["help"])
    values = vars(parser.parse_args(argv))
    values["data"] = tuple(values["data"])
    return TrainArgs(**values)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from chat.llm import offline_by_default

    offline_by_default()
    try:
        args = parse_args(argv)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
