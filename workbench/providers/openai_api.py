"""Reaching an API through the official `openai` SDK: OpenAI, Azure's v1 endpoint, any OpenAI-wire host.

This package is the only place that imports `openai`, and it does so inside functions: the SDK takes
longer to import than Textual itself, and the TUI's first screen must not wait for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.config import Profile

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI

DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_MAX_RETRIES = 2


class MissingAPIKey(Exception):
    """The profile's key is not set; the message names the variable to set."""


def _client_kwargs(
    profile: Profile, timeout: float | None, max_retries: int | None, need_key: bool = True
) -> dict[str, Any]:
    """The SDK's arguments; Azure profiles get their key and base URL from providers/azure.py."""
    key = profile.api_key()
    if not key and need_key:
        raise MissingAPIKey(
            f"no API key for profile {profile.name!r}: set ${profile.api_key_env} "
            f"(or api_key_env in the profile) and try again"
        )
    return {
        "api_key": key,
        "base_url": profile.base_url,
        "organization": profile.organization,
        "project": profile.project,
        "timeout": DEFAULT_TIMEOUT_SECONDS if timeout is None else timeout,
        "max_retries": DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
    }


def client_kwargs(
    profile: Profile,
    timeout: float | None = None,
    max_retries: int | None = None,
    *,
    asynchronous: bool = False,
) -> dict[str, Any]:
    """The SDK client's arguments for any profile kind (Azure: key or token command)."""
    if profile.kind != "azure":
        return _client_kwargs(profile, timeout, max_retries)
    from workbench.providers import azure

    kwargs = {
        **_client_kwargs(profile, timeout, max_retries, False),
        **azure.client_kwargs(profile),
    }
    if asynchronous:
        kwargs["api_key"] = azure.async_key(kwargs["api_key"])
    return kwargs


def adapt_client(client: Any, profile: Profile) -> Any:
    """Apply the provider's rules to a fresh SDK client (Azure: trainingType, file imports,
    deployments); other kinds are returned untouched."""
    if profile.kind != "azure":
        return client
    from workbench.providers import azure

    if type(client).__name__.startswith("Async"):
        return azure.adapt_async_client(client, profile)
    return azure.adapt_client(client, profile)


def make_client(
    profile: Profile, *, timeout: float | None = None, max_retries: int | None = None
) -> OpenAI:
    """A synchronous SDK client for the profile (for thread workers and the CLI)."""
    from openai import OpenAI

    return adapt_client(OpenAI(**client_kwargs(profile, timeout, max_retries)), profile)


def make_async_client(
    profile: Profile, *, timeout: float | None = None, max_retries: int | None = None
) -> AsyncOpenAI:
    """An asyncio SDK client for the profile (for async workers in the TUI)."""
    from openai import AsyncOpenAI

    kwargs = client_kwargs(profile, timeout, max_retries, asynchronous=True)
    return adapt_client(AsyncOpenAI(**kwargs), profile)


@dataclass(frozen=True)
class ProviderProblem:
    """A provider error in words a user can act on, plus what code needs to react to it."""

    kind: str  # auth | forbidden | training_not_available | not_found | rate_limited | server |
    #            timeout | connection | bad_request | missing_key | other
    message: str
    status: int | None = None
    code: str | None = None
    retry_after: float | None = None

    def __post_init__(self) -> None:
        # the provider's text may quote part of the key ("Incorrect API key provided: sk-****-1")
        from workbench.core.redact import redact_secrets

        object.__setattr__(self, "message", redact_secrets(self.message))

    @property
    def retryable(self) -> bool:
        return self.kind in ("rate_limited", "server", "timeout", "connection")


TRAINING_NOT_AVAILABLE_HELP = (
    "OpenAI is winding down self-serve fine-tuning: this organization can no longer create "
    "fine-tuning jobs (job creation ends for everyone on 2027-01-06, and the gpt-4o/4.1 "
    "fine-tunable snapshots shut down on 2027-01-14). Existing jobs and fine-tuned models keep "
    "working until then. To keep training: use an organization that still qualifies, switch to an "
    "Azure OpenAI profile (training into 2027-04), or another OpenAI-compatible host."
)


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    for header in ("retry-after-ms", "retry-after"):
        value = response.headers.get(header)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue
        return seconds / 1000 if header == "retry-after-ms" else seconds
    return None


def _body_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(getattr(exc, "message", "") or exc)


AZURE_MISLEADING_MESSAGE = "does not support fine-tuning"


def _explain_azure(exc: BaseException, profile: Profile | None) -> ProviderProblem | None:
    """Azure's own failures: no deployment, a token command that failed, a file not imported, and
    the misleading 'base model does not support fine-tuning' (usually trainingType)."""
    from workbench.providers import azure

    if isinstance(exc, azure.NotDeployed):
        return ProviderProblem("not_deployed", str(exc))
    if isinstance(exc, azure.TokenCommandFailed):
        return ProviderProblem("auth", f"could not get an Entra ID token: {exc}")
    if isinstance(exc, azure.FileNotProcessed):
        return ProviderProblem("file_not_ready", str(exc))
    if profile is None or profile.kind != "azure":
        return None
    status = getattr(exc, "status_code", None)
    code = getattr(exc, "code", None)
    detail = _body_message(exc)
    if status == 404 and code == "DeploymentNotFound":
        return ProviderProblem(
            "not_deployed",
            f"Azure has no deployment by that name{' at ' + profile.base_url}: {detail} "
            "Deploy the model and map it in the profile's deployments.",
            status,
            code,
        )
    if status == 400 and AZURE_MISLEADING_MESSAGE in detail:
        chosen = azure.training_type(profile)
        setting = (
            f'training_type = "{chosen}" was refused: try another spelling'
            if chosen
            else "no training_type is set"
        )
        return ProviderProblem(
            "bad_request",
            f"Azure refused the job: {setting} (GlobalStandard, Standard, Developer; Microsoft's "
            f"docs also write globalstandard, developerTier) in profile {profile.name!r}, or the "
            f"model has no training of that tier in this region. Azure said: {detail}",
            status,
            code,
        )
    if status == 400 and "trainingType" in detail:
        return ProviderProblem(
            "bad_request",
            f"Azure refused trainingType {azure.training_type(profile)!r} (profile "
            f"{profile.name!r}, setting training_type). Azure said: {detail}",
            status,
            code,
        )
    return None


def explain_error(exc: BaseException, profile: Profile | None = None) -> ProviderProblem:
    """Turn any SDK exception into a ProviderProblem; never raises."""
    import openai

    where = f" at {profile.base_url}" if profile else ""
    if isinstance(exc, MissingAPIKey):
        return ProviderProblem("missing_key", str(exc))
    azure_problem = _explain_azure(exc, profile)
    if azure_problem is not None:
        return azure_problem
    if isinstance(exc, openai.APITimeoutError):
        return ProviderProblem("timeout", f"the provider{where} did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return ProviderProblem(
            "connection", f"could not reach the provider{where}: the connection failed or dropped"
        )
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        code = getattr(exc, "code", None)
        detail = _body_message(exc)
        if status == 401:
            env = f" (${profile.api_key_env})" if profile else ""
            if profile is not None and profile.extra.get("token_command"):
                env = " (the token from token_command)"
            return ProviderProblem(
                "auth", f"the API key{env} was rejected{where}: {detail}", status, code
            )
        if status == 403 and code == "training_not_available":
            return ProviderProblem(
                "training_not_available", TRAINING_NOT_AVAILABLE_HELP, status, code
            )
        if status == 403:
            return ProviderProblem("forbidden", f"not allowed{where}: {detail}", status, code)
        if status == 404:
            return ProviderProblem("not_found", f"not found{where}: {detail}", status, code)
        if status == 429:
            wait = _retry_after(exc)
            hint = f"; retry after {wait:g}s" if wait is not None else ""
            return ProviderProblem(
                "rate_limited", f"rate limited{where}: {detail}{hint}", status, code, wait
            )
        if status >= 500:
            return ProviderProblem(
                "server", f"the provider{where} had an error ({status}): {detail}", status, code
            )
        return ProviderProblem("bad_request", f"rejected ({status}): {detail}", status, code)
    # Transport errors raised while reading a stream reach us unwrapped by the SDK (httpx classes).
    transport = {cls.__name__ for cls in type(exc).__mro__}
    if "TimeoutException" in transport:
        return ProviderProblem("timeout", f"the provider{where} stopped answering (timed out)")
    if "TransportError" in transport:
        return ProviderProblem(
            "connection", f"the connection to the provider{where} dropped mid-answer"
        )
    return ProviderProblem("other", f"{type(exc).__name__}: {exc}")
