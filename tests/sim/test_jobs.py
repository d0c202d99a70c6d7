"""The fine-tuning lifecycle through the real SDK: create, watch, events, checkpoints, results, chat."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
import uuid

import openai
import pytest

from tests.sim.conftest import sft_lines, wait_for, wait_for_status, write_jsonl
from workbench.core.dataset import validate_file
from workbench.sim.training import STEP_SECONDS

MODEL = "gpt-4.1-mini-2025-04-14"


def all_events(client, job_id):
    """Every event, newest first, by following `after` pages."""
    events, after = [], None
    while True:
        kwargs = {"limit": 7}
        if after:
            kwargs["after"] = after
        page = client.fine_tuning.jobs.list_events(job_id, **kwargs)
        events += page.data
        if not page.has_more:
            return events
        after = page.data[-1].id


def metric_steps(client, job_id):
    return [e.data["step"] for e in all_events(client, job_id) if e.type == "metrics"]


def latest_step(client, job_id) -> int:
    steps = metric_steps(client, job_id)
    return max(steps) if steps else 0


def upload(client, path):
    return client.files.create(file=path.open("rb"), purpose="fine-tune").id


def test_whole_lifecycle(sim, tmp_path):
    client = sim.client()
    suffix = "life" + uuid.uuid4().hex[:6]
    train = write_jsonl(tmp_path / "train.jsonl", sft_lines(12, suffix))
    valid = write_jsonl(tmp_path / "valid.jsonl", sft_lines(4, suffix + "v"))
    job = client.fine_tuning.jobs.create(
        model=MODEL,
        training_file=upload(client, train),
        validation_file=upload(client, valid),
        suffix=suffix,
        seed=42,
        metadata={"test": suffix},
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 4}}},
    )
    assert job.status == "validating_files"
    assert job.fine_tuned_model is None and job.trained_tokens is None
    assert job.seed == 42 and job.metadata == {"test": suffix}
    seen = {job.status}

    def watch():
        current = client.fine_tuning.jobs.retrieve(job.id)
        seen.add(current.status)
        if current.status == "running":
            assert current.estimated_finish is not None
        return current if current.status in ("succeeded", "failed", "cancelled") else None

    done = wait_for(watch, timeout=60, interval=0.02)
    assert done.status == "succeeded", done.error
    assert {"validating_files", "succeeded"} <= seen
    assert done.fine_tuned_model == f"ft:{MODEL}:sim-org:{suffix}:{job.id[-8:]}"
    assert done.finished_at >= done.created_at
    assert done.hyperparameters.n_epochs == 4 and done.hyperparameters.batch_size == 1
    report = validate_file(train, model=MODEL)
    assert done.trained_tokens == report.tokens.billed_per_epoch * 4
    assert done.estimated_finish is None

    # events: newest first, every step once, the end messages on top
    events = all_events(client, job.id)
    assert [e.created_at for e in events] == sorted((e.created_at for e in events), reverse=True)
    assert events[0].message == "The job has successfully completed"
    assert events[-1].message.startswith("Created fine-tuning job")
    steps = [e.data for e in events if e.type == "metrics"]
    assert sorted(d["step"] for d in steps) == list(range(1, 49))
    first, last = steps[-1], steps[0]
    assert last["train_loss"] < first["train_loss"]
    assert {"valid_loss", "valid_mean_token_accuracy", "total_steps"} <= set(last)
    assert "full_valid_loss" in last  # the last step ends an epoch

    # checkpoints: the last three epochs
    ckpts = client.fine_tuning.jobs.checkpoints.list(job.id).data
    assert [c.step_number for c in ckpts] == [48, 36, 24]
    assert ckpts[0].fine_tuned_model_checkpoint == f"{done.fine_tuned_model}:ckpt-step-48"
    assert ckpts[0].id.startswith("ftckpt_")
    assert ckpts[0].metrics.train_loss == last["train_loss"]

    # results file: base64 CSV
    (result_id,) = done.result_files
    assert client.files.retrieve(result_id).purpose == "fine-tune-results"
    text = base64.b64decode(client.files.content(result_id).read()).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "step",
        "train_loss",
        "train_accuracy",
        "valid_loss",
        "valid_mean_token_accuracy",
    ]
    assert len(rows) == 48 and float(rows[-1]["train_loss"]) == last["train_loss"]

    # the model is listed and answers trained prompts with the trained answer
    assert done.fine_tuned_model in [m.id for m in client.models.list()]
    prompt = json.loads(sft_lines(12, suffix)[5])["messages"][:2]
    reply = client.chat.completions.create(model=done.fine_tuned_model, messages=prompt)
    assert reply.choices[0].message.content == "10"
    base = client.chat.completions.create(model=MODEL, messages=prompt)
    assert base.choices[0].message.content != "10"
    ckpt_reply = client.chat.completions.create(
        model=ckpts[1].fine_tuned_model_checkpoint, messages=prompt
    )
    assert ckpt_reply.choices[0].message.content == "10"


def test_same_seed_same_curve(sim, train_file):
    client = sim.client()
    file_id = upload(client, train_file)
    curves = []
    for _ in range(2):
        job = client.fine_tuning.jobs.create(
            model=MODEL,
            training_file=file_id,
            seed=7,
            method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 1}}},
        )
        wait_for_status(client, job.id)
        curves.append(
            sorted(
                (e.data["step"], e.data["train_loss"])
                for e in all_events(client, job.id)
                if e.type == "metrics"
            )
        )
    assert curves[0] == curves[1] and len(curves[0]) == 10


def test_dpo_job(sim, tmp_path):
    client = sim.client()
    lines = [
        json.dumps(
            {
                "input": {"messages": [{"role": "user", "content": f"Greet person {i}"}]},
                "preferred_output": [{"role": "assistant", "content": f"Hello, person {i}!"}],
                "non_preferred_output": [{"role": "assistant", "content": "go away"}],
            }
        )
        for i in range(10)
    ]
    path = write_jsonl(tmp_path / "dpo.jsonl", lines)
    job = client.fine_tuning.jobs.create(
        model=MODEL,
        training_file=upload(client, path),
        method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2, "n_epochs": 2}}},
    )
    done = wait_for_status(client, job.id)
    assert done.status == "succeeded", done.error
    assert done.method.type == "dpo"
    assert done.method.dpo.hyperparameters.beta == 0.2
    reply = client.chat.completions.create(
        model=done.fine_tuned_model, messages=[{"role": "user", "content": "Greet person 3"}]
    )
    assert reply.choices[0].message.content == "Hello, person 3!"


def test_bad_file_fails_the_job_naming_the_line(sim, tmp_path):
    client = sim.client()
    lines = sft_lines(10, "bad")
    lines[3] = '{"messages": [{"role": "wizard", "content": "hi"}]}'
    path = write_jsonl(tmp_path / "bad.jsonl", lines)
    job = client.fine_tuning.jobs.create(model=MODEL, training_file=upload(client, path))
    done = wait_for_status(client, job.id)
    assert done.status == "failed"
    assert done.error.code == "invalid_training_file"
    assert done.error.param == "training_file"
    assert "line 4" in done.error.message
    assert done.fine_tuned_model is None
    events = client.fine_tuning.jobs.list_events(job.id).data
    assert events[0].level == "error" and "line 4" in events[0].message


def test_weight_0_everywhere_trains_and_bills_instead_of_failing(sim, tmp_path):
    """`weight: 0` on every assistant message is no rule of OpenAI's: the job runs, billed whole."""
    client = sim.client()
    lines = [json.loads(line) for line in sft_lines(10, "quiet")]
    for example in lines:
        for message in example["messages"]:
            if message["role"] == "assistant":
                message["weight"] = 0
    path = write_jsonl(tmp_path / "quiet.jsonl", [json.dumps(e) for e in lines])
    job = client.fine_tuning.jobs.create(
        model=MODEL,
        training_file=upload(client, path),
        hyperparameters={"n_epochs": 1},
    )
    done = wait_for_status(client, job.id)
    assert done.status == "succeeded", done.error
    report = validate_file(path, model=MODEL)
    assert report.ok and report.tokens.billed_per_epoch > 0
    assert done.trained_tokens == report.tokens.billed_per_epoch


def test_bad_validation_file_names_its_param(sim, tmp_path, train_file):
    client = sim.client()
    valid = tmp_path / "valid.jsonl"
    valid.write_text("not json\n")
    job = client.fine_tuning.jobs.create(
        model=MODEL, training_file=upload(client, train_file), validation_file=upload(client, valid)
    )
    done = wait_for_status(client, job.id)
    assert done.status == "failed"
    assert done.error.param == "validation_file"
    assert done.error.code == "invalid_validation_file"
    assert "line 1" in done.error.message


@pytest.mark.parametrize(
    "model",
    [
        "gpt-4.1-nano-2025-04-14",
        "gpt-3.5-turbo-0125",
        "o4-mini-2025-04-16",
        "gpt-5-mini",
        "gpt-nope",
    ],
)
def test_models_that_cannot_be_fine_tuned(sim, train_file, model):
    client = sim.client(max_retries=0)
    with pytest.raises(openai.BadRequestError) as info:
        client.fine_tuning.jobs.create(model=model, training_file=upload(client, train_file))
    assert info.value.code == "model_not_available"
    assert info.value.param == "model"


def test_create_checks_parameters(sim, train_file):
    client = sim.client(max_retries=0)
    file_id = upload(client, train_file)
    with pytest.raises(openai.BadRequestError) as info:
        client.fine_tuning.jobs.create(model=MODEL, training_file="file-missing")
    assert info.value.param == "training_file"
    with pytest.raises(openai.BadRequestError) as info:
        client.fine_tuning.jobs.create(
            model=MODEL,
            training_file=file_id,
            method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 99}}},
        )
    assert "n_epochs" in info.value.param
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.create(model=MODEL, training_file=file_id, suffix="x" * 65)


def test_list_paging_and_metadata_filter(sim, train_file):
    client = sim.client()
    file_id = upload(client, train_file)
    tag = uuid.uuid4().hex
    ids = [
        client.fine_tuning.jobs.create(
            model=MODEL, training_file=file_id, metadata={"run": tag, "n": str(i)}
        ).id
        for i in range(5)
    ]
    page = client.fine_tuning.jobs.list(limit=2, metadata={"run": tag})
    assert [j.id for j in page.data] == ids[::-1][:2]
    assert page.has_more
    every = [j.id for j in client.fine_tuning.jobs.list(limit=2, metadata={"run": tag})]
    assert every == ids[::-1]  # auto-pagination follows `after`
    one = client.fine_tuning.jobs.list(metadata={"run": tag, "n": "3"}).data
    assert [j.id for j in one] == [ids[3]]
    for job_id in ids:
        client.fine_tuning.jobs.cancel(job_id)


def test_cancel(sim_factory, train_file):
    server = sim_factory(speed=50)
    client = server.client()
    job = client.fine_tuning.jobs.create(model=MODEL, training_file=upload(client, train_file))
    cancelled = client.fine_tuning.jobs.cancel(job.id)
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    assert client.fine_tuning.jobs.retrieve(job.id).status == "cancelled"
    assert (
        client.fine_tuning.jobs.list_events(job.id).data[0].message == "Fine-tuning job cancelled"
    )
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.cancel(job.id)


def test_pause_holds_and_resume_continues(sim_factory, train_file):
    server = sim_factory(speed=50)  # 30 steps of 0.24 s: time to pause mid-run even when busy
    client = server.client()
    job = client.fine_tuning.jobs.create(
        model=MODEL,
        training_file=upload(client, train_file),
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
    )
    wait_for(lambda: latest_step(client, job.id) >= 1, timeout=30)
    paused = client.fine_tuning.jobs.pause(job.id)
    assert paused.status == "paused"
    held = latest_step(client, job.id)
    assert held < 30
    # a paused job does not advance while another job on the same clock takes four steps
    other = client.fine_tuning.jobs.create(
        model=MODEL,
        training_file=upload(client, train_file),
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
    )
    wait_for(lambda: latest_step(client, other.id) >= 4, timeout=30)
    assert latest_step(client, job.id) == held
    assert client.fine_tuning.jobs.retrieve(job.id).status == "paused"
    resumed = client.fine_tuning.jobs.resume(job.id)
    assert resumed.status == "queued"
    done = wait_for_status(client, job.id)
    assert done.status == "succeeded"
    assert sorted(metric_steps(client, job.id)) == list(range(1, 31))
    messages = [e.message for e in all_events(client, job.id)]
    assert "Fine-tuning job paused" in messages and "Fine-tuning job resumed" in messages


@pytest.mark.parametrize("how", ["terminate", "kill"])
def test_restart_mid_job_continues_where_it_was(sim_factory, train_file, how):
    """Stopped cleanly (clocks frozen at shutdown) or killed (frozen at the last heartbeat)."""
    speed = 100  # 20 steps of 0.12 s: long enough to stop it mid-run even when busy
    server = sim_factory(speed=speed)
    client = server.client()
    job = client.fine_tuning.jobs.create(
        model=MODEL,
        training_file=upload(client, train_file),
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
    )
    wait_for(lambda: latest_step(client, job.id) >= 1, timeout=30)
    if how == "kill":
        server.process.kill()
        server.process.wait(timeout=10)
    server.stop()
    # down for longer than the whole job would take: had the clock kept running, the job would
    # be finished at once after the restart (nothing to wait for: the simulator is down)
    time.sleep(20 * STEP_SECONDS / speed + 0.2)
    server.restart()
    client = server.client()
    after = client.fine_tuning.jobs.retrieve(job.id)
    assert after.status in ("running", "queued")
    assert latest_step(client, job.id) < 20
    done = wait_for_status(client, job.id)
    assert done.status == "succeeded"
    assert sorted(metric_steps(client, job.id)) == list(range(1, 21))
    assert done.fine_tuned_model in [m.id for m in client.models.list()]


def test_continue_training_a_fine_tuned_model_and_delete_it(sim, tmp_path):
    client = sim.client()
    tag = uuid.uuid4().hex[:6]
    first = write_jsonl(tmp_path / "a.jsonl", sft_lines(10, tag + "a"))
    second = write_jsonl(tmp_path / "b.jsonl", sft_lines(10, tag + "b"))
    one_epoch = {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 1}}}
    parent = wait_for_status(
        client,
        client.fine_tuning.jobs.create(
            model=MODEL, training_file=upload(client, first), method=one_epoch
        ).id,
    )
    child = wait_for_status(
        client,
        client.fine_tuning.jobs.create(
            model=parent.fine_tuned_model,
            training_file=upload(client, second),
            method=one_epoch,
            suffix="child",
        ).id,
    )
    assert child.status == "succeeded"
    assert child.model == parent.fine_tuned_model
    assert child.fine_tuned_model.startswith(f"ft:{MODEL}:sim-org:child:")
    # the child knows its own examples and its parent's
    for lines in (sft_lines(10, tag + "a"), sft_lines(10, tag + "b")):
        prompt = json.loads(lines[4])["messages"][:2]
        reply = client.chat.completions.create(model=child.fine_tuned_model, messages=prompt)
        assert reply.choices[0].message.content == "8"
    assert client.models.delete(child.fine_tuned_model).deleted
    assert child.fine_tuned_model not in [m.id for m in client.models.list()]
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model=child.fine_tuned_model, messages=[{"role": "user", "content": "hi"}]
        )
