"""The base models a job can start from, their shutdown dates, and OpenAI's job-creation deadline.

Dated facts that go stale, kept in one small place so the next wind-down notice is a one-file
change; Azure's own training dates live in core/model_lifecycle.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

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
