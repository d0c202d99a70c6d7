"""The `local` profile kind: tokens are free, the machine's hours are priced only when the profile
says what they cost (`hourly_cost`), through the same terms as Azure's hosting fee."""

from __future__ import annotations

import pytest

from workbench.config import LOCAL_API_KEY, LOCAL_BASE_URL, Profile, load_config
from workbench.core.estimate import ApproachTokens, EstimateSettings, estimate, training_plan
from workbench.core.pricing import training_rate
from workbench.core.provider_pricing import terms_for
from workbench.providers.capabilities import capabilities_for

MODEL = "SmolLM2-135M-Instruct"
REQUESTS = [
    ApproachTokens("few-shot", MODEL, 900, 850, 5),
    ApproachTokens("fine-tuned", f"ft:{MODEL}:local:x:abc", 60, 10, 5),
]


def test_without_hourly_cost_everything_is_zero_plus_your_hardware() -> None:
    terms = terms_for(Profile(kind="local"))
    plan = training_plan(MODEL, [100] * 20, epochs=3, terms=terms)
    result = estimate(REQUESTS, EstimateSettings(volume=10_000, terms=terms), plan)
    assert plan.cost == 0
    assert [a.per_request for a in result.approaches] == [0, 0]
    assert any("$0 plus your hardware" in note for note in result.notes)
    assert not any("no price" in note for note in result.notes)


def test_hourly_cost_prices_training_time_and_serving_hours() -> None:
    profile = Profile(kind="local", extra={"hourly_cost": 1.8, "training_tokens_per_second": 1000})
    terms = terms_for(profile)
    # 1M tokens at 1,000 tokens/s = 1,000 s = 0.2778 h at $1.80/h
    assert training_rate(terms, MODEL) == pytest.approx(0.5)
    assert terms.hosting_per_month == pytest.approx(1.8 * 720)
    result = estimate(REQUESTS, EstimateSettings(volume=1000, terms=terms), None)
    # the box serves every approach, so its hours are spread over every approach's requests;
    # the tokens themselves cost nothing
    for approach in result.approaches:
        assert approach.hosting_per_request == pytest.approx(1.296)
        assert approach.per_request == pytest.approx(approach.hosting_per_request)
    assert any("$1.80/h" in note for note in result.notes)


def test_local_profile_kind_needs_no_url_or_key(tmp_path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[profiles.box]\nkind = "local"\n', encoding="utf-8")
    profile = load_config(path, "box").profile
    assert profile.base_url == LOCAL_BASE_URL and profile.default_model == MODEL
    assert profile.api_key() == LOCAL_API_KEY
    caps = capabilities_for(profile)
    assert caps.has("fine_tuning") and caps.has("pause_resume") and caps.has("checkpoints")
    assert not caps.has("dpo") and not caps.has("batch")
