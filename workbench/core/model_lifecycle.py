"""Until when each provider trains and serves each fine-tunable model (reference providers.md §0-1).

OpenAI: no new jobs after 2027-01-06; the gpt-4o/4.1 fine-tunable snapshots shut down 2027-01-14
(core/jobs/base_models.py holds those). Azure OpenAI (model-retirements page, 2026-10-05):
fine-tuning training retires "no earlier than" the dates below for existing customers (a
subscription that has deployed that model version; others lose training at base-model retirement,
2027-04-14 for these), and fine-tuned deployments keep answering until the second date. These dates have moved before: the
table carries its as-of date and the job form says where it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

AZURE_DATES_AS_OF = "2026-10-05"
AZURE_DATES_SOURCE = "learn.microsoft.com/azure/foundry/openai/concepts/model-retirements"


@dataclass(frozen=True)
class ModelDates:
    """The last day a provider accepts new training on a model, and until when it serves results."""

    model: str
    training_until: date | None  # training retires on this date (None: no date announced)
    serving_until: date | None  # fine-tuned deployments retire on this date
    note: str = ""


AZURE: dict[str, ModelDates] = {
    m.model: m
    for m in (
        ModelDates("gpt-4o-2024-08-06", date(2027, 4, 1), date(2027, 10, 1)),
        ModelDates("gpt-4o-mini-2024-07-18", date(2027, 4, 1), date(2027, 10, 1)),
        ModelDates("gpt-4.1-2025-04-14", date(2027, 4, 14), date(2027, 10, 14)),
        ModelDates("gpt-4.1-mini-2025-04-14", date(2027, 4, 14), date(2027, 10, 14)),
        ModelDates("gpt-4.1-nano-2025-04-14", date(2027, 4, 14), date(2027, 10, 14)),
        # RFT only; its base model retired 2026-10-16, which ends training for everyone else
        ModelDates(
            "o4-mini-2025-04-16",
            date(2026, 10, 16),
            date(2027, 10, 16),
            "reinforcement fine-tuning only; base model retired 2026-10-16",
        ),
    )
}
EXISTING_CUSTOMERS_NOTE = (
    "Azure's training dates hold for existing customers (the subscription has deployed that model "
    "version); otherwise training ends at base-model retirement"
)


def azure_dates(model: str) -> ModelDates | None:
    return AZURE.get(model)


def azure_training_unavailable(model: str, today: date) -> str | None:
    """Why Azure will not train `model` today, or None (unknown models: let Azure decide)."""
    dates = AZURE.get(model)
    if dates is None or dates.training_until is None or today < dates.training_until:
        return None
    return (
        f"{model}: Azure retired fine-tuning training on {dates.training_until.isoformat()} "
        f"(existing fine-tuned deployments answer until {dates.serving_until.isoformat()})"
        if dates.serving_until
        else f"{model}: Azure retired fine-tuning training on {dates.training_until.isoformat()}"
    )


def azure_describe(model: str, today: date) -> str:
    dates = AZURE.get(model)
    if dates is None or dates.training_until is None:
        return model
    reason = azure_training_unavailable(model, today)
    if reason:
        return f"{model} (Azure training retired {dates.training_until.isoformat()})"
    days = (dates.training_until - today).days
    serving = (
        f", deployments until {dates.serving_until.isoformat()}" if dates.serving_until else ""
    )
    return (
        f"{model} (Azure trains until {dates.training_until.isoformat()}, in {days} days{serving})"
    )


def openai_shutdown(model: str) -> date | None:
    """The day OpenAI shut down (or shuts down) `model` as a fine-tuning base, when known.

    Takes a snapshot (`gpt-3.5-turbo-0125`), an alias that names one snapshot family
    (`gpt-4.1-nano`) or a fine-tuned id (its base counts)."""
    import re

    from workbench.core.jobs.base_models import KNOWN_FINE_TUNABLE
    from workbench.core.tokens import base_model_of

    base = base_model_of(model.strip()).lower()
    if base in KNOWN_FINE_TUNABLE:
        found = {KNOWN_FINE_TUNABLE[base]}
    else:
        snapshot = re.compile(re.escape(base) + r"-\d{4}(?:-\d{2}-\d{2})?")
        found = {day for name, day in KNOWN_FINE_TUNABLE.items() if snapshot.fullmatch(name)}
    if len(found) != 1 or None in found:
        return None  # unknown, or an alias whose snapshots end on different days
    return date.fromisoformat(found.pop())


def openai_shut_down_message(model: str, today: date) -> str | None:
    """Why OpenAI will refuse a fine-tuning job on `model` today (it is shut down), or None."""
    day = openai_shutdown(model)
    if day is None or today < day:
        return None
    return (
        f"OpenAI shut down {model} on {day.isoformat()}: it accepts no fine-tuning job; "
        "choose another --model"
    )
