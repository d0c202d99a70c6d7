"""Azure OpenAI's documented differences, for `workbench sim --flavor azure` (reference §1).

- Paths: Azure serves the v1 API under `/openai/v1/` (the plain `/v1/` keeps working too, so a
  profile pointed at either answers); the key may come in an `api-key` header instead of Bearer.
- Uploaded fine-tune files go `pending` -> `running` -> `processed` over `--file-processing-seconds`
  (simulated seconds, so scaled by --speed); a job created on a file that is not `processed` yet
  fails with Azure's `invalidPayload` "The specified file reference must point to a completed file
  import."
- A job needs `trainingType` (the SDK's `extra_body`); without one it fails with Azure's misleading
  "The specified base model does not support fine-tuning." The accepted values are explicit
  (`--training-types`, default GlobalStandard,Standard,Developer, compared case-insensitively).
- Job status `pending` where OpenAI says `queued`; the results CSV is not base64-encoded.
- Fine-tuned models are named `<base>.ft-<32 hex>` (plus `-<suffix>`).
- A fine-tuned model answers only through a deployment: chat with the model id answers 404
  `DeploymentNotFound`; `PUT /_sim/deployments/{name}` {"model": ...} stands in for the ARM call
  (the SDK cannot make it), after which `chat.completions.create(model="<name>")` answers with the
  fine-tune's behaviour. Base models answer under their own names (as if deployed under them).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from workbench.core.tokens import billing_base_model
from workbench.sim.openai_errors import APIError, bad_request, not_found
from workbench.sim.wire import Handlers, json_body

DEFAULT_TRAINING_TYPES = ("GlobalStandard", "Standard", "Developer")
DEFAULT_FILE_PROCESSING_SECONDS = 20.0  # simulated: a third pending, the rest running
MISSING_TRAINING_TYPE_MESSAGE = "The specified base model does not support fine-tuning."
FILE_NOT_READY_MESSAGE = "The specified file reference must point to a completed file import."
DEPLOYMENT_NOT_FOUND_MESSAGE = (
    "The API deployment for this resource does not exist. If you created the deployment within "
    "the last 5 minutes, please wait a moment and try again."
)


def fine_tuned_model_name(job: dict) -> str:
    """`<base>.ft-<32 hex>[-suffix]`, stable for a job."""
    base = billing_base_model(job["model"])
    digest = hashlib.md5(job["id"].encode()).hexdigest()
    suffix = job.get("suffix")
    return f"{base}.ft-{digest}" + (f"-{suffix}" if suffix else "")


def parse_training_types(value: str | None) -> tuple[str, ...] | None:
    """`--training-types` text: comma list; "any" (or empty) = not required."""
    if value is None:
        return DEFAULT_TRAINING_TYPES
    items = tuple(v.strip() for v in value.split(",") if v.strip())
    if not items or [v.lower() for v in items] == ["any"]:
        return None
    return items


def check_training_type(body: dict, accepted: tuple[str, ...] | None) -> str | None:
    """The job's trainingType, or Azure's error; `accepted` None = anything (or nothing) goes."""
    value = body.get("trainingType")
    if accepted is None:
        return value if isinstance(value, str) else None
    if value is None:
        raise APIError(
            400, MISSING_TRAINING_TYPE_MESSAGE, "invalid_request_error", None, "BadRequest"
        )
    if not isinstance(value, str) or value.lower() not in {a.lower() for a in accepted}:
        raise APIError(
            400,
            f"Invalid value '{value}' for trainingType. Supported values: "
            f"{', '.join(accepted)}. (workbench simulator)",
            "invalid_request_error",
            "trainingType",
            "invalidPayload",
        )
    return value


def file_not_ready(param: str) -> APIError:
    return APIError(400, FILE_NOT_READY_MESSAGE, "invalid_request_error", param, "invalidPayload")


def deployment_not_found() -> APIError:
    return APIError(
        404, DEPLOYMENT_NOT_FOUND_MESSAGE, "invalid_request_error", None, "DeploymentNotFound"
    )


class FileProcessing:
    """When each uploaded fine-tune file finishes Azure's import (in memory: a restart finishes
    them all, as the import would have by then)."""

    def __init__(self, speed: float, seconds: float) -> None:
        self.speed = speed
        self.seconds = seconds
        self._since: dict[str, float] = {}

    def started(self, file_id: str) -> None:
        if self.seconds > 0:
            self._since[file_id] = time.time()

    def status(self, file_id: str, stored: str) -> str:
        since = self._since.get(file_id)
        if since is None:
            return stored
        elapsed = (time.time() - since) * self.speed
        if elapsed >= self.seconds:
            self._since.pop(file_id, None)
            return stored
        return "pending" if elapsed < self.seconds / 3 else "running"


class Deployments(Handlers):
    """`/_sim/deployments`: the stand-in for ARM's deployment PUT/DELETE (kept in the state file)."""

    def all(self) -> dict[str, str]:
        raw = self.sim.store.get_meta("deployments")
        return json.loads(raw) if raw else {}

    def _save(self, deployments: dict[str, str]) -> None:
        self.sim.store.set_meta("deployments", json.dumps(deployments))

    def model_of(self, name: str) -> str | None:
        return self.all().get(name)

    def _deployable(self, model: str) -> bool:
        from workbench.sim import catalog

        self.sim.advance_jobs()
        return (
            self.sim.store.get_ft_model(model) is not None
            or model in self.sim.store.checkpoint_models()
            or catalog.base_model(model) is not None
        )

    async def list_deployments(self, request: Request) -> Response:
        data = [{"name": n, "model": m} for n, m in self.all().items()]
        return JSONResponse({"object": "list", "data": data})

    async def put_deployment(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = await json_body(request)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise bad_request("Missing required parameter: 'model'.", "model")
        if not self._deployable(model):
            raise not_found(
                f"The model '{model}' does not exist on this resource.", "model", "ModelNotFound"
            )
        deployments = self.all()
        deployments[name] = model
        self._save(deployments)
        return JSONResponse({"name": name, "model": model, "status": "succeeded"})

    async def delete_deployment(self, request: Request) -> Response:
        name = request.path_params["name"]
        deployments = self.all()
        if deployments.pop(name, None) is None:
            raise deployment_not_found()
        self._save(deployments)
        return JSONResponse({"name": name, "deleted": True})


class AzurePaths:
    """ASGI layer: `/openai/v1/...` is served as `/v1/...`; an `api-key` header counts as the key."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path.startswith("/openai/v1"):
                scope = dict(scope)
                scope["path"] = path[len("/openai") :]
                scope["raw_path"] = scope["path"].encode()
            headers = scope.get("headers", [])
            names = {k.lower() for k, _ in headers}
            if b"authorization" not in names:
                for k, v in headers:
                    if k.lower() == b"api-key":
                        scope = dict(scope)
                        scope["headers"] = [*headers, (b"authorization", b"Bearer " + v)]
                        break
        await self.app(scope, receive, send)
