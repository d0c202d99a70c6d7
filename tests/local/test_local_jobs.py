"""The real job lifecycle without torch: a trainer stand-in speaking jobdir.py's contract, a store,
and real processes (spawned detached, killed with SIGKILL, outliving a "restarted" server)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.local import jobdir as jd
from workbench.local.jobs import LocalJobs
from workbench.local.models import BaseModelSource
from workbench.sim.state import SimStore

pytestmark = pytest.mark.needs_no_extra

# Follows the contract as the real trainer does: running with its pid, one metrics event, then
# waits for a `finish` file and ends succeeded with an adapter, a checkpoint and results.csv.
FAKE_TRAINER = r"""
import json, os, sys, time
from pathlib import Path
from workbench.local import jobdir as jd
d = Path(sys.argv[1])
jd.update_state(d, status="running", pid=os.getpid(), total_steps=1,
                hyperparameters={"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.0})
jd.append_event(d, "Step 1/1: training loss=1.00", type="metrics",
                data={"step": 1, "total_steps": 1, "train_loss": 1.0})
while not (d / "finish").exists():
    time.sleep(0.05)
(d / "adapter").mkdir()
(d / "results.csv").write_text("step,train_loss\n1,1.0\n")
ckpt = {"id": "ftckpt_fake", "step": 1, "epoch": 1, "created_at": int(time.time()),
        "dir": str(d / "adapter"), "metrics": {"step": 1, "train_loss": 1.0}}
jd.update_state(d, status="succeeded", trained_tokens=42, adapter_dir=str(d / "adapter"),
                result_file=str(d / "results.csv"), checkpoints=[ckpt],
                finished_at=int(time.time()))
jd.append_event(d, "The job has successfully completed")
"""

REPO = Path(__file__).resolve().parents[2]


def _job(job_id: str = "ftjob-unit0000000000000001") -> dict:
    return {
        "id": job_id,
        "created_at": int(time.time()),
        "model": "tiny",
        "training_file": "file-x",
        "validation_file": None,
        "suffix": "unit",
        "seed": 1,
        "metadata": None,
        "integrations": [],
        "method_type": "supervised",
        "requested_hp": {"n_epochs": "auto", "batch_size": 1, "learning_rate_multiplier": "auto"},
        "hp": None,
        "status": "validating_files",
        "finished_at": None,
        "fine_tuned_model": None,
        "result_files": [],
        "trained_tokens": None,
        "error": None,
        "step": 0,
    }


@pytest.fixture
def fake_trainer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "fake_trainer.py"
    script.write_text(FAKE_TRAINER, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setattr(jd, "trainer_command", lambda d: [sys.executable, str(script), str(d)])
    return script


def _jobs(tmp_path: Path) -> tuple[SimStore, LocalJobs]:
    store = SimStore(tmp_path / "state.db")
    source = BaseModelSource("tiny", tmp_path / "model", "test")
    return store, LocalJobs(store, tmp_path / "jobs", lambda m: source if m == "tiny" else None)


def _wait(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_a_restarted_server_reattaches_to_a_running_trainer(tmp_path: Path, fake_trainer) -> None:
    store, jobs = _jobs(tmp_path)
    job = _job()
    store.save_job(job)
    jobs.start(job)
    spec = jd.read_spec(tmp_path / "jobs" / job["id"])
    assert spec["hyperparameters"] == job["requested_hp"]  # "auto" goes to the trainer as is
    directory = tmp_path / "jobs" / job["id"]
    _wait(lambda: jobs.advance(store.get_job(job["id"]))["status"] == "running")
    pid = jd.read_state(directory)["pid"]
    store.close()  # the server stops; the trainer, in its own session, does not
    assert os.getsid(pid) == pid and os.getpgid(pid) == pid

    store, jobs = _jobs(tmp_path)  # a new server on the same state
    job = jobs.advance(store.get_job(job["id"]))
    assert job["status"] == "running" and jd.pid_alive(pid)
    assert job["hp"]["n_epochs"] == 3  # the trainer's resolved value reaches the wire
    (directory / "finish").touch()
    job = _wait(
        lambda: (j := jobs.advance(store.get_job(job["id"])))["status"] == "succeeded" and j
    )
    assert job["fine_tuned_model"] == "ft:tiny:local:unit:00000001"
    assert job["trained_tokens"] == 42
    assert store.get_ft_model(job["fine_tuned_model"])["job_id"] == job["id"]
    assert jobs.adapter_of(job["fine_tuned_model"])[2] == directory / "adapter"
    assert jobs.adapter_of(job["fine_tuned_model"] + ":ckpt-step-1") is not None
    messages = [r["message"] for r in store.events_page(job["id"], None, 10)]
    assert messages[0] == "The job has successfully completed"
    assert len(messages) == len(set(messages))  # each file event stored once across the restart
    assert len(job["result_files"]) == 1
    store.close()


def test_a_trainer_killed_with_sigkill_fails_its_job_saying_why(tmp_path: Path, fake_trainer):
    store, jobs = _jobs(tmp_path)
    job = _job("ftjob-unit0000000000000002")
    store.save_job(job)
    jobs.start(job)
    directory = tmp_path / "jobs" / job["id"]
    _wait(lambda: jobs.advance(store.get_job(job["id"]))["status"] == "running")
    pid = jd.read_state(directory)["pid"]
    os.kill(pid, signal.SIGKILL)
    job = _wait(lambda: (j := jobs.advance(store.get_job(job["id"])))["status"] == "failed" and j)
    assert job["error"]["code"] == "trainer_killed"
    assert f"pid {pid}" in job["error"]["message"] and "killed" in job["error"]["message"]
    assert str(directory / jd.LOG) in job["error"]["message"]
    events = store.events_page(job["id"], None, 5)
    assert events[0]["level"] == "error" and "killed" in events[0]["message"]
    assert jd.read_state(directory)["status"] == "failed"  # on disk too: the next server agrees
    store.close()


def test_cancel_kills_the_process_group_after_the_grace_period(tmp_path: Path) -> None:
    """A trainer that ignores the control file (stuck) is killed, with its children."""
    store, jobs = _jobs(tmp_path)
    jobs.cancel_grace = 0.5
    job = _job("ftjob-unit0000000000000003")
    directory = tmp_path / "jobs" / job["id"]
    directory.mkdir(parents=True)
    stuck = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, time; subprocess.Popen(['sleep', '60']); time.sleep(60)",
        ],
        start_new_session=True,
    )
    jd.write_state(directory, {**jd.new_state("running", pid=stuck.pid)})
    job["status"] = "running"
    store.save_job(job)
    job = jobs.cancel(job, time.time())
    assert job["status"] == "cancelled"
    assert stuck.wait(timeout=10) == -signal.SIGKILL
    _wait(lambda: jd.read_state(directory)["status"] == "cancelled")
    assert [e["message"] for e in jd.read_events(directory)] == ["Fine-tuning job cancelled"]
    leftover = subprocess.run(
        ["pgrep", "-g", str(stuck.pid)], capture_output=True, text=True
    ).stdout.strip()
    # the trainer's children went with it (a zombie not yet reaped by init counts as gone)
    assert not [pid for pid in leftover.split() if jd.pid_alive(int(pid))]
    store.close()


def test_a_model_directory_that_cannot_be_loaded_fails_fast_and_clearly(tmp_path: Path) -> None:
    pytest.importorskip("transformers", reason="needs the 'local' extra")
    from workbench.local.inference import load_base
    from workbench.local.models import ModelUnavailable, resolve_base_model

    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "llama"}))  # no weights
    started = time.monotonic()
    with pytest.raises(ModelUnavailable, match="broken-model.*cannot be loaded"):
        load_base(resolve_base_model(str(broken)), "cpu")
    with pytest.raises(ModelUnavailable, match="no-such-org/no-such-model.*HF_HUB_OFFLINE"):
        os.environ["HF_HUB_OFFLINE"] = "1"
        try:
            resolve_base_model("no-such-org/no-such-model")
        finally:
            del os.environ["HF_HUB_OFFLINE"]
    with pytest.raises(ModelUnavailable, match="not a model directory"):
        resolve_base_model(str(tmp_path))
    assert time.monotonic() - started < 30


def test_the_command_refuses_an_unusable_model_and_a_public_host(tmp_path: Path) -> None:
    pytest.importorskip("transformers", reason="needs the 'local' extra")
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    missing = subprocess.run(
        [sys.executable, "-m", "workbench", "local", "--model", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert missing.returncode == 2
    assert "nope" in missing.stderr and "Traceback" not in missing.stderr
    public = subprocess.run(
        [sys.executable, "-m", "workbench", "local", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert public.returncode == 2 and "--allow-remote" in public.stderr
