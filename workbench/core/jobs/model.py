"""A fine-tuning job as plain data: the Job and its events and checkpoints, the statuses, the
timeline, and the conversion from the API's dicts.

Everything else in the package reads these dataclasses, so they live apart from what is computed
from them. Statuses are strings, never an exhaustive enum: the API returns `paused`, which the SDK
does not know, and a status we have never seen is treated as still running (never terminal), so a
watcher keeps watching rather than stopping early.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
# Other names providers use for the same states (Azure says `pending` for queued).
STATUS_ALIASES = {"pending": "queued", "validating": "validating_files", "canceled": "cancelled"}
STATUS_LABELS = {
    "validating_files": "validating",
    "queued": "queued",
    "running": "running",
    "paused": "paused",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
}
# (stage, label) in the order a job passes them.
TIMELINE_STAGES: tuple[tuple[str, str], ...] = (
    ("validating_files", "validating"),
    ("queued", "queued"),
    ("running", "running"),
    ("done", "done"),
)


def normalise_status(status: str | None) -> str:
    status = (status or "").strip().lower()
    return STATUS_ALIASES.get(status, status) or "unknown"


def is_terminal(status: str | None) -> bool:
    """Only succeeded, failed and cancelled end a job; anything unknown is still going."""
    return normalise_status(status) in TERMINAL_STATUSES


def status_label(status: str | None) -> str:
    status = normalise_status(status)
    return STATUS_LABELS.get(status, status)


# --- the job and what happens to it ---------------------------------------------------------------


@dataclass
class Job:
    """One fine-tuning job as we last saw it, plus what the workbench knows about where it came from."""

    id: str
    base_url: str = ""
    profile: str = ""
    status: str = "unknown"
    model: str = ""
    fine_tuned_model: str | None = None
    created_at: int | None = None  # unix seconds, as the API gives them
    finished_at: int | None = None
    estimated_finish: int | None = None
    trained_tokens: int | None = None
    training_file: str | None = None
    validation_file: str | None = None
    method: str = "supervised"
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    suffix: str | None = None
    seed: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    error: dict[str, Any] | None = None  # {code, message, param}; None when there is no error
    result_files: list[str] = field(default_factory=list)
    dataset_name: str | None = None
    estimated_tokens: int | None = None  # our pre-flight estimate of billed tokens
    estimated_cost_usd: float | None = None
    updated_at: str = ""

    @property
    def terminal(self) -> bool:
        return is_terminal(self.status)

    @property
    def error_text(self) -> str | None:
        """The failure in words, or None. `error: {}` on a good job is not an error."""
        err = self.error or {}
        if not (err.get("code") or err.get("message")):
            return None
        parts = [str(err.get("message") or err.get("code"))]
        if err.get("param"):
            parts.append(f"(in {err['param']})")
        if err.get("code") and err.get("message"):
            parts.append(f"[{err['code']}]")
        return " ".join(parts)


@dataclass(frozen=True)
class JobEvent:
    id: str
    job_id: str
    created_at: int
    level: str = "info"
    message: str = ""
    type: str = "message"
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class JobCheckpoint:
    id: str
    job_id: str
    created_at: int
    step_number: int | None
    fine_tuned_model_checkpoint: str | None
    metrics: dict[str, float] = field(default_factory=dict)


def int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def job_from_api(obj: dict[str, Any]) -> dict[str, Any]:
    """The fields of a Job from the API's job object (a plain dict), tolerant of missing ones."""
    method = obj.get("method") or {}
    method_type = method.get("type") or "supervised"
    hyper = (method.get(method_type) or {}).get("hyperparameters") or obj.get("hyperparameters")
    error = obj.get("error") or None
    if isinstance(error, dict) and not (error.get("code") or error.get("message")):
        error = None
    suffix = obj.get("user_provided_suffix") or obj.get("suffix")
    return {
        "id": str(obj["id"]),
        "status": normalise_status(obj.get("status")),
        "model": str(obj.get("model") or ""),
        "fine_tuned_model": obj.get("fine_tuned_model") or None,
        "created_at": int_or_none(obj.get("created_at")),
        "finished_at": int_or_none(obj.get("finished_at")),
        "estimated_finish": int_or_none(obj.get("estimated_finish")),
        "trained_tokens": int_or_none(obj.get("trained_tokens")),
        "training_file": obj.get("training_file"),
        "validation_file": obj.get("validation_file"),
        "method": method_type,
        "hyperparameters": dict(hyper or {}),
        "suffix": suffix,
        "seed": int_or_none(obj.get("seed")),
        "metadata": dict(obj.get("metadata") or {}),
        "error": error,
        "result_files": list(obj.get("result_files") or []),
    }


def event_from_api(obj: dict[str, Any], job_id: str) -> JobEvent:
    data = obj.get("data")
    return JobEvent(
        id=str(obj["id"]),
        job_id=job_id,
        created_at=int_or_none(obj.get("created_at")) or 0,
        level=str(obj.get("level") or "info"),
        message=str(obj.get("message") or ""),
        type=str(obj.get("type") or "message"),
        data=data if isinstance(data, dict) else None,
    )


def checkpoint_from_api(obj: dict[str, Any], job_id: str) -> JobCheckpoint:
    metrics = obj.get("metrics") or {}
    return JobCheckpoint(
        id=str(obj["id"]),
        job_id=str(obj.get("fine_tuning_job_id") or job_id),
        created_at=int_or_none(obj.get("created_at")) or 0,
        step_number=int_or_none(obj.get("step_number")),
        fine_tuned_model_checkpoint=obj.get("fine_tuned_model_checkpoint"),
        metrics={k: float(v) for k, v in metrics.items() if isinstance(v, int | float)},
    )


# --- timeline ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    name: str
    label: str
    state: str  # "done" | "current" | "todo" | "failed" | "skipped"


def timeline(status: str | None, reached: set[str] | None = None) -> list[Stage]:
    """validating -> queued -> running -> done, each marked done/current/todo (failed where it broke).

    `reached` is the set of statuses the job was ever seen in (from stored history), so a job that
    failed during validation shows queued and running as skipped rather than done.
    """
    status = normalise_status(status)
    reached = {normalise_status(s) for s in (reached or set())} | {status}
    order = [name for name, _ in TIMELINE_STAGES]
    if status in TERMINAL_STATUSES:
        position = order.index("done")
    elif status == "paused":
        position = order.index("running")
    elif status in order:
        position = order.index(status)
    else:
        position = order.index("running")  # an unknown status: somewhere in the middle
    stages: list[Stage] = []
    for i, (name, label) in enumerate(TIMELINE_STAGES):
        if name == "done":
            if status in TERMINAL_STATUSES:
                state = "done" if status == "succeeded" else "failed"
                label = status
            else:
                state = "todo"
        elif i < position:
            skipped = status in ("failed", "cancelled") and name not in reached
            state = "skipped" if skipped else "done"
        elif i == position:
            state = "current"
            if status == "paused":
                label = "paused"
        else:
            state = "todo"
        stages.append(Stage(name, label, state))
    return stages


def json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
