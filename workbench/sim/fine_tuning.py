"""`/v1/fine_tuning/jobs`: create (checked like OpenAI checks it), list (after/limit, metadata
filter), retrieve, cancel/pause/resume, events, checkpoints. The lifecycle itself is training.py."""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from workbench.sim import azure
from workbench.sim.openai_errors import APIError, bad_request, not_found
from workbench.sim.state import new_id
from workbench.sim.training import ACTIVE, resolve_hyperparameters
from workbench.sim.wire import Handlers, int_param, json_body, list_page

SUFFIX_MAX = 64
METADATA_MAX_KEYS = 16


class FineTuning(Handlers):
    """Fine-tuning jobs."""

    def __init__(self, sim) -> None:
        super().__init__(sim)
        self._validations: set[asyncio.Task] = set()

    # ---- fine-tuning jobs ------------------------------------------------------------------------
    def check_job_file(self, file_id: Any, param: str) -> dict:
        if not isinstance(file_id, str) or not file_id:
            raise bad_request(f"Missing required parameter: '{param}'.", param)
        row = self.sim.store.get_file(file_id)
        if row is None:
            raise bad_request(f"Invalid file ID: {file_id}", param, "invalid_file_id")
        if row["purpose"] != "fine-tune":
            raise bad_request(
                f"File {file_id} has purpose '{row['purpose']}'; fine-tuning needs purpose "
                "'fine-tune'.",
                param,
                "invalid_file_purpose",
            )
        if self.sim.file_processing.status(row["id"], row["status"]) != "processed":
            raise azure.file_not_ready(param)
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
        body = await json_body(request)
        model_id = body.get("model")
        if not isinstance(model_id, str) or not model_id:
            raise bad_request("Missing required parameter: 'model'.", "model")
        self.sim.models.check_fine_tunable(model_id)
        flavor = self.sim.options.flavor
        training_type = None
        if flavor == "azure":
            training_type = azure.check_training_type(body, self.sim.options.training_types)
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
        if method_type == "dpo" and "dpo" not in self.sim.features:
            raise bad_request(
                "method.type 'dpo' is not supported by this server; use 'supervised'.",
                "method.type",
                "unsupported_method",
            )
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
            "training_type": training_type,
            **self.sim.lifecycle.initial_state(now),
        }
        self.sim.store.save_job(job)
        events = [self.sim.lifecycle.event(job, int(now), f"Created fine-tuning job: {job['id']}")]
        files = job["training_file"] + (f" and {validation_file}" if validation_file else "")
        events.append(self.sim.lifecycle.event(job, int(now), f"Validating training file: {files}"))
        self.sim.store.add_events(events)
        self.sim.store.commit()
        if not self.sim.lifecycle.start(job):
            self.start_validation(job)
        return JSONResponse(self.sim.lifecycle.job_object(job, now))

    def start_validation(self, job: dict) -> None:
        from workbench.sim.validation import check_job_files

        training = self.sim.store.file_path(job["training_file"])
        validation = (
            self.sim.store.file_path(job["validation_file"]) if job.get("validation_file") else None
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
        job = self.sim.store.get_job(job_id)
        if job is None or job.get("validation") is not None:
            return
        n = result["n_examples"]
        self.sim.lifecycle.on_validated(job, result)
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
        self.sim.store.save_job(job)
        self.sim.lifecycle.advance(job)

    def get_job_or_404(self, job_id: str) -> dict:
        job = self.sim.store.get_job(job_id)
        if job is None:
            raise not_found(
                f"Could not find fine-tune: {job_id}", "fine_tune_id", "fine_tune_not_found"
            )
        return self.sim.lifecycle.advance(job)

    async def list_jobs(self, request: Request) -> Response:
        limit = int_param(request, "limit", 20, 1, 100)
        after = request.query_params.get("after")
        wanted: dict[str, str] = {}
        no_metadata = False
        for key, value in request.query_params.multi_items():
            if key.startswith("metadata[") and key.endswith("]"):
                wanted[key[9:-1]] = value
            elif key == "metadata" and value in ("null", ""):
                no_metadata = True
        before = self.sim.store.job_seq(after) if after else None
        page: list[dict] = []
        has_more = False
        now = time.time()
        for job in self.sim.store.jobs_page(before):
            meta = job.get("metadata") or {}
            if no_metadata and meta:
                continue
            if any(meta.get(k) != v for k, v in wanted.items()):
                continue
            if len(page) == limit:
                has_more = True
                break
            page.append(self.sim.lifecycle.job_object(self.sim.lifecycle.advance(job, now), now))
        return JSONResponse({"object": "list", "data": page, "has_more": has_more})

    async def get_job(self, request: Request) -> Response:
        job = self.get_job_or_404(request.path_params["job_id"])
        return JSONResponse(self.sim.lifecycle.job_object(job, time.time()))

    async def job_action(self, request: Request) -> Response:
        job = self.get_job_or_404(request.path_params["job_id"])
        action = request.path_params["action"]
        if action in ("pause", "resume") and "pause" not in self.sim.features:
            raise APIError(404, f"Invalid URL (POST {request.url.path})", code=None)
        now = time.time()
        status = job["status"]
        if action == "cancel":
            if status not in (*ACTIVE, "paused"):
                raise bad_request(f"Job has already {status}: {job['id']}", None, "job_not_active")
            job = self.sim.lifecycle.cancel(job, now)
        elif action == "pause":
            if status not in ("queued", "running"):
                raise bad_request(f"Job {job['id']} is {status} and cannot be paused.", None)
            job = self.sim.lifecycle.pause(job, now)
        elif action == "resume":
            if status != "paused":
                raise bad_request(f"Job {job['id']} is {status}, not paused.", None)
            job = self.sim.lifecycle.resume(job, now)
        else:
            raise not_found(f"Unknown action {action}")
        self.sim.store.commit()
        return JSONResponse(self.sim.lifecycle.job_object(job, now))

    async def job_events(self, request: Request) -> Response:
        job = self.get_job_or_404(request.path_params["job_id"])
        limit = int_param(request, "limit", 20, 1, 1000)
        rows = self.sim.store.events_page(job["id"], request.query_params.get("after"), limit)
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
        if "checkpoints" not in self.sim.features:
            raise APIError(404, f"Invalid URL (GET {request.url.path})", code=None)
        job = self.get_job_or_404(request.path_params["job_id"])
        limit = int_param(request, "limit", 10, 1, 100)
        rows = self.sim.store.checkpoints_page(job["id"], request.query_params.get("after"), limit)
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
        return JSONResponse(list_page(data, len(rows) > limit))
