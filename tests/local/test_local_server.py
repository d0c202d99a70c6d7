"""`workbench local` end to end through the official SDK: a real (tiny) LoRA training run, its events,
chat with the result (plain and streamed), and a cancelled second job whose trainer is gone."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from pathlib import Path

from tests.local.conftest import MAX_STEPS
from workbench.local import jobdir as jd

BASE = "SmolLM2-135M-Instruct"
TERMINAL = ("succeeded", "failed", "cancelled")


def _training_file(path: Path, n: int = 10) -> Path:
    colours = ("red", "blue")
    lines = [
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"Item {i}: which colour?"},
                    {"role": "assistant", "content": colours[i % 2]},
                ]
            }
        )
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def test_train_watch_chat_and_cancel(local_server, tmp_path: Path) -> None:
    from workbench.core.dataset import default_epochs

    client = local_server.client()
    assert BASE in [m.id for m in client.models.list().data]
    upload = client.files.create(
        file=_training_file(tmp_path / "train.jsonl").open("rb"), purpose="fine-tune"
    )
    job = client.fine_tuning.jobs.create(
        model=BASE,
        training_file=upload.id,
        suffix="e2e",
        seed=7,
        method={
            "type": "supervised",
            "supervised": {"hyperparameters": {"batch_size": 2, "learning_rate_multiplier": 2}},
        },
    )
    assert job.status in ("validating_files", "queued")

    def finished():
        current = client.fine_tuning.jobs.retrieve(job.id)
        return current if current.status in TERMINAL else None

    done = _wait(finished, 240, "the first job finishing")
    events = client.fine_tuning.jobs.list_events(job.id, limit=100).data
    assert done.status == "succeeded", [e.message for e in events]
    # n_epochs "auto" resolves by OpenAI's rule; the explicit values go through as given
    hp = done.method.supervised.hyperparameters
    assert (hp.n_epochs, hp.batch_size, hp.learning_rate_multiplier) == (default_epochs(10), 2, 2)
    metrics = [e for e in events if e.type == "metrics"]
    assert [m.data["step"] for m in reversed(metrics)] == list(range(1, MAX_STEPS + 1))
    assert all(m.data["train_loss"] > 0 for m in metrics)
    assert done.trained_tokens and done.trained_tokens > 0
    assert done.fine_tuned_model == f"ft:{BASE}:local:e2e:{job.id[-8:]}"
    # events page newest first, with `after` as the cursor
    first_page = client.fine_tuning.jobs.list_events(job.id, limit=2)
    after = client.fine_tuning.jobs.list_events(job.id, limit=100, after=first_page.data[-1].id)
    assert [e.id for e in first_page.data + after.data] == [e.id for e in events]
    results = base64.b64decode(client.files.content(done.result_files[0]).read()).decode()
    assert results.splitlines()[0].startswith("step,train_loss")
    assert len(results.splitlines()) == MAX_STEPS + 1

    checkpoints = client.fine_tuning.jobs.checkpoints.list(job.id).data
    assert checkpoints and checkpoints[0].step_number == MAX_STEPS
    listed = [m.id for m in client.models.list().data]
    assert done.fine_tuned_model in listed
    assert checkpoints[0].fine_tuned_model_checkpoint in listed

    question = [{"role": "user", "content": "Item 3: which colour?"}]
    plain = client.chat.completions.create(
        model=done.fine_tuned_model, messages=question, temperature=0, max_tokens=4
    )
    text = plain.choices[0].message.content
    assert plain.model == done.fine_tuned_model
    assert plain.usage.prompt_tokens > 5 and 1 <= plain.usage.completion_tokens <= 4
    stream = client.chat.completions.create(
        model=done.fine_tuned_model,
        messages=question,
        temperature=0,
        max_tokens=4,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text  # greedy: the same answer both ways
    assert chunks[-1].usage.completion_tokens == plain.usage.completion_tokens
    from_checkpoint = client.chat.completions.create(
        model=checkpoints[0].fine_tuned_model_checkpoint, messages=question, max_tokens=2
    )
    assert from_checkpoint.usage.completion_tokens >= 1

    # the adapter exported for vLLM (`--enable-lora --lora-modules NAME=DIR`)
    exported = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "local",
            "--db",
            str(local_server.db),
            "export",
            job.id,
            str(tmp_path / "adapter"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=local_server.env(),
    )
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["model"] == done.fine_tuned_model
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    assert (tmp_path / "adapter" / "adapter_model.safetensors").stat().st_size > 0

    # a second job, cancelled while its trainer runs: the trainer process is gone afterwards
    second = client.fine_tuning.jobs.create(model=BASE, training_file=upload.id, suffix="cancel")
    directory = local_server.db.with_name(local_server.db.name + ".jobs") / second.id
    pid = _wait(lambda: (jd.read_state(directory) or {}).get("pid"), 30, "the trainer starting")
    assert jd.pid_alive(pid)
    cancelled = client.fine_tuning.jobs.cancel(second.id)
    assert cancelled.status == "cancelled"
    _wait(lambda: not jd.pid_alive(pid), 30, "the cancelled trainer exiting")
    assert client.fine_tuning.jobs.retrieve(second.id).status == "cancelled"
