"""The dated price table: what a request or a training run costs, per model, in USD.

The table ships as package data (`workbench/data/prices.json`) with its "as of" date and source, so
the UI can say how old the figures are. Users override or add models in their config file:

    [prices."gpt-4.1-mini"]          # a family: its dated snapshots follow
    input = 0.35
    [prices."my-local-model"]        # a model the table does not know
    input = 0.0
    output = 0.0

Fine-tuned ids (`ft:<base>:org:suffix:id`, Azure `<base>.ft-<hex>`) are priced as the fine-tuned
version of their base model. A model nobody priced gets None ("no price"), never $0: a zero would
make an unknown model look free in every comparison.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from workbench.core.tokens import base_model_of

if TYPE_CHECKING:
    from workbench.core.provider_pricing import ProviderTerms

PER_MILLION = 1_000_000

# Keys a `[prices."model"]` table may set (per 1M tokens, USD; training_per_hour in USD per hour).
PRICE_FIELDS = (
    "input",
    "cached_input",
    "output",
    "batch_input",
    "batch_cached_input",
    "batch_output",
    "training",
    "training_per_hour",
    "ft_input",
    "ft_cached_input",
    "ft_output",
    "ft_batch_input",
    "ft_batch_cached_input",
    "ft_batch_output",
)

_DATE_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")  # gpt-4.1-mini-2025-04-14
_SHORT_DATE_SUFFIX = re.compile(r"-\d{4}$")  # gpt-3.5-turbo-0125


@dataclass(frozen=True)
class ModelPrice:
    """Inference prices for one model (per 1M tokens), plus training if it can be fine-tuned.

    `fine_tuned` says the figures are the fine-tuned-model rates of `family`. `cached_input` None
    means the model has no cache discount (cached tokens cost the full input rate).
    """

    model: str
    family: str
    input: float
    output: float
    cached_input: float | None = None
    batch_input: float | None = None
    batch_cached_input: float | None = None
    batch_output: float | None = None
    training: float | None = None
    training_per_hour: float | None = None
    fine_tuned: bool = False
    source: str = "table"  # "table" | "config"
    shutdown: str | None = None  # the date (ISO) the provider stops serving this model

    def rates(self, *, batch: bool = False) -> tuple[float, float, float]:
        """(input, cached input, output) per 1M tokens for standard or Batch requests."""
        cached = self.cached_input if self.cached_input is not None else self.input
        if not batch:
            return self.input, cached, self.output
        b_in = self.batch_input if self.batch_input is not None else self.input / 2
        b_out = self.batch_output if self.batch_output is not None else self.output / 2
        if self.batch_cached_input is not None:
            b_cached = self.batch_cached_input
        elif self.cached_input is not None:
            b_cached = self.cached_input / 2
        else:
            b_cached = b_in
        return b_in, b_cached, b_out

    @property
    def has_cache_discount(self) -> bool:
        return self.cached_input is not None and self.cached_input < self.input


@dataclass(frozen=True)
class PriceTable:
    """The shipped table (or the table with a user's overrides merged in)."""

    as_of: str
    source: str
    models: dict[str, dict[str, Any]]
    notes: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def shipped_table() -> PriceTable:
    text = (resources.files("workbench") / "data" / "prices.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    return PriceTable(
        as_of=raw["as_of"],
        source=raw.get("source", ""),
        models={k.lower(): v for k, v in raw["models"].items()},
        notes=tuple(raw.get("notes", ())),
    )


PRICES_AS_OF: str = shipped_table().as_of


def _family_key(model: str, models: dict[str, Any]) -> str | None:
    """The table key for a model id: exact, then without a dated snapshot suffix."""
    name = model.strip().lower()
    if name in models:
        return name
    for pattern in (_DATE_SUFFIX, _SHORT_DATE_SUFFIX):
        stripped = pattern.sub("", name)
        if stripped != name and stripped in models:
            return stripped
    return None


def check_overrides(overrides: dict[str, Any] | None) -> list[str]:
    """Problems in the config's `[prices]` tables, each naming the setting (empty: all fine)."""
    problems: list[str] = []
    for model, table in (overrides or {}).items():
        if not isinstance(table, dict):
            problems.append(f'prices."{model}" must be a table of per-1M-token prices')
            continue
        for key, value in table.items():
            if key not in PRICE_FIELDS:
                problems.append(
                    f'prices."{model}".{key} is not a price field '
                    f"(known: {', '.join(PRICE_FIELDS)})"
                )
            elif value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or value < 0
            ):
                problems.append(f'prices."{model}".{key} = {value!r}: expected a number >= 0')
    return problems


def _clean_override(table: Any) -> dict[str, float]:
    if not isinstance(table, dict):
        return {}
    return {
        k: float(v)
        for k, v in table.items()
        if k in PRICE_FIELDS and isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
    }


def _entry_with_overrides(
    model: str, overrides: dict[str, Any] | None
) -> tuple[str | None, dict[str, Any] | None, bool]:
    """(family key, merged entry, touched by config) for a base model id."""
    models = shipped_table().models
    over = {str(k).lower(): v for k, v in (overrides or {}).items()}
    key = _family_key(model, models)
    # a config table may name the exact snapshot, the family, or a model the table lacks
    names = [model.strip().lower()]
    if key and key not in names:
        names.append(key)
    extra: dict[str, float] = {}
    for name in reversed(names):  # the exact id wins over its family
        extra.update(_clean_override(over.get(name)))
    if key is None and not extra:
        return None, None, False
    entry = dict(models.get(key, {})) if key else {}
    ft = dict(entry.pop("fine_tuning", None) or {})
    flat: dict[str, Any] = {k: v for k, v in entry.items() if k in PRICE_FIELDS}
    flat["training"] = ft.get("training")
    flat["training_per_hour"] = ft.get("training_per_hour")
    for k in ("input", "cached_input", "output", "batch_input", "batch_cached_input"):
        flat[f"ft_{k}"] = ft.get(k)
    flat["ft_batch_output"] = ft.get("batch_output")
    flat["ft_shutdown"] = ft.get("shutdown")
    flat["shutdown"] = entry.get("shutdown")
    flat.update(extra)
    return key or model.strip().lower(), flat, bool(extra)


def price_for(model: str, overrides: dict | None = None) -> ModelPrice | None:
    """Inference prices for `model`, or None when nobody priced it ("no price", never $0).

    `ft:<base>:...` and `<base>.ft-<hex>` get the fine-tuned rates of their base; an override
    keyed by the full fine-tuned id is taken as that model's own rates.
    """
    if not model:
        return None
    base = base_model_of(model.strip())
    is_ft = base != model.strip()
    if is_ft:
        own = _clean_override(
            {str(k).lower(): v for k, v in (overrides or {}).items()}.get(model.strip().lower())
        )
        if "input" in own and "output" in own:
            return _price(model, model, own, fine_tuned=True, source="config")
        family, flat, touched = _entry_with_overrides(base, overrides)
        if flat is None or flat.get("ft_input") is None or flat.get("ft_output") is None:
            return None
        rates = {
            "input": flat["ft_input"],
            "output": flat["ft_output"],
            "cached_input": flat.get("ft_cached_input"),
            "batch_input": flat.get("ft_batch_input"),
            "batch_cached_input": flat.get("ft_batch_cached_input"),
            "batch_output": flat.get("ft_batch_output"),
            "shutdown": flat.get("ft_shutdown"),
            **own,
        }
        return _price(
            model, family or base, rates, fine_tuned=True, source="config" if touched else "table"
        )
    family, flat, touched = _entry_with_overrides(model, overrides)
    if flat is None or flat.get("input") is None or flat.get("output") is None:
        return None
    return _price(
        model, family or model, flat, fine_tuned=False, source="config" if touched else "table"
    )


def _price(
    model: str, family: str, rates: dict[str, Any], *, fine_tuned: bool, source: str
) -> ModelPrice:
    def num(key: str) -> float | None:
        value = rates.get(key)
        return float(value) if value is not None else None

    return ModelPrice(
        model=model,
        family=family,
        input=float(rates["input"]),
        output=float(rates["output"]),
        cached_input=num("cached_input"),
        batch_input=num("batch_input"),
        batch_cached_input=num("batch_cached_input"),
        batch_output=num("batch_output"),
        training=None if fine_tuned else num("training"),
        training_per_hour=None if fine_tuned else num("training_per_hour"),
        fine_tuned=fine_tuned,
        source=source,
        shutdown=rates.get("shutdown") if isinstance(rates.get("shutdown"), str) else None,
    )


def fine_tuned_price(base_model: str, overrides: dict | None = None) -> ModelPrice | None:
    """What a model fine-tuned from `base_model` will cost per token (before it exists)."""
    return price_for(f"ft:{base_model_of(base_model)}:estimate::0", overrides)


def training_price_per_million(model: str, overrides: dict | None = None) -> float | None:
    """USD per 1M training tokens for fine-tuning `model` (or continuing from an ft: id); None if
    the table has no per-token training price (not fine-tunable, or billed per hour like RFT)."""
    if not model:
        return None
    _family, flat, _touched = _entry_with_overrides(base_model_of(model.strip()), overrides)
    if flat is None or flat.get("training") is None:
        return None
    return float(flat["training"])


def tokens_cost(
    price: ModelPrice,
    input_tokens: float,
    output_tokens: float,
    cached_tokens: float = 0,
    *,
    batch: bool = False,
) -> float:
    """USD for token counts (may be averages, hence floats) at a known price."""
    rate_in, rate_cached, rate_out = price.rates(batch=batch)
    cached = min(max(cached_tokens, 0), input_tokens)
    return (
        (input_tokens - cached) * rate_in + cached * rate_cached + output_tokens * rate_out
    ) / PER_MILLION


# --- the one price: every pane and command asks these ----------------------------------------


def model_price(terms: ProviderTerms, model: str, *, fine_tuned: bool = False) -> ModelPrice | None:
    """The token rates a request to `model` is billed at on this profile.

    `fine_tuned` marks the fine-tuned approach's model: a base id there is a fine-tune not trained
    yet, priced at its future rates. Azure bills a fine-tune's tokens at its base model's rates
    (hosting is an hourly term, apart); OpenAI at the `ft:` rates. The profile's [prices] overrides
    (`terms.overrides`) win everywhere.
    """
    from workbench.core.tokens import base_model_of

    if not model:
        return None
    if terms.free_tokens:  # workbench local: its time is priced through the hourly terms
        return ModelPrice(model=model, family=model, input=0.0, output=0.0, cached_input=0.0)
    overrides = dict(terms.overrides or {}) or None
    is_ft = fine_tuned or base_model_of(model.strip()) != model.strip() or ".ft-" in model
    if is_ft and terms.base_rates_for_fine_tunes:
        own = price_for(model, overrides) if model.strip().lower() in (overrides or {}) else None
        return own or price_for(base_model_of(model.strip()).split(".ft-")[0], overrides)
    if fine_tuned and not model.startswith("ft:") and ".ft-" not in model:
        return fine_tuned_price(model, overrides)
    return price_for(model, overrides)


def request_cost(
    terms: ProviderTerms,
    model: str,
    input_tokens: float,
    output_tokens: float,
    *,
    cached_input: float = 0,
    batch: bool = False,
    fine_tuned: bool = False,
) -> float | None:
    """USD for one request (token counts may be averages). `cached_input` is part of
    `input_tokens`, as in the API's usage. None: nobody priced the model ("no price", never $0).
    Hourly terms (Azure hosting, local hardware) are not in it: see hosting_cost."""
    price = model_price(terms, model, fine_tuned=fine_tuned)
    if price is None:
        return None
    return tokens_cost(price, input_tokens, output_tokens, cached_input, batch=batch)


def training_rate(terms: ProviderTerms, model: str) -> float | None:
    """USD per 1M training tokens for fine-tuning `model` on this profile (None: no price)."""
    from workbench.core.provider_pricing import provider_training_rate

    return provider_training_rate(model, terms)


def training_cost(terms: ProviderTerms, model: str, trained_tokens: float | None) -> float | None:
    """USD for `trained_tokens` billed training tokens (epochs included); None: no price or
    nothing known; 0 when nothing was trained."""
    if trained_tokens is None:
        return None
    if trained_tokens <= 0:
        return 0.0
    rate = training_rate(terms, model)
    return None if rate is None else trained_tokens * rate / PER_MILLION


def hosting_cost(terms: ProviderTerms, hours: float) -> float:
    """USD for `hours` of the profile's hourly terms (an Azure deployment, a local host)."""
    return terms.hourly_cost * max(0.0, hours)


def hosting_per_request(terms: ProviderTerms, approach: str, requests_per_month: float) -> float:
    """The hourly terms spread over a month's requests, for the approaches they apply to."""
    if not terms.hourly_applies_to(approach) or requests_per_month <= 0:
        return 0.0
    return hosting_cost(terms, terms.hours_per_month) / requests_per_month
