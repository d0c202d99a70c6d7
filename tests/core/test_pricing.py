"""Cost arithmetic against figures worked out by hand from the reference table (§3)."""

from __future__ import annotations

import pytest

from workbench.core.pricing import (
    PRICES_AS_OF,
    check_overrides,
    fine_tuned_price,
    price_for,
    tokens_cost,
    training_price_per_million,
)
from workbench.core.pricing import request_cost as _request_cost
from workbench.core.provider_pricing import ProviderTerms


def cost_usd(model, input_tokens, output_tokens, cached_tokens=0, *, batch=False, overrides=None):
    """The one price on OpenAI's terms with these overrides."""
    terms = ProviderTerms(overrides=overrides)
    return _request_cost(
        terms, model, input_tokens, output_tokens, cached_input=cached_tokens, batch=batch
    )


def test_table_has_a_date():
    assert PRICES_AS_OF == "2026-06-27"


def test_dated_snapshot_resolves_to_its_family():
    price = price_for("gpt-4.1-mini-2025-04-14")
    assert price is not None and price.family == "gpt-4.1-mini"
    assert (price.input, price.cached_input, price.output) == (0.40, 0.10, 1.60)
    assert price_for("gpt-3.5-turbo-0125").family == "gpt-3.5-turbo"
    # the family lookup is exact: gpt-4.1-mini is not gpt-4.1
    assert price_for("gpt-4.1").input == 2.00


def test_plain_request_cost():
    # 1,000 in x $0.40/M + 200 out x $1.60/M = 0.0004 + 0.00032
    assert cost_usd("gpt-4.1-mini", 1000, 200) == pytest.approx(0.00072)


def test_cached_tokens_are_part_of_input():
    # 2,048 in of which 1,024 cached: 1024 x 0.40 + 1024 x 0.10 = 512 / 1M; + 100 x 1.60 = 160 / 1M
    assert cost_usd("gpt-4.1-mini", 2048, 100, cached_tokens=1024) == pytest.approx(672e-6)


def test_batch_halves_the_rates():
    # gpt-4o batch: 1M in x 1.25 + 1M out x 5.00
    assert cost_usd("gpt-4o", 1_000_000, 1_000_000, batch=True) == pytest.approx(6.25)
    assert cost_usd("gpt-4o", 1_000_000, 1_000_000) == pytest.approx(12.50)


@pytest.mark.parametrize(
    "model",
    [
        "ft:gpt-4.1-mini-2025-04-14:acme::AbC123",
        "ft:gpt-4.1-mini-2025-04-14:acme:support:x:ckpt-step-20",
        "gpt-4.1-mini-2025-04-14.ft-0123abcd",
    ],
)
def test_fine_tuned_ids_get_fine_tuned_rates(model):
    price = price_for(model)
    assert price is not None and price.fine_tuned and price.family == "gpt-4.1-mini"
    # 1M in x $0.80 + 1M out x $3.20
    assert cost_usd(model, 1_000_000, 1_000_000) == pytest.approx(4.00)
    # fine-tuned batch with cache: 1M in of which 500k cached: 500k x 0.40 + 500k x 0.10 + 0 out
    assert cost_usd(model, 1_000_000, 0, 500_000, batch=True) == pytest.approx(0.25)


def test_fine_tuned_price_before_the_model_exists():
    assert fine_tuned_price("gpt-4o-mini-2024-07-18").input == 0.30


def test_unknown_model_has_no_price_not_zero():
    assert price_for("claude-something") is None
    assert cost_usd("claude-something", 1000, 1000) is None
    assert cost_usd("ft:mystery-model:org::x", 1000, 1000) is None
    assert training_price_per_million("gpt-5") is None  # not fine-tunable
    assert training_price_per_million("nope") is None


def test_training_rates():
    assert training_price_per_million("gpt-4.1-mini-2025-04-14") == 5.00
    assert training_price_per_million("gpt-4o-mini-2024-07-18") == 3.00
    assert training_price_per_million("ft:gpt-4.1-2025-04-14:org::x") == 25.00
    assert training_price_per_million("o4-mini-2025-04-16") is None  # billed per hour


def test_no_cache_discount_bills_cached_tokens_at_full_rate():
    # gpt-3.5-turbo has no cached rate: 1M cached tokens cost the full $0.50
    assert cost_usd("gpt-3.5-turbo-0125", 1_000_000, 0, 1_000_000) == pytest.approx(0.50)


def test_overrides_merge_over_the_table_and_add_models():
    overrides = {
        "gpt-4.1-mini": {"input": 0.30},
        "my-local-model": {"input": 0, "output": 0},
        "ft:gpt-4o-mini-2024-07-18:acme::special": {"input": 1.0, "output": 2.0},
    }
    # the family override reaches the dated snapshot; other fields stay as shipped
    snap = price_for("gpt-4.1-mini-2025-04-14", overrides)
    assert (snap.input, snap.output, snap.source) == (0.30, 1.60, "config")
    # a user can say a model really is free
    assert cost_usd("my-local-model", 10_000, 10_000, overrides=overrides) == 0.0
    # an override for one fine-tuned id
    assert cost_usd(
        "ft:gpt-4o-mini-2024-07-18:acme::special", 1_000_000, 1_000_000, overrides=overrides
    ) == pytest.approx(3.0)
    # other fine-tunes of that base keep the table's rates
    assert price_for("ft:gpt-4o-mini-2024-07-18:acme::other", overrides).input == 0.30


def test_bad_override_values_are_named_and_ignored():
    overrides = {"gpt-4o": {"input": "cheap", "colour": 1}}
    problems = check_overrides(overrides)
    assert any('prices."gpt-4o".input' in p for p in problems)
    assert any("colour" in p for p in problems)
    assert price_for("gpt-4o", overrides).input == 2.50


def test_request_cost_accepts_averages():
    price = price_for("gpt-4o-mini")
    assert tokens_cost(price, 1500.5, 10.25) == pytest.approx((1500.5 * 0.15 + 10.25 * 0.60) / 1e6)


def test_retirement_dates_travel_with_the_price():
    # OpenAI retires fine-tuned gpt-4o/4.1 models on 2027-01-14 (the base snapshots have their own)
    assert price_for("ft:gpt-4.1-mini-2025-04-14:acme::x").shutdown == "2027-01-14"
    assert price_for("gpt-4.1-nano").shutdown == "2026-10-23"
    assert price_for("gpt-5.1").shutdown is None


# --- the one price on a profile's terms -------------------------------------------------------


def test_one_price_on_openai_terms_ft_batch_cached_and_no_price():
    from workbench.core.pricing import request_cost, training_cost
    from workbench.core.provider_pricing import OPENAI_TERMS

    ft = "ft:gpt-4.1-mini-2025-04-14:acme::x"  # fine-tuned gpt-4.1-mini: $0.80 in, $3.20 out
    assert request_cost(OPENAI_TERMS, ft, 1_000_000, 1_000_000) == pytest.approx(4.00)
    # a fine-tune not trained yet is priced at its future ft: rates, not the base's
    base = "gpt-4.1-mini-2025-04-14"
    assert request_cost(OPENAI_TERMS, base, 1e6, 1e6, fine_tuned=True) == pytest.approx(4.00)
    assert request_cost(OPENAI_TERMS, base, 1e6, 1e6) == pytest.approx(2.00)
    assert request_cost(OPENAI_TERMS, base, 1e6, 0, batch=True) == pytest.approx(0.20)
    assert request_cost(OPENAI_TERMS, base, 1e6, 0, cached_input=1e6) == pytest.approx(0.10)
    assert request_cost(OPENAI_TERMS, "claude-x", 10, 10) is None  # no price, never $0
    assert training_cost(OPENAI_TERMS, base, 2_000_000) == pytest.approx(10.0)
    assert training_cost(OPENAI_TERMS, base, 0) == 0.0  # nothing trained, nothing billed
    assert training_cost(OPENAI_TERMS, "o4-mini-2025-04-16", 10) is None


def test_one_price_on_azure_developer_tier_with_overrides_and_hosting():
    from workbench.core.pricing import (
        hosting_cost,
        hosting_per_request,
        request_cost,
        training_cost,
        training_rate,
    )
    from workbench.core.provider_pricing import terms_for

    def profile(tier):
        return type("P", (), {"kind": "azure", "extra": {"training_type": tier}})()

    dev, std = terms_for(profile("Developer")), terms_for(profile("GlobalStandard"))
    model = "gpt-4.1-mini-2025-04-14"
    assert training_rate(dev, model) == 2.50 and training_rate(std, model) == 5.00
    assert training_cost(dev, model, 1_000_000) == pytest.approx(2.50)
    # Azure bills a fine-tune's tokens at the base rates; hosting is hourly, apart
    ft = f"{model}.ft-abc123"
    assert request_cost(std, ft, 1e6, 1e6) == pytest.approx(2.00)
    assert hosting_cost(std, 10) == pytest.approx(17.0) and hosting_cost(dev, 10) == 0.0
    assert hosting_per_request(std, "fine-tuned", 1224) == pytest.approx(1.0)
    assert hosting_per_request(std, "few-shot", 1224) == 0.0
    # the user's [prices] override wins over Azure's table
    over = terms_for(profile("Developer"), {"gpt-4.1-mini": {"training": 1.0, "input": 0.1}})
    assert training_rate(over, model) == 1.0
    assert request_cost(over, model, 1e6, 0) == pytest.approx(0.1)


def test_a_local_host_pays_its_hours_on_every_approach():
    from workbench.core.pricing import hosting_per_request
    from workbench.core.provider_pricing import terms_for

    local = type("P", (), {"kind": "local", "extra": {"hourly_cost": 0.5}})()
    terms = terms_for(local)
    assert terms.hourly_cost == 0.5
    assert hosting_per_request(terms, "zero-shot", 360) == pytest.approx(1.0)
    assert hosting_per_request(terms, "fine-tuned", 360) == pytest.approx(1.0)
    assert "spread over every approach" in terms.describe()


def test_the_jobs_list_and_the_preflight_give_one_training_price_on_azure_developer():
    """The issue's case: the Jobs list said $5.00/M, the pre-flight $2.50/M, for one job."""
    from workbench.core.jobs import Job, cost_so_far
    from workbench.core.pricing import training_cost
    from workbench.core.provider_pricing import terms_for
    from workbench.providers.fine_tuning import preflight_terms

    profile = type("P", (), {"kind": "azure", "extra": {"training_type": "Developer"}})()
    model = "gpt-4.1-mini-2025-04-14"
    rate = preflight_terms(profile, model, None, None)["rate_per_million"]
    listed = cost_so_far(Job("j", model=model, trained_tokens=1_000_000), terms_for(profile))
    assert rate == 2.50
    assert listed.usd == pytest.approx(training_cost(terms_for(profile), model, 1_000_000))
    assert listed.usd == pytest.approx(rate)
