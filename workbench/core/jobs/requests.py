"""Creating a job: the request the create form collects, the hyperparameters and their ranges,
and the checks made before anything is sent.

Kept apart so `workbench jobs create`, the pre-flight and the create form share one set of rules
and one payload shape for jobs.create; problems are worded for the user, not the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from workbench.core.jobs.base_models import DPO_MODELS, BaseModel

METHODS = ("supervised", "dpo")

HYPERPARAMETERS: dict[str, tuple[str, type]] = {
    # field name -> (label, type)
    "n_epochs": ("epochs", int),
    "batch_size": ("batch size", int),
    "learning_rate_multiplier": ("learning-rate multiplier", float),
    "beta": ("DPO beta", float),
}


def parse_hyperparameter(name: str, text: str) -> int | float | str:
    """'auto' (or empty) or a number in the API's range; ValueError names the field."""
    label, kind = HYPERPARAMETERS[name]
    text = (text or "").strip().lower()
    if text in ("", "auto"):
        return "auto"
    try:
        value = kind(text) if kind is float else int(text)
    except ValueError:
        kind_name = "whole number" if kind is int else "number"
        raise ValueError(f"{label}: {text!r} is not a {kind_name} or 'auto'") from None
    if name == "n_epochs" and not 1 <= value <= 50:
        raise ValueError(f"{label}: must be between 1 and 50")
    if name == "batch_size" and not 1 <= value <= 256:
        raise ValueError(f"{label}: must be between 1 and 256")
    if name == "learning_rate_multiplier" and not value > 0:
        raise ValueError(f"{label}: must be above 0")
    if name == "beta" and not 0 < value <= 2:
        raise ValueError(f"{label}: must be above 0 and at most 2")
    return value


def method_payload(method: str, hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """The `method` argument of jobs.create; 'auto' values are left out (the API's default)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    allowed = set(HYPERPARAMETERS) - ({"beta"} if method == "supervised" else set())
    chosen = {k: v for k, v in hyperparameters.items() if k in allowed and v not in (None, "auto")}
    body: dict[str, Any] = {"hyperparameters": chosen} if chosen else {}
    return {"type": method, method: body}


def check_suffix(suffix: str) -> str | None:
    if len(suffix) > 64:
        return "suffix: at most 64 characters"
    return None


def check_metadata(metadata: dict[str, str]) -> str | None:
    if len(metadata) > 16:
        return "metadata: at most 16 keys"
    for key, value in metadata.items():
        if len(key) > 64:
            return f"metadata: key {key[:20]!r}… is longer than 64 characters"
        if len(str(value)) > 512:
            return f"metadata: the value of {key!r} is longer than 512 characters"
    return None


def parse_metadata(text: str) -> dict[str, str]:
    """`key=value` pairs separated by commas or new lines; ValueError names the bad pair."""
    result: dict[str, str] = {}
    for part in text.replace("\n", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ValueError(f"metadata: {part!r} is not key=value")
        key, value = part.split("=", 1)
        if not key.strip():
            raise ValueError(f"metadata: {part!r} has no key")
        result[key.strip()] = value.strip()
    return result


@dataclass
class JobRequest:
    """Everything the create form collects; `problems()` lists what is wrong, in the user's words."""

    dataset_name: str
    model: str
    method: str = "supervised"
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    suffix: str = ""
    seed: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    use_validation: bool = False

    def full_metadata(self) -> dict[str, str]:
        return {**self.metadata, "workbench_dataset": self.dataset_name[:512]}

    def problems(self, models: list[BaseModel], today: date) -> list[str]:
        found = []
        known = {m.id: m for m in models}
        if not self.model:
            found.append("base model: pick one")
        elif self.model in known:
            reason = known[self.model].unavailable_reason(today)
            if reason:
                found.append(f"base model: {reason}")
        if self.method == "dpo" and self.model and not self.model.startswith(DPO_MODELS):
            found.append(f"method: DPO is not offered for {self.model}")
        for text in (check_suffix(self.suffix), check_metadata(self.full_metadata())):
            if text:
                found.append(text)
        return found

    def create_arguments(self, training_file: str, validation_file: str | None) -> dict[str, Any]:
        args: dict[str, Any] = {
            "model": self.model,
            "training_file": training_file,
            "method": method_payload(self.method, self.hyperparameters),
            "metadata": self.full_metadata(),
        }
        if validation_file:
            args["validation_file"] = validation_file
        if self.suffix:
            args["suffix"] = self.suffix
        if self.seed is not None:
            args["seed"] = self.seed
        return args
