"""Costs in each provider's terms (reference providers.md §1 "Prices").

- OpenAI: a fine-tuned model costs a per-token premium over its base; no hosting fee.
- Azure OpenAI: a fine-tuned deployment costs the **base model's** token rates plus an **hourly
  hosting fee** per deployment ($1.70/h in Microsoft's 2026-03 doc, ~$1,224 a 30-day month around the
  clock); Developer tier: no hosting fee (the deployment is deleted after 24 h). Training per 1M
  tokens comes from the shipped Azure table below (Developer = 50% of Global).
- Other OpenAI-wire hosts: OpenAI's table as a starting point; override in the config.
- `workbench local` (kind "local"): tokens are free, time is not. An optional `hourly_cost` (USD,
  a rented GPU say) prices serving hours like Azure's hosting fee (x `hosting_hours_per_month`)
  and training time, converted to a rate per 1M training tokens through
  `training_tokens_per_second` (default LOCAL_TRAINING_TOKENS_PER_SECOND; measure yours: a job's
  trained_tokens / its duration). Without it: "$0 plus your hardware".

Profile settings read here (all optional): `training_type` (the tier), `deployment_sku`,
`hosting_per_hour` (USD), `hosting_hours_per_month` (default 720: always on); local: `hourly_cost`,
`training_tokens_per_second`.
Plain Python, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

AZURE_PRICES_AS_OF = "2026-10-06"
AZURE_PRICES_SOURCE = (
    "Training: Microsoft's fine-tuning skills repo (github.com/azure-ai-foundry/fine-tuning, "
    "Skills/references/cost-management.md), Global tier; hosting fee $1.70/h from the 2026-03 "
    "Azure fine-tuning doc; token rates = the base model's Global Standard rates (taken as "
    "OpenAI's list prices). Verify at azure.microsoft.com/pricing/details/cognitive-services/"
    "openai-service."
)
# Global training tier, USD per 1M training tokens (x epochs)
AZURE_TRAINING_PER_MILLION: dict[str, float] = {
    "gpt-4.1": 25.00,
    "gpt-4.1-mini": 5.00,
    "gpt-4.1-nano": 1.50,
    "gpt-4o": 25.00,
    "gpt-4o-mini": 3.00,
    "ministral-3b": 1.00,
    "qwen3-32b": 3.20,
    "llama-3.3-70b-instruct": 4.50,
    "gpt-oss-20b": 3.60,
}
AZURE_DEVELOPER_FACTOR = 0.5  # Developer training = 50% of Global
AZURE_HOSTING_PER_HOUR = 1.70
HOURS_PER_MONTH = 720.0  # a 30-day month around the clock (the reference: ~$1,224 a month)
# SmolLM2-135M LoRA on 2 CPU cores trains a few hundred tokens/s; a GPU box thousands: a default
# for the estimate only, the profile's `training_tokens_per_second` wins.
LOCAL_TRAINING_TOKENS_PER_SECOND = 2000.0


@dataclass(frozen=True)
class ProviderTerms:
    """How the active profile bills requests, training and hours: core.pricing reads only this.

    `overrides` are the user's [prices] tables. The hourly terms are general: an Azure fine-tuned
    deployment's hosting fee (applies to the fine-tuned approach) or a local host's hardware
    (`hourly_scope="all"`: every approach runs on it).
    """

    provider: str = "openai"  # openai | azure | openai-compatible | local
    tier: str | None = None  # azure: GlobalStandard | Standard | Developer (any spelling)
    hosting_per_hour: float = 0.0  # USD per hour (azure deployment, local host)
    hosting_hours_per_month: float = HOURS_PER_MONTH
    overrides: Mapping[str, Any] | None = field(default=None, compare=False)
    hourly_scope: str = "fine-tuned"  # "fine-tuned" | "all": which approaches pay the hours
    hourly_label: str = "hosting"
    training_tokens_per_second: float = LOCAL_TRAINING_TOKENS_PER_SECOND  # local only

    @property
    def free_tokens(self) -> bool:
        """`workbench local`: no per-token price, only the machine's time."""
        return self.provider == "local"

    @property
    def hourly_cost(self) -> float:
        return self.hosting_per_hour

    @property
    def hours_per_month(self) -> float:
        return self.hosting_hours_per_month

    def hourly_applies_to(self, approach: str) -> bool:
        if self.hosting_per_hour <= 0:
            return False
        return self.hourly_scope == "all" or approach == "fine-tuned"

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> ProviderTerms:
        return replace(self, overrides=overrides)

    @property
    def developer(self) -> bool:
        return (self.tier or "").lower().startswith("developer")

    @property
    def hosting_per_month(self) -> float:
        return self.hosting_per_hour * self.hosting_hours_per_month

    @property
    def base_rates_for_fine_tunes(self) -> bool:
        """Azure bills a fine-tune's tokens at its base model's rates."""
        return self.provider == "azure"

    def describe(self) -> str:
        """One line for the Costs pane; Azure's figures say how old they are."""
        if self.provider == "local" and self.hosting_per_hour <= 0:
            return "workbench local: $0 plus your hardware (set hourly_cost to price its time)"
        if self.hourly_scope == "all" and self.hosting_per_hour > 0:
            return (
                f"{self.hourly_label}: ${self.hosting_per_hour:.2f}/h x "
                f"{self.hosting_hours_per_month:g} h = ${self.hosting_per_month:,.2f} per month, "
                "spread over every approach's requests"
            )
        if self.provider != "azure":
            return "fine-tuned tokens at the fine-tuned rate; no hosting fee"
        return self._azure_terms() + f" (Azure prices as of {AZURE_PRICES_AS_OF})"

    def _azure_terms(self) -> str:
        if self.provider != "azure":
            return "fine-tuned tokens at the fine-tuned rate; no hosting fee"
        if self.hosting_per_hour <= 0:
            return "Azure: base-model token rates; no hosting fee" + (
                " (Developer tier: deployments deleted after 24 h)" if self.developer else ""
            )
        return (
            f"Azure: base-model token rates + hosting ${self.hosting_per_hour:.2f}/h x "
            f"{self.hosting_hours_per_month:g} h = ${self.hosting_per_month:,.2f} per month "
            "per deployment"
        )


OPENAI_TERMS = ProviderTerms()


def terms_for(profile: Any, overrides: Mapping[str, Any] | None = None) -> ProviderTerms:
    """The profile's terms: its kind, tier, hourly figures and the user's [prices] overrides.

    A `local` profile may set `hourly_cost` (USD per hour of the host running the model): every
    approach on it pays those hours, spread over the month's requests.
    """
    kind = getattr(profile, "kind", "openai")
    extra = getattr(profile, "extra", {}) or {}
    if kind != "azure":
        hourly = getattr(profile, "hourly_cost", None)
        if hourly is None:
            hourly = extra.get("hourly_cost")
        if kind == "local":
            speed = extra.get("training_tokens_per_second")
            return ProviderTerms(
                provider=kind,
                hosting_per_hour=float(hourly or 0.0),
                overrides=overrides,
                hourly_scope="all",
                hourly_label="host",
                training_tokens_per_second=float(speed or LOCAL_TRAINING_TOKENS_PER_SECOND),
            )
        return ProviderTerms(provider=kind, overrides=overrides)
    tier = str(extra.get("deployment_sku") or extra.get("training_type") or "GlobalStandard")
    developer = tier.lower().startswith("developer")
    hourly = extra.get("hosting_per_hour")
    hours = extra.get("hosting_hours_per_month")
    return ProviderTerms(
        provider="azure",
        tier=tier,
        hosting_per_hour=0.0
        if developer
        else float(AZURE_HOSTING_PER_HOUR if hourly is None else hourly),
        hosting_hours_per_month=float(HOURS_PER_MONTH if hours is None else hours),
        overrides=overrides,
    )


def azure_training_per_million(family: str, tier: str | None = None) -> float | None:
    """Azure's training rate for a model family (dated suffix stripped), by tier; None: unknown.
    Regional Standard is billed ~10-30% above Global: the Global figure is shown as its floor."""
    rate = AZURE_TRAINING_PER_MILLION.get(family.lower())
    if rate is None:
        return None
    if (tier or "").lower().startswith("developer"):
        return rate * AZURE_DEVELOPER_FACTOR
    return rate


def provider_training_rate(model: str, terms: ProviderTerms) -> float | None:
    """USD per 1M training tokens on the provider; a config override of `training` wins.
    (Called through core.pricing.training_rate / training_cost.)"""
    overrides = dict(terms.overrides or {}) or None
    if terms.provider == "local":  # the machine's time for a million tokens
        seconds = 1_000_000 / max(terms.training_tokens_per_second, 1e-9)
        return terms.hosting_per_hour * seconds / 3600
    if terms.provider != "azure":
        from workbench.core.pricing import training_price_per_million

        return training_price_per_million(model, overrides)
    from workbench.core.tokens import base_model_of

    base = base_model_of(model.strip()).split(".ft-")[0]
    family = re.sub(r"-\d{4}-\d{2}-\d{2}$", "", base)
    wanted = {str(k).lower(): v for k, v in (overrides or {}).items()}
    for key in (base.lower(), family.lower()):
        table = wanted.get(key)
        if isinstance(table, dict) and table.get("training") is not None:
            return float(table["training"])
    return azure_training_per_million(family, terms.tier)
