"""The evaluation engine: run held-out test items through each approach, score, keep every answer.

Plain Python: the network is a function you pass in, the state is a ledger you pass in, so the
Costs pane (in a thread worker), `workbench eval` and the tests run exactly this.

API
---
    from workbench.core.evaluation.plan import ApproachPlan, ChatReply, EvalPlan
    from workbench.core.evaluation.engine import run_evaluation, item_messages
    from workbench.providers.evals import sdk_chat, SdkBatches   # the real SDK behind the callables
    from workbench.store.evals import EvalLedger
    from workbench.store.eval_plan import plan_from_store
    from workbench.store.eval_estimate import verdict_from_store

    plan = plan_from_store(db, "default", scorer=Scorer("exact"), terms=terms,
                           approaches=["zero-shot", "few-shot", "few-shot-similar", "fine-tuned"],
                           scope=None | "library" | "<dataset name>", ft_model=None)
    summary = run_evaluation(
        EvalLedger(db),                 # store: eval_runs/eval_items + one Run per request
        sdk_chat(make_client(profile)), # (model, messages, params) -> ChatReply; raises on failure
        plan,
        concurrency=8,                  # requests in flight (threads); the ledger is written here
        batch=None | SdkBatches(client),# the Batch API instead of concurrent calls
        progress=lambda done, total: ...,
        cancel=threading.Event(),       # set() stops asking; answers so far are kept
    )  # -> EvalSummary(group_id, results {label: ApproachResult}, asked, cancelled, mode)
    verdict = verdict_from_store(db, setup, estimate, data, group) # core.evaluation.verdict inside

Resuming: pass `EvalPlan(group_id=<an earlier evaluation>)` (store.evals.resumable_group finds the
newest unfinished one). Items are keyed by (group, approach, model, example id): an item with a
stored answer is never asked again; one that failed is asked again. A run killed mid-way (the
process died, a callback raised) leaves its answers stored and its runs "running" until resumed.

Every request is recorded by the ledger as a Run (store.runs) with the messages sent, marked with
its evaluation run (`eval_run_id`), so `workbench history --json` shows what each approach was sent.
Messages come from core.prompts.build_messages, the one renderer (see `item_messages`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from workbench.core.evaluation.plan import (
    ApproachPlan,
    BatchService,
    ChatFunction,
    ChatReply,
    EvalLedger,
    EvalPlan,
    EvalSummary,
    ItemRecord,
)
from workbench.core.evaluation.scoring import (
    ApproachResult,
    EvalCase,
    ItemScore,
    Scorer,
    aggregate,
    judge_messages,
    judge_shortcut,
    read_judge_reply,
    score_answer,
)
from workbench.core.fewshot import select_similar
from workbench.core.pricing import request_cost
from workbench.core.prompts import PromptShape, build_messages

DEFAULT_CONCURRENCY = 8
BATCH_THRESHOLD = 200  # eval sets at least this large default to the Batch API
SAMPLING_PARAMS = (
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "seed",
    "response_format",
)


def labels(approaches: Sequence[ApproachPlan]) -> dict[ApproachPlan, str]:
    """How each approach is named in results: the approach, plus the model when several share it."""
    counts: dict[str, int] = {}
    for a in approaches:
        counts[a.approach] = counts.get(a.approach, 0) + 1
    return {
        a: a.approach if counts[a.approach] == 1 else f"{a.approach} ({a.model})"
        for a in approaches
    }


def request_params(prompt: Any) -> dict[str, Any]:
    """The prompt's sampling parameters an evaluation sends (temperature, max tokens...)."""
    params = getattr(prompt, "params", None) or {}
    return {k: v for k, v in params.items() if k in SAMPLING_PARAMS and v is not None}


def item_messages(plan: EvalPlan, approach: str, case: EvalCase) -> list[dict]:
    """What `approach` sends for a test item: the item's input through the one renderer
    (core.prompts.build_messages), with the few-shot examples the approach uses for it."""
    prompt = plan.prompt
    if not (getattr(prompt, "system", "") or "").strip() and case.system:
        prompt = PromptShape(
            case.system,
            getattr(prompt, "template", "") or "",
            getattr(prompt, "variables", None) or {},
            getattr(prompt, "ft_system", None),
        )
    examples: Sequence[Any] = ()
    if approach == "few-shot":
        examples = plan.examples
    elif approach == "few-shot-similar":
        examples = select_similar(plan.pool, case.question, plan.similar_k)
    turns = list(case.conversation)
    last_user = max((i for i, m in enumerate(turns) if m.get("role") == "user"), default=0)
    return build_messages(
        approach,
        prompt,
        input_text=case.question,
        examples=examples,
        history=turns[:last_user],
    )


def _score(
    scorer: Scorer,
    chat: ChatFunction | None,
    case: EvalCase,
    answer: str,
    plan: EvalPlan,
    model: str,
) -> ItemScore:
    if scorer.kind != "judge":
        return score_answer(scorer, answer, case.expected)
    same = judge_shortcut(answer, case.expected)
    if same is not None:
        return same
    if chat is None:
        return ItemScore(False, "no judge available")
    messages, candidate_first = judge_messages(
        scorer, case.question, case.expected, answer, seed=plan.seed, item_key=case.example_id
    )
    try:
        reply = chat(scorer.judge_model or model, messages, {"temperature": 0})
    except Exception as exc:  # noqa: BLE001 - a judge failure fails the item, not the run
        return ItemScore(False, f"judge failed: {exc}")
    return read_judge_reply(reply.answer, candidate_first) or ItemScore(
        False, f"judge reply not readable: {reply.answer[:80]}"
    )


def _record(
    plan: EvalPlan,
    target: ApproachPlan,
    run_id: Any,
    case: EvalCase,
    messages: list[dict],
    params: dict[str, Any],
    reply: ChatReply | None,
    error: str | None,
    latency_ms: float | None,
    score: ItemScore | None,
    *,
    batch: bool,
) -> ItemRecord:
    if reply is None:
        return ItemRecord(
            run_id, target.approach, target.model, case, messages, params, error=error
        )
    cost = None
    if reply.input_tokens is not None and reply.output_tokens is not None:
        cost = request_cost(
            plan.terms,
            target.model,
            reply.input_tokens,
            reply.output_tokens,
            cached_input=reply.cached_tokens or 0,
            batch=batch,
            fine_tuned=target.approach == "fine-tuned",
        )
    return ItemRecord(
        run_id,
        target.approach,
        target.model,
        case,
        messages,
        params,
        answer=reply.answer,
        passed=None if score is None else score.passed,
        detail="" if score is None else score.detail,
        latency_ms=latency_ms,
        input_tokens=reply.input_tokens,
        output_tokens=reply.output_tokens,
        cached_tokens=reply.cached_tokens,
        cost_usd=cost,
    )


def check_plan(plan: EvalPlan) -> None:
    """Refuse a plan that cannot be asked (no items, a template variable without a value):
    raises ValueError naming it, before anything is stored or sent."""
    if not plan.cases:
        raise ValueError("no held-out test examples: mark some examples as 'test'")
    if not plan.approaches:
        raise ValueError("no approach to evaluate")
    for target in plan.approaches:
        item_messages(plan, target.approach, plan.cases[0])  # MissingVariables is a ValueError


def run_evaluation(
    ledger: EvalLedger,
    chat: ChatFunction,
    plan: EvalPlan,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    batch: BatchService | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    status: Callable[[str], None] | None = None,
) -> EvalSummary:
    """Ask every missing (approach, item) of the plan, score and store each answer as it comes.

    Concurrent: at most `concurrency` requests in flight on worker threads; everything the ledger
    writes happens on the calling thread. Batch: one batch per approach (a stored batch id is
    watched again rather than resubmitted). `cancel.set()` stops: no new request is sent, answers
    so far are kept, the runs are marked cancelled (a later call with the group id goes on).
    An exception from a callback or the ledger propagates; what was stored stays stored.
    `status(text)` hears the Batch API's states ("few-shot: batch in_progress 3/20").
    """
    check_plan(plan)
    mode = "batch" if batch is not None else "concurrent"
    group_id, runs = ledger.open_runs(plan, mode)
    params = request_params(plan.prompt)
    todo: list[tuple[ApproachPlan, Any, EvalCase]] = []
    total = len(plan.cases) * len(plan.approaches)
    for target in plan.approaches:
        done_ids = ledger.answered(runs[target])
        todo.extend((target, runs[target], c) for c in plan.cases if c.example_id not in done_ids)
    done = total - len(todo)
    stop = cancel or threading.Event()
    if progress is not None:
        progress(done, total)
    if batch is None:
        asked = _run_concurrently(
            ledger, chat, plan, todo, params, concurrency, stop, progress, done, total
        )
    else:
        asked = _run_batches(
            ledger, chat, batch, plan, todo, params, stop, progress, done, total, status
        )
    cancelled = stop.is_set()
    results: dict[str, ApproachResult] = {}
    names = labels(plan.approaches)
    for target in plan.approaches:
        run_id = runs[target]
        items = ledger.item_results(run_id)
        if cancelled:
            ledger.finish(run_id, "cancelled")
        elif items and all(i.error for i in items):
            ledger.finish(run_id, "failed", next(i.error for i in items if i.error))
        else:
            ledger.finish(run_id, "done")
        results[names[target]] = aggregate(target.approach, target.model, items)
    return EvalSummary(group_id, results, asked, cancelled, mode)


def _run_concurrently(
    ledger: EvalLedger,
    chat: ChatFunction,
    plan: EvalPlan,
    todo: list[tuple[ApproachPlan, Any, EvalCase]],
    params: dict[str, Any],
    concurrency: int,
    stop: threading.Event,
    progress: Callable[[int, int], None] | None,
    done: int,
    total: int,
) -> int:
    def ask(target: ApproachPlan, case: EvalCase) -> tuple[list[dict], Any, Any, float, Any]:
        messages = item_messages(plan, target.approach, case)
        started = time.perf_counter()
        try:
            reply = chat(target.model, messages, params)
        except Exception as exc:  # noqa: BLE001 - every provider failure is a recorded item error
            return messages, None, str(exc) or type(exc).__name__, 0.0, None
        latency = (time.perf_counter() - started) * 1000
        return (
            messages,
            reply,
            None,
            latency,
            _score(plan.scorer, chat, case, reply.answer, plan, target.model),
        )

    asked = 0
    pending: dict[Future, tuple[ApproachPlan, Any, EvalCase]] = {}
    queue = iter(todo)
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="eval")
    try:
        while True:
            while not stop.is_set() and len(pending) < max(1, concurrency):
                nxt = next(queue, None)
                if nxt is None:
                    break
                pending[pool.submit(ask, nxt[0], nxt[2])] = nxt
                asked += 1
            if not pending:
                break
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in finished:
                target, run_id, case = pending.pop(future)
                messages, reply, error, latency, score = future.result()
                ledger.record(
                    _record(
                        plan,
                        target,
                        run_id,
                        case,
                        messages,
                        params,
                        reply,
                        error,
                        latency if reply is not None else None,
                        score,
                        batch=False,
                    ),
                    plan,
                )
                done += 1
                if progress is not None:
                    progress(done, total)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return asked


def _run_batches(
    ledger: EvalLedger,
    chat: ChatFunction,
    batch: BatchService,
    plan: EvalPlan,
    todo: list[tuple[ApproachPlan, Any, EvalCase]],
    params: dict[str, Any],
    stop: threading.Event,
    progress: Callable[[int, int], None] | None,
    done: int,
    total: int,
    status: Callable[[str], None] | None = None,
) -> int:
    asked = 0
    by_target: dict[ApproachPlan, tuple[Any, list[EvalCase]]] = {}
    for target, run_id, case in todo:
        by_target.setdefault(target, (run_id, []))[1].append(case)
    for target, (run_id, cases) in by_target.items():
        if stop.is_set():
            break
        messages = {c.example_id: item_messages(plan, target.approach, c) for c in cases}
        batch_id = ledger.batch_id(run_id)
        if not batch_id:
            requests = [
                (
                    f"item-{c.example_id}",
                    {"model": target.model, "messages": messages[c.example_id], **params},
                )
                for c in cases
            ]
            batch_id = batch.submit(requests, f"eval-{run_id}-{target.approach}")
            ledger.set_batch(run_id, batch_id)
            asked += len(requests)

        def on_state(s: Any, name: str = target.approach) -> None:
            if status is not None:
                status(f"{name}: batch {s.status} {s.completed}/{s.total}")

        state = batch.wait(batch_id, stop.is_set, on_state)
        if not state.done:
            return asked  # stopped watching: the batch keeps running at the provider
        by_id = {f"item-{c.example_id}": c for c in cases}
        for custom_id, reply, error in batch.results(state):
            case = by_id.pop(custom_id, None)
            if case is None:
                continue
            score = (
                None
                if reply is None
                else _score(plan.scorer, chat, case, reply.answer, plan, target.model)
            )
            ledger.record(
                _record(
                    plan,
                    target,
                    run_id,
                    case,
                    messages[case.example_id],
                    params,
                    reply,
                    error,
                    None,
                    score,
                    batch=True,
                ),
                plan,
            )
            done += 1
            if progress is not None:
                progress(done, total)
        for case in by_id.values():  # asked but never answered (expired, cancelled)
            ledger.record(
                _record(
                    plan,
                    target,
                    run_id,
                    case,
                    messages[case.example_id],
                    params,
                    None,
                    f"no answer: the batch ended {state.status}",
                    None,
                    None,
                    batch=True,
                ),
                plan,
            )
            done += 1
            if progress is not None:
                progress(done, total)
        ledger.set_batch(run_id, None)  # collected: a resume asks the failed items anew
    return asked
