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
from workbench.sim.openai_errors import bad_request
from workbench.sim.state import SimStore, active_batch_ids, active_job_ids
from workbench.sim.training import ACTIVE, JobClock, clock_now
from workbench.sim.uploads import MAX_PART_BYTES, Uploads
from workbench.sim.wire import json_body
from workbench.sim.wire_app import ALL_FEATURES, WireServer, starlette_app

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


class Simulator(WireServer):
    """The simulated backend of the shared wire server (wire_app.py): holds the state file, the
    clocks and the fault board; route handlers live in groups (models, chat, files, fine_tuning,
    batches, uploads) that reach the state through it."""

    def __init__(self, options: SimOptions) -> None:
        self.options = options
        # a generic OpenAI-wire host has no pause/resume, checkpoints, DPO or batch
        self.features = frozenset() if options.flavor == "openai-compatible" else ALL_FEATURES
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

    @property
    def lifecycle(self) -> JobClock:
        assert self.clock is not None, "the lifespan opens the store and the clock"
        return self.clock

    # ---- lifecycle ---------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette):
        self.store = SimStore(self.options.db)
        self.clock = JobClock(self.store, self.options.flavor, self.options.speed)
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
        deployments, batches = self.deployments, self.batches
        routes = [
            Route("/_sim/health", self.health),
            Route("/_sim/deployments", deployments.list_deployments, methods=["GET"]),
            Route("/_sim/deployments/{name}", deployments.put_deployment, methods=["PUT"]),
            Route("/_sim/deployments/{name}", deployments.delete_deployment, methods=["DELETE"]),
            Route("/_sim/faults", self.faults, methods=["GET", "POST", "DELETE"]),
            *self.openai_routes(),
        ]
        if "batch" in self.features:  # without: Starlette answers 404 "Invalid URL"
            routes += [
                Route("/v1/batches", batches.create_batch, methods=["POST"]),
                Route("/v1/batches", batches.list_batches, methods=["GET"]),
                Route("/v1/batches/{batch_id}", batches.get_batch, methods=["GET"]),
                Route("/v1/batches/{batch_id}/cancel", batches.cancel_batch, methods=["POST"]),
            ]
        return routes


def create_app(options: SimOptions) -> Any:
    """The ASGI app: Starlette routes behind the key check and the fault layer."""
    sim = Simulator(options)
    app = starlette_app(sim.routes(), sim.lifespan)
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
