"""The trainer process for real, as the server spawns it: `python -m workbench.local.trainer JOBDIR`
on SmolLM2-135M-Instruct, a handful of CPU steps. Marked slow: about a minute on a quiet machine."""

from __future__ import annotations

import csv
import json
import os
import signal
import time
from pathlib import Path

import pytest

from workbench.local import jobdir as jd

from .test_trainer_support import (
    make_job,
    run_trainer,
    smollm2_dir,
    start_trainer,
    trainer_log,
    write_jsonl,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return smollm2_dir()


def _messages(jobdir: Path) -> list[str]:
    return [e["message"] for e in jd.read_events(jobdir)]


def _wait_for(predicate, timeout: float = 120.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out")


def test_a_short_run_trains_a_lora_adapter_and_reports_like_openai(
    tmp_path: Path, model_dir: Path
) -> None:
    validation = write_jsonl(tmp_path / "valid.jsonl", [
        {"messages": [{"role": "user", "content": "Which colour?"},
                      {"role": "assistant", "content": "blue"}]},
    ] * 3)  # fmt: skip
    jobdir = make_job(tmp_path, model_dir, validation_file=str(validation))
    assert run_trainer(jobdir) == 0, trainer_log(jobdir)

    state = jd.read_state(jobdir)
    assert state["status"] == "succeeded" and state["error"] is None
    assert state["step"] == state["total_steps"] == 2
    assert state["hyperparameters"] == {
        "n_epochs": 1,
        "batch_size": 4,
        "learning_rate_multiplier": 1.0,
    }
    assert state["trained_tokens"] > 8 * 20  # 8 examples of ~40 tokens went through
    messages = _messages(jobdir)
    assert messages[:2] == [
        "Files validated, moving job to queued state",
        "Fine-tuning job started",
    ]
    assert messages[-2:] == ["New fine-tuned model created", "The job has successfully completed"]
    metrics = [e["data"] for e in jd.read_events(jobdir) if e["type"] == "metrics"]
    assert [m["step"] for m in metrics] == [1, 2]
    assert {"train_loss", "train_mean_token_accuracy", "valid_loss", "valid_mean_token_accuracy",
            "total_steps"} <= set(metrics[0])  # fmt: skip
    assert "full_valid_loss" in metrics[-1]  # the end of training closes an epoch
    assert all(m["train_loss"] > 0 and 0 <= m["train_mean_token_accuracy"] <= 1 for m in metrics)

    [checkpoint] = state["checkpoints"]
    assert checkpoint["step"] == 2 and checkpoint["id"].startswith("ftckpt_")
    assert checkpoint["metrics"]["train_loss"] == metrics[-1]["train_loss"]
    with open(state["result_file"], newline="") as results:
        rows = list(csv.DictReader(results))
    assert [r["step"] for r in rows] == ["1", "2"] and rows[1]["valid_loss"] != ""

    # the adapter loads with peft onto the base model and was really trained (LoRA B starts at 0)
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    weights = load_file(str(Path(state["adapter_dir"]) / "adapter_model.safetensors"))
    lora_b = [t for name, t in weights.items() if "lora_B" in name]
    assert lora_b and any(t.abs().sum() > 0 for t in lora_b)
    model = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(str(model_dir)), state["adapter_dir"]
    )
    assert model.active_adapter == "default"


def test_pause_saves_a_checkpoint_and_resume_finishes_the_job(
    tmp_path: Path, model_dir: Path
) -> None:
    jobdir = make_job(tmp_path, model_dir, max_steps=2)
    process = start_trainer(jobdir)
    # asked as training starts: the first step (over a second on a CPU) ends with the pause
    _wait_for(lambda: "Fine-tuning job started" in _messages(jobdir), every=0.05)
    jd.request_control(jobdir, "pause")
    assert process.wait(timeout=120) == 0, trainer_log(jobdir)
    paused = jd.read_state(jobdir)
    assert paused["status"] == "paused", trainer_log(jobdir)
    assert paused["step"] == 1 and Path(paused["pause_checkpoint"]).is_dir()
    assert _messages(jobdir)[-1] == "Fine-tuning job paused"

    spec = jd.read_spec(jobdir)
    jd.write_spec(jobdir, {**spec, "resume_from": paused["pause_checkpoint"]})
    assert run_trainer(jobdir) == 0, trainer_log(jobdir)
    state = jd.read_state(jobdir)
    assert state["status"] == "succeeded"
    assert "Fine-tuning job resumed" in _messages(jobdir)
    steps = [e["data"]["step"] for e in jd.read_events(jobdir) if e["type"] == "metrics"]
    assert steps == [1, 2]  # continued where it stopped, nothing trained twice
    assert state["trained_tokens"] > paused["trained_tokens"]


def test_a_sigkilled_trainer_leaves_its_pid_for_the_server_to_notice(
    tmp_path: Path, model_dir: Path
) -> None:
    jobdir = make_job(tmp_path, model_dir)
    process = start_trainer(jobdir)
    state = _wait_for(lambda: jd.read_state(jobdir))
    assert state["pid"] == process.pid and state["status"] in jd.ACTIVE
    assert not jd.trainer_gone(state)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    state = jd.read_state(jobdir)
    assert state["status"] in jd.ACTIVE  # it had no chance to write its end...
    assert jd.trainer_gone(state)  # ...and that is what the server looks for


def test_a_base_model_that_cannot_be_loaded_fails_the_job_quickly(tmp_path: Path) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (broken / "model.safetensors").write_bytes(b"not weights")
    missing = make_job(tmp_path / "a", tmp_path / "no-such-model")
    garbage = make_job(tmp_path / "b", broken)
    started = time.monotonic()
    processes = [start_trainer(missing), start_trainer(garbage)]
    assert [p.wait(timeout=120) for p in processes] == [1, 1]
    assert time.monotonic() - started < 120
    for jobdir, reason in ((missing, "no such directory"), (garbage, "")):
        state = jd.read_state(jobdir)
        assert state["status"] == "failed", trainer_log(jobdir)
        assert state["error"]["code"] == "model_load_failed"
        assert state["error"]["message"].startswith(
            "The base model SmolLM2-135M-Instruct cannot be loaded from "
        )
        assert reason in state["error"]["message"]
        assert _messages(jobdir)[-1] == state["error"]["message"]
    assert "Traceback" not in jd.read_state(garbage)["error"]["message"]


def test_a_file_the_validator_rejects_fails_with_its_line(tmp_path: Path) -> None:
    jobdir = make_job(tmp_path, tmp_path / "model-never-loaded")
    training = Path(jd.read_spec(jobdir)["training_file"])
    lines = training.read_text().splitlines()
    lines[2] = '{"messages": [{"role": "user", "content": "no answer"}]}'
    training.write_text("\n".join(lines) + "\n")
    assert run_trainer(jobdir) == 1
    error = jd.read_state(jobdir)["error"]
    assert error["code"] == "invalid_training_file" and error["param"] == "training_file"
    assert "line 3" in error["message"]


def test_dpo_is_refused_and_a_cancel_before_training_is_honoured(tmp_path: Path) -> None:
    dpo = make_job(tmp_path / "a", tmp_path / "model-never-loaded", method="dpo")
    cancel = make_job(tmp_path / "b", tmp_path / "model-never-loaded")
    jd.request_control(cancel, "cancel")
    processes = [start_trainer(dpo), start_trainer(cancel)]
    assert [p.wait(timeout=60) for p in processes] == [1, 0]
    error = jd.read_state(dpo)["error"]
    assert error["code"] == "unsupported_method" and "'dpo' is not supported" in error["message"]
    state = jd.read_state(cancel)
    assert state["status"] == "cancelled" and state["finished_at"]
    assert _messages(cancel)[-1] == "Fine-tuning job cancelled"
