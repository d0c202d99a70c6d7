"""`workbench local`'s HTTP surface: the shared wire server (sim/wire_app.py) with the real backend.

Files, fine-tuning jobs (their listing, events, checkpoints and actions), uploads, pagination and
OpenAI's error bodies are the simulator's code; what is real here: the model list (base models
given by --model, fine-tuned models and their checkpoints), chat through transformers (a worker
thread per request, one lock per base model) and the job lifecycle (jobs.py: detached trainers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from workbench.local.inference import DEFAULT_MAX_TOKENS, GenerationRequest, ModelHost
from workbench.local.jobs import LocalJobs
from workbench.local.models import BaseModelSource, ModelUnavailable
from workbench.sim.azure import FileProcessing
from workbench.sim.chat import ChatRoutes, Reply, check_chat_request, usage_object
from workbench.sim.faults import FaultBoard, Guard
from workbench.sim.files import MAX_FILE_BYTES, Files
from workbench.sim.fine_tuning import FineTuning
from workbench.sim.models import ModelRoutes, model_not_found
from workbench.sim.openai_errors import bad_request
from workbench.sim.state import SimStore, active_job_ids
from workbench.sim.uploads import MAX_PART_BYTES, Uploads
from workbench.sim.wire_app import WireServer, starlette_app

OWNED_BY = "workbench-local"
TICK_SECONDS = 1.0
MAX_STOP_SEQUENCES = 4


@dataclass
class LocalOptions:
    db: Path  # the server's state file; job directories live beside it in <db>.jobs/
    models: tuple[BaseModelSource, ...]
    device: str = "auto"
    api_key: str | None = None
    max_steps: int | None = None  # testing knob: every job stops after N optimizer steps
    max_file_bytes: int = MAX_FILE_BYTES
    max_part_bytes: int = MAX_PART_BYTES
    flavor: str = "local"

    @property
    def jobs_dir(self) -> Path:
        return self.db.with_name(self.db.name + ".jobs")


class LocalModels(ModelRoutes):
    """`/v1/models`: the base models, fine-tuned models and their checkpoints."""

    def base(self, model_id: str) -> BaseModelSource | None:
        return next((m for m in self.sim.options.models if m.id == model_id), None)

    def model_objects(self) -> list[dict]:
        self.sim.advance_jobs()
        data = [
            {
                "id": m.id,
                "object": "model",
                "created": _mtime(m.path),
                "owned_by": OWNED_BY,
                "fine_tunable": True,  # the job form offers these (core.jobs.fine_tunable_models)
            }
            for m in self.sim.options.models
        ]
        for row in self.sim.store.ft_models():
            data.append(
                {"id": row["id"], "object": "model", "created": row["created"], "owned_by": "local"}
            )
        for model_id, job_id in self.sim.store.checkpoint_models().items():
            job = self.sim.store.get_job(job_id) or {}
            data.append(
                {
                    "id": model_id,
                    "object": "model",
                    "created": job.get("created_at", 0),
                    "owned_by": "local",
                }
            )
        return data

    def check_fine_tunable(self, model_id: str) -> None:
        if self.base(model_id) is None:
            known = ", ".join(m.id for m in self.sim.options.models)
            raise bad_request(
                f"Model {model_id} is not available for fine-tuning or does not exist. "
                f"This server trains LoRA adapters on its base models: {known} "
                "(start it with --model to add one).",
                "model",
                "model_not_available",
            )

    def resolve(self, model_id: str) -> tuple[BaseModelSource, tuple[str, Path] | None]:
        """The base model and the adapter (name, dir) a chat request names, or OpenAI's 404."""
        base = self.base(model_id)
        if base is not None:
            return base, None
        self.sim.advance_jobs()
        found = self.sim.lifecycle.adapter_of(model_id)
        if found is None:
            raise model_not_found(model_id)
        base_id, name, directory = found
        base = self.base(base_id)
        if base is None:
            raise bad_request(
                f"{model_id} is an adapter on {base_id}, which this server was not started "
                f"with; add --model {base_id}",
                "model",
                "model_not_available",
            )
        return base, (name, directory)


def _mtime(path: Path) -> int:
    try:
        return int(path.stat().st_mtime)
    except OSError:
        return 0


def generation_request(body: dict, messages: list[dict]) -> GenerationRequest:
    """The sampling settings of a chat request, checked like OpenAI checks them."""
    limit = body.get("max_completion_tokens")
    param = "max_completion_tokens"
    if limit is None:
        limit, param = body.get("max_tokens"), "max_tokens"
    if limit is None:
        limit = DEFAULT_MAX_TOKENS
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise bad_request(f"Invalid '{param}': expected an integer of at least 1.", param)
    temperature = body.get("temperature")
    temperature = 1.0 if temperature is None else temperature
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise bad_request("Invalid 'temperature': expected a number.", "temperature")
    if not 0 <= temperature <= 2:
        raise bad_request("Invalid 'temperature': must be between 0 and 2.", "temperature")
    top_p = body.get("top_p")
    top_p = 1.0 if top_p is None else top_p
    if isinstance(top_p, bool) or not isinstance(top_p, (int, float)) or not 0 < top_p <= 1:
        raise bad_request("Invalid 'top_p': must be above 0 and at most 1.", "top_p")
    stop = body.get("stop")
    stops: tuple[str, ...] = ()
    if isinstance(stop, str):
        stops = (stop,)
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        if len(stop) > MAX_STOP_SEQUENCES:
            raise bad_request("Invalid 'stop': at most 4 sequences.", "stop")
        stops = tuple(stop)
    elif stop is not None:
        raise bad_request("Invalid 'stop': a string or a list of strings.", "stop")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise bad_request("Invalid 'seed': expected an integer.", "seed")
    return GenerationRequest(messages, limit, float(temperature), float(top_p), stops, seed)


class LocalChat(ChatRoutes):
    """Chat answered by the real model in a worker thread; pieces stream as they are decoded."""

    async def start_reply(self, body: dict) -> Reply:
        model_id, messages, n = check_chat_request(body)
        if n != 1:
            raise bad_request("workbench local answers one choice per request (n = 1).", "n")
        request = generation_request(body, messages)
        source, adapter = self.sim.models.resolve(model_id)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        cancel = threading.Event()
        request.cancel = cancel

        def run() -> None:
            try:
                result = self.sim.host.generate(
                    source,
                    adapter,
                    request,
                    on_text=lambda text: loop.call_soon_threadsafe(
                        queue.put_nowait, ("text", text)
                    ),
                )
                loop.call_soon_threadsafe(queue.put_nowait, ("done", result))
            except Exception as exc:  # ModelUnavailable, or generation itself broke
                loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))

        threading.Thread(target=run, name=f"generate {model_id}", daemon=True).start()
        first = await queue.get()
        if first[0] == "error":
            exc = first[1]
            message = str(exc) if isinstance(exc, ModelUnavailable) else f"generation failed: {exc}"
            raise bad_request(message, "model", "model_not_available")
        reply = Reply(model_id, _pieces(queue, first, cancel, lambda r: _finish(reply, r)))
        return reply


def _finish(reply: Reply, result: Any) -> None:
    reply.finish_reason = result.finish_reason
    reply.usage = usage_object(result.prompt_tokens, result.completion_tokens)


async def _pieces(queue: asyncio.Queue, first: tuple, cancel: threading.Event, done):
    item = first
    try:
        while True:
            kind, value = item
            if kind == "text":
                yield value
            elif kind == "done":
                done(value)
                return
            else:  # broke mid-way: what was said stands, the stream ends
                logging.getLogger("uvicorn.error").warning("workbench local: %s", value)
                return
            item = await queue.get()
    finally:
        cancel.set()  # the client left (or we finished): stop generating


class LocalServer(WireServer):
    """The real backend of the shared wire server."""

    features = frozenset({"pause", "checkpoints"})

    def __init__(self, options: LocalOptions) -> None:
        self.options = options
        self.board = FaultBoard()  # empty: Guard only checks the key here
        self.store: SimStore | None = None
        self.file_processing = FileProcessing(1.0, 0)
        self.host = ModelHost(options.device)
        self.models = LocalModels(self)
        self.chat = LocalChat(self)
        self.files = Files(self)
        self.fine_tuning = FineTuning(self)
        self.uploads = Uploads(self)
        self._jobs: LocalJobs | None = None
        self._tick_task: asyncio.Task | None = None

    @property
    def lifecycle(self) -> LocalJobs:
        assert self._jobs is not None, "the lifespan opens the store and the jobs"
        return self._jobs

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette):
        self.store = SimStore(self.options.db)
        self.options.jobs_dir.mkdir(parents=True, exist_ok=True)
        self._jobs = LocalJobs(
            self.store,
            self.options.jobs_dir,
            self.models.base,
            self.options.device,
            self.options.max_steps,
        )
        self.advance_jobs()  # re-attach to running trainers; fail the ones that died meanwhile
        self._tick_task = asyncio.create_task(self._tick())
        try:
            yield
        finally:
            self._tick_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick_task
            self.store.close()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                self.advance_jobs()
            except Exception:  # never let the ticker die; requests advance jobs too
                logging.getLogger("uvicorn.error").exception("workbench local: background tick")

    def advance_jobs(self) -> None:
        settling = [
            r[0]
            for r in self.store.db.execute(
                "SELECT id FROM jobs WHERE json_extract(state, '$.settling') = 1"
            )
        ]
        for job_id in [*active_job_ids(self.store), *settling]:
            job = self.store.get_job(job_id)
            if job is not None:
                self.lifecycle.advance(job)

    async def health(self, request: Request) -> Response:
        return JSONResponse(
            {
                "ok": True,
                "server": "workbench local",
                "models": [m.id for m in self.options.models],
                "device": self.options.device,
            }
        )

    def routes(self) -> list:
        from starlette.routing import Route

        return [Route("/_local/health", self.health), *self.openai_routes()]


def create_app(options: LocalOptions) -> Any:
    server = LocalServer(options)
    app = starlette_app(server.routes(), server.lifespan)
    app.state.local = server
    return Guard(app, server.board, options.api_key)


def serve(options: LocalOptions, host: str = "127.0.0.1", port: int = 8090) -> None:
    import uvicorn

    config = uvicorn.Config(
        create_app(options),
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    uvicorn.Server(config).run()
