"""Estimate arithmetic against hand-computed figures (reference §3.4)."""

from __future__ import annotations

import pytest

from workbench.core.estimate import (
    ApproachTokens,
    EstimateSettings,
    break_even_volume,
    cached_prefix_tokens,
    cost_curves,
    estimate,
    measure_messages,
    training_plan,
)
from workbench.core.tokens import get_tokenizer

MODEL = "gpt-4.1-mini-2025-04-14"


def shapes(few_input=1500, few_prefix=1400, ft_model=MODEL, output=100):
    return [
        ApproachTokens("zero-shot", MODEL, 300, 200, output, "test"),
        ApproachTokens("few-shot", MODEL, few_input, few_prefix, output, "test"),
        ApproachTokens("fine-tuned", ft_model, 120, 20, output, "test"),
    ]


def test_cached_prefix_rule():
    assert cached_prefix_tokens(1023) == 0
    assert cached_prefix_tokens(1024) == 1024
    assert cached_prefix_tokens(1151) == 1024
    assert cached_prefix_tokens(1152) == 1152
    assert cached_prefix_tokens(5000) == 4992


def test_per_request_costs_by_hand():
    est = estimate(shapes())
    # zero-shot: 300 x 0.40 + 100 x 1.60 = 120 + 160 = 280 per 1M
    assert est.approach("zero-shot").per_request == pytest.approx(280e-6)
    # few-shot: 1500 x 0.40 + 160 = 760 per 1M
    assert est.approach("few-shot").per_request == pytest.approx(760e-6)
    # fine-tuned (not trained yet, so priced as ft of 4.1-mini): 120 x 0.80 + 100 x 3.20 = 416
    ft = est.approach("fine-tuned")
    assert ft.per_request == pytest.approx(416e-6)
    assert ft.price.fine_tuned
    # per N requests
    assert est.approach("few-shot").per_n(100_000) == pytest.approx(76.0)
    assert est.break_even is None  # no training plan: the one-off cost is unknown


def test_caching_bills_the_prefix_at_the_cached_rate():
    est = estimate(shapes(), EstimateSettings(caching=True))
    few = est.approach("few-shot")
    # prefix 1400 -> 1280 cached: 220 x 0.40 + 1280 x 0.10 + 160 = 88 + 128 + 160 = 376
    assert few.cached_tokens == 1280
    assert few.per_request == pytest.approx(376e-6)
    assert est.approach("zero-shot").cached_tokens == 0  # prefix under 1024


def test_batch_halves_and_user_output_figure_wins():
    est = estimate(shapes(), EstimateSettings(batch=True, output_tokens=50))
    # few-shot batch: 1500 x 0.20 + 50 x 0.80 = 300 + 40 = 340
    few = est.approach("few-shot")
    assert few.per_request == pytest.approx(340e-6)
    assert few.output_source == "your figure"


def test_training_plan_and_break_even():
    # 10 examples of 1,000 tokens: cookbook rule gives 10 epochs -> 100,000 trained tokens x $5/M
    plan = training_plan(MODEL, [1000] * 10)
    assert (plan.epochs, plan.billed_tokens_per_epoch, plan.trained_tokens) == (10, 10_000, 100_000)
    assert plan.cost == pytest.approx(0.50)
    est = estimate(shapes(), training=plan)
    assert est.approach("fine-tuned").one_off == pytest.approx(0.50)
    # saving per request 760 - 416 = 344e-6 -> 0.50 / 344e-6 = 1453.5 -> 1454 requests
    assert est.break_even == 1454
    assert break_even_volume(0.50, 760e-6, 416e-6) == 1454
    few, ft = est.approach("few-shot"), est.approach("fine-tuned")
    assert ft.cumulative(1454) <= few.cumulative(1454)
    assert ft.cumulative(1453) > few.cumulative(1453)


def test_explicit_epochs_and_token_limit():
    plan = training_plan("gpt-4.1-nano-2025-04-14", [40_000, 100], epochs=2)
    # nano's limit is 32,768 per example: (32,768 + 100) x 2 epochs x $1.50/M
    assert plan.billed_tokens_per_epoch == 32_868
    assert plan.cost == pytest.approx(32_868 * 2 * 1.5 / 1e6)


def test_no_break_even_when_fine_tuned_requests_cost_more():
    # a short few-shot prompt: the fine-tuned model's doubled rates never pay back
    est = estimate(shapes(few_input=150, few_prefix=50), training=training_plan(MODEL, [500] * 50))
    assert est.break_even is None
    assert break_even_volume(1.0, 1e-4, 2e-4) is None
    assert break_even_volume(None, 2e-4, 1e-4) is None


def test_unknown_model_is_no_price_not_zero():
    est = estimate(shapes(ft_model="ft:mystery-7b:me::x"))
    ft = est.approach("fine-tuned")
    assert ft.per_request is None and ft.per_n(1000) is None
    assert any("no price for ft:mystery-7b" in n for n in est.notes)
    assert est.break_even is None


def test_overrides_reach_the_estimate():
    est = estimate(shapes(), overrides={"gpt-4.1-mini": {"input": 1.0}})
    # few-shot: 1500 x 1.00 + 100 x 1.60 = 1660
    assert est.approach("few-shot").per_request == pytest.approx(1660e-6)


def test_measure_messages_counts_prefix_before_the_last_message():
    tok = get_tokenizer(MODEL)
    messages = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "What is 2+2?"},
    ]
    shape = measure_messages("few-shot", MODEL, messages, tok, 10)
    assert shape.cacheable_prefix < shape.input_tokens
    from workbench.core.tokens import count_message_tokens

    assert shape.input_tokens == count_message_tokens(messages, tok)


def test_cost_curves_reach_past_the_break_even():
    est = estimate(
        shapes(), EstimateSettings(volume=1000), training=training_plan(MODEL, [1000] * 10)
    )
    volumes, curves = cost_curves(est)
    assert volumes[0] == 0 and volumes[-1] >= est.break_even
    assert set(curves) == {"zero-shot", "few-shot", "fine-tuned"}
    assert curves["fine-tuned"][0] == pytest.approx(0.50)
    assert curves["few-shot"][0] == 0


def test_json_shape():
    data = estimate(shapes(), EstimateSettings(volume=5000)).to_json()
    assert data["prices_as_of"] == "2026-06-27"
    assert data["approaches"][1]["per_volume"] == pytest.approx(5000 * 760e-6)
    assert "price" not in data["approaches"][0]
