"""One poll of a job: what it brought back, when to fetch checkpoints, and how long to wait
before the next one.

The provider runs the poll and the store keeps the result; the decisions in between are pure, so
they live here and are tested without a network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbench.core.jobs.model import is_terminal, normalise_status


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
