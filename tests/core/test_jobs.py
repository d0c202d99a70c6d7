"""core.jobs: statuses, timeline, progress/ETA, metrics, backoff, results CSV, cost, create checks."""

from __future__ import annotations

import base64
from datetime import date

import pytest

from workbench.core import jobs as cj
from workbench.core.jobs import BaseModel, Job, JobEvent, JobRequest, PollSchedule


def test_paused_and_unknown_statuses_are_not_terminal():
    assert not cj.is_terminal("paused")
    assert not cj.is_terminal("validating_files")
    assert not cj.is_terminal("some_new_status")
    assert cj.is_terminal("succeeded") and cj.is_terminal("failed") and cj.is_terminal("cancelled")
    assert cj.normalise_status("pending") == "queued"


def states(stages):
    return [(s.name, s.state) for s in stages]


def test_timeline_running_and_done():
    assert states(cj.timeline("running")) == [
        ("validating_files", "done"),
        ("queued", "done"),
        ("running", "current"),
        ("done", "todo"),
    ]
    done = cj.timeline("succeeded")
    assert [s.state for s in done] == ["done", "done", "done", "done"]
    assert done[-1].label == "succeeded"


def test_timeline_failed_during_validation_skips_later_stages():
    stages = cj.timeline("failed", reached={"validating_files", "failed"})
    assert states(stages) == [
        ("validating_files", "done"),
        ("queued", "skipped"),
        ("running", "skipped"),
        ("done", "failed"),
    ]


def test_timeline_paused_marks_running_stage():
    stages = cj.timeline("paused")
    assert stages[2].state == "current" and stages[2].label == "paused"


def metrics_event(step, t, total=10, **values):
    data = {"step": step, "total_steps": total, "train_loss": 1.0 / step, **values}
    return JobEvent(f"ev-{step}", "ftjob-1", t, "info", f"Step {step}/{total}", "metrics", data)


def test_metric_series_dedups_by_step_and_sorts():
    events = [metrics_event(2, 20), metrics_event(1, 10), metrics_event(2, 21, valid_loss=0.5)]
    events.append(JobEvent("m", "ftjob-1", 5, message="Job started"))
    series = cj.metric_series(events)
    assert [p.step for p in series] == [1, 2]
    assert series[1].get("valid_loss") == 0.5


def test_progress_eta_from_estimated_finish_first():
    job = Job("ftjob-1", status="running", estimated_finish=1_000)
    series = [cj.metric_point(metrics_event(1, 100)), cj.metric_point(metrics_event(2, 110))]
    p = cj.progress(job, series, now=900)
    assert (p.step, p.total_steps, p.eta_seconds, p.eta_source) == (2, 10, 100, "estimated_finish")


def test_progress_eta_from_step_rate():
    job = Job("ftjob-1", status="running")
    series = [cj.metric_point(metrics_event(1, 100)), cj.metric_point(metrics_event(3, 120))]
    p = cj.progress(job, series, now=120)
    # 10 s per step, 7 steps left
    assert p.eta_source == "step rate" and p.eta_seconds == pytest.approx(70)
    assert p.fraction == pytest.approx(0.3)
    assert "step 3/10" in p.describe()
    assert p.short() == "30% ETA 1m10s"


def test_poll_schedule_backs_off_resets_and_honours_retry_after():
    s = PollSchedule(minimum=1, maximum=10, factor=2)
    assert s.after_poll(changed=False) == 2
    assert s.after_poll(changed=False) == 4
    assert s.after_poll(changed=False) == 8
    assert s.after_poll(changed=False) == 10
    assert s.after_poll(changed=True) == 1
    assert s.after_error() == 2
    assert s.after_error() == 4
    assert s.after_error(retry_after=30) == 30
    assert s.after_poll(changed=True) == 1


def test_results_csv_base64_and_plain():
    text = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n1,1.5,0.5,,\n2,1.0,0.6,1.2,0.55\n"
    for content in (base64.b64encode(text.encode()), text.encode()):
        rows = cj.decode_results_csv(content)
        assert rows[1]["train_loss"] == 1.0 and rows[1]["valid_loss"] == 1.2
        assert rows[0]["valid_loss"] == ""


def test_cost_so_far_billed_then_steps_done_never_the_preflight():
    from workbench.core.provider_pricing import OPENAI_TERMS, terms_for

    model = "gpt-4.1-mini-2025-04-14"  # $5.00 per 1M training tokens at OpenAI
    job = Job("j", model=model, trained_tokens=2_000_000, estimated_cost_usd=3.0)
    assert cj.cost_so_far(job, OPENAI_TERMS).usd == pytest.approx(10.0)
    assert not cj.cost_so_far(job, OPENAI_TERMS).estimated
    # half the steps done of a planned 1M tokens: half of its price, marked as an estimate
    running = Job("j", model=model, status="running", estimated_tokens=1_000_000)
    half = cj.Progress(50, 100, None, None)
    assert cj.cost_so_far(running, OPENAI_TERMS, half).describe() == "≈$2.50"
    # queued, or cancelled while queued: nothing trained, nothing billed (not the pre-flight)
    queued = Job("j", model=model, status="cancelled", estimated_cost_usd=0.02)
    assert cj.cost_so_far(queued, OPENAI_TERMS).describe() == "$0.00"
    # the profile's terms: Azure's Developer tier trains at half the Global rate
    azure = type("P", (), {"kind": "azure", "extra": {"training_type": "Developer"}})()
    assert cj.cost_so_far(job, terms_for(azure)).usd == pytest.approx(5.0)
    # a model nobody priced: unknown, not $0
    assert cj.cost_so_far(Job("j", model="mystery", trained_tokens=10), OPENAI_TERMS).usd is None


def test_hyperparameters_auto_numbers_and_ranges():
    assert cj.parse_hyperparameter("n_epochs", "auto") == "auto"
    assert cj.parse_hyperparameter("n_epochs", "") == "auto"
    assert cj.parse_hyperparameter("n_epochs", "3") == 3
    assert cj.parse_hyperparameter("learning_rate_multiplier", "0.5") == 0.5
    with pytest.raises(ValueError, match="epochs"):
        cj.parse_hyperparameter("n_epochs", "99")
    with pytest.raises(ValueError, match="beta"):
        cj.parse_hyperparameter("beta", "3")
    with pytest.raises(ValueError, match="batch size"):
        cj.parse_hyperparameter("batch_size", "two")
    payload = cj.method_payload("dpo", {"n_epochs": 2, "beta": 0.1, "batch_size": "auto"})
    assert payload == {"type": "dpo", "dpo": {"hyperparameters": {"n_epochs": 2, "beta": 0.1}}}
    assert cj.method_payload("supervised", {"beta": 0.1}) == {
        "type": "supervised",
        "supervised": {},
    }


def test_models_past_shutdown_cannot_be_picked():
    today = date(2026, 11, 25)
    models = cj.fine_tunable_models(
        [
            {"id": "gpt-4.1-mini-2025-04-14", "shutdown_date": "2027-01-14"},
            {"id": "gpt-4.1-nano-2025-04-14", "shutdown_date": "2026-10-23"},
            {"id": "gpt-5.6-luna"},
            {"id": "ft:gpt-4.1-mini-2025-04-14:org::x"},
        ]
    )
    assert [m.id for m in models] == ["gpt-4.1-mini-2025-04-14", "gpt-4.1-nano-2025-04-14"]
    assert "in 50 days" in models[0].describe(today)
    request = JobRequest("support", "gpt-4.1-nano-2025-04-14")
    assert request.problems(models, today) == [
        "base model: gpt-4.1-nano-2025-04-14 was shut down on 2026-10-23"
    ]
    assert JobRequest("support", "gpt-4.1-mini-2025-04-14").problems(models, today) == []
    # no list from the provider: the known list
    assert BaseModel("gpt-4o-2024-08-06", "2027-01-14") in cj.fine_tunable_models(None)
    assert "42 days" in cj.creation_deadline_note(today)


def test_create_arguments_always_tag_dataset():
    request = JobRequest(
        "support [/INST]", "gpt-4.1-mini-2025-04-14", suffix="s", seed=7, metadata={"k": "v"}
    )
    args = request.create_arguments("file-1", "file-2")
    assert args["metadata"] == {"k": "v", "workbench_dataset": "support [/INST]"}
    assert args["validation_file"] == "file-2" and args["seed"] == 7 and args["suffix"] == "s"
    assert cj.parse_metadata("a=1, b = two\nc=3") == {"a": "1", "b": "two", "c": "3"}
    with pytest.raises(ValueError, match="key=value"):
        cj.parse_metadata("nonsense")


def test_job_from_api_reads_hyperparameters_and_empty_error():
    fields = cj.job_from_api(
        {
            "id": "ftjob-1",
            "status": "paused",
            "model": "gpt-4.1-mini-2025-04-14",
            "error": {"code": None, "message": None, "param": None},
            "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
            "user_provided_suffix": "abc",
        }
    )
    job = Job(**fields)
    assert job.error is None and job.error_text is None
    assert job.hyperparameters == {"n_epochs": 3} and job.suffix == "abc"
    failed = Job(
        "j", error={"code": "invalid_file", "message": "Line 3: bad", "param": "training_file"}
    )
    assert failed.error_text == "Line 3: bad (in training_file) [invalid_file]"


def test_wants_checkpoints():
    assert cj.wants_checkpoints("succeeded", "running", [], 3)
    assert cj.wants_checkpoints("succeeded", "succeeded", [], 0)
    assert not cj.wants_checkpoints("running", "running", [{"message": "Step 3"}], 0)
    assert cj.wants_checkpoints(
        "running", "running", [{"message": "Checkpoint created at step 4"}], 0
    )


def test_downsample_keeps_ends_and_shape():
    xs = list(range(1, 1001))
    ys = [1000.0 / x for x in xs]
    dx, dy = cj.downsample(xs, ys, 100)
    assert len(dx) == 100 and dx[-1] == 1000 and dx[0] == 10
    assert dy == sorted(dy, reverse=True)  # still decreasing
    assert cj.downsample([1, 2], [1.0, 2.0], 100) == ([1, 2], [1.0, 2.0])
