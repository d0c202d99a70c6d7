"""Cost arithmetic against figures worked out by hand from the reference table (§3)."""

from __future__ import annotations

import pytest

from workbench.core.pricing import (
    PRICES_AS_OF,
    check_overrides,
    cost_usd,
    fine_tuned_price,
    price_for,
    request_cost,
    training_price_per_million,
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
    assert request_cost(price, 1500.5, 10.25) == pytest.approx((1500.5 * 0.15 + 10.25 * 0.60) / 1e6)


def test_retirement_dates_travel_with_the_price():
    # OpenAI retires fine-tuned gpt-4o/4.1 models on 2027-01-14 (the base snapshots have their own)
    assert price_for("ft:gpt-4.1-mini-2025-04-14:acme::x").shutdown == "2027-01-14"
    assert price_for("gpt-4.1-nano").shutdown == "2026-10-23"
    assert price_for("gpt-5.1").shutdown is None
