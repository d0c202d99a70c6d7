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
from dataclasses import dataclass
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
# training throughput assumed for `workbench local` when the profile does not say (a small model on
# one consumer GPU; a CPU is far slower): only used to turn hourly_cost into a per-token rate
LOCAL_TRAINING_TOKENS_PER_SECOND = 2000.0


@dataclass(frozen=True)
class ProviderTerms:
    """How the active provider bills a fine-tuned model."""

    provider: str = "openai"  # openai | azure | openai-compatible | local
    tier: str | None = None  # azure: GlobalStandard | Standard | Developer (any spelling)
    hosting_per_hour: float = (
        0.0  # USD per deployment-hour (azure, not Developer; local: hourly_cost)
    )
    hosting_hours_per_month: float = HOURS_PER_MONTH
    training_tokens_per_second: float = LOCAL_TRAINING_TOKENS_PER_SECOND  # local only

    @property
    def free_tokens(self) -> bool:
        """`workbench local`: no per-token price, only the machine's time."""
        return self.provider == "local"

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
        if self.provider == "local":
            if self.hosting_per_hour <= 0:
                return "workbench local: $0 plus your hardware (set hourly_cost to price its time)"
            return (
                f"workbench local: tokens free; your machine at ${self.hosting_per_hour:.2f}/h x "
                f"{self.hosting_hours_per_month:g} h = ${self.hosting_per_month:,.2f} per month "
                f"serving, training at {self.training_tokens_per_second:g} tokens/s"
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


def terms_for(profile: Any) -> ProviderTerms:
    """The profile's terms: its kind, tier and any hosting figures it sets."""
    kind = getattr(profile, "kind", "openai")
    extra = getattr(profile, "extra", {}) or {}
    if kind == "local":
        hours = extra.get("hosting_hours_per_month")
        speed = extra.get("training_tokens_per_second")
        return ProviderTerms(
            provider="local",
            hosting_per_hour=float(extra.get("hourly_cost") or 0.0),
            hosting_hours_per_month=float(HOURS_PER_MONTH if hours is None else hours),
            training_tokens_per_second=float(speed or LOCAL_TRAINING_TOKENS_PER_SECOND),
        )
    if kind != "azure":
        return ProviderTerms(provider=kind)
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


def training_rate(model: str, terms: ProviderTerms, overrides: dict | None = None) -> float | None:
    """USD per 1M training tokens on the provider; a config override of `training` wins."""
    if terms.provider == "local":  # the machine's time for a million tokens
        seconds = 1_000_000 / max(terms.training_tokens_per_second, 1e-9)
        return terms.hosting_per_hour * seconds / 3600
    if terms.provider != "azure":
        from workbench.core.pricing import training_price_per_million

        return training_price_per_million(model, overrides)
    from workbench.core.tokens import billing_base_model

    base = billing_base_model(model)
    family = re.sub(r"-\d{4}-\d{2}-\d{2}$", "", base)
    wanted = {str(k).lower(): v for k, v in (overrides or {}).items()}
    for key in (base.lower(), family.lower()):
        table = wanted.get(key)
        if isinstance(table, dict) and table.get("training") is not None:
            return float(table["training"])
    return azure_training_per_million(family, terms.tier)
