"""Azure's rules without a network: deployments, the `az` command, tier warnings, the token command."""

from __future__ import annotations

import json
import sys

import pytest

from workbench.config import Profile
from workbench.providers import azure
from workbench.providers.openai_api import explain_error

FT = "gpt-4.1-mini-2025-04-14.ft-0123456789abcdef0123456789abcdef"


def profile(**extra) -> Profile:
    return Profile(
        name="az",
        kind="azure",
        base_url="https://acme.openai.azure.com/openai/v1/",
        api_key_env="AZ_KEY",
        extra=extra,
    )


def test_a_mapped_fine_tune_is_called_by_its_deployment_name():
    p = profile(deployments={FT: "support-ft"})
    assert azure.resolve_chat_model(p, FT) == "support-ft"
    assert azure.resolve_chat_model(p, "gpt-4.1-mini") == "gpt-4.1-mini"


def test_an_unmapped_fine_tune_says_how_to_deploy_it():
    p = profile(resource_group="rg-ml", resource="acme")
    with pytest.raises(azure.NotDeployed) as err:
        azure.resolve_chat_model(p, FT)
    assert err.value.command == (
        "az cognitiveservices account deployment create -g rg-ml -n acme "
        f"--deployment-name gpt-4.1-mini-ft-01234567 --model-name {FT} --model-version 1 "
        "--model-format OpenAI --sku-name GlobalStandard --sku-capacity 1"
    )
    assert "deploy it first" in str(err.value).lower()
    assert f'deployments = {{ "{FT}" = "gpt-4.1-mini-ft-01234567" }}' in str(err.value)
    problem = explain_error(err.value, p)
    assert problem.kind == "not_deployed" and err.value.command in problem.message


def test_the_resource_comes_from_the_url_when_not_set():
    command = azure.deploy_command(profile(deployment_sku="Developer"), FT, "mine")
    assert "-g RESOURCE_GROUP -n acme --deployment-name mine" in command
    assert command.endswith("--sku-name Developer --sku-capacity 50")


def test_tier_warnings():
    assert azure.tier_warnings(profile()) == []
    developer = azure.tier_warnings(profile(training_type="Developer"))
    assert any("24 hours" in w for w in developer) and any("15 days" in w for w in developer)
    mapped = azure.tier_warnings(profile(deployments={FT: "x"}))
    assert len(mapped) == 1 and "15 days" in mapped[0]


def test_training_type_goes_into_extra_body():
    assert azure.job_extra_body(profile()) == {}
    assert azure.job_extra_body(profile(training_type="GlobalStandard")) == {
        "trainingType": "GlobalStandard"
    }


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_token_command_json_is_refreshed_before_it_expires():
    clock = FakeClock()
    calls = []

    def run(argv):
        calls.append(argv)
        return json.dumps({"accessToken": f"tok{len(calls)}", "expires_on": clock.now + 3600})

    source = azure.TokenCommand("az account get-access-token -o json", run=run, clock=clock)
    assert source() == "tok1"
    clock.now += 3600 - azure.REFRESH_MARGIN_SECONDS - 1
    assert source() == "tok1"  # still fresh
    clock.now += 2
    assert source() == "tok2"  # within the margin: asked again
    assert calls[0] == ["az", "account", "get-access-token", "-o", "json"]


def test_token_command_bare_token_and_expires_on_text():
    clock = FakeClock()
    source = azure.TokenCommand("x", run=lambda argv: "abc\n", clock=clock)
    assert source() == "abc"
    parsed = azure._expiry({"expiresOn": "2026-11-25 13:00:00.000000"})
    assert parsed is not None and parsed > 0


def test_token_command_failures_are_plain_words():
    source = azure.TokenCommand(f"{sys.executable} -c 'import sys; sys.exit(3)'")
    with pytest.raises(azure.TokenCommandFailed, match="exit 3"):
        source()
    missing = azure.TokenCommand("definitely-not-a-command-xyz")
    with pytest.raises(azure.TokenCommandFailed, match="not installed"):
        missing()
    problem = explain_error(azure.TokenCommandFailed("boom"), profile())
    assert problem.kind == "auth" and "Entra ID" in problem.message


def test_no_key_and_no_command_names_both():
    from workbench.providers.openai_api import MissingAPIKey, make_client

    with pytest.raises(MissingAPIKey) as err:
        make_client(profile())
    assert "$AZ_KEY" in str(err.value) and "token_command" in str(err.value)
