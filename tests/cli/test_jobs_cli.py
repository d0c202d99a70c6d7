"""`workbench jobs` against the simulator: watch exit codes, stored history, list/show/actions."""

from __future__ import annotations

import json
import socket
import time
import uuid

import pytest

from workbench.cli import main
from workbench.store import jobs as store
from workbench.store.db import open_db

FAST = ["--interval", "0.05", "--max-interval", "0.5"]


def example(i: int) -> str:
    return json.dumps(
        {
            "messages": [
                {"role": "user", "content": f"question {i} [/INST]"},
                {"role": "assistant", "content": f"answer {i}"},
            ]
        }
    )


def create_job(server, lines: list[str] | None = None, **kwargs) -> str:
    client = server.client()
    data = ("\n".join(lines or [example(i) for i in range(12)]) + "\n").encode()
    file_id = client.files.create(file=("train.jsonl", data), purpose="fine-tune").id
    kwargs.setdefault("suffix", f"cli{uuid.uuid4().hex[:6]}")
    job = client.fine_tuning.jobs.create(
        model="gpt-4.1-mini-2025-04-14", training_file=file_id, **kwargs
    )
    client.close()
    return job.id


@pytest.fixture
def on_sim(sim, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", sim.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", sim.base_url)
    return sim


def test_watch_to_success_prints_events_and_stores_them(on_sim, capsys, db_path):
    job_id = create_job(on_sim)
    assert main(["jobs", "watch", job_id, *FAST]) == 0
    out = capsys.readouterr().out
    assert "Files validated" in out and "The job has successfully completed" in out
    assert "[succeeded] step" in out
    assert "fine-tuned model: ft:gpt-4.1-mini" in out
    db = open_db(db_path)
    try:
        job = store.get_job(db, on_sim.base_url, job_id)
        metrics = store.metric_events(db, on_sim.base_url, job_id)
        assert job.status == "succeeded" and job.trained_tokens
        assert len(metrics) == metrics[-1].data["total_steps"]
        assert store.list_checkpoints(db, on_sim.base_url, job_id)
        assert store.results_csv(db, on_sim.base_url, job_id).startswith("step,")
        # each event printed once, even though the same page was fetched many times
        assert out.count("The job has successfully completed") == 1
    finally:
        db.close()
    # show --offline answers from the store alone
    assert main(["jobs", "show", job_id, "--offline", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "succeeded" and shown["checkpoints"]
    assert shown["event_count"] >= len(metrics)


def test_watch_failed_job_exits_1_with_the_error(on_sim, capsys):
    bad = json.dumps({"messages": [{"role": "user", "content": "no answer"}]})
    job_id = create_job(on_sim, [example(i) for i in range(11)] + [bad])
    assert main(["jobs", "watch", job_id, *FAST]) == 1
    captured = capsys.readouterr()
    assert "failed" in captured.err and "line 12" in captured.err.lower()


def test_cancelled_job_exits_1(on_sim, capsys):
    job_id = create_job(on_sim)
    assert main(["jobs", "cancel", job_id, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "cancelled"
    assert main(["jobs", "watch", job_id, *FAST]) == 1


def test_watch_usage_errors_exit_2(on_sim, capsys):
    assert main(["jobs", "watch", "ftjob-does-not-exist", *FAST]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["jobs", "watch", "x", "--interval", "0"]) == 2


def test_watch_unreachable_or_rejected_exits_3(sim_factory, monkeypatch, capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    assert main(["jobs", "watch", "ftjob-1", *FAST, "--give-up-after", "2"]) == 3
    assert "could not reach" in capsys.readouterr().err
    server = sim_factory(api_key="sk-right")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    assert main(["jobs", "watch", "ftjob-1", *FAST]) == 3
    assert "rejected" in capsys.readouterr().err


def test_watch_survives_rate_limits_and_dropped_connections(on_sim, capsys):
    job_id = create_job(on_sim)
    on_sim.fault("429", count=2, path=f"/v1/fine_tuning/jobs/{job_id}", retry_after=0)
    on_sim.fault("drop", count=1, path=f"/v1/fine_tuning/jobs/{job_id}")
    assert main(["jobs", "watch", job_id, *FAST]) == 0
    captured = capsys.readouterr()
    assert "rate limited" in captured.err and "trying again" in captured.err
    assert "The job has successfully completed" in captured.out


def test_list_json_shows_stored_and_remote_jobs(on_sim, capsys, db_path):
    remote_only = create_job(on_sim)
    db = open_db(db_path)
    store.upsert_job(
        db, "default", on_sim.base_url, {"id": "ftjob-stored-only", "status": "failed"}
    )
    db.close()
    assert main(["jobs", "list", "--json"]) == 0
    ids = {row["id"] for row in json.loads(capsys.readouterr().out)}
    assert {remote_only, "ftjob-stored-only"} <= ids
    assert main(["jobs", "list", "--offline", "--json"]) == 0
    assert remote_only in {row["id"] for row in json.loads(capsys.readouterr().out)}


def test_pause_resume_from_the_cli(sim_factory, monkeypatch, capsys):
    server = sim_factory(speed=20)
    monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    job_id = create_job(server)
    # a job still validating cannot be paused: the provider's refusal in plain words, exit 1
    assert main(["jobs", "pause", job_id]) == 1
    assert "cannot be paused" in capsys.readouterr().err
    client = server.client()
    for _ in range(400):
        if client.fine_tuning.jobs.retrieve(job_id).status == "running":
            break
        time.sleep(0.05)
    client.close()
    assert main(["jobs", "pause", job_id]) == 0
    assert capsys.readouterr().out.strip() == f"{job_id}: paused"
    assert main(["jobs", "resume", job_id]) == 0
    assert capsys.readouterr().out.strip() == f"{job_id}: queued"
    assert main(["jobs", "show", job_id]) == 0
    assert "Fine-tuning job paused" in capsys.readouterr().out


def test_watch_redraws_the_progress_line_in_place_only_on_a_tty(on_sim, capsys):
    import os
    import pty
    import subprocess
    import sys

    job_id = create_job(on_sim)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench", "jobs", "watch", job_id, *FAST],
        stdout=slave,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 0
    os.close(master)
    tty_out = b"".join(chunks).decode()
    assert "\r\x1b[K[" in tty_out and "The job has successfully completed" in tty_out
    # piped: plain lines, no carriage returns
    assert main(["jobs", "watch", job_id, *FAST]) == 0
    piped = capsys.readouterr().out
    assert "\r" not in piped and "\x1b" not in piped


def test_watch_an_azure_flavoured_provider(sim_factory, monkeypatch, capsys, db_path):
    """Azure says `pending` for queued and sends the results CSV without base64."""
    server = sim_factory(flavor="azure")
    monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    job_id = create_job(server)
    assert main(["jobs", "watch", job_id, *FAST]) == 0
    db = open_db(db_path)
    try:
        assert "pending" not in store.statuses_seen(db, server.base_url, job_id)
        assert store.results_csv(db, server.base_url, job_id).startswith("step,")
    finally:
        db.close()
