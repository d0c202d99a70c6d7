"""Training files: validate a JSONL file line by line, count its tokens, estimate epochs and cost.

The public face of the validator (`workbench validate`, the Training data pane, the simulator):
`validate_example` for one parsed object, `validate_file` for a file on disk, and the billing rules
(`token_limit`, `default_epochs`, `billed_tokens`). The rules themselves live in dataset_rules.py,
the streaming (and the second core) in dataset_scan.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.dataset_rules import (
    ERROR,
    WARNING,
    Problem,
    _Findings,
    check_example,
)
from workbench.core.dataset_tokens import token_counts, tool_constants
from workbench.core.tokens import Tokenizer, base_model_of, get_tokenizer

__all__ = [
    "ERROR",
    "VALIDATION_PREFIX",
    "in_validation_file",
    "without_file_prefix",
    "WARNING",
    "Problem",
    "TokenStats",
    "ValidationReport",
    "billed_tokens",
    "default_epochs",
    "example_token_counts",
    "token_limit",
    "validate_example",
    "validate_file",
]

DEFAULT_MODEL = "gpt-4.1-mini-2025-04-14"
METHODS = ("supervised", "dpo")
MIN_EXAMPLES = 10
MAX_FILE_BYTES = 512 * 1024 * 1024  # the Files API limit; larger files need the Uploads API

# OpenAI's default-epochs rule (cookbook Chat_finetuning_data_prep.ipynb).
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25

# Per-example training context by base model, most specific prefix first (longer = truncated).
_LIMITS: tuple[tuple[str, int], ...] = (
    ("gpt-4.1-nano", 32_768),
    ("gpt-3.5-turbo-0613", 4_096),
    ("gpt-3.5", 16_385),
    ("gpt-35", 16_385),
    ("gpt-4o", 65_536),
    ("gpt-4.1", 65_536),
    ("o4-mini", 65_536),
    ("gpt-4-0613", 8_192),
)
DEFAULT_LIMIT = 65_536

# Problems found in the validation file carry their line there and start with this.
VALIDATION_PREFIX = "validation file: "


def in_validation_file(problem: Problem) -> bool:
    """Whether the validator found this problem in the validation file (not the training file)."""
    return problem.message.startswith(VALIDATION_PREFIX)


def without_file_prefix(problem: Problem) -> Problem:
    """The problem as its row says it: the validation file's prefix is the report's, not the row's."""
    return Problem(
        problem.line,
        problem.code,
        problem.message.removeprefix(VALIDATION_PREFIX),
        problem.severity,
    )


DPO_BILLING_NOTE = (
    "DPO billing is undocumented: tokens count the prompt plus both outputs (an estimate)"
)


def token_limit(model: str) -> int:
    """The most tokens one training example may have for `model` (ft: ids use their base)."""
    base = base_model_of(model.strip()).lower()
    for prefix, limit in _LIMITS:
        if base.startswith(prefix):
            return limit
    return DEFAULT_LIMIT


def default_epochs(n_examples: int) -> int:
    """OpenAI's `n_epochs="auto"`: 3 epochs, kept between 100 and 25,000 example-passes, 1..25."""
    if n_examples <= 0:
        return TARGET_EPOCHS
    epochs = TARGET_EPOCHS
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        epochs = min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    elif n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        epochs = max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return epochs


def billed_tokens(per_example_tokens: Iterable[int], limit: int) -> int:
    """Tokens billed per epoch: each example counts up to the limit (longer ones are truncated)."""
    return sum(min(limit, n) for n in per_example_tokens)


def _counter(tokenizer: Tokenizer) -> Callable[[Any], int]:
    def count(text: Any) -> int:
        return tokenizer.count(text if isinstance(text, str) else str(text))

    return count


def example_token_counts(
    obj: Any, tokenizer: Tokenizer, *, method: str = "supervised"
) -> tuple[int, int]:
    """(total tokens by the cookbook formula incl. tools, assistant-only tokens) for one example.

    `weight` is never counted; `content: null` counts 0. Meant for structurally valid examples;
    anything else counts what it can rather than raising.
    """
    if not isinstance(obj, dict):
        return 0, 0
    try:
        return token_counts(
            obj, method, _counter(tokenizer), tool_constants(tokenizer.encoding_name)
        )
    except (AttributeError, TypeError):
        return 0, 0


def validate_example(
    obj: Any, *, method: str = "supervised", line: int = 0, model: str | None = None
) -> list[Problem]:
    """Every problem with one parsed JSONL object; with `model`, also its token limit."""
    findings = _Findings(line)
    check_example(obj, method, findings)
    if model and not any(p.severity == ERROR for p in findings.items):
        total, _ = example_token_counts(obj, get_tokenizer(model), method=method)
        limit = token_limit(model)
        if total > limit:
            findings.warn("too_many_tokens", over_limit_message(total, limit, model))
    return findings.items


def over_limit_message(total: int, limit: int, model: str) -> str:
    return f"{total:,} tokens, over the {limit:,}-token limit of {model}: it will be truncated"


@dataclass
class TokenStats:
    """Token figures over the valid examples of a training file."""

    total: int = 0
    billed_per_epoch: int = 0
    assistant: int = 0
    min: int = 0
    median: int = 0
    p95: int = 0
    max: int = 0
    over_limit: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "total": self.total,
            "billed_per_epoch": self.billed_per_epoch,
            "assistant": self.assistant,
            "min": self.min,
            "median": self.median,
            "p95": self.p95,
            "max": self.max,
        }


@dataclass
class ValidationReport:
    """What `validate_file` found; `to_json()` is the `workbench validate --json` object."""

    file: str
    model: str
    method: str
    examples: int = 0
    valid_examples: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    tokens: TokenStats = field(default_factory=TokenStats)
    epochs: int = 0
    estimated_training_tokens: int = 0
    estimated_cost_usd: float | None = None
    tokenizer_exact: bool = True
    tokenizer_note: str = ""
    validation_file: str | None = None
    validation_examples: int = 0
    lines: int = 0
    bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "model": self.model,
            "method": self.method,
            "examples": self.examples,
            "valid_examples": self.valid_examples,
            "errors": [p.to_json() for p in self.errors],
            "warnings": [p.to_json() for p in self.warnings],
            "tokens": self.tokens.to_json(),
            "epochs": self.epochs,
            "estimated_training_tokens": self.estimated_training_tokens,
            "estimated_cost_usd": self.estimated_cost_usd,
            "tokenizer_exact": self.tokenizer_exact,
            "tokenizer_note": self.tokenizer_note,
        }


def training_price_per_million(model: str) -> float | None:
    """The validator's training price: core.pricing.training_rate on OpenAI's terms (a file is
    validated without a profile; the pre-flight prices it on the profile's)."""
    from workbench.core.pricing import training_rate
    from workbench.core.provider_pricing import OPENAI_TERMS

    try:
        return training_rate(OPENAI_TERMS, model)
    except Exception:  # a broken price table must not break validation
        return None


def validate_file(
    path: str | os.PathLike,
    *,
    model: str = DEFAULT_MODEL,
    method: str = "supervised",
    validation_path: str | os.PathLike | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> ValidationReport:
    """Validate a training file (and optionally its validation file) without loading it whole.

    Raises OSError when a file cannot be read at all (missing, a directory, no permission);
    everything wrong inside a file is a Problem in the report. Problems of the validation file
    have its line numbers and messages starting with VALIDATION_PREFIX; a training line that is
    also in the validation file is a `duplicate_in_validation` warning on the training line. `progress(done, total)` is called
    with bytes as the scan goes. `workers`: processes to use (None = automatic, 1 = this one).
    """
    from workbench.core import dataset_scan

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    return dataset_scan.scan(
        Path(path),
        model=model,
        method=method,
        validation_path=Path(validation_path) if validation_path is not None else None,
        progress=progress,
        workers=workers,
    )
