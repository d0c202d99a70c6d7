"""The simulator's HTTP surface: a Starlette app speaking OpenAI's wire format under /v1, plus
/_sim/health and /_sim/faults for tests. `create_app()` builds it; `serve()` runs it with uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from workbench.sim import catalog, replies
from workbench.sim.batches import BatchClock, batch_object
from workbench.sim.faults import KINDS, FaultBoard, Guard
from workbench.sim.openai_errors import APIError, bad_request, error_response, not_found
from workbench.sim.state import SimStore, active_batch_ids, active_job_ids, new_id
from workbench.sim.training import ACTIVE, JobClock, clock_now, job_object, resolve_hyperparameters
from workbench.sim.uploads import MAX_PART_BYTES, Uploads

MAX_FILE_BYTES = 512 * 1024 * 1024  # OpenAI's Files API limit; --max-file-bytes lowers it for tests
UPLOAD_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
TICK_SECONDS = 0.25
SUFFIX_MAX = 64
METADATA_MAX_KEYS = 16


@dataclass
class SimOptions:
    db: Path
    speed: float = 10.0
    api_key: str | None = None
    flavor: str = "openai"  # "openai" | "azure" (pending status, raw results CSV)
    max_file_bytes: int = MAX_FILE_BYTES
    max_part_bytes: int = MAX_PART_BYTES


def completion_object(
    completion_id: str,
    created: int,
    model: str,
    reply: str,
    finish_reason: str,
    n: int,
    usage: dict,
) -> dict:
    """A `chat.completion` object (also the body of each Batch API output line)."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": i,
                "message": {
                    "role": "assistant",
                    "content": reply,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": finish_reason,
            }
            for i in range(n)
        ],
        "usage": usage,
        "service_tier": "default",
        "system_fingerprint": "fp_workbench_sim",
    }


class Simulator:
    """Holds the state file, the job clock and the fault board; every handler is a method."""

    def __init__(self, options: SimOptions) -> None:
        self.options = options
        self.board = FaultBoard()
        self.store: SimStore | None = None
        self.clock: JobClock | None = None
        self.batch_clock: BatchClock | None = None
        self.uploads = Uploads(None, self.file_object, UPLOAD_PURPOSES, options.max_part_bytes)
        self._tick_task: asyncio.Task | None = None
        self._validations: set[asyncio.Task] = set()
        self._trained_cache: dict[str, list[tuple[str, str]]] = {}

    # ---- lifecycle ---------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette):
        self.store = SimStore(self.options.db)
        self.clock = JobClock(self.store, self.options.flavor)
        self.batch_clock = BatchClock(self.store, self.batch_answer)
        self.uploads.store = self.store
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
            job = self.store.get_job(job_id)
            if job.get("clock_anchor") is not None:
                stopped_at = min(now, max(heartbeat, job["clock_anchor"]))
                job["clock_base"] = clock_now(job, stopped_at)
            job["clock_anchor"] = now
            job["clock_speed"] = self.options.speed
            self.store.save_job(job)
            if job.get("validation") is None:
                self._start_validation(job)
        for batch_id in active_batch_ids(self.store):
            batch = self.store.get_batch(batch_id)
            if batch.get("clock_anchor") is not None:
                stopped_at = min(now, max(heartbeat, batch["clock_anchor"]))
                batch["clock_base"] = clock_now(batch, stopped_at)
            batch["clock_anchor"] = now
            batch["clock_speed"] = self.options.speed
            self.store.save_batch(batch)

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

    # ---- helpers ----------------------------------------------------------------------------
    @staticmethod
    async def json_body(request: Request) -> dict:
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("We could not parse the JSON body of your request.") from None
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        return body

    @staticmethod
    def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"Invalid '{name}': expected an integer.", name) from None
        if not low <= value <= high:
            raise bad_request(f"Invalid '{name}': must be between {low} and {high}.", name)
        return value

    def today(self) -> str:
        return dt.date.today().isoformat()

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
            body = await self.json_body(request)
            kind = str(body.pop("kind", ""))
            if kind not in KINDS:
                raise bad_request(f"kind must be one of {', '.join(KINDS)}", "kind")
            count = int(body.pop("count", 1))
            path = body.pop("path", None)
            self.board.arm(kind, count, path, **body)
        return JSONResponse({"faults": [f.to_json() for f in self.board.faults]})

    # ---- models -----------------------------------------------------------------------------
    def model_objects(self) -> list[dict]:
        self.advance_jobs()
        data = [catalog.model_object(m.id, m.created, m.shutdown_date) for m in catalog.BASE_MODELS]
        for row in self.store.ft_models():
            base = catalog.base_model(row["base"]) or catalog.base_model(
                row["base"].split(":")[1] if row["base"].startswith("ft:") else ""
            )
            data.append(
                catalog.model_object(
                    row["id"], row["created"], base.shutdown_date if base else None
                )
            )
        return data

    async def list_models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": self.model_objects()})

    async def get_model(self, request: Request) -> Response:
        model_id = request.path_params["model"]
        for obj in self.model_objects():
            if obj["id"] == model_id:
                return JSONResponse(obj)
        raise self.model_not_found(model_id)

    async def delete_model(self, request: Request) -> Response:
        model_id = request.path_params["model"]
        if self.store.get_ft_model(model_id) is None:
            raise self.model_not_found(model_id)
        self.store.db.execute("DELETE FROM ft_models WHERE id = ?", [model_id])
        self.store.commit()
        return JSONResponse({"id": model_id, "object": "model", "deleted": True})

    @staticmethod
    def model_not_found(model_id: str) -> APIError:
        return not_found(
            f"The model `{model_id}` does not exist or you do not have access to it.",
            None,
            "model_not_found",
        )

    def chat_model(self, model_id: str) -> tuple[str, list[tuple[str, str]]]:
        """(the model's canonical id, its trained pairs) or 404 like OpenAI."""
        base = catalog.base_model(model_id)
        if base is not None:
            if catalog.is_shut_down(base, self.today()):
                raise self.model_not_found(model_id)
            return model_id, []
        self.advance_jobs()
        ft_id = model_id
        if self.store.get_ft_model(ft_id) is None:
            job_id = self.store.checkpoint_models().get(model_id)
            if job_id is None:
                raise self.model_not_found(model_id)
            return model_id, self.trained_pairs_of_job(job_id)
        row = self.store.get_ft_model(ft_id)
        return model_id, self.trained_pairs_of_job(row["job_id"])

    def trained_pairs_of_job(self, job_id: str, depth: int = 0) -> list[tuple[str, str]]:
        if job_id in self._trained_cache:
            return self._trained_cache[job_id]
        job = self.store.get_job(job_id)
        pairs: list[tuple[str, str]] = []
        if job is None:
            return pairs
        path = self.store.file_path(job["training_file"])
        if path.exists():
            with path.open(encoding="utf-8", errors="replace") as fh:
                pairs = replies.read_trained_pairs(fh)
        parent = self.store.get_ft_model(job["model"]) if job["model"].startswith("ft:") else None
        if parent is not None and depth < 10:
            pairs = pairs + self.trained_pairs_of_job(parent["job_id"], depth + 1)
        self._trained_cache[job_id] = pairs
        return pairs

    # ---- chat completions ---------------------------------------------------------------------
    def answer(self, body: dict) -> tuple[str, str, str, int, dict]:
        """(model, reply, finish_reason, n, usage) for a chat request body; raises APIError."""
        from workbench.core.tokens import count_message_tokens, get_tokenizer

        model_id = body.get("model")
        messages = body.get("messages")
        if not isinstance(model_id, str) or not model_id:
            raise bad_request("you must provide a model parameter", "model")
        if not isinstance(messages, list) or not messages:
            raise bad_request("[] is too short - 'messages'", "messages")
        if not all(isinstance(m, dict) and "role" in m for m in messages):
            raise bad_request("Each message needs a 'role'.", "messages")
        model_id, trained = self.chat_model(model_id)
        response_format = body.get("response_format") or {}
        json_object = isinstance(response_format, dict) and response_format.get("type") in (
            "json_object",
            "json_schema",
        )
        reply = replies.choose_reply(model_id, messages, trained, json_object)
        tokenizer = get_tokenizer(model_id)
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        finish_reason = "stop"
        completion_tokens = tokenizer.count(reply)
        if isinstance(limit, int) and limit >= 1 and completion_tokens > limit:
            if tokenizer.exact:
                reply = tokenizer._encoding.decode(tokenizer.encode(reply)[:limit])
            else:
                reply = reply[: int(limit * 4)]
            completion_tokens = tokenizer.count(reply)
            finish_reason = "length"
        prompt_messages = [
            {k: v for k, v in m.items() if k in ("role", "content", "name")} for m in messages
        ]
        prompt_tokens = count_message_tokens(prompt_messages, tokenizer)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        n = body.get("n") or 1
        if not isinstance(n, int) or not 1 <= n <= 8:
            raise bad_request("Invalid 'n': must be between 1 and 8.", "n")
        if n > 1:
            usage["completion_tokens"] *= n
            usage["total_tokens"] = prompt_tokens + usage["completion_tokens"]
        return model_id, reply, finish_reason, n, usage

    async def chat_completions(self, request: Request) -> Response:
        body = await self.json_body(request)
        model_id, reply, finish_reason, n, usage = self.answer(body)
        completion_id = new_id("chatcmpl-", 29)
        created = int(time.time())
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return StreamingResponse(
                self._chunks(
                    completion_id,
                    created,
                    model_id,
                    reply,
                    finish_reason,
                    n,
                    usage if include_usage else None,
                ),
                media_type="text/event-stream",
                headers={"cache-control": "no-cache"},
            )
        return JSONResponse(
            completion_object(completion_id, created, model_id, reply, finish_reason, n, usage)
        )

    async def _chunks(self, completion_id, created, model, reply, finish_reason, n, usage):
        def chunk(choices: list, usage_value: Any = None, with_usage: bool = False) -> str:
            obj = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "service_tier": "default",
                "system_fingerprint": "fp_workbench_sim",
                "choices": choices,
            }
            if with_usage:
                obj["usage"] = usage_value
            return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"

        with_usage = usage is not None
        pieces = re.findall(r"\s*\S+", reply) or [""]
        for i in range(n):
            yield chunk(
                [
                    {
                        "index": i,
                        "delta": {"role": "assistant", "content": "", "refusal": None},
                        "logprobs": None,
                        "finish_reason": None,
                    }
                ],
                None,
                with_usage,
            )
            for piece in pieces:
                yield chunk(
                    [
                        {
                            "index": i,
                            "delta": {"content": piece},
                            "logprobs": None,
                            "finish_reason": None,
                        }
                    ],
                    None,
                    with_usage,
                )
                await asyncio.sleep(0)
            yield chunk(
                [{"index": i, "delta": {}, "logprobs": None, "finish_reason": finish_reason}],
                None,
                with_usage,
            )
        if with_usage:
            yield chunk([], usage, True)
        yield "data: [DONE]\n\n"

    # ---- files --------------------------------------------------------------------------------
    @staticmethod
    def file_object(row: dict) -> dict:
        obj = {
            "id": row["id"],
            "object": "file",
            "bytes": row["bytes"],
            "created_at": row["created_at"],
            "filename": row["filename"],
            "purpose": row["purpose"],
            "status": row["status"],
        }
        if row.get("expires_at"):
            obj["expires_at"] = row["expires_at"]
        return obj

    def too_large(self) -> APIError:
        limit = self.options.max_file_bytes
        shown = f"{limit / 1024 / 1024:g} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
        return APIError(
            413,
            f"File is too large. The maximum file size is {shown}; use the Uploads API for larger "
            "files.",
            "invalid_request_error",
            "file",
            "file_too_large",
        )

    async def upload_file(self, request: Request) -> Response:
        length = request.headers.get("content-length")
        # a multipart body carries a little framing beyond the file itself
        if length and length.isdigit() and int(length) > self.options.max_file_bytes + 64 * 1024:
            raise self.too_large()
        async with request.form(max_files=1, max_fields=10) as form:
            purpose = form.get("purpose")
            upload = form.get("file")
            if not isinstance(purpose, str) or not purpose:
                raise bad_request("Missing required parameter: 'purpose'.", "purpose")
            if purpose not in UPLOAD_PURPOSES:
                raise bad_request(
                    f"'{purpose}' is not one of {list(UPLOAD_PURPOSES)} - 'purpose'", "purpose"
                )
            if upload is None or isinstance(upload, str):
                raise bad_request("Missing required parameter: 'file'.", "file")
            filename = upload.filename or "upload"
            if purpose == "fine-tune" and not filename.endswith(".jsonl"):
                raise bad_request(
                    "Invalid file format for Fine-Tuning API. Must be .jsonl",
                    "file",
                    "invalid_file_format",
                )
            size = upload.size
            if size is None:
                upload.file.seek(0, 2)
                size = upload.file.tell()
            if size > self.options.max_file_bytes:
                raise self.too_large()
            file_id = new_id("file-", 22)
            target = self.store.file_path(file_id)

            def copy() -> None:
                upload.file.seek(0)
                with target.open("wb") as out:
                    while chunk := upload.file.read(1024 * 1024):
                        out.write(chunk)

            await anyio.to_thread.run_sync(copy)
            expires_at = None
            seconds = form.get("expires_after[seconds]")
            if isinstance(seconds, str) and seconds.isdigit():
                expires_at = int(time.time()) + int(seconds)
            row = self.store.add_file(file_id, size, filename, purpose, expires_at)
        return JSONResponse(self.file_object(row))

    def get_file_row(self, file_id: str) -> dict:
        row = self.store.get_file(file_id)
        if row is None:
            raise not_found(f"No such File object: {file_id}", "id")
        return row

    async def list_files(self, request: Request) -> Response:
        limit = self.int_param(request, "limit", 10000, 1, 10000)
        order = request.query_params.get("order", "desc")
        rows = self.store.list_files(
            request.query_params.get("purpose"), order, request.query_params.get("after"), limit
        )
        data = [self.file_object(r) for r in rows[:limit]]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": len(rows) > limit,
            }
        )

    async def get_file(self, request: Request) -> Response:
        return JSONResponse(self.file_object(self.get_file_row(request.path_params["file_id"])))

    async def delete_file(self, request: Request) -> Response:
        row = self.get_file_row(request.path_params["file_id"])
        self.store.delete_file(row["id"])
        return JSONResponse({"id": row["id"], "object": "file", "deleted": True})

    async def file_content(self, request: Request) -> Response:
        row = self.get_file_row(request.path_params["file_id"])
        path = self.store.file_path(row["id"])

        async def stream():
            with path.open("rb") as fh:
                while chunk := fh.read(1024 * 1024):
                    yield chunk

        return StreamingResponse(
            stream(),
            media_type="application/octet-stream",
            headers={"content-length": str(path.stat().st_size)},
        )

    # ---- fine-tuning jobs ------------------------------------------------------------------------
    def check_fine_tunable(self, model_id: str) -> None:
        unavailable = bad_request(
            f"Model {model_id} is not available for fine-tuning or does not exist.",
            "model",
            "model_not_available",
        )
        if model_id.startswith("ft:"):
            if self.store.get_ft_model(model_id) is None:
                raise unavailable
            model_id = model_id.split(":")[1]
        base = catalog.base_model(model_id)
        if base is None or not base.fine_tunable or catalog.is_shut_down(base, self.today()):
            raise unavailable

    def check_job_file(self, file_id: Any, param: str) -> dict:
        if not isinstance(file_id, str) or not file_id:
            raise bad_request(f"Missing required parameter: '{param}'.", param)
        row = self.store.get_file(file_id)
        if row is None:
            raise bad_request(f"Invalid file ID: {file_id}", param, "invalid_file_id")
        if row["purpose"] != "fine-tune":
            raise bad_request(
                f"File {file_id} has purpose '{row['purpose']}'; fine-tuning needs purpose "
                "'fine-tune'.",
                param,
                "invalid_file_purpose",
            )
        return row

    @staticmethod
    def check_hyperparameters(hp: Any, method: str) -> dict:
        if hp is None:
            return {}
        if not isinstance(hp, dict):
            raise bad_request(
                "hyperparameters must be an object", f"method.{method}.hyperparameters"
            )
        ranges = {
            "n_epochs": (int, 1, 50),
            "batch_size": (int, 1, 256),
            "learning_rate_multiplier": (float, 0, None),
        }
        if method == "dpo":
            ranges["beta"] = (float, 0, 2)
        for name, value in hp.items():
            param = f"method.{method}.hyperparameters.{name}"
            if name not in ranges:
                raise bad_request(f"Unknown hyperparameter '{name}' for method {method}.", param)
            if value == "auto":
                continue
            kind, low, high = ranges[name]
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if ok and kind is int:
                ok = isinstance(value, int) and low <= value <= high
            elif ok:
                ok = value > low and (high is None or value <= high)
            if not ok:
                bound = f"between {low} and {high}" if high is not None else f"above {low}"
                raise bad_request(f"Invalid {name}: {value!r}; must be 'auto' or {bound}.", param)
        return dict(hp)

    async def create_job(self, request: Request) -> Response:
        body = await self.json_body(request)
        model_id = body.get("model")
        if not isinstance(model_id, str) or not model_id:
            raise bad_request("Missing required parameter: 'model'.", "model")
        self.check_fine_tunable(model_id)
        self.check_job_file(body.get("training_file"), "training_file")
        validation_file = body.get("validation_file")
        if validation_file is not None:
            self.check_job_file(validation_file, "validation_file")
        method = body.get("method") or {}
        method_type = method.get("type", "supervised") if isinstance(method, dict) else None
        if method_type == "reinforcement":
            raise bad_request(
                "Reinforcement fine-tuning is no longer available: its only base model, "
                "o4-mini-2025-04-16, shut down on 2026-10-23.",
                "method.type",
                "model_not_available",
            )
        if method_type not in ("supervised", "dpo"):
            raise bad_request("method.type must be 'supervised' or 'dpo'.", "method.type")
        hp = (method.get(method_type) or {}).get("hyperparameters")
        if hp is None and method_type == "supervised":
            hp = body.get("hyperparameters")  # the deprecated top-level form
        requested = self.check_hyperparameters(hp, method_type)
        suffix = body.get("suffix")
        if suffix is not None and (not isinstance(suffix, str) or len(suffix) > SUFFIX_MAX):
            raise bad_request(
                f"suffix must be a string of at most {SUFFIX_MAX} characters", "suffix"
            )
        metadata = body.get("metadata")
        metadata_ok = metadata is None or (
            isinstance(metadata, dict)
            and len(metadata) <= METADATA_MAX_KEYS
            and all(
                isinstance(k, str) and isinstance(v, str) and len(k) <= 64 and len(v) <= 512
                for k, v in metadata.items()
            )
        )
        if not metadata_ok:
            raise bad_request(
                "metadata: at most 16 string pairs, keys up to 64 and values up to 512 characters",
                "metadata",
            )
        seed = body.get("seed")
        if seed is None:
            seed = random.randrange(0, 2**31)
        if not isinstance(seed, int):
            raise bad_request("seed must be an integer", "seed")
        now = time.time()
        auto_requested = {
            "n_epochs": "auto",
            "batch_size": "auto",
            "learning_rate_multiplier": "auto",
        }
        if method_type == "dpo":
            auto_requested["beta"] = "auto"
        job = {
            "id": new_id("ftjob-"),
            "created_at": int(now),
            "model": model_id,
            "training_file": body["training_file"],
            "validation_file": validation_file,
            "suffix": suffix,
            "seed": seed,
            "metadata": metadata,
            "integrations": body.get("integrations") or [],
            "method_type": method_type,
            "requested_hp": {**auto_requested, **requested},
            "hp": None,
            "resolved_hp": None,
            "validation": None,
            "status": "validating_files",
            "finished_at": None,
            "fine_tuned_model": None,
            "result_files": [],
            "trained_tokens": None,
            "error": None,
            "total_steps": 0,
            "steps_per_epoch": 1,
            "n_epochs": 0,
            "step": 0,
            "clock_base": 0.0,
            "clock_anchor": now,
            "clock_speed": self.options.speed,
            "queued_until": None,
            "run_origin": None,
        }
        self.store.save_job(job)
        events = [self.clock.event(job, int(now), f"Created fine-tuning job: {job['id']}")]
        files = job["training_file"] + (f" and {validation_file}" if validation_file else "")
        events.append(self.clock.event(job, int(now), f"Validating training file: {files}"))
        self.store.add_events(events)
        self.store.commit()
        self._start_validation(job)
        return JSONResponse(job_object(job, now, self.options.flavor))

    def _start_validation(self, job: dict) -> None:
        from workbench.sim.validation import check_job_files

        training = self.store.file_path(job["training_file"])
        validation = (
            self.store.file_path(job["validation_file"]) if job.get("validation_file") else None
        )
        base_model = job["model"]

        async def run() -> None:
            try:
                result = await anyio.to_thread.run_sync(
                    check_job_files, training, base_model, job["method_type"], validation
                )
            except Exception as exc:  # the validator itself broke: fail the job, say why
                result = {
                    "n_examples": 1,
                    "billed_per_epoch": 0,
                    "auto_epochs": 1,
                    "error": {
                        "code": "internal_error",
                        "message": f"The simulator could not validate the file: {exc}",
                        "param": "training_file",
                    },
                }
            self._finish_validation(job["id"], result)

        task = asyncio.create_task(run())
        self._validations.add(task)
        task.add_done_callback(self._validations.discard)

    def _finish_validation(self, job_id: str, result: dict) -> None:
        job = self.store.get_job(job_id)
        if job is None or job.get("validation") is not None:
            return
        n = result["n_examples"]
        result["done_at_clock"] = clock_now(job, time.time())
        hp = resolve_hyperparameters(
            job["requested_hp"], job["method_type"], n, result["auto_epochs"]
        )
        steps_per_epoch = math.ceil(n / hp["batch_size"])
        job.update(
            validation=result,
            resolved_hp=hp,
            n_epochs=hp["n_epochs"],
            steps_per_epoch=steps_per_epoch,
            total_steps=steps_per_epoch * hp["n_epochs"],
        )
        self.store.save_job(job)
        self.clock.advance(job)

    def get_job_or_404(self, job_id: str) -> dict:
        job = self.store.get_job(job_id)
        if job is None:
            raise not_found(
                f"Could not find fine-tune: {job_id}", "fine_tune_id", "fine_tune_not_found"
            )
        return self.clock.advance(job)

    async def list_jobs(self, request: Request) -> Response:
        limit = self.int_param(request, "limit", 20, 1, 100)
        after = request.query_params.get("after")
        wanted: dict[str, str] = {}
        no_metadata = False
        for key, value in request.query_params.multi_items():
            if key.startswith("metadata[") and key.endswith("]"):
                wanted[key[9:-1]] = value
            elif key == "metadata" and value in ("null", ""):
                no_metadata = True
        before = self.store.job_seq(after) if after else None
        page: list[dict] = []
        has_more = False
        now = time.time()
        for job in self.store.jobs_page(before):
            meta = job.get("metadata") or {}
            if no_metadata and meta:
                continue
            if any(meta.get(k) != v for k, v in wanted.items()):
                continue
            if len(page) == limit:
                has_more = True
                break
            page.append(job_object(self.clock.advance(job, now), now, self.options.flavor))
        return JSONResponse({"object": "list", "data": page, "has_more": has_more})

    async def get_job(self, request: Request) -> Response:
        job = self.get_job_or_404(request.path_params["job_id"])
        return JSONResponse(job_object(job, time.time(), self.options.flavor))

    async def job_action(self, request: Request) -> Response:
        job = self.get_job_or_404(request.path_params["job_id"])
        action = request.path_params["action"]
        now = time.time()
        status = job["status"]
        if action == "cancel":
            if status not in (*ACTIVE, "paused"):
                raise bad_request(f"Job has already {status}: {job['id']}", None, "job_not_active")
            job = self.clock.cancel(job, now)
        elif action == "pause":
            if status not in ("queued", "running"):
                raise bad_request(f"Job {job['id']} is {status} and cannot be paused.", None)
            job = self.clock.pause(job, now)
        elif action == "resume":
            if status != "paused":
                raise bad_request(f"Job {job['id']} is {status}, not paused.", None)
            job = self.clock.resume(job, now, self.options.speed)
        else:
            raise not_found(f"Unknown action {action}")
        self.store.commit()
        return JSONResponse(job_object(job, now, self.options.flavor))

    async def job_events(self, request: Request) -> Response:
        job = self.get_job_or_404(request.path_params["job_id"])
        limit = self.int_param(request, "limit", 20, 1, 1000)
        rows = self.store.events_page(job["id"], request.query_params.get("after"), limit)
        data = [
            {
                "object": "fine_tuning.job.event",
                "id": r["id"],
                "created_at": r["created_at"],
                "level": r["level"],
                "message": r["message"],
                "type": r["type"],
                "data": json.loads(r["data"]) if r["data"] else {},
            }
            for r in rows[:limit]
        ]
        return JSONResponse({"object": "list", "data": data, "has_more": len(rows) > limit})

    async def job_checkpoints(self, request: Request) -> Response:
        job = self.get_job_or_404(request.path_params["job_id"])
        limit = self.int_param(request, "limit", 10, 1, 100)
        rows = self.store.checkpoints_page(job["id"], request.query_params.get("after"), limit)
        data = [
            {
                "object": "fine_tuning.job.checkpoint",
                "id": r["id"],
                "created_at": r["created_at"],
                "fine_tuned_model_checkpoint": r["model"],
                "fine_tuning_job_id": r["job_id"],
                "step_number": r["step_number"],
                "metrics": json.loads(r["metrics"]),
            }
            for r in rows[:limit]
        ]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": len(rows) > limit,
            }
        )

    # ---- batches ----------------------------------------------------------------------------------
    def batch_answer(self, body: dict) -> dict:
        model_id, reply, finish_reason, n, usage = self.answer(body)
        return completion_object(
            new_id("chatcmpl-", 29), int(time.time()), model_id, reply, finish_reason, n, usage
        )

    def get_batch_or_404(self, batch_id: str) -> dict:
        batch = self.store.get_batch(batch_id)
        if batch is None:
            raise not_found(f"No batch found with id '{batch_id}'.", "batch_id")
        return self.batch_clock.advance(batch)

    async def create_batch(self, request: Request) -> Response:
        body = await self.json_body(request)
        batch = self.batch_clock.create(body, self.options.speed)
        return JSONResponse(batch_object(batch))

    async def get_batch(self, request: Request) -> Response:
        return JSONResponse(batch_object(self.get_batch_or_404(request.path_params["batch_id"])))

    async def cancel_batch(self, request: Request) -> Response:
        batch = self.get_batch_or_404(request.path_params["batch_id"])
        if batch["status"] not in ("validating", "in_progress", "finalizing", "cancelling"):
            raise bad_request(f"Batch {batch['id']} is {batch['status']} and cannot be cancelled.")
        return JSONResponse(batch_object(self.batch_clock.cancel(batch, time.time())))

    async def list_batches(self, request: Request) -> Response:
        limit = self.int_param(request, "limit", 20, 1, 100)
        rows = self.store.batches_page(request.query_params.get("after"))
        now = time.time()
        data = [batch_object(self.batch_clock.advance(b, now)) for b in rows[:limit]]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": len(rows) > limit,
            }
        )

    # ---- routes ----------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [
            Route("/_sim/health", self.health),
            Route("/_sim/faults", self.faults, methods=["GET", "POST", "DELETE"]),
            Route("/v1/models", self.list_models),
            Route("/v1/models/{model:path}", self.get_model, methods=["GET"]),
            Route("/v1/models/{model:path}", self.delete_model, methods=["DELETE"]),
            Route("/v1/chat/completions", self.chat_completions, methods=["POST"]),
            Route("/v1/files", self.upload_file, methods=["POST"]),
            Route("/v1/files", self.list_files, methods=["GET"]),
            Route("/v1/files/{file_id}", self.get_file, methods=["GET"]),
            Route("/v1/files/{file_id}", self.delete_file, methods=["DELETE"]),
            Route("/v1/files/{file_id}/content", self.file_content, methods=["GET"]),
            Route("/v1/fine_tuning/jobs", self.create_job, methods=["POST"]),
            Route("/v1/fine_tuning/jobs", self.list_jobs, methods=["GET"]),
            Route("/v1/fine_tuning/jobs/{job_id}", self.get_job, methods=["GET"]),
            Route("/v1/fine_tuning/jobs/{job_id}/events", self.job_events, methods=["GET"]),
            Route(
                "/v1/fine_tuning/jobs/{job_id}/checkpoints", self.job_checkpoints, methods=["GET"]
            ),
            Route("/v1/fine_tuning/jobs/{job_id}/{action}", self.job_action, methods=["POST"]),
            Route("/v1/uploads", self.uploads.create, methods=["POST"]),
            Route("/v1/uploads/{upload_id}/parts", self.uploads.add_part, methods=["POST"]),
            Route("/v1/uploads/{upload_id}/complete", self.uploads.complete, methods=["POST"]),
            Route("/v1/uploads/{upload_id}/cancel", self.uploads.cancel, methods=["POST"]),
            Route("/v1/batches", self.create_batch, methods=["POST"]),
            Route("/v1/batches", self.list_batches, methods=["GET"]),
            Route("/v1/batches/{batch_id}", self.get_batch, methods=["GET"]),
            Route("/v1/batches/{batch_id}/cancel", self.cancel_batch, methods=["POST"]),
        ]


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
    return Guard(app, sim.board, options.api_key)


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
    )
    quiet_simulated_drops()
    uvicorn.Server(config).run()
