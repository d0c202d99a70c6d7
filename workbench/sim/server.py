"""The simulator's HTTP surface: a Starlette app speaking OpenAI's wire format under /v1, plus
/_sim/health and /_sim/faults for tests. `create_app()` builds it; `serve()` runs it with uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from workbench.sim.azure import (
    DEFAULT_FILE_PROCESSING_SECONDS,
    DEFAULT_TRAINING_TYPES,
    AzurePaths,
    Deployments,
    FileProcessing,
)
from workbench.sim.batches import BatchClock, BatchRoutes
from workbench.sim.chat import Chat
from workbench.sim.faults import KINDS, FaultBoard, Guard
from workbench.sim.files import MAX_FILE_BYTES, Files
from workbench.sim.fine_tuning import FineTuning
from workbench.sim.models import Models
from workbench.sim.openai_errors import APIError, bad_request, error_response
from workbench.sim.state import SimStore, active_batch_ids, active_job_ids
from workbench.sim.training import ACTIVE, JobClock, clock_now
from workbench.sim.uploads import MAX_PART_BYTES, Uploads
from workbench.sim.wire import json_body

TICK_SECONDS = 0.25
# azure: Azure's quirks (sim/azure.py); openai-compatible: a generic OpenAI-wire host without
# pause/resume, checkpoints, DPO or batch (404 / 400 in OpenAI's error shape)
FLAVORS = ("openai", "azure", "openai-compatible")


@dataclass
class SimOptions:
    db: Path
    speed: float = 10.0
    api_key: str | None = None
    flavor: str = "openai"  # "openai" | "azure" | "openai-compatible" (see sim/azure.py, FLAVORS)
    # azure only: accepted trainingType values (None: not required) and the file import time
    training_types: tuple[str, ...] | None = DEFAULT_TRAINING_TYPES
    file_processing_seconds: float = DEFAULT_FILE_PROCESSING_SECONDS
    max_file_bytes: int = MAX_FILE_BYTES
    max_part_bytes: int = MAX_PART_BYTES


class Simulator:
    """Holds the state file, the clocks and the fault board; route handlers live in groups
    (models, chat, files, fine_tuning, batches, uploads) that reach the state through it."""

    def __init__(self, options: SimOptions) -> None:
        self.options = options
        self.board = FaultBoard()
        self.store: SimStore | None = None
        self.clock: JobClock | None = None
        self.batch_clock: BatchClock | None = None
        self.models = Models(self)
        self.chat = Chat(self)
        self.files = Files(self)
        self.fine_tuning = FineTuning(self)
        self.batches = BatchRoutes(self)
        self.uploads = Uploads(self)
        self.deployments = Deployments(self)
        self.file_processing = FileProcessing(
            options.speed, options.file_processing_seconds if options.flavor == "azure" else 0
        )
        self._tick_task: asyncio.Task | None = None

    # ---- lifecycle ---------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette):
        self.store = SimStore(self.options.db)
        self.clock = JobClock(self.store, self.options.flavor)
        self.batch_clock = BatchClock(self.store, self.chat.completion)
        self._restart_clocks()
        self._tick_task = asyncio.create_task(self._tick())
        try:
            yield
        finally:
            self._tick_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick_task
            self._freeze_clocks(time.time())
            self.store.close()

    def _restart_clocks(self) -> None:
        """Jobs continue where they were when the server stopped (the last heartbeat)."""
        now = time.time()
        heartbeat = float(self.store.get_meta("heartbeat") or now)
        for job_id in active_job_ids(self.store):
            job = self._resume_clock(self.store.get_job(job_id), now, heartbeat)
            self.store.save_job(job)
            if job.get("validation") is None:
                self.fine_tuning.start_validation(job)
        for batch_id in active_batch_ids(self.store):
            self.store.save_batch(
                self._resume_clock(self.store.get_batch(batch_id), now, heartbeat)
            )

    def _resume_clock(self, doc: dict, now: float, heartbeat: float) -> dict:
        """Simulated time stood still while the server was down; it runs on from here."""
        if doc.get("clock_anchor") is not None:
            stopped_at = min(now, max(heartbeat, doc["clock_anchor"]))
            doc["clock_base"] = clock_now(doc, stopped_at)
        doc["clock_anchor"] = now
        doc["clock_speed"] = self.options.speed
        return doc

    def _freeze_clocks(self, now: float) -> None:
        for job_id in active_job_ids(self.store):
            job = self.clock.advance(self.store.get_job(job_id), now)
            if job["status"] in ACTIVE and job.get("clock_anchor") is not None:
                job["clock_base"] = clock_now(job, now)
                job["clock_anchor"] = None
                self.store.save_job(job)
        for batch_id in active_batch_ids(self.store):
            batch = self.batch_clock.advance(self.store.get_batch(batch_id), now)
            if batch.get("clock_anchor") is not None:
                batch["clock_base"] = clock_now(batch, now)
                batch["clock_anchor"] = None
                self.store.save_batch(batch)
        self.store.set_meta("heartbeat", repr(now))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                self.advance_all()
                self.store.set_meta("heartbeat", repr(time.time()))
            except Exception:  # never let the ticker die; requests advance jobs too
                logging.getLogger("uvicorn.error").exception("workbench sim: background tick")

    def advance_jobs(self) -> None:
        """Bring every running job up to date (so new fine-tuned models exist on time)."""
        now = time.time()
        for job_id in active_job_ids(self.store):
            self.clock.advance(self.store.get_job(job_id), now)

    def advance_all(self) -> None:
        self.advance_jobs()
        now = time.time()
        for batch_id in active_batch_ids(self.store):
            self.batch_clock.advance(self.store.get_batch(batch_id), now)

    # ---- /_sim -------------------------------------------------------------------------------
    async def health(self, request: Request) -> Response:
        return JSONResponse(
            {
                "ok": True,
                "simulator": "workbench sim",
                "speed": self.options.speed,
                "flavor": self.options.flavor,
            }
        )

    async def faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.board.clear()
            return JSONResponse({"faults": []})
        if request.method == "POST":
            body = await json_body(request)
            kind = str(body.pop("kind", ""))
            if kind not in KINDS:
                raise bad_request(f"kind must be one of {', '.join(KINDS)}", "kind")
            count = int(body.pop("count", 1))
            path = body.pop("path", None)
            self.board.arm(kind, count, path, **body)
        return JSONResponse({"faults": [f.to_json() for f in self.board.faults]})

    # ---- routes ----------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        models, chat, files, ft, batches, uploads = (
            self.models,
            self.chat,
            self.files,
            self.fine_tuning,
            self.batches,
            self.uploads,
        )
        jobs = "/v1/fine_tuning/jobs"
        generic = self.options.flavor == "openai-compatible"
        deployments = self.deployments
        routes = [
            Route("/_sim/health", self.health),
            Route("/_sim/deployments", deployments.list_deployments, methods=["GET"]),
            Route("/_sim/deployments/{name}", deployments.put_deployment, methods=["PUT"]),
            Route("/_sim/deployments/{name}", deployments.delete_deployment, methods=["DELETE"]),
            Route("/_sim/faults", self.faults, methods=["GET", "POST", "DELETE"]),
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
            Route("/v1/batches", batches.create_batch, methods=["POST"]),
            Route("/v1/batches", batches.list_batches, methods=["GET"]),
            Route("/v1/batches/{batch_id}", batches.get_batch, methods=["GET"]),
            Route("/v1/batches/{batch_id}/cancel", batches.cancel_batch, methods=["POST"]),
        ]
        if generic:  # no Batch API: Starlette answers 404 "Invalid URL" (checkpoints: in ft)
            routes = [r for r in routes if "/batches" not in r.path]
        return routes


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, APIError)
    return exc.response()


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(404, f"Invalid URL ({request.method} {request.url.path})", code=None)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    return error_response(405, f"Method {request.method} not allowed for {request.url.path}")


def create_app(options: SimOptions) -> Any:
    """The ASGI app: Starlette routes behind the key check and the fault layer."""
    sim = Simulator(options)
    app = Starlette(
        routes=sim.routes(),
        lifespan=sim.lifespan,
        exception_handlers={APIError: _api_error, 404: _not_found, 405: _method_not_allowed},
    )
    app.state.sim = sim
    guarded = Guard(app, sim.board, options.api_key)
    return AzurePaths(guarded) if options.flavor == "azure" else guarded


def serve(options: SimOptions, host: str = "127.0.0.1", port: int = 8089) -> None:
    """Run until Ctrl-C (uvicorn handles SIGINT/SIGTERM and runs the lifespan shutdown)."""
    import uvicorn

    from workbench.sim.faults import quiet_simulated_drops

    config = uvicorn.Config(
        create_app(options),
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        access_log=False,
        # a stalled request (the "stall" fault) must not hold up Ctrl-C for its whole stall
        timeout_graceful_shutdown=2,
    )
    quiet_simulated_drops()
    uvicorn.Server(config).run()
