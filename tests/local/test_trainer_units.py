"""The trainer's pure parts: the job directory contract, the hyperparameter mapping, the results
file and the weight-aware loss labels (with the real SmolLM2 tokenizer)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.local import jobdir as jd
from workbench.local.training_plan import (
    BASE_LEARNING_RATE,
    DEFAULT_BATCH_SIZE,
    RESULTS_COLUMNS,
    HyperparameterError,
    keeps_checkpoint,
    resolve_hyperparameters,
    results_csv,
    total_steps,
)

from .test_trainer_support import smollm2_dir

# ---- jobdir ------------------------------------------------------------------------------------


def test_spec_round_trip_fills_the_optional_keys(tmp_path: Path) -> None:
    jd.write_spec(tmp_path, {"job_id": "ftjob-1", "model_path": "/m/Smol", "training_file": "t"})
    spec = jd.read_spec(tmp_path)
    assert spec["base_model"] == "Smol"
    assert spec["method"] == "supervised" and spec["device"] == "auto"
    assert spec["validation_file"] is None and spec["max_steps"] is None
    assert spec["hyperparameters"] == dict.fromkeys(jd.HYPERPARAMETER_NAMES, "auto")


def test_a_spec_without_a_training_file_names_the_key(tmp_path: Path) -> None:
    (tmp_path / jd.SPEC).write_text(json.dumps({"job_id": "j", "model_path": "m"}))
    with pytest.raises(jd.JobDirError, match="'training_file' is required"):
        jd.read_spec(tmp_path)
    (tmp_path / jd.SPEC).write_text("{not json")
    with pytest.raises(jd.JobDirError, match="not valid JSON"):
        jd.read_spec(tmp_path)


def test_events_read_after_an_id_and_skip_a_half_written_line(tmp_path: Path) -> None:
    first = jd.append_event(tmp_path, "one")
    second = jd.append_event(tmp_path, "two", type="metrics", data={"step": 1})
    third = jd.append_event(tmp_path, "three", level="warn")
    assert first["id"].startswith("ftevent-") and len({first["id"], second["id"]}) == 2
    assert [e["message"] for e in jd.read_events(tmp_path)] == ["one", "two", "three"]
    assert [e["id"] for e in jd.read_events(tmp_path, after_id=first["id"])] == [
        second["id"],
        third["id"],
    ]
    assert jd.read_events(tmp_path, after_id=third["id"]) == []
    with open(tmp_path / jd.EVENTS, "a") as out:
        out.write('{"id": "ftevent-partial", "mess')  # the trainer is mid-write
    assert len(jd.read_events(tmp_path)) == 3
    assert jd.read_events(tmp_path / "nowhere") == []


def test_state_is_replaced_whole_and_keeps_every_key(tmp_path: Path) -> None:
    tmp_path = tmp_path / "job"
    tmp_path.mkdir()
    assert jd.read_state(tmp_path) is None
    jd.write_state(tmp_path, jd.new_state("running", pid=123))
    state = jd.update_state(tmp_path, step=4, total_steps=10)
    assert jd.read_state(tmp_path) == state
    assert state["status"] == "running" and state["pid"] == 123 and state["step"] == 4
    assert set(jd.new_state()) <= set(state)
    assert [p.name for p in tmp_path.iterdir()] == [jd.STATE]  # no temp file left behind


def test_control_requests(tmp_path: Path) -> None:
    assert jd.read_control(tmp_path) is None
    jd.request_control(tmp_path, "pause")
    assert jd.read_control(tmp_path) == "pause"
    jd.request_control(tmp_path, "cancel")
    assert jd.read_control(tmp_path) == "cancel"
    jd.clear_control(tmp_path)
    assert jd.read_control(tmp_path) is None
    with pytest.raises(ValueError, match="unknown control 'stop'"):
        jd.request_control(tmp_path, "stop")


def test_trainer_command_runs_this_interpreter(tmp_path: Path) -> None:
    assert jd.trainer_command(tmp_path) == [
        sys.executable,
        "-m",
        "workbench.local.trainer",
        str(tmp_path),
    ]


def _process_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]


def test_a_dead_or_zombie_trainer_is_gone() -> None:
    assert jd.pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitpid(child.pid, 0)  # exited and reaped
    assert not jd.pid_alive(child.pid)
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while _process_state(zombie.pid) != "Z" and time.monotonic() < deadline:
        time.sleep(0.02)  # exited, not yet reaped: still in the process table
    assert _process_state(zombie.pid) == "Z"
    assert not jd.pid_alive(zombie.pid)
    zombie.wait()
    assert jd.trainer_gone({"status": "running", "pid": zombie.pid})
    assert not jd.trainer_gone({"status": "running", "pid": os.getpid()})
    assert not jd.trainer_gone({"status": "succeeded", "pid": zombie.pid})


# ---- hyperparameters, checkpoints, results -----------------------------------------------------


def _spec(**hp) -> dict:
    return {"hyperparameters": hp, "seed": 7}


def test_auto_hyperparameters_follow_openai_and_the_documented_defaults() -> None:
    hp = resolve_hyperparameters(_spec(), 40)
    assert hp == {
        "n_epochs": 3,  # 40 x 3 >= 100 example-passes
        "batch_size": DEFAULT_BATCH_SIZE,
        "learning_rate_multiplier": 1.0,
        "learning_rate": BASE_LEARNING_RATE,
        "seed": 7,
    }
    assert resolve_hyperparameters(_spec(n_epochs="auto"), 10)["n_epochs"] == 10
    assert resolve_hyperparameters(_spec(), 2)["batch_size"] == 2  # never more than the examples


def test_explicit_hyperparameters_are_used_and_checked() -> None:
    hp = resolve_hyperparameters(_spec(n_epochs=2, batch_size=8, learning_rate_multiplier=0.5), 100)
    assert (hp["n_epochs"], hp["batch_size"]) == (2, 8)
    assert hp["learning_rate"] == pytest.approx(0.5 * BASE_LEARNING_RATE)
    with pytest.raises(HyperparameterError, match="n_epochs must be between 1 and 50") as info:
        resolve_hyperparameters(_spec(n_epochs=0), 10)
    assert info.value.param == "hyperparameters.n_epochs"
    with pytest.raises(HyperparameterError, match="whole number"):
        resolve_hyperparameters(_spec(batch_size=2.5), 10)
    with pytest.raises(HyperparameterError, match="a number or 'auto'"):
        resolve_hyperparameters(_spec(learning_rate_multiplier="fast"), 10)


def test_a_missing_seed_is_drawn_and_reported() -> None:
    seeds = {resolve_hyperparameters({"seed": None}, 10)["seed"] for _ in range(5)}
    assert len(seeds) > 1 and all(isinstance(s, int) for s in seeds)


def test_steps_and_checkpoints_of_the_last_three_epochs() -> None:
    hp = {"n_epochs": 5, "batch_size": 4}
    assert total_steps(7, hp) == 10  # 2 steps per epoch
    assert total_steps(7, hp, max_steps=3) == 3
    kept = [s for s in range(1, 11) if keeps_checkpoint(s, 2, 5, 10)]
    assert kept == [6, 8, 10]
    assert [s for s in range(1, 4) if keeps_checkpoint(s, 2, 5, 3)] == [3]  # cut short: the end


def test_results_csv_has_openai_columns_and_blank_validation_cells() -> None:
    metrics = [
        {"step": 2, "train_loss": 0.5, "train_mean_token_accuracy": 0.8},
        {"step": 1, "train_loss": 1.0, "train_mean_token_accuracy": 0.5, "valid_loss": 1.2,
         "valid_mean_token_accuracy": 0.4},
    ]  # fmt: skip
    rows = list(csv.reader(io.StringIO(results_csv(metrics))))
    assert tuple(rows[0]) == RESULTS_COLUMNS
    assert rows[0] == ["step", "train_loss", "train_accuracy", "valid_loss",
                       "valid_mean_token_accuracy"]  # fmt: skip
    assert rows[1:] == [["1", "1.0", "0.5", "1.2", "0.4"], ["2", "0.5", "0.8", "", ""]]


# ---- labels ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(smollm2_dir()))


def _trained_text(tokenizer, input_ids: list[int], labels: list[int]) -> list[str]:
    """The decoded runs of consecutive trained tokens."""
    runs, current = [], []
    for token, label in zip(input_ids, labels, strict=True):
        if label == -100:
            if current:
                runs.append(tokenizer.decode(current))
                current = []
        else:
            assert label == token
            current.append(token)
    if current:
        runs.append(tokenizer.decode(current))
    return runs


def test_only_weighted_assistant_turns_carry_loss(tokenizer) -> None:
    from workbench.local.training_data import build_labels

    messages = [
        {"role": "system", "content": "Answer with one word."},
        {"role": "user", "content": "Sky colour?"},
        {"role": "assistant", "content": "Maybe grey", "weight": 0},
        {"role": "user", "content": "Really?"},
        {"role": "assistant", "content": "Blue", "weight": 1},
        {"role": "user", "content": "And grass?"},
        {"role": "assistant", "content": "Green"},
    ]
    input_ids, labels = build_labels(tokenizer, messages)
    assert tokenizer.decode(input_ids) == tokenizer.apply_chat_template(messages, tokenize=False)
    # exactly the content and the end-of-turn token of the two weighted turns
    assert _trained_text(tokenizer, input_ids, labels) == ["Blue<|im_end|>", "Green<|im_end|>"]
    masked = tokenizer.decode([t for t, lab in zip(input_ids, labels, strict=True) if lab == -100])
    assert "Maybe grey" in masked and "Sky colour?" in masked and "Answer with one word." in masked
    assert masked.count("<|im_start|>assistant\n") == 3  # turn headers are never trained


def test_labels_without_a_system_message_and_with_content_parts(tokenizer) -> None:
    from workbench.local.training_data import build_labels

    messages = [
        {"role": "user", "content": [{"type": "text", "text": "Say "}, {"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": "hi"},
    ]  # fmt: skip
    input_ids, labels = build_labels(tokenizer, messages)
    assert "SmolLM" in tokenizer.decode(input_ids)  # the template's default system prompt
    assert "Say hi" in tokenizer.decode(input_ids)
    assert _trained_text(tokenizer, input_ids, labels) == ["hi<|im_end|>"]
