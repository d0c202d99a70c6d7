"""`workbench doctor`'s checks: is the active profile usable, and what can its host do?

Each check is one cheap read-only call (no tokens are spent unless asked to probe chat), run with a
short timeout and no retries so a dead host answers in seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from workbench.config import Profile
from workbench.providers.capabilities import LABELS, capabilities_for
from workbench.providers.openai_api import MissingAPIKey, explain_error, make_client

PROBE_TIMEOUT_SECONDS = 10.0


@dataclass
class Check:
    name: str
    ok: bool | None  # None: not checked (skipped, or switched off in the profile)
    detail: str


@dataclass
class DoctorReport:
    profile: str
    kind: str
    base_url: str
    key_source: str
    checks: list[Check] = field(default_factory=list)
    fine_tunable_models: list[dict[str, Any]] = field(default_factory=list)
    deployments: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # warnings that are not failures

    @property
    def ok(self) -> bool:
        return all(c.ok is not False for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


def _probe(client: Any, name: str) -> Any:
    """One read-only call per capability; returns what the call returned."""
    if name == "files":
        return client.files.list(limit=1)
    if name == "fine_tuning":
        return client.fine_tuning.jobs.list(limit=1)
    if name == "batch":
        return client.batches.list(limit=1)
    raise ValueError(name)


def check_profile(
    profile: Profile, *, probe_chat: bool = False, today: date | None = None
) -> DoctorReport:
    """Run every check against the profile's host; never raises for provider trouble."""
    from workbench.core.jobs import fine_tunable_models

    today = today or date.today()
    caps = capabilities_for(profile)
    from workbench.providers import azure

    is_azure = profile.kind == "azure"
    key_source = azure.key_source(profile) if is_azure else profile.api_key_source()
    report = DoctorReport(
        profile=profile.name,
        kind=profile.kind,
        base_url=profile.base_url,
        key_source=key_source,
        deployments=azure.deployments(profile) if is_azure else {},
    )
    try:
        client = make_client(profile, timeout=PROBE_TIMEOUT_SECONDS, max_retries=0)
    except MissingAPIKey as exc:
        report.checks.append(Check("api key", False, str(exc)))
        return report
    if is_azure and profile.extra.get("token_command"):
        try:
            azure.TokenCommand(str(profile.extra["token_command"]))()
        except azure.TokenCommandFailed as exc:
            report.checks.append(Check("token command", False, str(exc)))
            return report
        report.checks.append(Check("token command", True, "gave an Entra ID token"))
    else:
        report.checks.append(Check("api key", True, f"from {key_source}"))

    # reachability and the key both show on the first call
    try:
        models = [m.model_dump() for m in client.models.list()]
    except Exception as exc:  # the SDK's errors, explained
        problem = explain_error(exc, profile)
        if problem.kind in ("connection", "timeout"):
            report.checks.append(Check("reachable", False, problem.message))
            return report
        report.checks.append(Check("reachable", True, f"{profile.base_url} answers"))
        if problem.kind == "auth":
            report.checks.append(Check("key accepted", False, problem.message))
            return report
        report.checks.append(Check(LABELS["models"], False, problem.message))
        models = []
    else:
        report.checks.append(Check("reachable", True, f"{profile.base_url} answers"))
        report.checks.append(Check("key accepted", True, "the host accepted the key"))
        report.checks.append(Check(LABELS["models"], True, f"{len(models)} models listed"))

    for name in ("files", "fine_tuning", "batch"):
        label = LABELS[name]
        if not caps.has(name):
            report.checks.append(Check(label, None, caps.why_not(name, profile.name)))
            continue
        try:
            _probe(client, name)
        except Exception as exc:
            problem = explain_error(exc, profile)
            if problem.kind == "not_found":
                detail = (
                    f"the host does not offer {label} (404); set capabilities = "
                    f"{{ {name} = false }} in profile {profile.name!r} to hide it"
                )
            else:
                detail = problem.message
            report.checks.append(Check(label, False, detail))
        else:
            report.checks.append(Check(label, True, "answers"))

    if probe_chat:
        try:
            client.chat.completions.create(
                model=profile.default_model,
                messages=[{"role": "user", "content": "ping"}],
                max_completion_tokens=1,
            )
        except Exception as exc:
            report.checks.append(Check(LABELS["chat"], False, explain_error(exc, profile).message))
        else:
            report.checks.append(Check(LABELS["chat"], True, f"{profile.default_model} answers"))
    else:
        report.checks.append(
            Check(LABELS["chat"], None, "not probed (spends tokens); use --probe-chat")
        )

    if is_azure:
        _azure_checks(report, profile, caps.has("fine_tuning"), models, client, probe_chat)

    if caps.has("fine_tuning"):
        for model in fine_tunable_models(models or None, profile.kind):
            report.fine_tunable_models.append(
                {
                    "id": model.id,
                    "shutdown_date": model.shutdown_date,
                    "usable": model.unavailable_reason(today) is None,
                    "note": model.unavailable_reason(today) or model.describe(today),
                }
            )
    return report


def _azure_checks(
    report: DoctorReport,
    profile: Profile,
    fine_tuning: bool,
    models: list[dict[str, Any]],
    client: Any,
    probe_chat: bool,
) -> None:
    """trainingType set, deployments known (and answering, with --probe-chat), tier warnings."""
    from workbench.providers import azure

    if fine_tuning:
        chosen = azure.training_type(profile)
        if chosen:
            report.checks.append(Check("trainingType", True, f"{chosen} (sent with each job)"))
        else:
            report.checks.append(
                Check(
                    "trainingType",
                    False,
                    f'not set: add training_type = "GlobalStandard" (or Standard, Developer) to '
                    f'profile {profile.name!r}; without it Azure refuses jobs with "The specified '
                    'base model does not support fine-tuning."',
                )
            )
    listed = {m.get("id") for m in models}
    mapped = azure.deployments(profile)
    if not mapped:
        report.checks.append(
            Check(
                "deployments",
                None,
                "none mapped: a fine-tuned model answers only once deployed and added to the "
                'profile as deployments = { "<model>" = "<deployment name>" }',
            )
        )
    for model, name in mapped.items():
        label = f"deployment {name}"
        if probe_chat:
            try:
                client.chat.completions.create(
                    model=model,
                    messages=[{"role": "user", "content": "ping"}],
                    max_completion_tokens=1,
                )
            except Exception as exc:
                report.checks.append(Check(label, False, explain_error(exc, profile).message))
            else:
                report.checks.append(Check(label, True, f"answers for {model}"))
        elif models and model not in listed:
            report.checks.append(
                Check(label, None, f"{model} is not in the resource's model list (not probed)")
            )
        else:
            report.checks.append(Check(label, None, f"{model} (not probed; use --probe-chat)"))
    report.notes.extend(azure.tier_warnings(profile))
