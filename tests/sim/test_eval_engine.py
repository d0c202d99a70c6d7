"""core.evaluation.engine through the real SDK against the simulator, with the SQLite ledger.

The scenario (tests/store/test_evals_store.seed_scenario): a ticket router with 20 held-out test
tickets, 16 few-shot examples, and a model fine-tuned on all 20 teams by a simulated job.
"""

from __future__ import annotations

import io
import json
import threading
import time

import pytest

from tests.store.test_evals_store import MODEL, pair, seed_scenario
from workbench.core.evaluation.engine import run_evaluation
from workbench.core.evaluation.scoring import Scorer
from workbench.core.pricing import request_cost
from workbench.core.provider_pricing import OPENAI_TERMS
from workbench.providers.evals import SdkBatches, sdk_chat
from workbench.store import evals
from workbench.store.eval_plan import plan_from_store
from workbench.store.runs import list_runs


def fine_tune(client, suffix: str) -> str:
    """Train on the 20 'monday' tickets through the simulator; returns the fine-tuned model id."""
    data = "".join(json.dumps(pair(i, "monday")) + "\n" for i in range(20)).encode()
    uploaded = client.files.create(file=("tickets.jsonl", io.BytesIO(data)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model=MODEL, training_file=uploaded.id, suffix=suffix)
    for _ in range(600):
        job = client.fine_tuning.jobs.retrieve(job.id)
        if job.status in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.05)
    assert job.status == "succeeded", job.error
    return job.fine_tuned_model


class Counting:
    """A chat function that counts what it was asked (and can fail after N requests)."""

    def __init__(self, chat, fail_after: int | None = None) -> None:
        self.chat = chat
        self.asked: list[tuple[str, str]] = []
        self.fail_after = fail_after
        self.lock = threading.Lock()

    def __call__(self, model, messages, params):
        with self.lock:
            self.asked.append((model, messages[-1]["content"]))
        return self.chat(model, messages, params)


def plan(db, **kw):
    return plan_from_store(db, "router", scorer=Scorer("exact"), terms=OPENAI_TERMS, **kw)


@pytest.fixture
def trained(sim, db):
    ft_model = fine_tune(sim.client(), "engine")
    seed_scenario(db, ft_model=ft_model)
    return ft_model


def test_engine_scores_every_approach_and_records_each_request_as_a_run(sim, db, trained):
    chat = Counting(sdk_chat(sim.client()))
    p = plan(db, approaches=["zero-shot", "few-shot", "few-shot-similar", "fine-tuned"])
    seen = []
    summary = run_evaluation(
        evals.EvalLedger(db), chat, p, concurrency=4, progress=lambda d, t: seen.append((d, t))
    )
    assert summary.asked == 80 and len(chat.asked) == 80 and not summary.cancelled
    assert seen[0] == (0, 80) and seen[-1] == (80, 80)
    r = summary.results
    assert r["fine-tuned"].passes == 20 and r["few-shot"].passes == 16
    assert r["zero-shot"].passes == 0
    # similar-k picks the closest examples per ticket: the 16 teams it has are answered right
    assert r["few-shot-similar"].passes == 16
    # every request is a Run with the exact messages, marked with its evaluation run
    group = evals.latest_group(db, p.eval_name)
    by_run = {run.id: run for run in group.runs}
    runs = [x for x in list_runs(db, prompt="router", limit=None) if x.eval_run_id in by_run]
    assert len(runs) == 80
    assert {by_run[x.eval_run_id].approach for x in runs} == set(r)
    few = next(x for x in runs if x.approach == "few-shot")
    zero = next(
        x
        for x in runs
        if x.approach == "zero-shot" and x.messages[-1]["content"] == few.messages[-1]["content"]
    )
    # the same rendered user turn for the same input; few-shot adds its example turns
    assert zero.messages[-1] == few.messages[-1]
    assert len(few.messages) == len(zero.messages) + 2 * 16
    # the item's price is the one price of its tokens
    ft_run = next(x for x in runs if x.approach == "fine-tuned")
    assert ft_run.cost_usd == pytest.approx(
        request_cost(
            OPENAI_TERMS, ft_run.model, ft_run.input_tokens, ft_run.output_tokens, fine_tuned=True
        )
    )


def test_a_killed_evaluation_resumes_asking_only_what_is_missing(sim, db):
    seed_scenario(db)
    p = plan(db, approaches=["zero-shot", "few-shot"])

    class Killed(Exception):
        pass

    def die_halfway(done, total):
        if done >= 15:
            raise Killed  # the app dies mid-run: nothing is finished, answers so far are stored

    first = Counting(sdk_chat(sim.client()))
    with pytest.raises(Killed):
        run_evaluation(evals.EvalLedger(db), first, p, concurrency=1, progress=die_halfway)
    group = evals.resumable_group(db, p.eval_name)
    assert group is not None and {r.status for r in group.runs} == {"running"}
    stored = sum(len(evals.list_items(db, r.id, limit=None)) for r in group.runs)
    assert stored == 15

    again = Counting(sdk_chat(sim.client()))
    resumed = plan(db, approaches=["zero-shot", "few-shot"], resume=True)
    assert resumed.group_id == group.group_id and resumed.seed == group.runs[0].seed
    summary = run_evaluation(evals.EvalLedger(db), again, resumed, concurrency=3)
    assert summary.group_id == group.group_id
    assert summary.asked == len(again.asked) == 40 - 15
    assert summary.results["few-shot"].n == 20 and summary.results["zero-shot"].n == 20
    # nothing was asked twice for the same approach and item
    runs = [x for x in list_runs(db, prompt="router", limit=None) if x.eval_run_id]
    assert len(runs) == 40
    assert len({(x.eval_run_id, x.messages[-1]["content"]) for x in runs}) == 40
    assert evals.resumable_group(db, p.eval_name) is None


def test_cancel_stops_asking_and_a_later_run_goes_on(sim, db):
    seed_scenario(db)
    stop = threading.Event()
    chat = Counting(sdk_chat(sim.client()))

    def cancel_at_five(done, total):
        if done >= 5:
            stop.set()

    p = plan(db, approaches=["zero-shot"])
    summary = run_evaluation(
        evals.EvalLedger(db), chat, p, concurrency=1, progress=cancel_at_five, cancel=stop
    )
    assert summary.cancelled and summary.asked == 5
    group = evals.latest_group(db, p.eval_name)
    assert [r.status for r in group.runs] == ["cancelled"]
    rest = Counting(sdk_chat(sim.client()))
    summary = run_evaluation(
        evals.EvalLedger(db), rest, plan(db, approaches=["zero-shot"], resume=True)
    )
    assert summary.asked == 15 and summary.results["zero-shot"].n == 20


def test_failed_requests_are_asked_again_on_resume(sim, db):
    seed_scenario(db)
    p = plan(db, approaches=["zero-shot"])
    sim.fault("500", count=100, path="/v1/chat/completions")
    try:
        summary = run_evaluation(evals.EvalLedger(db), sdk_chat(sim.client(max_retries=0)), p)
    finally:
        sim.clear_faults()
    assert summary.results["zero-shot"].errors == 20
    group = evals.latest_group(db, p.eval_name)
    assert group.runs[0].status == "failed" and "500" in (group.runs[0].error or "")
    items = evals.list_items(db, group.runs[0].id)
    assert all(i.passed is None and i.error for i in items)
    again = Counting(sdk_chat(sim.client()))
    p2 = plan_from_store(
        db, "router", scorer=Scorer("exact"), terms=OPENAI_TERMS, approaches=["zero-shot"]
    )
    p2 = type(p2)(**{**p2.__dict__, "group_id": group.group_id})
    summary = run_evaluation(evals.EvalLedger(db), again, p2)
    assert len(again.asked) == 20 and summary.results["zero-shot"].errors == 0


def test_the_batch_path_prices_at_batch_rates_and_resumes_from_the_stored_batch(sim, db, trained):
    client = sim.client()
    p = plan(db, approaches=["fine-tuned"])
    batches = SdkBatches(client, poll_seconds=0.05, max_poll_seconds=0.2)
    chat = Counting(sdk_chat(client))
    summary = run_evaluation(evals.EvalLedger(db), chat, p, batch=batches)
    assert summary.mode == "batch" and summary.asked == 20 and chat.asked == []
    assert summary.results["fine-tuned"].passes == 20
    items = evals.list_items(db, evals.latest_group(db, p.eval_name).runs[0].id)
    first = items[0]
    assert first.latency_ms is None
    assert first.cost_usd == pytest.approx(
        request_cost(
            OPENAI_TERMS,
            trained,
            first.input_tokens,
            first.output_tokens,
            batch=True,
            fine_tuned=True,
        )
    )
    assert MODEL in trained
