"""Fine-tuning jobs as plain data: statuses, the timeline, progress and ETA, metrics, polling backoff,
the results CSV, cost so far, and the checks made before a job is created.

No network, no SQL, no Textual: the store builds these dataclasses, the Jobs pane and `workbench
jobs` render them. Statuses are strings, never an exhaustive enum: the API returns `paused`, which
the SDK does not know, and a status we have never seen is treated as still running (never terminal),
so a watcher keeps watching rather than stopping early.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
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

# OpenAI's wind-down: no new fine-tuning jobs from this date on.
JOB_CREATION_END = date(2027, 1, 6)
# Fine-tunable base snapshots and their shutdown dates, for providers whose /v1/models does not say.
KNOWN_FINE_TUNABLE: dict[str, str | None] = {
    "gpt-4.1-mini-2025-04-14": "2027-01-14",
    "gpt-4.1-2025-04-14": "2027-01-14",
    "gpt-4o-mini-2024-07-18": "2027-01-14",
    "gpt-4o-2024-08-06": "2027-01-14",
    "gpt-4o-2024-11-20": "2027-01-14",
    "gpt-4.1-nano-2025-04-14": "2026-10-23",
    "gpt-3.5-turbo-0125": "2026-10-23",
}
# Which base models accept DPO (the guide's list).
DPO_MODELS = ("gpt-4.1", "gpt-4o-2024-08-06")

METHODS = ("supervised", "dpo")
METRIC_NAMES = (
    "train_loss",
    "valid_loss",
    "full_valid_loss",
    "train_mean_token_accuracy",
    "valid_mean_token_accuracy",
    "full_valid_mean_token_accuracy",
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


def _int_or_none(value: Any) -> int | None:
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
        "created_at": _int_or_none(obj.get("created_at")),
        "finished_at": _int_or_none(obj.get("finished_at")),
        "estimated_finish": _int_or_none(obj.get("estimated_finish")),
        "trained_tokens": _int_or_none(obj.get("trained_tokens")),
        "training_file": obj.get("training_file"),
        "validation_file": obj.get("validation_file"),
        "method": method_type,
        "hyperparameters": dict(hyper or {}),
        "suffix": suffix,
        "seed": _int_or_none(obj.get("seed")),
        "metadata": dict(obj.get("metadata") or {}),
        "error": error,
        "result_files": list(obj.get("result_files") or []),
    }


def event_from_api(obj: dict[str, Any], job_id: str) -> JobEvent:
    data = obj.get("data")
    return JobEvent(
        id=str(obj["id"]),
        job_id=job_id,
        created_at=_int_or_none(obj.get("created_at")) or 0,
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
        created_at=_int_or_none(obj.get("created_at")) or 0,
        step_number=_int_or_none(obj.get("step_number")),
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


# --- metrics, progress, ETA ---------------------------------------------------------------------


@dataclass(frozen=True)
class MetricPoint:
    step: int
    created_at: int
    total_steps: int | None = None
    values: dict[str, float] = field(default_factory=dict)

    def get(self, name: str) -> float | None:
        return self.values.get(name)


def metric_point(event: JobEvent) -> MetricPoint | None:
    """A chart point from a `metrics` event (`data.step`, `data.train_loss`, ...), else None."""
    data = event.data or {}
    step = _int_or_none(data.get("step"))
    if step is None or (event.type != "metrics" and "train_loss" not in data):
        return None
    values = {}
    for name in METRIC_NAMES:
        value = data.get(name)
        if isinstance(value, int | float) and math.isfinite(value):
            values[name] = float(value)
    # some providers and older events say train_accuracy / valid_accuracy
    for alias, name in (
        ("train_accuracy", "train_mean_token_accuracy"),
        ("valid_accuracy", "valid_mean_token_accuracy"),
    ):
        if name not in values and isinstance(data.get(alias), int | float):
            values[name] = float(data[alias])
    return MetricPoint(step, event.created_at, _int_or_none(data.get("total_steps")), values)


def metric_series(events: list[JobEvent]) -> list[MetricPoint]:
    """Metric points by step, one per step (the newest event wins), in step order."""
    by_step: dict[int, MetricPoint] = {}
    for event in sorted(events, key=lambda e: (e.created_at, e.id)):
        point = metric_point(event)
        if point is not None:
            by_step[point.step] = point
    return [by_step[s] for s in sorted(by_step)]


@dataclass(frozen=True)
class Progress:
    step: int | None
    total_steps: int | None
    eta_seconds: float | None
    eta_source: str | None  # "estimated_finish" | "step rate" | None

    @property
    def fraction(self) -> float | None:
        if self.step is None or not self.total_steps:
            return None
        return max(0.0, min(1.0, self.step / self.total_steps))

    def short(self) -> str:
        """For a list column: "32% ETA 51s"."""
        parts = []
        if self.fraction is not None:
            parts.append(f"{self.fraction:.0%}")
        elif self.step is not None:
            parts.append(f"step {self.step}")
        if self.eta_seconds is not None:
            parts.append(f"ETA {format_duration(self.eta_seconds)}")
        return " ".join(parts)

    def describe(self) -> str:
        parts = []
        if self.step is not None and self.total_steps:
            parts.append(f"step {self.step}/{self.total_steps} ({self.fraction:.0%})")
        elif self.step is not None:
            parts.append(f"step {self.step}")
        if self.eta_seconds is not None:
            parts.append(f"ETA {format_duration(self.eta_seconds)} ({self.eta_source})")
        return ", ".join(parts)


def progress(job: Job, points: list[MetricPoint], now: float) -> Progress:
    """Step/total from the newest metrics; ETA from `estimated_finish` when the API gives one,
    otherwise from the step rate between the first and the newest metrics event."""
    if job.status == "succeeded" and points:
        last = points[-1]
        return Progress(last.total_steps or last.step, last.total_steps or last.step, None, None)
    if not points:
        return Progress(None, None, _eta_from_finish(job, now), _finish_source(job, now))
    last = points[-1]
    total = next((p.total_steps for p in reversed(points) if p.total_steps), None)
    eta = _eta_from_finish(job, now)
    source = "estimated_finish" if eta is not None else None
    if eta is None and not job.terminal and total and len(points) >= 2:
        first = points[0]
        elapsed = last.created_at - first.created_at
        steps = last.step - first.step
        if elapsed > 0 and steps > 0:
            eta = max(0.0, (total - last.step) * elapsed / steps - max(0.0, now - last.created_at))
            source = "step rate"
    return Progress(last.step, total, eta, source)


def _eta_from_finish(job: Job, now: float) -> float | None:
    if job.terminal or not job.estimated_finish:
        return None
    return max(0.0, job.estimated_finish - now)


def _finish_source(job: Job, now: float) -> str | None:
    return "estimated_finish" if _eta_from_finish(job, now) is not None else None


def elapsed_seconds(job: Job, now: float) -> float | None:
    if job.created_at is None:
        return None
    end = job.finished_at if job.finished_at else now
    return max(0.0, end - job.created_at)


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    return f"{hours // 24}d{hours % 24:02d}h"


def format_timestamp(unix: int | None) -> str:
    if not unix:
        return "—"
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M")


# --- cost -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostSoFar:
    usd: float | None
    estimated: bool  # True: our pre-flight estimate, not the billed trained_tokens

    def describe(self) -> str:
        if self.usd is None:
            return "—"
        return f"{'≈' if self.estimated else ''}${self.usd:,.2f}"


def cost_so_far(job: Job, terms: Any, progress: Progress | None = None) -> CostSoFar:
    """What the job has cost, priced by core.pricing.training_cost on the profile's terms.

    Billed `trained_tokens` once the API reports them; while training, the share of the planned
    tokens the steps done stand for (marked as an estimate); a job that trained nothing (queued,
    cancelled while queued, failed before a step) cost nothing. Never the pre-flight estimate of
    the whole job: that is what it *will* cost.
    """
    from workbench.core.pricing import training_cost

    if job.trained_tokens is not None:
        return CostSoFar(training_cost(terms, job.model, job.trained_tokens), False)
    fraction = progress.fraction if progress is not None else None
    if fraction is not None and job.estimated_tokens:
        return CostSoFar(training_cost(terms, job.model, job.estimated_tokens * fraction), True)
    if progress is not None and progress.step:
        return CostSoFar(None, True)  # steps done, but no plan to price them against
    return CostSoFar(0.0, False)


def estimate_duration_seconds(training_tokens: int | None) -> float | None:
    """A rough wall-clock guess for a supervised job: queueing plus training throughput.

    OpenAI publishes no figure; jobs of a few hundred thousand tokens typically take 10-30 minutes.
    Shown as "rough" in the pre-flight.
    """
    if training_tokens is None:
        return None
    return 600.0 + training_tokens / 1500.0


# --- polling ----------------------------------------------------------------------------------


@dataclass
class PollSchedule:
    """How long to wait before the next poll: short while things change, longer when nothing does,
    longer still after errors (a 429's Retry-After is honoured), never more than `maximum`."""

    minimum: float = 2.0
    maximum: float = 60.0
    factor: float = 1.5
    delay: float = 0.0
    errors: int = 0

    def __post_init__(self) -> None:
        self.delay = self.minimum

    def after_poll(self, changed: bool) -> float:
        self.errors = 0
        self.delay = self.minimum if changed else min(self.maximum, self.delay * self.factor)
        return self.delay

    def after_error(self, retry_after: float | None = None) -> float:
        self.errors += 1
        backoff = min(self.maximum, self.minimum * (2 ** min(self.errors, 10)))
        self.delay = max(backoff, min(retry_after or 0.0, self.maximum * 5))
        return self.delay


# --- results file -----------------------------------------------------------------------------


def decode_results_csv(content: bytes | str) -> list[dict[str, float | str]]:
    """The metrics CSV of `result_files[0]`. OpenAI base64-encodes it; Azure may not: both work."""
    raw = content.encode() if isinstance(content, str) else bytes(content)
    text: str | None = None
    stripped = raw.strip()
    if not stripped.lower().startswith(b"step"):
        try:
            text = base64.b64decode(stripped, validate=False).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            text = None
    if text is None:
        text = raw.decode("utf-8", errors="replace")
    rows: list[dict[str, float | str]] = []
    for row in csv.DictReader(io.StringIO(text)):
        parsed: dict[str, float | str] = {}
        for key, value in row.items():
            if key is None:
                continue
            value = (value or "").strip()
            try:
                parsed[key.strip()] = float(value)
            except ValueError:
                parsed[key.strip()] = value
        rows.append(parsed)
    return rows


# --- creating a job ---------------------------------------------------------------------------

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


def parse_date(value: Any) -> date | None:
    if not value:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).date()
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class BaseModel:
    """A model a job can start from."""

    id: str
    shutdown_date: str | None = None
    provider: str = "openai"  # azure: its own training dates (core/model_lifecycle.py)

    def unavailable_reason(self, today: date) -> str | None:
        """Why this model cannot be picked today, or None."""
        if self.provider == "azure":
            from workbench.core.model_lifecycle import azure_training_unavailable

            return azure_training_unavailable(self.id, today)
        shutdown = parse_date(self.shutdown_date)
        if shutdown is not None and shutdown <= today:
            return f"{self.id} was shut down on {shutdown.isoformat()}"
        return None

    def describe(self, today: date) -> str:
        if self.provider == "azure":
            from workbench.core.model_lifecycle import azure_describe

            return azure_describe(self.id, today)
        shutdown = parse_date(self.shutdown_date)
        if shutdown is None:
            return self.id
        if shutdown <= today:
            return f"{self.id} (shut down {shutdown.isoformat()})"
        return f"{self.id} (shuts down {shutdown.isoformat()}, in {(shutdown - today).days} days)"


def fine_tunable_models(
    listed: list[dict[str, Any]] | None, provider: str = "openai"
) -> list[BaseModel]:
    """Base models a job can use: from the provider's /v1/models where it says (ids we know to be
    fine-tunable, or any flagged `fine_tunable`), else the known list. Azure: its own model list
    and training dates (core/model_lifecycle.py)."""
    if provider == "azure":
        from workbench.core.model_lifecycle import AZURE

        ids = set(AZURE)
        if listed:
            listed_ids = {str(m.get("id") or "") for m in listed}
            ids = (ids & listed_ids) or ids
            ids |= {str(m.get("id")) for m in listed if m.get("fine_tunable") is True}
        return [BaseModel(i, None, "azure") for i in sorted(ids)]
    if listed:
        models = []
        for m in listed:
            model_id = str(m.get("id") or "")
            if model_id.startswith("ft:"):
                continue
            if model_id in KNOWN_FINE_TUNABLE or m.get("fine_tunable") is True:
                shutdown = m.get("shutdown_date")
                if shutdown is None:
                    shutdown = KNOWN_FINE_TUNABLE.get(model_id)
                models.append(BaseModel(model_id, shutdown))
        if models:
            return sorted(models, key=lambda b: b.id)
    return [BaseModel(k, v) for k, v in sorted(KNOWN_FINE_TUNABLE.items())]


def creation_deadline_note(today: date) -> str:
    days = (JOB_CREATION_END - today).days
    if days > 0:
        return (
            f"OpenAI stops accepting new fine-tuning jobs on {JOB_CREATION_END.isoformat()} "
            f"({days} days from today)"
        )
    return f"OpenAI stopped accepting new fine-tuning jobs on {JOB_CREATION_END.isoformat()}"


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


def json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# --- one poll ---------------------------------------------------------------------------------


@dataclass
class JobSnapshot:
    """What one poll brought back, as the API's plain dicts: the job, the newest events page, and
    (only when worth fetching) the checkpoints and the decoded results CSV."""

    job: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] | None = None
    results_csv: str | None = None


def wants_checkpoints(
    status: str, previous_status: str | None, events: list[dict[str, Any]], have: int
) -> bool:
    """Fetch checkpoints when the status moved, when a finished job has none stored yet, or when
    the events mention more checkpoints than we hold (one per epoch, so this is rare)."""
    status = normalise_status(status)
    if previous_status is not None and status != normalise_status(previous_status):
        return True
    if is_terminal(status) and have == 0:
        return True
    mentions = sum(1 for e in events if "checkpoint" in str(e.get("message", "")).lower())
    return mentions > have


def downsample(xs: list[int], ys: list[float], max_points: int) -> tuple[list[int], list[float]]:
    """At most `max_points` points for a terminal chart: the mean of each run of neighbours, so a
    1,000-step curve keeps its shape at the resolution a terminal can show anyway."""
    n = len(xs)
    if max_points <= 0 or n <= max_points:
        return list(xs), list(ys)
    out_x: list[int] = []
    out_y: list[float] = []
    for b in range(max_points):
        lo, hi = b * n // max_points, (b + 1) * n // max_points
        if hi <= lo:
            continue
        out_x.append(xs[hi - 1])
        out_y.append(sum(ys[lo:hi]) / (hi - lo))
    return out_x, out_y
