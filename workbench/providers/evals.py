"""The real SDK behind core.evaluation.engine: a chat function and the Batch API.

`sdk_chat(client)` is the engine's ChatFunction: one chat completion, its usage read into a
ChatReply, any failure raised as EvalRequestFailed with the provider's error in plain words.
`SdkBatches(client)` is its BatchService: one JSONL of requests uploaded with purpose "batch",
watched like a job (the interval backs off), and its output and error files read back.
Nothing here touches SQLite or scores anything.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.core.evaluation.engine import BATCH_THRESHOLD, DEFAULT_CONCURRENCY
from workbench.core.evaluation.plan import ChatFunction, ChatReply

if TYPE_CHECKING:
    from openai import OpenAI

__all__ = ["BATCH_THRESHOLD", "DEFAULT_CONCURRENCY", "SdkBatches", "sdk_chat"]
BATCH_DONE = ("completed", "failed", "expired", "cancelled")


class EvalRequestFailed(Exception):
    """A request of an evaluation failed; the message is the provider's error in plain words."""


def _problem(exc: BaseException) -> str:
    from workbench.providers.openai_api import explain_error

    return explain_error(exc).message


def _usage(usage: Any) -> tuple[int | None, int | None, int | None]:
    if usage is None:
        return None, None, None
    if isinstance(usage, Mapping):
        details = usage.get("prompt_tokens_details") or {}
        return (
            usage.get("prompt_tokens"),
            usage.get("completion_tokens"),
            details.get("cached_tokens"),
        )
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) if details is not None else None
    return usage.prompt_tokens, usage.completion_tokens, cached


def _reply(answer: str, usage: Any) -> ChatReply:
    tokens_in, tokens_out, cached = _usage(usage)
    return ChatReply(answer, tokens_in, tokens_out, cached)


def sdk_chat(client: OpenAI) -> ChatFunction:
    """A thread-safe chat function on a sync SDK client (the SDK's client is safe to share)."""

    def chat(model: str, messages: list[dict], params: dict[str, Any]) -> ChatReply:
        try:
            reply = client.chat.completions.create(model=model, messages=messages, **params)
        except Exception as exc:
            raise EvalRequestFailed(_problem(exc)) from exc
        return _reply(reply.choices[0].message.content or "", reply.usage)

    return chat


@dataclass(frozen=True)
class BatchState:
    status: str
    completed: int
    failed: int
    total: int
    output_file_id: str | None
    error_file_id: str | None
    errors: str = ""

    @property
    def done(self) -> bool:
        return self.status in BATCH_DONE


def batch_lines(requests: Sequence[tuple[str, dict]]) -> bytes:
    """The batch input file: one chat request per line, `custom_id` = the engine's item id."""
    lines = [
        json.dumps(
            {"custom_id": cid, "method": "POST", "url": "/v1/chat/completions", "body": body},
            ensure_ascii=False,
        )
        for cid, body in requests
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


class SdkBatches:
    """The Batch API through the SDK (half price, asynchronous, up to 24 h)."""

    def __init__(
        self,
        client: OpenAI,
        *,
        poll_seconds: float = 5.0,
        max_poll_seconds: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.poll_seconds = poll_seconds
        self.max_poll_seconds = max_poll_seconds
        self.sleep = sleep

    def submit(self, requests: Sequence[tuple[str, dict]], label: str) -> str:
        """Upload the requests and create the batch; returns its id (stored: the way back)."""
        uploaded = self.client.files.create(
            file=(f"{label}.jsonl", batch_lines(requests)), purpose="batch"
        )
        batch = self.client.batches.create(
            input_file_id=uploaded.id,
            endpoint="/v1/chat/completions",
            completion_window="24h",
            metadata={"workbench": "eval", "label": label[:64]},
        )
        return batch.id

    def state(self, batch_id: str) -> BatchState:
        batch = self.client.batches.retrieve(batch_id)
        counts = batch.request_counts
        errors = ""
        if batch.errors is not None and getattr(batch.errors, "data", None):
            errors = "; ".join(str(e.message) for e in batch.errors.data if e.message)
        return BatchState(
            status=batch.status,
            completed=getattr(counts, "completed", 0) or 0,
            failed=getattr(counts, "failed", 0) or 0,
            total=getattr(counts, "total", 0) or 0,
            output_file_id=batch.output_file_id,
            error_file_id=batch.error_file_id,
            errors=errors,
        )

    def wait(
        self,
        batch_id: str,
        should_stop: Callable[[], bool],
        on_state: Callable[[BatchState], None],
    ) -> BatchState:
        """Poll until the batch ends or `should_stop()`; the batch keeps running in that case."""
        interval = self.poll_seconds
        while True:
            state = self.state(batch_id)
            on_state(state)
            if state.done or should_stop():
                return state
            self.sleep(interval)
            interval = min(self.max_poll_seconds, interval * 1.5)

    def results(self, state: BatchState) -> Iterator[tuple[str, ChatReply | None, str | None]]:
        """(custom id, reply or None, error or None) for each request the batch answered."""
        for file_id in (state.output_file_id, state.error_file_id):
            if not file_id:
                continue
            for line in self.client.files.content(file_id).text.splitlines():
                if not line.strip():
                    continue
                row = json.loads(line)
                response = row.get("response") or {}
                body = response.get("body") or {}
                cid = str(row.get("custom_id", ""))
                if row.get("error") or response.get("status_code", 200) >= 400:
                    err = row.get("error") or body.get("error") or {}
                    message = err.get("message") if isinstance(err, Mapping) else str(err)
                    yield cid, None, f"batch request failed: {message}"
                    continue
                choice = (body.get("choices") or [{}])[0]
                answer = choice.get("message", {}).get("content") or ""
                yield cid, _reply(answer, body.get("usage")), None
