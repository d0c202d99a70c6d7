"""Costs in each provider's terms, against figures computed by hand.

gpt-4.1-mini: base $0.40 in / $1.60 out per 1M; OpenAI fine-tuned $0.80 / $3.20; training $5/1M on
both (Azure Global), $2.50 on Azure Developer. Few-shot request: 2,000 in + 100 out; fine-tuned: 200
in + 100 out. Training: 100 examples x 1,000 tokens x 3 epochs = 300,000 tokens.
"""

from __future__ import annotations

import pytest

from workbench.config import Profile
from workbench.core.estimate import ApproachTokens, EstimateSettings, estimate, training_plan
from workbench.core.provider_pricing import ProviderTerms, terms_for

MODEL = "gpt-4.1-mini-2025-04-14"
FEW = ApproachTokens("few-shot", MODEL, 2000, 1900, 100)
FT = ApproachTokens("fine-tuned", MODEL, 200, 100, 100)
TOKENS = [1000] * 100


def azure_profile(**extra) -> Profile:
    return Profile(
        name="az", kind="azure", base_url="https://r.openai.azure.com/openai/v1/", extra=extra
    )


def run(terms: ProviderTerms, volume: int):
    plan = training_plan(MODEL, TOKENS, epochs=3, terms=terms)
    return plan, estimate([FEW, FT], EstimateSettings(volume=volume, terms=terms), plan)


def test_openai_terms_fine_tuned_premium_no_hosting():
    plan, est = run(ProviderTerms(), 10_000_000)
    assert plan.cost == pytest.approx(1.50)  # 300,000 x $5 / 1M
    ft = est.approach("fine-tuned")
    assert ft.per_request == pytest.approx(0.00048)  # 200 x 0.80 + 100 x 3.20, per 1M
    assert ft.hosting_per_request == 0
    assert est.approach("few-shot").per_request == pytest.approx(0.00096)


def test_azure_global_base_rates_plus_hosting_in_the_break_even():
    terms = terms_for(azure_profile(training_type="GlobalStandard"))
    assert terms.hosting_per_hour == 1.70 and terms.hosting_per_month == pytest.approx(1224.0)
    plan, est = run(terms, 10_000_000)
    assert plan.cost == pytest.approx(1.50)
    ft = est.approach("fine-tuned")
    # tokens at base rates: 200 x 0.40 + 100 x 1.60 = 240 per 1M = $0.00024;
    # hosting: $1,224 a month / 10M requests = $0.0001224 a request
    assert ft.hosting_per_request == pytest.approx(0.0001224)
    assert ft.per_request == pytest.approx(0.0003624)
    # 1.50 / (0.00096 - 0.0003624) = 2510.04 -> 2511 requests
    assert est.break_even == 2511
    assert any("$1,224.00 per month" in n for n in est.notes)


def test_azure_hosting_can_make_fine_tuning_never_pay_off():
    _, est = run(terms_for(azure_profile()), 1_000_000)
    # hosting alone is $1,224 / 1M = $0.001224 a request, above the whole few-shot request
    assert est.approach("fine-tuned").per_request == pytest.approx(0.001464)
    assert est.break_even is None


def test_azure_developer_tier_half_training_no_hosting():
    terms = terms_for(azure_profile(training_type="Developer"))
    assert terms.hosting_per_month == 0
    plan, est = run(terms, 10_000_000)
    assert plan.cost == pytest.approx(0.75)  # 300,000 x $2.50 / 1M
    assert est.approach("fine-tuned").per_request == pytest.approx(0.00024)
    assert est.break_even == 1042  # 0.75 / 0.00072 = 1041.7


def test_hosting_figures_are_configurable():
    terms = terms_for(azure_profile(hosting_per_hour=2.0, hosting_hours_per_month=100))
    assert terms.hosting_per_month == pytest.approx(200.0)
    _, est = run(terms, 1_000_000)
    assert est.approach("fine-tuned").hosting_per_request == pytest.approx(0.0002)


def test_a_config_training_override_wins_on_azure():
    terms = terms_for(azure_profile())
    plan = training_plan(
        MODEL, TOKENS, epochs=3, terms=terms, overrides={"gpt-4.1-mini": {"training": 6.0}}
    )
    assert plan.cost == pytest.approx(1.80)
    assert training_plan("gpt-4o-2024-08-06", TOKENS, epochs=1, terms=terms).rate_per_million == 25
    assert (
        training_plan("gpt-4o-mini-2024-07-18", TOKENS, epochs=1, terms=terms).rate_per_million == 3
    )
    assert (
        training_plan("gpt-4.1-nano-2025-04-14", TOKENS, epochs=1, terms=terms).rate_per_million
        == 1.5
    )


def test_workbench_estimate_on_an_azure_profile(db_path, capsys):
    """The CLI takes the active profile's terms: hosting shows in the fine-tuned arm."""
    import json

    from tests.store.test_evals_store import seed_scenario
    from workbench.cli import main
    from workbench.config import write_config
    from workbench.store.db import open_db

    db = open_db(db_path)
    seed_scenario(db)
    db.close()
    write_config(
        {
            "active_profile": "az",
            "profiles": {
                "az": {
                    "kind": "azure",
                    "base_url": "https://r.openai.azure.com/openai/v1/",
                    "training_type": "GlobalStandard",
                }
            },
        }
    )
    argv = ["--db", str(db_path), "estimate", "--prompt", "router", "--volume", "1000", "--json"]
    assert main(argv) == 0
    est = json.loads(capsys.readouterr().out)["estimate"]
    ft = next(a for a in est["approaches"] if a["approach"] == "fine-tuned")
    assert ft["hosting_per_request"] == pytest.approx(1224.0 / 1000)
    assert est["settings"]["terms"]["provider"] == "azure"
    assert any("hosting $1.70/h" in n for n in est["notes"])
