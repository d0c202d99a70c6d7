"""What each kind of provider can do, so panes can switch off what will not work and say why.

A profile's `kind` (openai, azure, openai-compatible, local) gives a default capability set; a profile can
override any of it in the config file:

    [profiles.vllm]
    kind = "openai-compatible"
    base_url = "http://gpu-box:8000/v1"
    capabilities = { fine_tuning = false, batch = true }

Plain data, no SDK: the panes, `workbench doctor` and the job form all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.config import Profile

CAPABILITIES: tuple[str, ...] = (
    "models",
    "chat",
    "streaming",
    "files",
    "fine_tuning",
    "dpo",
    "pause_resume",
    "checkpoints",
    "batch",
)

LABELS = {
    "models": "listing models",
    "chat": "chat completions",
    "streaming": "streamed answers",
    "files": "file uploads",
    "fine_tuning": "fine-tuning jobs",
    "dpo": "DPO (preference) fine-tuning",
    "pause_resume": "pausing and resuming jobs",
    "checkpoints": "job checkpoints",
    "batch": "the Batch API",
}

_DEFAULTS: dict[str, dict[str, bool]] = {
    "openai": dict.fromkeys(CAPABILITIES, True),
    "azure": dict.fromkeys(CAPABILITIES, True),
    # a generic OpenAI-wire host (Nebius, vLLM, a LiteLLM gateway): chat is certain, the rest is not
    "openai-compatible": {
        "models": True,
        "chat": True,
        "streaming": True,
        "files": True,
        "fine_tuning": True,
        "dpo": False,
        "pause_resume": False,
        "checkpoints": False,
        "batch": False,
    },
    # `workbench local`: real models on this machine (LoRA training; no Batch API, no DPO yet)
    "local": {
        "models": True,
        "chat": True,
        "streaming": True,
        "files": True,
        "fine_tuning": True,
        "dpo": False,
        "pause_resume": True,
        "checkpoints": True,
        "batch": False,
    },
}

_WHY_OFF = {
    "openai-compatible": "generic OpenAI-compatible hosts often lack it",
    "local": "workbench local does not offer it (yet)",
    "azure": "this Azure profile turns it off",
    "openai": "this profile turns it off",
}


@dataclass(frozen=True)
class Capabilities:
    kind: str
    enabled: dict[str, bool] = field(default_factory=dict)
    overridden: frozenset[str] = frozenset()

    def has(self, name: str) -> bool:
        return self.enabled.get(name, False)

    def why_not(self, name: str, profile_name: str = "") -> str:
        """A sentence for a disabled control: what is off, why, and how to turn it on."""
        label = LABELS.get(name, name)
        who = f"profile {profile_name!r}" if profile_name else "the active profile"
        reason = (
            "the profile's capabilities setting turns it off"
            if name in self.overridden
            else _WHY_OFF.get(self.kind, "")
        )
        return (
            f"{label} is off for {who} ({self.kind}): {reason}. "
            f"Set capabilities = {{ {name} = true }} in the profile if the host supports it."
        )


def capabilities_for(profile: Profile) -> Capabilities:
    """The profile's kind defaults with its `capabilities` table applied on top."""
    enabled = dict(_DEFAULTS.get(profile.kind, _DEFAULTS["openai-compatible"]))
    overrides = profile.extra.get("capabilities") or {}
    overridden: set[str] = set()
    if isinstance(overrides, dict):
        for name, value in overrides.items():
            if name in CAPABILITIES and isinstance(value, bool):
                enabled[name] = value
                overridden.add(name)
    return Capabilities(kind=profile.kind, enabled=enabled, overridden=frozenset(overridden))
