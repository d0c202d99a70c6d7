"""The OpenAI wire server both backends share: the /v1 route table, the error handlers, and the
interface a backend fills in.

Two backends speak through it: the simulator (`workbench sim`, sim/server.py: canned replies and a
simulated training clock) and the real one (`workbench local`, workbench/local/server.py:
transformers generation and a detached trainer per job). Routes, the file and job document store
(state.py), pagination, the Files and Uploads APIs and OpenAI's error bodies are written once, here
and in the modules it mounts; a backend supplies only what differs:

- `models`: a handler group with `list_models`, `get_model`, `delete_model`, `check_fine_tunable`;
- `chat`: a `ChatRoutes` subclass (chat.py) whose `start_reply(body)` produces the text;
- `lifecycle`: the job lifecycle (`JobLifecycle` below): the sim's JobClock, local's LocalJobs;
- `features`: which optional parts of the API it offers (pause/resume, checkpoints, dpo, batch).

The shared wire pieces stay in sim/ (rather than moving to a package of their own) because other
work on the simulator is in flight on other branches; a later rename is a `git mv`, nothing more.
"""

from __future__ import annotations

from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from workbench.sim.openai_errors import APIError, error_response

# optional parts of the API a backend may offer; FineTuning answers 404/400 for missing ones
ALL_FEATURES = frozenset({"pause", "checkpoints", "dpo", "batch"})


class JobLifecycle(Protocol):
    """What moves a fine-tuning job after `POST /v1/fine_tuning/jobs` stored it."""

    def initial_state(self, now: float) -> dict:
        """Backend-specific fields of a new job document (the sim's clock fields)."""

    def start(self, job: dict) -> bool:
        """A job was just stored: True when the lifecycle takes it from here (its trainer checks
        the files), False when the wire layer validates the files first."""

    def on_validated(self, job: dict, result: dict) -> None:
        """Called as the file check finishes, before the job is saved with its hyperparameters."""

    def event(
        self,
        job: dict,
        at: int,
        message: str,
        level: str = "info",
        type_: str = "message",
        data: dict | None = None,
    ) -> dict: ...

    def advance(self, job: dict, now: float | None = None) -> dict:
        """Bring a job up to date (and persist it); returns it."""

    def pause(self, job: dict, now: float) -> dict: ...

    def resume(self, job: dict, now: float) -> dict: ...

    def cancel(self, job: dict, now: float) -> dict: ...

    def job_object(self, job: dict, now: float) -> dict:
        """The `fine_tuning.job` object OpenAI returns."""


class WireServer:
    """The state every handler group reaches through `self.sim`; subclassed by each backend."""

    options: Any  # has max_file_bytes, max_part_bytes, api_key
    store: Any  # SimStore, opened in the lifespan
    lifecycle: JobLifecycle
    features: frozenset[str] = ALL_FEATURES
    file_processing: Any  # FileProcessing: when an uploaded file counts as processed
    models: Any
    chat: Any
    files: Any
    fine_tuning: Any
    uploads: Any

    def advance_jobs(self) -> None:
        """Bring every running job up to date (so new fine-tuned models exist on time)."""

    def openai_routes(self) -> list[Route]:
        """The /v1 routes both backends serve (the simulator adds /_sim and the Batch API)."""
        models, chat, files, ft, uploads = (
            self.models,
            self.chat,
            self.files,
            self.fine_tuning,
            self.uploads,
        )
        jobs = "/v1/fine_tuning/jobs"
        return [
            Route("/v1/models", models.list_models),
            Route("/v1/models/{model:path}", models.get_model, methods=["GET"]),
            Route("/v1/models/{model:path}", models.delete_model, methods=["DELETE"]),
            Route("/v1/chat/completions", chat.chat_completions, methods=["POST"]),
            Route("/v1/files", files.upload_file, methods=["POST"]),
            Route("/v1/files", files.list_files, methods=["GET"]),
            Route("/v1/files/{file_id}", files.get_file, methods=["GET"]),
            Route("/v1/files/{file_id}", files.delete_file, methods=["DELETE"]),
            Route("/v1/files/{file_id}/content", files.file_content, methods=["GET"]),
            Route(jobs, ft.create_job, methods=["POST"]),
            Route(jobs, ft.list_jobs, methods=["GET"]),
            Route(jobs + "/{job_id}", ft.get_job, methods=["GET"]),
            Route(jobs + "/{job_id}/events", ft.job_events, methods=["GET"]),
            Route(jobs + "/{job_id}/checkpoints", ft.job_checkpoints, methods=["GET"]),
            Route(jobs + "/{job_id}/{action}", ft.job_action, methods=["POST"]),
            Route("/v1/uploads", uploads.create, methods=["POST"]),
            Route("/v1/uploads/{upload_id}/parts", uploads.add_part, methods=["POST"]),
            Route("/v1/uploads/{upload_id}/complete", uploads.complete, methods=["POST"]),
            Route("/v1/uploads/{upload_id}/cancel", uploads.cancel, methods=["POST"]),
        ]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, APIError)
    return exc.response()


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(404, f"Invalid URL ({request.method} {request.url.path})", code=None)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    return error_response(405, f"Method {request.method} not allowed for {request.url.path}")


def starlette_app(routes: list[Route], lifespan: Any) -> Starlette:
    """Routes behind OpenAI's error bodies (APIError, unknown URL, wrong method)."""
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={APIError: _api_error, 404: _not_found, 405: _method_not_allowed},
    )
