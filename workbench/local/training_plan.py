"""What a local fine-tuning job will do, decided before any model is loaded (no torch here).

OpenAI's request maps onto LoRA training as follows:
- `n_epochs` "auto": OpenAI's rule (core.dataset.default_epochs: 3, raised for small files so that
  at least 100 examples are seen, 10 for 10 examples, lowered above 25,000 example-passes).
- `batch_size` "auto": DEFAULT_BATCH_SIZE (4, or the number of examples if fewer). OpenAI picks ~0.2%
  of the examples (1 for small files); on a CPU a batch of 4 short examples costs about what one
  does, so 4 trains in a quarter of the steps.
- `learning_rate_multiplier` ("auto" = 1.0) x BASE_LEARNING_RATE. OpenAI's multiplier scales its own
  undisclosed base rate; LoRA wants a far higher rate than full fine-tuning, so ours is a LoRA rate:
  a 135M model learns a 40-example classification set in 10 epochs with it (bench/local_train.py).
- `seed`: as given, else one drawn at random and reported.
The adapter: LoRA rank LORA_RANK on every linear layer of the model (PEFT's "all-linear"), linear
learning-rate decay to 0, AdamW, no warm-up (a few hundred steps at most).
"""

from __future__ import annotations

import csv
import io
import math
import random
from typing import Any

from workbench.core.dataset import default_epochs

BASE_LEARNING_RATE = 1e-3
DEFAULT_BATCH_SIZE = 4
LORA_RANK = 16
LORA_ALPHA = 32
LORA_DROPOUT = 0.05
LORA_TARGET_MODULES = "all-linear"
MAX_EPOCHS = 50
MAX_BATCH_SIZE = 256
KEPT_CHECKPOINT_EPOCHS = 3  # OpenAI keeps the checkpoints of the last 3 epochs

RESULTS_COLUMNS = (
    "step",
    "train_loss",
    "train_accuracy",
    "valid_loss",
    "valid_mean_token_accuracy",
)


class HyperparameterError(ValueError):
    """A requested hyperparameter is out of range; `param` names it as OpenAI's errors do."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def _requested(hp: dict, name: str) -> Any:
    value = hp.get(name, "auto")
    return None if value in (None, "auto") else value


def _number(name: str, value: Any, kind: type, low: float, high: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise HyperparameterError(
            f"hyperparameters.{name}", f"{name} must be a number or 'auto', not {value!r}"
        )
    if kind is int and value != int(value):
        raise HyperparameterError(f"hyperparameters.{name}", f"{name} must be a whole number")
    if not low <= value <= high:
        raise HyperparameterError(
            f"hyperparameters.{name}", f"{name} must be between {low:g} and {high:g}, not {value}"
        )
    return kind(value)


def resolve_hyperparameters(spec: dict, n_examples: int) -> dict:
    """{n_epochs, batch_size, learning_rate_multiplier, learning_rate, seed} for this job."""
    hp = spec.get("hyperparameters") or {}
    epochs = _requested(hp, "n_epochs")
    batch = _requested(hp, "batch_size")
    multiplier = _requested(hp, "learning_rate_multiplier")
    n_epochs = (
        default_epochs(n_examples)
        if epochs is None
        else _number("n_epochs", epochs, int, 1, MAX_EPOCHS)
    )
    batch_size = (
        max(1, min(DEFAULT_BATCH_SIZE, n_examples))
        if batch is None
        else _number("batch_size", batch, int, 1, MAX_BATCH_SIZE)
    )
    multiplier = (
        1.0
        if multiplier is None
        else _number("learning_rate_multiplier", multiplier, float, 1e-6, 100.0)
    )
    seed = spec.get("seed")
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    return {
        "n_epochs": n_epochs,
        "batch_size": batch_size,
        "learning_rate_multiplier": multiplier,
        "learning_rate": multiplier * BASE_LEARNING_RATE,
        "seed": int(seed),
    }


def steps_per_epoch(n_examples: int, batch_size: int) -> int:
    return max(1, math.ceil(n_examples / batch_size))


def total_steps(n_examples: int, hp: dict, max_steps: int | None = None) -> int:
    steps = hp["n_epochs"] * steps_per_epoch(n_examples, hp["batch_size"])
    return min(steps, max_steps) if max_steps else steps


def keeps_checkpoint(step: int, per_epoch: int, n_epochs: int, total: int) -> bool:
    """A checkpoint at the end of each of the last KEPT_CHECKPOINT_EPOCHS epochs, and at the end."""
    if step == total:
        return True
    if step % per_epoch:
        return False
    return step // per_epoch > n_epochs - KEPT_CHECKPOINT_EPOCHS


def results_csv(metrics: list[dict]) -> str:
    """OpenAI's results file (step_metrics.csv) from the metrics events' data, one row per step."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RESULTS_COLUMNS)
    for data in sorted({m["step"]: m for m in metrics}.values(), key=lambda m: m["step"]):
        writer.writerow(
            [
                data["step"],
                data["train_loss"],
                data["train_mean_token_accuracy"],
                data.get("valid_loss", ""),
                data.get("valid_mean_token_accuracy", ""),
            ]
        )
    return out.getvalue()
