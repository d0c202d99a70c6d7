"""The base models the simulator serves, with OpenAI's announced shutdown dates (reference §0)."""

from __future__ import annotations

from dataclasses import dataclass

OWNED_BY = "workbench-simulator"
ORG = "sim-org"


@dataclass(frozen=True)
class BaseModel:
    id: str
    created: int
    shutdown_date: str | None = None
    fine_tunable: bool = False
    methods: tuple[str, ...] = ()


BASE_MODELS: tuple[BaseModel, ...] = (
    BaseModel("gpt-4o-2024-08-06", 1722814719, "2027-01-14", True, ("supervised", "dpo")),
    BaseModel("gpt-4o-mini-2024-07-18", 1721172717, "2027-01-14", True, ("supervised", "dpo")),
    BaseModel("gpt-4.1-2025-04-14", 1744315746, "2027-01-14", True, ("supervised", "dpo")),
    BaseModel("gpt-4.1-mini-2025-04-14", 1744317547, "2027-01-14", True, ("supervised", "dpo")),
    # shut down on 2026-10-23: listed (as OpenAI lists them with the date) but unusable
    BaseModel("gpt-4.1-nano-2025-04-14", 1744321707, "2026-10-23"),
    BaseModel("gpt-3.5-turbo-0125", 1706048358, "2026-10-23"),
    BaseModel("o4-mini-2025-04-16", 1744133506, "2026-10-23"),  # the only RFT base: RFT is gone
    # current chat models that cannot be fine-tuned
    BaseModel("gpt-4o", 1715367049),
    BaseModel("gpt-4o-mini", 1721172741),
    BaseModel("gpt-4.1", 1744316542),
    BaseModel("gpt-4.1-mini", 1744318173),
    BaseModel("gpt-5-mini", 1754425928, "2026-12-11"),
    BaseModel("gpt-5.6-luna", 1780000000),
    BaseModel("gpt-5.6-terra", 1780000000),
)

_BY_ID = {m.id: m for m in BASE_MODELS}


def base_model(model_id: str) -> BaseModel | None:
    return _BY_ID.get(model_id)


def is_shut_down(model: BaseModel, today: str) -> bool:
    return model.shutdown_date is not None and model.shutdown_date <= today


def model_object(model_id: str, created: int, shutdown_date: str | None) -> dict:
    return {
        "id": model_id,
        "object": "model",
        "created": created,
        "owned_by": OWNED_BY,
        "shutdown_date": shutdown_date,
    }
