"""Running an eval set through the provider and scoring every answer.

Two ways, same results:
- small sets: chat completions concurrently, with at most `concurrency` requests in flight
  (an asyncio semaphore on the SDK's async client); each answer is reported as soon as it is scored;
- large sets: the Batch API (half price, asynchronous, up to 24 h): one JSONL of requests per model,
  uploaded with purpose "batch", then watched like a job; `collect_batch` picks a batch up again
  after a restart from its stored id.

Callers (the Costs pane, tests) store what `on_item` receives; nothing here touches SQLite.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.core.evaluate import (
    EvalCase,
    ItemScore,
    PromptParts,
    Scorer,
    case_messages,
    judge_messages,
    judge_shortcut,
    read_judge_reply,
    score_answer,
)
from workbench.core.pricing import cost_usd

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI

DEFAULT_CONCURRENCY = 8
BATCH_THRESHOLD = 200  # eval sets at least this large default to the Batch API
BATCH_DONE = ("completed", "failed", "expired", "cancelled")
_SAMPLING = (
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "seed",
    "response_format",
)


@dataclass(frozen=True)
class EvalTarget:
    """One approach to evaluate; `key` is the caller's (e.g. the stored run id)."""

    key: Any
    approach: str
    model: str


@dataclass(frozen=True)
class Outcome:
    """One scored answer (or the reason there is none)."""

    answer: str = ""
    passed: bool | None = None
    detail: str = ""
    latency_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    cost_usd: float | None = None
    error: str | None = None


def _params(parts: PromptParts) -> dict[str, Any]:
    return {k: v for k, v in (parts.params or {}).items() if k in _SAMPLING and v is not None}


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


def _outcome(
    target: EvalTarget,
    answer: str,
    usage: Any,
    latency_ms: float | None,
    score: ItemScore | None,
    *,
    batch: bool,
    overrides: dict | None,
) -> Outcome:
    tokens_in, tokens_out, cached = _usage(usage)
    cost = None
    if tokens_in is not None and tokens_out is not None:
        cost = cost_usd(
            target.model, tokens_in, tokens_out, cached or 0, batch=batch, overrides=overrides
        )
    return Outcome(
        answer=answer,
        passed=None if score is None else score.passed,
        detail="" if score is None else score.detail,
        latency_ms=latency_ms,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        cached_tokens=cached,
        cost_usd=cost,
    )


def _problem(exc: BaseException) -> str:
    from workbench.providers.openai_api import explain_error

    return explain_error(exc).message


# --- concurrently ----------------------------------------------------------------------------------


async def _judge_async(
    client: AsyncOpenAI, scorer: Scorer, case: EvalCase, answer: str, seed: int, model: str
) -> ItemScore:
    same = judge_shortcut(answer, case.expected)
    if same is not None:
        return same
    messages, candidate_first = judge_messages(
        scorer, case.question, case.expected, answer, seed=seed, item_key=case.example_id
    )
    reply = await client.chat.completions.create(
        model=scorer.judge_model or model, messages=messages, temperature=0
    )
    text = reply.choices[0].message.content or ""
    score = read_judge_reply(text, candidate_first)
    return score or ItemScore(False, f"judge reply not readable: {text[:80]}")


async def run_concurrently(
    client: AsyncOpenAI,
    cases: Sequence[EvalCase],
    targets: Sequence[EvalTarget],
    scorer: Scorer,
    parts: PromptParts,
    on_item: Callable[[EvalTarget, EvalCase, Outcome], Awaitable[None] | None],
    *,
    seed: int = 0,
    concurrency: int = DEFAULT_CONCURRENCY,
    overrides: dict | None = None,
) -> None:
    """Ask every case of every target with at most `concurrency` requests in flight; report each
    scored outcome through `on_item` (called on the event loop, in completion order)."""
    gate = asyncio.Semaphore(max(1, concurrency))
    params = _params(parts)

    async def one(target: EvalTarget, case: EvalCase) -> None:
        messages = case_messages(
            target.approach,
            case,
            system=parts.system,
            ft_system=parts.ft_system,
            few_shot=parts.few_shot,
        )
        async with gate:
            started = time.perf_counter()
            try:
                reply = await client.chat.completions.create(
                    model=target.model, messages=messages, **params
                )
                latency = (time.perf_counter() - started) * 1000
                answer = reply.choices[0].message.content or ""
                if scorer.kind == "judge":
                    score = await _judge_async(client, scorer, case, answer, seed, target.model)
                else:
                    score = score_answer(scorer, answer, case.expected)
                outcome = _outcome(
                    target, answer, reply.usage, latency, score, batch=False, overrides=overrides
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every provider failure becomes a recorded item error
                outcome = Outcome(error=_problem(exc))
        result = on_item(target, case, outcome)
        if asyncio.iscoroutine(result):
            await result

    await asyncio.gather(*(one(t, c) for t in targets for c in cases))


# --- the Batch API -------------------------------------------------------------------------------


def batch_lines(cases: Sequence[EvalCase], target: EvalTarget, parts: PromptParts) -> bytes:
    """The batch input file: one chat request per case, `custom_id` = the example id."""
    params = _params(parts)
    lines = []
    for case in cases:
        body = {
            "model": target.model,
            "messages": case_messages(
                target.approach,
                case,
                system=parts.system,
                ft_system=parts.ft_system,
                few_shot=parts.few_shot,
            ),
            **params,
        }
        lines.append(
            json.dumps(
                {
                    "custom_id": f"item-{case.example_id}",
                    "method": "POST",
                    "url": "/v1/chat/completions",
                    "body": body,
                },
                ensure_ascii=False,
            )
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def submit_batch(
    client: OpenAI, cases: Sequence[EvalCase], target: EvalTarget, parts: PromptParts
) -> str:
    """Upload the requests and create the batch; returns its id (store it: it is the way back)."""
    data = batch_lines(cases, target, parts)
    uploaded = client.files.create(file=(f"eval-{target.key}.jsonl", data), purpose="batch")
    batch = client.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"workbench": "eval", "approach": target.approach},
    )
    return batch.id


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


def batch_state(client: OpenAI, batch_id: str) -> BatchState:
    batch = client.batches.retrieve(batch_id)
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


def collect_batch(
    client: OpenAI,
    state: BatchState,
    cases: Sequence[EvalCase],
    target: EvalTarget,
    scorer: Scorer,
    on_item: Callable[[EvalTarget, EvalCase, Outcome], None],
    *,
    seed: int = 0,
    overrides: dict | None = None,
) -> int:
    """Score a finished batch's answers (and record its failed requests); returns items reported."""
    by_id = {f"item-{c.example_id}": c for c in cases}
    reported = 0
    for file_id in (state.output_file_id, state.error_file_id):
        if not file_id:
            continue
        text = client.files.content(file_id).text
        for line in text.splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            case = by_id.pop(row.get("custom_id", ""), None)
            if case is None:
                continue
            response = row.get("response") or {}
            body = response.get("body") or {}
            if row.get("error") or response.get("status_code", 200) >= 400:
                err = row.get("error") or body.get("error") or {}
                message = err.get("message") if isinstance(err, Mapping) else str(err)
                on_item(target, case, Outcome(error=f"batch request failed: {message}"))
            else:
                answer = (body.get("choices") or [{}])[0].get("message", {}).get("content") or ""
                if scorer.kind == "judge":
                    score = _judge_sync(client, scorer, case, answer, seed, target.model)
                else:
                    score = score_answer(scorer, answer, case.expected)
                on_item(
                    target,
                    case,
                    _outcome(
                        target,
                        answer,
                        body.get("usage"),
                        None,
                        score,
                        batch=True,
                        overrides=overrides,
                    ),
                )
            reported += 1
    for case in by_id.values():  # asked but never answered (expired, cancelled)
        on_item(target, case, Outcome(error=f"no answer: the batch ended {state.status}"))
        reported += 1
    return reported


def _judge_sync(
    client: OpenAI, scorer: Scorer, case: EvalCase, answer: str, seed: int, model: str
) -> ItemScore:
    same = judge_shortcut(answer, case.expected)
    if same is not None:
        return same
    messages, candidate_first = judge_messages(
        scorer, case.question, case.expected, answer, seed=seed, item_key=case.example_id
    )
    try:
        reply = client.chat.completions.create(
            model=scorer.judge_model or model, messages=messages, temperature=0
        )
    except Exception as exc:
        return ItemScore(False, f"judge failed: {_problem(exc)}")
    text = reply.choices[0].message.content or ""
    return read_judge_reply(text, candidate_first) or ItemScore(
        False, f"judge reply not readable: {text[:80]}"
    )


def wait_for_batch(
    client: OpenAI,
    batch_id: str,
    *,
    poll_seconds: float = 5.0,
    max_poll_seconds: float = 60.0,
    on_state: Callable[[BatchState], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> BatchState:
    """Poll until the batch ends (interval backs off to max_poll_seconds); returns the last state,
    which is not `done` when `should_stop` said to give up watching (the batch keeps running)."""
    interval = poll_seconds
    while True:
        state = batch_state(client, batch_id)
        if on_state is not None:
            on_state(state)
        if state.done or (should_stop is not None and should_stop()):
            return state
        sleep(interval)
        interval = min(max_poll_seconds, interval * 1.5)
