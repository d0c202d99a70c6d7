"""store.jobs: upsert with change detection, events dedup by id, checkpoints, keyed by provider."""

from __future__ import annotations

from workbench.core.jobs import JobSnapshot
from workbench.store import jobs as sj

URL = "http://sim/v1"


def api_job(status="running", **extra):
    return {
        "id": "ftjob-1",
        "status": status,
        "model": "gpt-4.1-mini-2025-04-14",
        "created_at": 1_700_000_000,
        "metadata": {"workbench_dataset": "d"},
        **extra,
    }


def event(i, **extra):
    return {
        "id": f"ev-{i}",
        "created_at": 1_700_000_000 + i,
        "level": "info",
        "message": f"m{i}",
        **extra,
    }


def test_upsert_detects_change_and_keeps_local_fields(db):
    job, changed = sj.upsert_job(
        db, "default", URL, api_job("validating_files"), dataset_name="d", estimated_cost_usd=1.5
    )
    assert changed and job.status == "validating_files" and job.dataset_name == "d"
    job, changed = sj.upsert_job(db, "default", URL, api_job("validating_files"))
    assert not changed and job.estimated_cost_usd == 1.5
    job, changed = sj.upsert_job(db, "default", URL, api_job("running"))
    assert changed
    assert sj.statuses_seen(db, URL, "ftjob-1") == {"validating_files", "running"}
    # the same id on another provider is another job
    sj.upsert_job(db, "other", "http://elsewhere/v1", api_job("queued"))
    assert [j.status for j in sj.list_jobs(db, profile="default", base_url=URL)] == ["running"]
    assert len(sj.list_jobs(db)) == 2
    assert sj.find_job(db, "ftjob-1", URL).base_url == URL


def test_events_deduplicated_by_id(db):
    sj.upsert_job(db, "default", URL, api_job())
    new = sj.add_events(db, URL, "ftjob-1", [event(2), event(1)])
    assert [e.id for e in new] == ["ev-1", "ev-2"]
    new = sj.add_events(
        db,
        URL,
        "ftjob-1",
        [event(3, type="metrics", data={"step": 1, "train_loss": 2.0}), event(2)],
    )
    assert [e.id for e in new] == ["ev-3"]
    assert sj.count_events(db, URL, "ftjob-1") == 3
    assert [e.id for e in sj.list_events(db, URL, "ftjob-1", limit=2)] == ["ev-3", "ev-2"]
    assert [e.id for e in sj.metric_events(db, URL, "ftjob-1")] == ["ev-3"]
    sj.add_events(
        db,
        URL,
        "ftjob-1",
        [event(i, type="metrics", data={"step": i - 2, "train_loss": 1.0}) for i in (6, 5, 4)],
    )
    assert [e.id for e in sj.progress_events(db, URL, "ftjob-1")] == ["ev-3", "ev-6"]


def test_record_snapshot_and_poll_state(db):
    snap = JobSnapshot(
        job=api_job("succeeded", trained_tokens=1000, result_files=["file-r"]),
        events=[event(1), event(2, message="Checkpoint created at step 5")],
        checkpoints=[
            {
                "id": "ftckpt-1",
                "created_at": 1,
                "step_number": 5,
                "fine_tuned_model_checkpoint": "ft:x:ckpt-step-5",
                "metrics": {"train_loss": 0.4, "step": 5},
            }
        ],
        results_csv="step,train_loss\n1,0.5\n",
    )
    outcome = sj.record_snapshot(db, "default", URL, snap)
    assert outcome.changed and len(outcome.new_events) == 2 and outcome.new_checkpoints == 1
    state = sj.poll_state(db, URL, "ftjob-1")
    assert state == sj.PollState("succeeded", 1, True)
    again = sj.record_snapshot(
        db,
        "default",
        URL,
        JobSnapshot(job=snap.job, events=snap.events, checkpoints=snap.checkpoints),
    )
    assert not again.changed and again.new_events == []
    ckpt = sj.list_checkpoints(db, URL, "ftjob-1")[0]
    assert ckpt.step_number == 5 and ckpt.metrics["train_loss"] == 0.4
    assert sj.results_csv(db, URL, "ftjob-1").startswith("step")


def test_a_snapshot_is_stored_whole_or_not_at_all(db):
    """The status and the events of one poll land together: a poll that fails half-way leaves
    the job as it was, so no reader sees "succeeded" before the last steps are stored."""
    import pytest

    sj.record_snapshot(db, "default", URL, JobSnapshot(job=api_job("running"), events=[event(1)]))
    broken = JobSnapshot(job=api_job("succeeded"), events=[event(3), {"created_at": 2}])  # no id
    with pytest.raises(KeyError):
        sj.record_snapshot(db, "default", URL, broken)
    assert sj.get_job(db, URL, "ftjob-1").status == "running"
    assert sj.count_events(db, URL, "ftjob-1") == 1


def test_a_poll_after_a_long_absence_stores_every_event(sim, db):
    """More than a page of events since the last look: older pages are fetched until a known
    event (or the start), so the chart has no gap."""
    import json
    import time

    from workbench.providers.fine_tuning import poll_job

    client = sim.client()
    line = json.dumps(
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    )
    file_id = client.files.create(
        file=("t.jsonl", ("\n".join([line] * 12) + "\n").encode()), purpose="fine-tune"
    ).id
    job_id = client.fine_tuning.jobs.create(
        model="gpt-4.1-mini-2025-04-14", training_file=file_id
    ).id
    for _ in range(600):
        if client.fine_tuning.jobs.retrieve(job_id).status == "succeeded":
            break
        time.sleep(0.05)
    url = sim.base_url
    snapshot = poll_job(client, job_id, is_known=lambda eid: sj.has_event(db, url, eid))
    outcome = sj.record_snapshot(db, "default", url, snapshot)
    total = len(list(client.fine_tuning.jobs.list_events(job_id, limit=100)))  # auto-paginates
    assert total > 100
    assert len(outcome.new_events) == total == sj.count_events(db, url, job_id)
    metrics = sj.metric_events(db, url, job_id)
    assert [e.data["step"] for e in metrics] == list(range(1, len(metrics) + 1))
    assert outcome.new_checkpoints and sj.results_csv(db, url, job_id).startswith("step,")
    # the next poll finds nothing new and fetches one page only
    again = sj.record_snapshot(
        db, "default", url, poll_job(client, job_id, is_known=lambda eid: True)
    )
    assert again.new_events == [] and not again.changed
    client.close()
