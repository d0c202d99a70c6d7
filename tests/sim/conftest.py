"""Helpers for the simulator tests: training files and a bounded wait for job states."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

TERMINAL = ("succeeded", "failed", "cancelled")


def sft_lines(n: int = 10, tag: str = "t") -> list[str]:
    return [
        json.dumps(
            {
                "messages": [
                    {"role": "system", "content": "Answer with the number only."},
                    {"role": "user", "content": f"[{tag}] What is {i} plus {i}?"},
                    {"role": "assistant", "content": str(2 * i)},
                ]
            }
        )
        for i in range(n)
    ]


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05):
    """Poll `predicate()` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def wait_for_status(client, job_id: str, statuses=TERMINAL, timeout: float = 60.0):
    def check():
        job = client.fine_tuning.jobs.retrieve(job_id)
        return job if job.status in statuses else None

    return wait_for(check, timeout)


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "train.jsonl", sft_lines(10, tmp_path.name))
