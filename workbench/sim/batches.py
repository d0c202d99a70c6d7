"""The simulated Batch API: validating -> in_progress -> finalizing -> completed (or failed,
cancelling -> cancelled), on the same persisted clock as fine-tuning jobs (see training.py).

Each input line is answered exactly like `POST /v1/chat/completions` would answer it; answers go to
the output file, refused requests (unknown model, bad body) to the error file, both JSONL keyed by
`custom_id`, as OpenAI writes them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from workbench.sim.openai_errors import APIError, bad_request, not_found
from workbench.sim.state import SimStore, new_id
from workbench.sim.training import clock_now, real_time_of, stop_clock
from workbench.sim.wire import Handlers, int_param, json_body, list_page

VALIDATE_SECONDS = 20.0
PER_REQUEST_SECONDS = 1.0
FINALIZE_SECONDS = 10.0
CANCEL_SECONDS = 5.0
ENDPOINTS = ("/v1/chat/completions",)
WINDOW_SECONDS = 24 * 3600
ACTIVE = ("validating", "in_progress", "finalizing", "cancelling")

# answer(body) -> a chat.completion dict, or raises APIError
Answer = Callable[[dict], dict]


class BatchClock:
    def __init__(self, store: SimStore, answer: Answer) -> None:
        self.store = store
        self.answer = answer

    def create(self, body: dict, speed: float) -> dict:
        input_file_id = body.get("input_file_id")
        endpoint = body.get("endpoint")
        if endpoint not in ENDPOINTS:
            raise bad_request(
                f"The simulator's Batch API supports only {', '.join(ENDPOINTS)}.", "endpoint"
            )
        if body.get("completion_window") != "24h":
            raise bad_request("completion_window must be '24h'.", "completion_window")
        row = self.store.get_file(input_file_id) if isinstance(input_file_id, str) else None
        if row is None:
            raise bad_request(f"Invalid file ID: {input_file_id}", "input_file_id")
        if row["purpose"] != "batch":
            raise bad_request(
                f"File {input_file_id} has purpose '{row['purpose']}'; batches need 'batch'.",
                "input_file_id",
            )
        now = time.time()
        batch = {
            "id": new_id("batch_"),
            "created_at": int(now),
            "endpoint": endpoint,
            "input_file_id": input_file_id,
            "completion_window": "24h",
            "metadata": body.get("metadata"),
            "status": "validating",
            "times": {"expires_at": int(now) + WINDOW_SECONDS},
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "output_file_id": None,
            "error_file_id": None,
            "errors": None,
            "usage": None,
            "clock_base": 0.0,
            "clock_anchor": now,
            "clock_speed": speed,
            "started": None,
            "cancel_at": None,
        }
        self.store.save_batch(batch)
        return batch

    def advance(self, batch: dict, now: float | None = None) -> dict:
        now = time.time() if now is None else now
        if batch["status"] not in ACTIVE or batch.get("clock_anchor") is None:
            return batch
        clock = clock_now(batch, now)
        before = json.dumps(batch, sort_keys=True)
        while True:
            status = batch["status"]
            if status == "validating":
                if clock < VALIDATE_SECONDS:
                    break
                at = real_time_of(batch, VALIDATE_SECONDS, now)
                lines, errors = self._read_input(batch)
                if errors:
                    batch.update(status="failed", errors={"object": "list", "data": errors[:50]})
                    batch["times"]["failed_at"] = at
                    stop_clock(batch, now)
                    break
                batch["request_counts"]["total"] = len(lines)
                batch.update(status="in_progress", started=VALIDATE_SECONDS)
                batch["times"]["in_progress_at"] = at
            elif status == "in_progress":
                total = batch["request_counts"]["total"]
                done = min(total, int((clock - batch["started"]) // PER_REQUEST_SECONDS))
                batch["request_counts"]["completed"] = done
                if done < total:
                    break
                t = batch["started"] + total * PER_REQUEST_SECONDS
                batch["status"] = "finalizing"
                batch["times"]["finalizing_at"] = real_time_of(batch, t, now)
                batch["finalize_at"] = t + FINALIZE_SECONDS
            elif status == "finalizing":
                if clock < batch["finalize_at"]:
                    break
                at = real_time_of(batch, batch["finalize_at"], now)
                self._write_results(batch, batch["request_counts"]["total"], at)
                batch["status"] = "completed"
                batch["times"]["completed_at"] = at
                stop_clock(batch, now)
                break
            elif status == "cancelling":
                if clock < batch["cancel_at"]:
                    break
                at = real_time_of(batch, batch["cancel_at"], now)
                done = batch["request_counts"]["completed"]
                if batch.get("started") is not None:
                    self._write_results(batch, done, at)
                batch["status"] = "cancelled"
                batch["times"]["cancelled_at"] = at
                stop_clock(batch, now)
                break
            else:
                break
        if json.dumps(batch, sort_keys=True) != before:
            self.store.save_batch(batch)
        return batch

    def cancel(self, batch: dict, now: float) -> dict:
        self.advance(batch, now)
        if batch["status"] in ("validating", "in_progress", "finalizing"):
            batch["status"] = "cancelling"
            batch["times"]["cancelling_at"] = int(now)
            batch["cancel_at"] = clock_now(batch, now) + CANCEL_SECONDS
            self.store.save_batch(batch)
        return batch

    def _read_input(self, batch: dict) -> tuple[list[dict], list[dict]]:
        path = self.store.file_path(batch["input_file_id"])
        lines: list[dict] = []
        errors: list[dict] = []
        seen: set[str] = set()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return [], [{"code": "invalid_file", "message": str(exc), "param": None, "line": None}]
        for number, raw in enumerate(text.splitlines(), 1):
            if not raw.strip():
                continue

            def problem(code: str, message: str, param: str | None = None, line=number) -> None:
                errors.append({"code": code, "message": message, "param": param, "line": line})

            try:
                obj = json.loads(raw)
            except ValueError:
                problem("invalid_json_line", "This line is not parseable as valid JSON.")
                continue
            if not isinstance(obj, dict):
                problem("invalid_request", "Each line must be a JSON object.")
                continue
            custom_id = obj.get("custom_id")
            if not isinstance(custom_id, str) or not custom_id:
                problem("missing_required_parameter", "Missing 'custom_id'.", "custom_id")
            elif custom_id in seen:
                problem("duplicate_custom_id", "The custom_id is used more than once.", "custom_id")
            else:
                seen.add(custom_id)
            if obj.get("method") != "POST":
                problem("invalid_method", "Only POST is supported.", "method")
            if obj.get("url") != batch["endpoint"]:
                problem(
                    "mismatched_endpoint",
                    f"The url {obj.get('url')!r} does not match the batch endpoint "
                    f"{batch['endpoint']}.",
                    "url",
                )
            if not isinstance(obj.get("body"), dict):
                problem("missing_required_parameter", "Missing 'body'.", "body")
            lines.append(obj)
        if not lines and not errors:
            errors.append(
                {
                    "code": "empty_file",
                    "message": "The input file is empty.",
                    "param": None,
                    "line": None,
                }
            )
        return lines, errors

    def _write_results(self, batch: dict, count: int, at: int) -> None:
        lines, _ = self._read_input(batch)
        outputs: list[str] = []
        failures: list[str] = []
        usage = {"input_tokens": 0, "output_tokens": 0}
        for obj in lines[:count]:
            request_id = new_id("req_", 24)
            try:
                body = self.answer(obj["body"])
                usage["input_tokens"] += body["usage"]["prompt_tokens"]
                usage["output_tokens"] += body["usage"]["completion_tokens"]
                status = 200
            except APIError as exc:
                body = {
                    "error": {
                        "message": exc.message,
                        "type": exc.type_,
                        "param": exc.param,
                        "code": exc.code,
                    }
                }
                status = exc.status
            line = json.dumps(
                {
                    "id": new_id("batch_req_"),
                    "custom_id": obj["custom_id"],
                    "response": {"status_code": status, "request_id": request_id, "body": body},
                    "error": None,
                },
                ensure_ascii=False,
            )
            (outputs if status == 200 else failures).append(line)
        batch["request_counts"].update(completed=len(outputs), failed=len(failures))
        batch["usage"] = {
            "input_tokens": usage["input_tokens"],
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": usage["output_tokens"],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage["input_tokens"] + usage["output_tokens"],
        }
        for lines_, key, name in (
            (outputs, "output_file_id", "batch_output"),
            (failures, "error_file_id", "batch_error"),
        ):
            if not lines_:
                continue
            content = ("\n".join(lines_) + "\n").encode("utf-8")
            file_id = new_id("file-", 22)
            self.store.file_path(file_id).write_bytes(content)
            self.store.add_file(
                file_id, len(content), f"{batch['id']}_{name}.jsonl", "batch_output"
            )
            batch[key] = file_id


def batch_object(batch: dict) -> dict:
    """The `batch` object as OpenAI returns it (absent fields left out, as the spec types them)."""
    obj: dict[str, Any] = {
        "id": batch["id"],
        "object": "batch",
        "endpoint": batch["endpoint"],
        "input_file_id": batch["input_file_id"],
        "completion_window": batch["completion_window"],
        "status": batch["status"],
        "created_at": batch["created_at"],
        "request_counts": batch["request_counts"],
        "metadata": batch.get("metadata"),
    }
    obj.update({k: v for k, v in batch["times"].items() if v is not None})
    for key in ("output_file_id", "error_file_id", "errors", "usage"):
        if batch.get(key) is not None:
            obj[key] = batch[key]
    return obj


class BatchRoutes(Handlers):
    """`/v1/batches` handlers."""

    def get_batch_or_404(self, batch_id: str) -> dict:
        batch = self.sim.store.get_batch(batch_id)
        if batch is None:
            raise not_found(f"No batch found with id '{batch_id}'.", "batch_id")
        return self.sim.batch_clock.advance(batch)

    async def create_batch(self, request: Request) -> Response:
        body = await json_body(request)
        batch = self.sim.batch_clock.create(body, self.sim.options.speed)
        return JSONResponse(batch_object(batch))

    async def get_batch(self, request: Request) -> Response:
        return JSONResponse(batch_object(self.get_batch_or_404(request.path_params["batch_id"])))

    async def cancel_batch(self, request: Request) -> Response:
        batch = self.get_batch_or_404(request.path_params["batch_id"])
        if batch["status"] not in ("validating", "in_progress", "finalizing", "cancelling"):
            raise bad_request(f"Batch {batch['id']} is {batch['status']} and cannot be cancelled.")
        return JSONResponse(batch_object(self.sim.batch_clock.cancel(batch, time.time())))

    async def list_batches(self, request: Request) -> Response:
        limit = int_param(request, "limit", 20, 1, 100)
        rows = self.sim.store.batches_page(request.query_params.get("after"))
        now = time.time()
        data = [batch_object(self.sim.batch_clock.advance(b, now)) for b in rows[:limit]]
        return JSONResponse(list_page(data, len(rows) > limit))
