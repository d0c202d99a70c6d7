"""Azure OpenAI's v1 endpoint through the `openai` SDK (reference providers.md §1).

A profile looks like:

    [profiles.azure]
    kind = "azure"
    base_url = "https://RES.openai.azure.com/openai/v1/"
    api_key_env = "AZURE_OPENAI_API_KEY"         # or token_command (Entra ID) instead of a key
    # token_command = "az account get-access-token --resource https://cognitiveservices.azure.com --query accessToken -o tsv"
    training_type = "GlobalStandard"              # sent as trainingType; Microsoft spells it several ways
    resource_group = "my-rg"                      # for the `az ... deployment create` command shown
    resource = "RES"
    deployment_sku = "GlobalStandard"             # or Developer (no hosting fee, deleted after 24 h)
    deployments = { "gpt-4.1-mini-2025-04-14.ft-abc..." = "my-ft" }

What differs from OpenAI, and where it is handled:
- the key may be an Entra ID token from `token_command`, refreshed before it expires (the SDK takes a
  callable `api_key` and asks it before each request);
- `trainingType` is added to every job creation (`extra_body`), and uploaded files are waited on until
  Azure has imported them (`processed`) before the job is created;
- a fine-tuned model answers only through a deployment: chat calls name the deployment, mapped from
  the model in the profile's `deployments`; an undeployed one raises NotDeployed with the exact
  `az cognitiveservices account deployment create ...` command to copy.

The clients made here are the SDK's own, with `fine_tuning.jobs.create` and `chat.completions.create`
wrapped so that every pane and command gets these rules without knowing about Azure.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from workbench.config import Profile

DEFAULT_TOKEN_LIFETIME_SECONDS = 45 * 60  # a bare token (tsv output): ask again after this
REFRESH_MARGIN_SECONDS = 5 * 60  # refresh this long before the token says it expires
TOKEN_COMMAND_TIMEOUT_SECONDS = 60.0
FILE_WAIT_SECONDS = 15 * 60.0
FILE_POLL_SECONDS = 2.0
DEVELOPER_TIER_WARNING = (
    "Developer-tier deployments on Azure are deleted 24 hours after they are created (no hosting "
    "fee, no SLA); redeploy from the same model when you need it again."
)
IDLE_DEPLOYMENT_WARNING = (
    "Azure deletes any fine-tuned deployment left idle for 15 days (the model itself stays and can "
    "be redeployed)."
)


class TokenCommandFailed(Exception):
    """The profile's token_command did not give a token; the message says what it printed."""


class NotDeployed(Exception):
    """A fine-tuned Azure model without a deployment: the message holds the command to make one."""

    def __init__(self, message: str, command: str) -> None:
        super().__init__(message)
        self.command = command


class FileNotProcessed(Exception):
    """Azure did not finish importing an uploaded file (error status, or the wait ran out)."""


# ---- settings ---------------------------------------------------------------------------------
def resource_base_url(resource: str) -> str:
    return f"https://{resource}.openai.azure.com/openai/v1/"


def training_type(profile: Profile) -> str | None:
    value = profile.extra.get("training_type")
    return str(value) if value else None


def job_extra_body(profile: Profile) -> dict[str, Any]:
    """What Azure needs beside OpenAI's job fields."""
    value = training_type(profile)
    return {"trainingType": value} if value else {}


def deployments(profile: Profile) -> dict[str, str]:
    raw = profile.extra.get("deployments") or {}
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def is_fine_tuned(model: str) -> bool:
    return ".ft-" in model or model.startswith("ft:") or model.startswith("ftchkpt-")


def suggested_deployment_name(model: str) -> str:
    """A short, valid deployment name for a fine-tuned model (letters, digits, dots, dashes)."""
    base, _, rest = model.partition(".ft-")
    tail = rest.split("-", 1)[-1] if "-" in rest else rest[:8]
    name = f"{base.split('-20')[0]}-ft-{tail or rest[:8]}"
    return "".join(c if c.isalnum() or c in "-._" else "-" for c in name)[:64]


def deploy_command(profile: Profile, model: str, name: str | None = None) -> str:
    """The exact `az` command that deploys `model` (values from the profile, or placeholders)."""
    group = profile.extra.get("resource_group") or "RESOURCE_GROUP"
    resource = profile.extra.get("resource") or _resource_from_url(profile.base_url) or "RESOURCE"
    sku = str(profile.extra.get("deployment_sku") or "GlobalStandard")
    capacity = 50 if sku.lower().startswith("developer") else 1
    return (
        f"az cognitiveservices account deployment create -g {group} -n {resource} "
        f"--deployment-name {name or suggested_deployment_name(model)} --model-name {model} "
        f"--model-version 1 --model-format OpenAI --sku-name {sku} --sku-capacity {capacity}"
    )


def _resource_from_url(url: str) -> str | None:
    host = url.split("://", 1)[-1].split("/", 1)[0]
    for suffix in (".openai.azure.com", ".services.ai.azure.com", ".cognitiveservices.azure.com"):
        if host.endswith(suffix):
            return host[: -len(suffix)]
    return None


def resolve_chat_model(profile: Profile, model: str) -> str:
    """The name to send as `model`: the deployment for a mapped model; a fine-tuned model without
    one raises NotDeployed (Azure would answer 404 DeploymentNotFound)."""
    mapped = deployments(profile)
    if model in mapped:
        return mapped[model]
    if is_fine_tuned(model):
        command = deploy_command(profile, model)
        name = suggested_deployment_name(model)
        raise NotDeployed(
            f"{model} is not deployed: Azure only answers through a deployment. Deploy it first:\n"
            f"  {command}\n"
            f'then add  deployments = {{ "{model}" = "{name}" }}  to profile {profile.name!r}.',
            command,
        )
    return model  # a base model or a deployment name given as is


def tier_warnings(profile: Profile) -> list[str]:
    """Warnings to show beside deployments: Developer tier's 24 h, everyone's 15 idle days."""
    tier = " ".join(
        str(profile.extra.get(k) or "") for k in ("training_type", "deployment_sku")
    ).lower()
    warnings = [DEVELOPER_TIER_WARNING] if "developer" in tier else []
    if deployments(profile) or warnings:
        warnings.append(IDLE_DEPLOYMENT_WARNING)
    return warnings


# ---- the key ----------------------------------------------------------------------------------
class TokenCommand:
    """An Entra ID token from a command (`az account get-access-token ...`), asked again shortly
    before it expires. The command prints the bare token (`-o tsv`) or az's JSON (accessToken with
    expiresOn / expires_on). Callable: the SDK calls it before each request."""

    def __init__(
        self,
        command: str,
        *,
        run: Callable[[list[str]], str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.command = command
        self._run = run or _run_command
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - REFRESH_MARGIN_SECONDS:
                self._token, self._expires_at = self._fetch()
            return self._token

    def _fetch(self) -> tuple[str, float]:
        output = self._run(shlex.split(self.command)).strip()
        if not output:
            raise TokenCommandFailed(f"token_command printed nothing: {self.command}")
        if output.startswith("{"):
            try:
                data = json.loads(output)
            except ValueError as exc:
                raise TokenCommandFailed(f"token_command printed invalid JSON: {exc}") from None
            token = data.get("accessToken") or data.get("access_token") or data.get("token")
            if not token:
                raise TokenCommandFailed("token_command's JSON has no accessToken")
            return str(token), _expiry(data) or self._clock() + DEFAULT_TOKEN_LIFETIME_SECONDS
        if len(output.split()) != 1:
            raise TokenCommandFailed(
                f"token_command printed more than a token (first line: {output.splitlines()[0]!r})"
            )
        return output, self._clock() + DEFAULT_TOKEN_LIFETIME_SECONDS


def _expiry(data: dict) -> float | None:
    epoch = data.get("expires_on") or data.get("expiresOnTimestamp")
    if epoch is not None:
        try:
            return float(epoch)
        except (TypeError, ValueError):
            pass
    text = data.get("expiresOn")
    if isinstance(text, str):
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            return None
        if moment.tzinfo is None:  # az prints local time without a zone
            moment = moment.astimezone()
        return moment.astimezone(UTC).timestamp()
    return None


def _run_command(argv: list[str]) -> str:
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=TOKEN_COMMAND_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise TokenCommandFailed(
            f"token_command: {argv[0]} is not installed or not on PATH"
        ) from None
    except subprocess.TimeoutExpired:
        raise TokenCommandFailed(
            f"token_command did not finish in {TOKEN_COMMAND_TIMEOUT_SECONDS:g}s"
        ) from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise TokenCommandFailed(
            f"token_command failed (exit {done.returncode}): {detail[-1] if detail else ''}"
        )
    return done.stdout


def api_key(profile: Profile) -> str | Callable[[], str] | None:
    """The key as the SDK takes it: a token source when `token_command` is set, else the key."""
    command = profile.extra.get("token_command")
    if command:
        return TokenCommand(str(command))
    return profile.api_key()


def key_source(profile: Profile) -> str:
    if profile.extra.get("token_command"):
        return "token_command (Entra ID)"
    return profile.api_key_source()


# ---- files and jobs -----------------------------------------------------------------------------
def wait_until_processed(
    client: Any,
    file_id: str,
    *,
    timeout: float = FILE_WAIT_SECONDS,
    interval: float = FILE_POLL_SECONDS,
    progress: Callable[[str, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Poll the file until Azure has imported it; progress(status, seconds waited)."""
    started = time.monotonic()
    while True:
        status = getattr(client.files.retrieve(file_id), "status", None) or "processed"
        waited = time.monotonic() - started
        if progress is not None:
            progress(status, waited)
        if status == "processed":
            return
        if status in ("error", "failed", "deleted"):
            raise FileNotProcessed(
                f"Azure could not import file {file_id} (status {status}); check the JSONL and "
                "upload it again"
            )
        if waited >= timeout:
            raise FileNotProcessed(
                f"file {file_id} is still {status} after {waited:.0f}s; Azure imports files "
                "before a job can use them: try again in a few minutes"
            )
        sleep(interval)


def create_job(
    client: Any,
    profile: Profile,
    arguments: dict[str, Any],
    *,
    progress: Callable[[str, float], None] | None = None,
    file_timeout: float = FILE_WAIT_SECONDS,
    poll_interval: float = FILE_POLL_SECONDS,
    create: Callable[..., Any] | None = None,
) -> Any:
    """Wait for the job's files to be processed, then create it with the profile's trainingType."""
    for key in ("training_file", "validation_file"):
        if arguments.get(key):
            wait_until_processed(
                client,
                arguments[key],
                timeout=file_timeout,
                interval=poll_interval,
                progress=progress,
            )
    arguments = dict(arguments)
    extra = {**job_extra_body(profile), **(arguments.pop("extra_body", None) or {})}
    create = create or client.fine_tuning.jobs.create
    return create(**arguments, extra_body=extra or None)


# ---- clients ----------------------------------------------------------------------------------
def client_kwargs(profile: Profile) -> dict[str, Any]:
    """base_url and api_key for an Azure profile (MissingAPIKey when neither key nor command)."""
    from workbench.providers.openai_api import MissingAPIKey

    key = api_key(profile)
    if not key:
        raise MissingAPIKey(
            f"no API key for Azure profile {profile.name!r}: set ${profile.api_key_env}, or "
            'token_command = "az account get-access-token --resource '
            'https://cognitiveservices.azure.com --query accessToken -o tsv" in the profile'
        )
    return {"api_key": key, "base_url": profile.base_url}


def adapt_client(client: Any, profile: Profile) -> Any:
    """Wrap the SDK client's job creation and chat so Azure's rules apply everywhere."""
    jobs = client.fine_tuning.jobs
    raw_create = jobs.create

    def create_with_azure_rules(**arguments: Any) -> Any:
        return create_job(client, profile, arguments, create=raw_create)

    jobs.create = create_with_azure_rules
    _wrap_chat(client.chat.completions, profile)
    return client


def adapt_async_client(client: Any, profile: Profile) -> Any:
    _wrap_chat(client.chat.completions, profile)
    return client


def _wrap_chat(completions: Any, profile: Profile) -> None:
    raw = completions.create

    def create(*args: Any, **kwargs: Any) -> Any:
        if isinstance(kwargs.get("model"), str):
            kwargs["model"] = resolve_chat_model(profile, kwargs["model"])
        return raw(*args, **kwargs)

    completions.create = create


def async_key(key: str | Callable[[], str]) -> Any:
    """The async client wants an awaitable key source."""
    if not callable(key):
        return key

    async def provide() -> str:
        import anyio

        return await anyio.to_thread.run_sync(key)

    return provide
