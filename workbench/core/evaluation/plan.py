"""What an evaluation is made of: the plan (approaches, held-out cases, scorer, terms), the
records the engine hands its ledger, and the two services it is given (a ledger, the Batch API).

Plain data and protocols, shared by the engine (`engine.py`), the store's SQLite ledger and plan
builder, and the SDK adapters in `providers/evals.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from workbench.core.evaluation.scoring import ApproachResult, EvalCase, ItemResult, Scorer
from workbench.core.prompts import EVAL_APPROACHES
from workbench.core.provider_pricing import OPENAI_TERMS, ProviderTerms


@dataclass(frozen=True)
class ChatReply:
    """What a chat function returns for one request."""

    answer: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None


ChatFunction = Callable[[str, list[dict], dict[str, Any]], ChatReply]


@dataclass(frozen=True)
class ApproachPlan:
    approach: str  # one of core.prompts.EVAL_APPROACHES
    model: str

    def __post_init__(self) -> None:
        if self.approach not in EVAL_APPROACHES:
            raise ValueError(
                f"approach must be one of {', '.join(EVAL_APPROACHES)}, not {self.approach!r}"
            )


@dataclass(frozen=True)
class EvalPlan:
    """One evaluation, fully described: what to ask, of which models, how to score and price it."""

    eval_name: str
    prompt_name: str
    prompt: Any  # system / template / variables / ft_system / params (PromptSetup, PromptVersion)
    approaches: tuple[ApproachPlan, ...]
    cases: tuple[EvalCase, ...]
    scorer: Scorer = field(default_factory=Scorer)
    examples: tuple[Any, ...] = ()  # the few-shot approach's examples (its saved selection)
    pool: tuple[Any, ...] = ()  # few-shot-similar picks from these per item (few-shot split only)
    similar_k: int = 3
    seed: int = 0
    terms: ProviderTerms = OPENAI_TERMS
    group_id: str | None = None  # resume this evaluation
    scope: str = ""  # which held-out set, in words ("all test examples", "library", a dataset)
    version_id: int | None = None
    version_number: int | None = None
    profile: str = ""


@dataclass(frozen=True)
class ItemRecord:
    """One asked item, as the ledger stores it (an eval item and a Run)."""

    run_id: Any
    approach: str
    model: str
    case: EvalCase
    messages: list[dict]
    params: dict[str, Any]
    answer: str = ""
    passed: bool | None = None
    detail: str = ""
    latency_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    cost_usd: float | None = None
    error: str | None = None


class EvalLedger(Protocol):
    """Where an evaluation keeps its state (store.evals.EvalLedger is the SQLite one)."""

    def open_runs(self, plan: EvalPlan, mode: str) -> tuple[str, dict[ApproachPlan, Any]]: ...
    def answered(self, run_id: Any) -> set[int]: ...
    def record(self, item: ItemRecord, plan: EvalPlan) -> None: ...
    def finish(self, run_id: Any, status: str, error: str | None = None) -> None: ...
    def batch_id(self, run_id: Any) -> str | None: ...
    def set_batch(self, run_id: Any, batch_id: str | None) -> None: ...
    def item_results(self, run_id: Any) -> list[ItemResult]: ...


class BatchService(Protocol):
    """The Batch API (providers.evals.SdkBatches)."""

    def submit(self, requests: Sequence[tuple[str, dict]], label: str) -> str: ...
    def wait(
        self, batch_id: str, should_stop: Callable[[], bool], on_state: Callable[[Any], None]
    ) -> Any: ...  # a state with .done, .status, .errors
    def results(self, state: Any) -> Iterable[tuple[str, ChatReply | None, str | None]]: ...


@dataclass(frozen=True)
class EvalSummary:
    group_id: str
    results: dict[str, ApproachResult]
    asked: int  # requests sent now (a resumed run asks only what was missing)
    cancelled: bool
    mode: str  # "concurrent" | "batch"
