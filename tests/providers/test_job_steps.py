"""The job steps the Jobs pane and `workbench jobs` share, against the simulator: the real SDK over
HTTP (providers.openai_api.make_client) into a real SQLite store, nothing stubbed."""

from __future__ import annotations

import json
import time
import uuid

import openai
import pytest

from tests.sim.conftest import sft_lines
from workbench.config import Profile
from workbench.core import jobs as cj
from workbench.providers.job_steps import (
    STOP_WATCHING_KINDS,
    launch_job,
    poll_once,
    stops_watching,
    upload_version_once,
    watch_job,
)
from workbench.providers.openai_api import ProviderProblem, make_client
from workbench.store import dataset_export as exports
from workbench.store import dataset_versions as versions
from workbench.store import examples as ex
from workbench.store import jobs as store

MODEL = "gpt-4.1-mini-2025-04-14"
FAST = cj.PollSchedule(0.01, 0.05)


def profile_for(server, monkeypatch, key: str | None = None, name: str = "default") -> Profile:
    monkeypatch.setenv("STEPS_KEY", key or server.api_key)
    return Profile(name=name, base_url=server.base_url, api_key_env="STEPS_KEY")


def remote_job(server, epochs: int = 1) -> str:
    """A job made straight through the SDK, as another machine or the web UI would."""
    client = server.client()
    data = ("\n".join(sft_lines(10, uuid.uuid4().hex[:6])) + "\n").encode()
    file_id = client.files.create(file=("train.jsonl", data), purpose="fine-tune").id
    job = client.fine_tuning.jobs.create(
        model=MODEL,
        training_file=file_id,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": epochs}}},
    )
    client.close()
    return job.id


def watch_all(client, db, profile, job_id, schedule=FAST) -> list:
    """Every step of a watch, waiting between polls as its callers do."""
    steps = []
    for step in watch_job(client, db, profile, job_id, schedule):
        steps.append(step)
        assert len(steps) < 2000, "the watch never ended"
        time.sleep(step.delay)
    return steps


def make_dataset(db, train: int = 10, validation: int = 0) -> int:
    dataset = ex.create_dataset(db, f"steps {uuid.uuid4().hex[:6]}")
    tag = uuid.uuid4().hex[:6]
    rows = [json.loads(line) for line in sft_lines(train + validation, tag)]
    ex.add_examples(db, ({"data": r} for r in rows[:train]), dataset.id, "train")
    if validation:
        ex.add_examples(db, ({"data": r} for r in rows[train:]), dataset.id, "validation")
    return dataset.id


# --- stops_watching --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(STOP_WATCHING_KINDS))
def test_a_refused_key_or_a_missing_job_stops_the_watch(kind):
    assert stops_watching(ProviderProblem(kind, "x"))


@pytest.mark.parametrize("kind", ["rate_limited", "server", "timeout", "connection", "other"])
def test_passing_trouble_does_not(kind):
    assert not stops_watching(ProviderProblem(kind, "x"))


# --- poll_once and watch_job -----------------------------------------------------------------


def test_poll_once_stores_only_what_is_new(sim, monkeypatch, db):
    profile = profile_for(sim, monkeypatch)
    job_id = remote_job(sim)
    client = make_client(profile, timeout=30, max_retries=0)
    try:
        first = poll_once(client, db, profile, job_id)
        assert first.changed and first.job.id == job_id
        assert store.get_job(db, sim.base_url, job_id).status == first.job.status
        while not (outcome := poll_once(client, db, profile, job_id)).job.terminal:
            time.sleep(0.02)
        assert outcome.job.status == "succeeded"
        remote_events = client.fine_tuning.jobs.list_events(job_id, limit=100).data
        assert store.count_events(db, sim.base_url, job_id) == len(remote_events)
        assert store.list_checkpoints(db, sim.base_url, job_id)
        assert store.results_csv(db, sim.base_url, job_id).startswith("step,")
        # once everything is stored a poll brings nothing new
        again = poll_once(client, db, profile, job_id)
        assert not again.changed and again.new_events == []
    finally:
        client.close()


def test_watch_job_backs_off_after_errors_and_ends_with_the_job(sim, monkeypatch, db):
    profile = profile_for(sim, monkeypatch)
    job_id = remote_job(sim)
    sim.fault("429", count=2, path=f"/v1/fine_tuning/jobs/{job_id}", retry_after=0)
    client = make_client(profile, timeout=30, max_retries=0)
    try:
        steps = watch_all(client, db, profile, job_id)
    finally:
        client.close()
    failed = [s for s in steps if s.problem is not None]
    assert [s.problem.kind for s in failed] == ["rate_limited", "rate_limited"]
    assert all(not s.last and s.outcome is None for s in failed)
    assert all(not s.last for s in steps[:-1])
    end = steps[-1]
    assert end.last and end.problem is None and end.delay == 0
    assert end.outcome.job.status == "succeeded"
    assert store.get_job(db, sim.base_url, job_id).status == "succeeded"


def test_watch_job_stops_at_once_on_an_unknown_job(sim, monkeypatch, db):
    profile = profile_for(sim, monkeypatch)
    client = make_client(profile, timeout=30, max_retries=0)
    try:
        steps = watch_all(client, db, profile, "ftjob-does-not-exist")
    finally:
        client.close()
    assert len(steps) == 1 and steps[0].last
    assert steps[0].problem.kind == "not_found"


def test_watch_job_stops_at_once_on_a_rejected_key(sim_factory, monkeypatch, db):
    server = sim_factory(api_key="sk-right")
    profile = profile_for(server, monkeypatch, key="sk-wrong")
    client = make_client(profile, timeout=30, max_retries=0)
    try:
        steps = watch_all(client, db, profile, "ftjob-1")
    finally:
        client.close()
    assert len(steps) == 1 and steps[0].last
    assert steps[0].problem.kind == "auth" and "rejected" in steps[0].problem.message


# --- upload_version_once and launch_job ------------------------------------------------------


def test_a_version_is_uploaded_once_per_provider(sim, monkeypatch, db):
    profile = profile_for(sim, monkeypatch)
    version, path = exports.export_version(db, make_dataset(db), "train")
    client = make_client(profile, timeout=30)
    connects: list[int] = []

    def connect():
        connects.append(1)
        return client

    try:
        progress: list[tuple[int, int]] = []
        first = upload_version_once(
            connect, db, profile, version, path, progress=lambda d, t: progress.append((d, t))
        )
        assert first.uploaded and first.split == "train" and connects == [1]
        assert progress[-1] == (version.bytes, version.bytes)
        assert client.files.content(first.file_id).read() == path.read_bytes()
        assert versions.uploaded_file_id(db, version.id, sim.base_url) == first.file_id
        # the same content again: the stored id, and no client is even asked for
        again = upload_version_once(connect, db, profile, version, path)
        assert (again.file_id, again.uploaded, connects) == (first.file_id, False, [1])
    finally:
        client.close()
    # another provider has not seen it: it is uploaded there too
    other = sim.base_url.replace("127.0.0.1", "localhost")
    elsewhere = Profile(name="other", base_url=other, api_key_env="STEPS_KEY")
    client = make_client(elsewhere, timeout=30)
    try:
        there = upload_version_once(lambda: client, db, elsewhere, version, path)
    finally:
        client.close()
    assert there.uploaded and there.file_id != first.file_id


def test_launch_uploads_once_creates_and_stores_the_job(sim, monkeypatch, db):
    profile = profile_for(sim, monkeypatch)
    dataset_id = make_dataset(db, train=10, validation=3)
    name = ex.get_dataset(db, dataset_id).name
    train = exports.export_version(db, dataset_id, "train")
    valid = exports.export_version(db, dataset_id, "validation")
    request = cj.JobRequest(dataset_name=name, model=MODEL, suffix="steps", use_validation=True)
    client = make_client(profile, timeout=120)
    try:
        launched = launch_job(
            client,
            db,
            profile,
            request,
            (train, valid),
            estimated_tokens=1234,
            estimated_cost_usd=0.5,
        )
        job = launched.job
        assert [(u.split, u.uploaded) for u in launched.uploads] == [
            ("train", True),
            ("validation", True),
        ]
        remote = client.fine_tuning.jobs.retrieve(job.id)
        assert remote.training_file == launched.uploads[0].file_id
        assert remote.validation_file == launched.uploads[1].file_id
        assert remote.metadata["workbench_dataset"] == name
        stored = store.get_job(db, sim.base_url, job.id)
        assert stored.dataset_name == name and stored.estimated_tokens == 1234
        assert stored.estimated_cost_usd == 0.5
        # a second launch of the same content sends no file again
        second = launch_job(client, db, profile, request, (train, None))
        assert [(u.split, u.uploaded) for u in second.uploads] == [("train", False)]
        assert second.uploads[0].file_id == launched.uploads[0].file_id
        assert second.job.id != job.id
    finally:
        client.close()


def test_a_refused_launch_stores_no_job_but_keeps_the_upload(sim, monkeypatch, db):
    profile = profile_for(sim, monkeypatch)
    dataset_id = make_dataset(db)
    train = exports.export_version(db, dataset_id, "train")
    request = cj.JobRequest(dataset_name="x", model=MODEL)
    jobs_before = store.list_jobs(db, profile=profile.name, base_url=sim.base_url)
    sim.fault("training_not_available", count=1)
    client = make_client(profile, timeout=120, max_retries=0)
    try:
        with pytest.raises(openai.PermissionDeniedError):
            launch_job(client, db, profile, request, (train, None))
    finally:
        client.close()
    assert store.list_jobs(db, profile=profile.name, base_url=sim.base_url) == jobs_before
    assert versions.uploaded_file_id(db, train[0].id, sim.base_url)
