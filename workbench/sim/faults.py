"""Faults on demand and the API-key check, as one ASGI layer in front of the /v1 routes.

Faults are armed through `POST /_sim/faults` ({"kind", "count", "path", ...options}) or for a single
call with the request header `X-Sim-Fault: <kind>`. Kinds:
  429                    rate limited: OpenAI's body plus `Retry-After` (option `retry_after`, s)
  500                    OpenAI's server_error body
  stall                  wait `seconds` (default 30) before answering: past any sane client timeout
  drop                   close the socket mid-response (streams: after `after_chunks` chunks, def. 2)
  training_not_available 403 on job creation (POST /v1/fine_tuning/jobs), OpenAI's exact body
Each matching request uses up one count (the SDK's own retries count too).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from workbench.sim import openai_errors

KINDS = ("429", "500", "stall", "drop", "training_not_available")
JOB_CREATE_PATH = "/v1/fine_tuning/jobs"


class SimulatedDrop(Exception):
    """Raised after a partial response so the server closes the connection."""


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, SimulatedDrop)


def quiet_simulated_drops() -> None:
    """uvicorn logs every exception after a response started; a simulated drop is not news."""
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


@dataclass
class Fault:
    kind: str
    count: int = 1
    path: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def applies_to(self, method: str, path: str) -> bool:
        if self.kind == "training_not_available":
            return method == "POST" and path.rstrip("/") == JOB_CREATE_PATH
        return self.path is None or path.startswith(self.path)

    def to_json(self) -> dict:
        return {"kind": self.kind, "count": self.count, "path": self.path, **self.options}


class FaultBoard:
    """The armed faults (in memory: a restart clears them)."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def arm(self, kind: str, count: int = 1, path: str | None = None, **options: Any) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
        fault = Fault(kind, max(1, int(count)), path, options)
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.applies_to(method, path):
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None


class Guard:
    """ASGI middleware: API key first, then any armed fault, then the app."""

    def __init__(self, app: Any, board: FaultBoard, api_key: str | None) -> None:
        self.app = app
        self.board = board
        self.api_key = api_key

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        auth = headers.get("authorization", "")
        key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not key or (self.api_key is not None and key != self.api_key):
            await openai_errors.invalid_api_key(key)(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        fault: Fault | None = None
        header_kind = headers.get("x-sim-fault")
        if header_kind in KINDS:
            candidate = Fault(header_kind)
            fault = candidate if candidate.applies_to(method, path) else None
        else:
            fault = self.board.take(method, path)
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.kind == "429":
            retry_after = float(fault.options.get("retry_after", 1))
            await openai_errors.rate_limited(retry_after)(scope, receive, send)
        elif fault.kind == "500":
            await openai_errors.server_error()(scope, receive, send)
        elif fault.kind == "training_not_available":
            await openai_errors.training_not_available()(scope, receive, send)
        elif fault.kind == "stall":
            await asyncio.sleep(float(fault.options.get("seconds", 30)))
            await self.app(scope, receive, send)
        elif fault.kind == "drop":
            await self._dropping(scope, receive, send, int(fault.options.get("after_chunks", 2)))

    async def _dropping(self, scope: dict, receive: Any, send: Any, after_chunks: int) -> None:
        state = {"streaming": False, "chunks": 0, "dropped": False}

        async def cut_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type" and b"event-stream" in value:
                        state["streaming"] = True
                await send(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            if state["streaming"]:
                if state["chunks"] >= after_chunks:
                    state["dropped"] = True
                    raise SimulatedDrop()
                state["chunks"] += 1
                await send(message)
                return
            body = message.get("body", b"")
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            state["dropped"] = True
            raise SimulatedDrop()

        try:
            await self.app(scope, receive, cut_send)
        except BaseException:
            if state["dropped"]:
                raise SimulatedDrop() from None
            raise
