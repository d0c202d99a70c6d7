"""What each approach costs on the user's own prompt: per request, per N requests, one-off, break-even.

Formulas (reference §3.4):

- zero-shot / few-shot per request: uncached input x in + cached prefix x cached-in + output x out;
  the few-shot prompt is longer by its examples, which sit in the cacheable prefix.
- fine-tuned per request: the same with the fine-tuned rates on the short prompt.
- one-off training: training rate x billed tokens per epoch x epochs (cookbook epoch rule).
- break-even: training cost / (few-shot per request - fine-tuned per request), only when positive.
- provider terms (core/provider_pricing.py): on Azure the fine-tuned arm pays the base model's token
  rates plus the deployment's hosting fee, spread over the month's requests
  (hosting per request = hourly fee x hours per month / requests per month), so the break-even
  includes the hosting hours; OpenAI (the default) charges the fine-tuned premium, no hosting.

Prompt caching (a toggle) applies to a prefix of at least 1024 tokens, in 128-token steps, at the
cached rate; it assumes a warm cache (the first request of each burst pays full price). The Batch
toggle uses the Batch tier's rates. Plain Python: callers pass messages and token lists in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.core.pricing import (
    PRICES_AS_OF,
    ModelPrice,
    hosting_per_request,
    model_price,
    tokens_cost,
    training_rate,
)
from workbench.core.provider_pricing import OPENAI_TERMS, ProviderTerms

if TYPE_CHECKING:
    from workbench.core.tokens import Tokenizer

APPROACHES = ("zero-shot", "few-shot", "fine-tuned")
CACHE_MIN_PREFIX = 1024
CACHE_INCREMENT = 128
VOLUME_PRESETS = (1_000, 100_000, 1_000_000)
DEFAULT_VOLUME = 100_000
DEFAULT_OUTPUT_TOKENS = 200  # a guess, used only when nothing was measured and the user gave none


def cached_prefix_tokens(prefix_tokens: int) -> int:
    """Tokens of a static prefix billed at the cached rate: none under 1024, then whole 128s."""
    if prefix_tokens < CACHE_MIN_PREFIX:
        return 0
    return (prefix_tokens // CACHE_INCREMENT) * CACHE_INCREMENT


@dataclass(frozen=True)
class ApproachTokens:
    """One approach's request shape: what it sends and how long the answer is expected to be."""

    approach: str
    model: str
    input_tokens: int
    cacheable_prefix: int  # tokens before the user's own message (system + examples)
    output_tokens: float
    output_source: str = ""  # where the output figure comes from, in words


def measure_messages(
    approach: str,
    model: str,
    messages: Sequence[Mapping[str, Any]],
    tokenizer: Tokenizer,
    output_tokens: float,
    output_source: str = "",
) -> ApproachTokens:
    """Count an assembled prompt: the total billed, and the static prefix before the last message."""
    from workbench.core.tokens import count_message_tokens

    total = count_message_tokens(messages, tokenizer) if messages else 0
    prefix = count_message_tokens(messages[:-1], tokenizer, reply_priming=False) if messages else 0
    return ApproachTokens(approach, model, total, prefix, output_tokens, output_source)


@dataclass(frozen=True)
class TrainingPlan:
    """The one-off cost of fine-tuning on a dataset."""

    model: str
    examples: int
    billed_tokens_per_epoch: int
    epochs: int
    rate_per_million: float | None  # None: no per-token training price for this model

    @property
    def trained_tokens(self) -> int:
        return self.billed_tokens_per_epoch * self.epochs

    @property
    def cost(self) -> float | None:
        if self.rate_per_million is None:
            return None
        return self.trained_tokens * self.rate_per_million / 1_000_000


def training_plan(
    model: str,
    per_example_tokens: Sequence[int],
    *,
    epochs: int | None = None,
    overrides: dict | None = None,
    terms: ProviderTerms = OPENAI_TERMS,
) -> TrainingPlan:
    """Billed tokens x epochs x rate, with the validator's limit and epoch rule (core.dataset)."""
    from workbench.core.dataset import billed_tokens, default_epochs, token_limit

    n = len(per_example_tokens)
    chosen = epochs if epochs else (default_epochs(n) if n else 0)
    billed = billed_tokens(per_example_tokens, token_limit(model)) if n else 0
    return TrainingPlan(
        model=model,
        examples=n,
        billed_tokens_per_epoch=billed,
        epochs=chosen,
        rate_per_million=training_rate(_with(terms, overrides), model),
    )


def _with(terms: ProviderTerms, overrides: dict | None) -> ProviderTerms:
    return terms.with_overrides(overrides) if overrides else terms


@dataclass(frozen=True)
class EstimateSettings:
    volume: int = DEFAULT_VOLUME  # requests per month
    output_tokens: float | None = None  # the user's figure; None: measured or default
    caching: bool = False
    batch: bool = False
    terms: ProviderTerms = OPENAI_TERMS  # how the provider bills a fine-tune (hosting, rates)


@dataclass(frozen=True)
class ApproachCost:
    approach: str
    model: str
    input_tokens: int
    cacheable_prefix: int
    cached_tokens: int  # of input_tokens, billed at the cached rate (0 without caching)
    output_tokens: float
    output_source: str
    price: ModelPrice | None
    per_request: float | None  # None: no price for the model
    one_off: float | None  # training for fine-tuned (None: unknown), 0 otherwise
    hosting_per_request: float = 0.0  # Azure: the deployment's monthly fee / monthly requests,
    #                                   already inside per_request

    @property
    def display_model(self) -> str:
        """The model as the user should read it: a fine-tune not trained yet says so."""
        if self.approach == "fine-tuned" and not (
            self.model.startswith("ft:") or ".ft-" in self.model
        ):
            return f"{self.model} (to train)"
        return self.model

    def per_n(self, n: int) -> float | None:
        return None if self.per_request is None else self.per_request * n

    def cumulative(self, n: int) -> float | None:
        """Total spent after n requests, training included."""
        if self.per_request is None or self.one_off is None:
            return None
        return self.one_off + self.per_request * n

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("price")
        data["price_model"] = self.price.family if self.price else None
        data["priced"] = self.price is not None
        return data


@dataclass(frozen=True)
class Estimate:
    approaches: tuple[ApproachCost, ...]
    settings: EstimateSettings
    training: TrainingPlan | None
    break_even: int | None  # requests after which fine-tuning is cheaper than few-shot
    prices_as_of: str = PRICES_AS_OF
    notes: tuple[str, ...] = field(default_factory=tuple)

    def approach(self, name: str) -> ApproachCost | None:
        return next((a for a in self.approaches if a.approach == name), None)

    def break_even_words(self) -> str:
        """The break-even in words; when there is none, says why (never or not known yet)."""
        if self.break_even is not None:
            return f"{self.break_even:,} requests"
        few, ft = self.approach("few-shot"), self.approach("fine-tuned")
        if few is None or ft is None:
            return "none (needs both few-shot and fine-tuned)"
        if few.per_request is None or ft.per_request is None:
            return "unknown (a model has no price)"
        if ft.per_request >= few.per_request:
            return "none (fine-tuning never gets cheaper than few-shot)"
        return "unknown until the training cost is known (pick a dataset)"

    @property
    def break_even_months(self) -> float | None:
        if self.break_even is None or self.settings.volume <= 0:
            return None
        return self.break_even / self.settings.volume

    def to_json(self) -> dict[str, Any]:
        return {
            "prices_as_of": self.prices_as_of,
            "settings": asdict(self.settings),
            "approaches": [
                {**a.to_json(), "per_volume": a.per_n(self.settings.volume)}
                for a in self.approaches
            ],
            "training": None
            if self.training is None
            else {
                **asdict(self.training),
                "trained_tokens": self.training.trained_tokens,
                "cost": self.training.cost,
            },
            "break_even_requests": self.break_even,
            "break_even_months": self.break_even_months,
            "notes": list(self.notes),
        }


def break_even_volume(
    training_cost: float | None, per_request_few_shot: float | None, per_request_ft: float | None
) -> int | None:
    """Requests after which fine-tuning (training + cheaper requests) beats few-shot; None if never."""
    if training_cost is None or per_request_few_shot is None or per_request_ft is None:
        return None
    saving = per_request_few_shot - per_request_ft
    if saving <= 0:
        return None
    return math.ceil(training_cost / saving)


def estimate(
    requests: Sequence[ApproachTokens],
    settings: EstimateSettings = EstimateSettings(),
    training: TrainingPlan | None = None,
    overrides: dict | None = None,
) -> Estimate:
    """Cost figures for each approach given its request shape; the user's output figure wins."""
    costs: list[ApproachCost] = []
    notes: list[str] = []
    terms = _with(settings.terms, overrides)
    if terms.free_tokens:
        notes.append(terms.describe())
    for req in requests:
        price = model_price(terms, req.model, fine_tuned=req.approach == "fine-tuned")
        output = settings.output_tokens if settings.output_tokens is not None else req.output_tokens
        source = "your figure" if settings.output_tokens is not None else req.output_source
        cached = 0
        if settings.caching and price is not None and price.has_cache_discount:
            cached = min(cached_prefix_tokens(req.cacheable_prefix), req.input_tokens)
        per_request = (
            None
            if price is None
            else tokens_cost(price, req.input_tokens, output, cached, batch=settings.batch)
        )
        if price is None:
            notes.append(f'no price for {req.model}: add [prices."{req.model}"] to your config')
        one_off: float | None = 0.0
        hosting = hosting_per_request(terms, req.approach, settings.volume)
        if hosting and per_request is not None:
            per_request += hosting
        if req.approach == "fine-tuned":
            one_off = training.cost if training is not None else None
            if terms.provider == "azure":
                notes.append(terms.describe())
        elif hosting:
            notes.append(terms.describe())
        costs.append(
            ApproachCost(
                approach=req.approach,
                model=req.model,
                input_tokens=req.input_tokens,
                cacheable_prefix=req.cacheable_prefix,
                cached_tokens=cached,
                output_tokens=output,
                output_source=source,
                price=price,
                per_request=per_request,
                one_off=one_off,
                hosting_per_request=hosting,
            )
        )
    if settings.caching and not any(c.cached_tokens for c in costs):
        notes.append(
            f"caching changes nothing here: no prompt has a static prefix of {CACHE_MIN_PREFIX}+ "
            "tokens (or the model has no cached rate)"
        )
    by_name = {c.approach: c for c in costs}
    few, ft = by_name.get("few-shot"), by_name.get("fine-tuned")
    even = None
    if few is not None and ft is not None:
        even = break_even_volume(ft.one_off, few.per_request, ft.per_request)
    return Estimate(tuple(costs), settings, training, even, notes=tuple(dict.fromkeys(notes)))


def cost_curves(
    est: Estimate, max_volume: int | None = None, points: int = 60, *, log: bool = False
) -> tuple[list[int], dict[str, list[float]]]:
    """Cumulative cost (USD) against request volume for each priced approach, for a chart.

    The range reaches past both the user's volume and the break-even, so the crossing shows;
    `log` spaces the volumes geometrically from 1 (for a log-scale axis).
    """
    top = max_volume or max(est.settings.volume, int((est.break_even or 0) * 1.5), 1_000)
    if log:
        top = max_volume or max(est.settings.volume * 3, (est.break_even or 0) * 10, 1_000)
        ratio = top ** (1 / max(1, points - 1))
        volumes = sorted({max(1, round(ratio**i)) for i in range(points)} | {top})
    else:
        step = max(1, top // max(1, points - 1))
        volumes = list(range(0, top + 1, step))
        if volumes[-1] != top:
            volumes.append(top)
    curves: dict[str, list[float]] = {}
    for cost in est.approaches:
        if cost.cumulative(0) is None:
            continue
        curves[cost.approach] = [cost.cumulative(n) for n in volumes]  # type: ignore[misc]
    return volumes, curves
