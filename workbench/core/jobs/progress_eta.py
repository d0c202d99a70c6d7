"""How far a job has got, when it will finish, how long it took, and what it has cost so far.

Derived from a Job and its metric points, with no I/O, so the Jobs pane and `workbench jobs` show
the same figures. Not named `progress.py`: the package re-exports the function `progress`, and a
submodule of the same name would shadow it (or be shadowed by it) on the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workbench.core.jobs.metrics import MetricPoint
from workbench.core.jobs.model import Job


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
