from __future__ import annotations

from workbench.config import Profile
from workbench.providers.capabilities import CAPABILITIES, capabilities_for


def test_openai_and_azure_can_do_everything_by_default():
    for kind in ("openai", "azure"):
        caps = capabilities_for(Profile(kind=kind))
        assert all(caps.has(name) for name in CAPABILITIES)


def test_generic_hosts_lack_pause_checkpoints_dpo_and_batch():
    caps = capabilities_for(Profile(kind="openai-compatible", base_url="http://h/v1"))
    assert caps.has("chat") and caps.has("fine_tuning")
    for name in ("pause_resume", "checkpoints", "dpo", "batch"):
        assert not caps.has(name)
    why = caps.why_not("pause_resume", "vllm")
    assert "pausing and resuming jobs" in why and "vllm" in why and "capabilities" in why


def test_profile_overrides_win():
    profile = Profile(
        kind="openai-compatible",
        base_url="http://h/v1",
        extra={"capabilities": {"batch": True, "fine_tuning": False, "nonsense": True}},
    )
    caps = capabilities_for(profile)
    assert caps.has("batch")
    assert not caps.has("fine_tuning")
    assert "turns it off" in caps.why_not("fine_tuning")
    assert not caps.has("nonsense")
