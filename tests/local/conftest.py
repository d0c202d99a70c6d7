"""Fixtures for `workbench local`: one real server subprocess per session over the real SmolLM2
model (converted once into a cache that outlives the session, shared with the trainer tests).

Every test here needs the `local` extra; without it they skip, saying so.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

# One torch thread per test process (and per `workbench local` it starts). The suite runs a worker
# per core and one more; torch's own threads (one per core, spinning in OpenMP while they wait)
# fought the other workers: with one each, tests/local beside the Jobs and Prompt pane tests ran
# in 174 s instead of 208 s, with 16% less CPU time. Set either variable to override.
os.environ.setdefault("WORKBENCH_TRAIN_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[2]
MISSING = [
    m for m in ("torch", "transformers", "peft", "trl") if importlib.util.find_spec(m) is None
]
START_TIMEOUT_SECONDS = 120.0
MAX_STEPS = 2  # the testing knob: each job trains this many optimizer steps


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "needs_no_extra: a tests/local test that runs without the 'local' extra"
    )
    config.addinivalue_line("markers", "slow: a test that really trains (minutes, not seconds)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not MISSING:
        return
    skip = pytest.mark.skip(
        reason=f"workbench local needs the 'local' extra ({', '.join(MISSING)} not installed)"
    )
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.path).startswith(here) and "needs_no_extra" not in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def model_dir() -> Path:
    from tests.local.test_trainer_support import smollm2_dir

    return smollm2_dir()


class LocalServer:
    """A running `workbench local` process."""

    def __init__(self, root: Path, model_dir: Path) -> None:
        self.root = root
        self.db = root / "state.db"
        self.model_cache = model_dir.parent
        self.proc: subprocess.Popen | None = None
        self.base_url = ""
        self.log = root / "server.log"

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "WORKBENCH_LOCAL_MODELS": str(self.model_cache),
            "XDG_DATA_HOME": str(self.root / "data"),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
        env.pop("OPENAI_API_KEY", None)
        return env

    def start(self) -> LocalServer:
        command = [
            sys.executable,
            "-m",
            "workbench",
            "local",
            "--db",
            str(self.db),
            "--port",
            "0",
            "--device",
            "cpu",
            "--max-steps",
            str(MAX_STEPS),
            "--json",
        ]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=log, env=self.env(), cwd=str(self.root)
            )
        line = self.proc.stdout.readline().decode()
        if not line:
            raise AssertionError(f"workbench local did not start: {self.log.read_text()[-2000:]}")
        self.base_url = json.loads(line)["base_url"]
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                self.client(max_retries=0).models.list()
                return self
            except Exception:
                if self.proc.poll() is not None:
                    raise AssertionError(self.log.read_text()[-2000:]) from None
                time.sleep(0.2)
        raise AssertionError("workbench local did not answer /v1/models in time")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def client(self, **kwargs):
        from openai import OpenAI

        return OpenAI(base_url=self.base_url, api_key="sk-local-test", timeout=120, **kwargs)


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory, model_dir: Path):
    server = LocalServer(tmp_path_factory.mktemp("local-server"), model_dir).start()
    yield server
    server.stop()
