"""The `sim` fixtures: a real `workbench sim` HTTP server in a subprocess on a free port.

    def test_x(sim):                       # one server per test session, shared: isolate by
        client = sim.client()              # unique suffix/metadata/model, never assume it is empty
        sim.fault("429", count=1, retry_after=0)

    def test_y(sim_factory):               # a fresh server (own state file) for this test
        server = sim_factory(speed=50, api_key="k")
        server.restart()                   # same state file: persistence tests

`start_sim(tmp_dir, **opts)` does the same from any test module or script; call `.stop()`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

DEFAULT_API_KEY = "sk-sim-test"
START_TIMEOUT_SECONDS = 30.0


def http_json(method: str, url: str, body: Any = None, timeout: float = 5.0) -> tuple[int, Any]:
    """A tiny stdlib HTTP call for the control endpoints (the SDK's HTTP stack is its own)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SimServer:
    """A running simulator process and the ways tests talk to it."""

    def __init__(
        self,
        tmp_dir: Path,
        *,
        speed: float = 1000,
        api_key: str | None = None,
        flavor: str | None = None,
        db: str | os.PathLike | None = None,
        max_file_bytes: int | None = None,
        strict: bool = False,
        training_types: str | None = None,
        file_processing_seconds: float | None = None,
    ) -> None:
        self.tmp_dir = Path(tmp_dir)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.db = Path(db) if db else self.tmp_dir / "sim.db"
        self.speed = speed
        self.required_key = api_key
        self.api_key = api_key or DEFAULT_API_KEY
        self.flavor = flavor
        self.max_file_bytes = max_file_bytes
        # flavor="azure" is lenient unless strict=True (trainingType not required, files processed
        # at once), so tests about other things need not go through Azure's ceremony
        if flavor == "azure" and not strict:
            training_types = "any" if training_types is None else training_types
            file_processing_seconds = (
                0 if file_processing_seconds is None else file_processing_seconds
            )
        self.training_types = training_types
        self.file_processing_seconds = file_processing_seconds
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.log_path = self.tmp_dir / "sim.log"

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    @property
    def azure_base_url(self) -> str:
        """Azure's v1 path (the azure flavour serves both)."""
        return f"{self.root_url}/openai/v1"

    def deploy(self, name: str, model: str) -> dict:
        """Stand-in for the ARM deployment call: `name` then answers as `model` (azure)."""
        status, answer = http_json(
            "PUT", f"{self.root_url}/_sim/deployments/{name}", {"model": model}
        )
        if status != 200:
            raise RuntimeError(f"deploying {model!r} as {name!r} failed ({status}): {answer}")
        return answer

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "workbench",
            "sim",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--db",
            str(self.db),
            "--speed",
            str(self.speed),
        ]
        if self.required_key:
            cmd += ["--api-key", self.required_key]
        if self.flavor:
            cmd += ["--flavor", self.flavor]
        if self.max_file_bytes:
            cmd += ["--max-file-bytes", str(self.max_file_bytes)]
        if self.training_types is not None:
            cmd += ["--training-types", self.training_types]
        if self.file_processing_seconds is not None:
            cmd += ["--file-processing-seconds", str(self.file_processing_seconds)]
        return cmd

    def start(self) -> SimServer:
        self.port = _free_port()
        env = dict(os.environ)
        env.pop("HTTPS_PROXY", None)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"workbench sim exited at start:\n{self.log()}")
            try:
                if http_json("GET", f"{self.root_url}/_sim/health", timeout=1.0)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"workbench sim did not answer in {START_TIMEOUT_SECONDS}s:\n{self.log()}"
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def restart(self) -> SimServer:
        """Stop and start again on the same state file (a new port)."""
        self.stop()
        return self.start()

    def client(self, **kwargs: Any):
        from openai import OpenAI

        kwargs.setdefault("api_key", self.api_key)
        kwargs.setdefault("base_url", self.base_url)
        kwargs.setdefault("timeout", 30.0)
        return OpenAI(**kwargs)

    def async_client(self, **kwargs: Any):
        from openai import AsyncOpenAI

        kwargs.setdefault("api_key", self.api_key)
        kwargs.setdefault("base_url", self.base_url)
        kwargs.setdefault("timeout", 30.0)
        return AsyncOpenAI(**kwargs)

    def fault(self, kind: str, count: int = 1, path: str | None = None, **opts: Any) -> dict:
        """Arm a fault for the next `count` matching requests (see workbench/sim/faults.py)."""
        body = {"kind": kind, "count": count, **opts}
        if path is not None:
            body["path"] = path
        status, answer = http_json("POST", f"{self.root_url}/_sim/faults", body)
        if status != 200:
            raise RuntimeError(f"arming fault {kind!r} failed ({status}): {answer}")
        return answer

    def clear_faults(self) -> None:
        status, answer = http_json("DELETE", f"{self.root_url}/_sim/faults")
        if status != 200:
            raise RuntimeError(f"clearing faults failed ({status}): {answer}")


def start_sim(tmp_dir: str | os.PathLike, **opts: Any) -> SimServer:
    """Start a simulator (speed=1000, api_key=None, flavor=None, db=None, max_file_bytes=None)."""
    return SimServer(Path(tmp_dir), **opts).start()


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory):
    server = start_sim(tmp_path_factory.mktemp("sim"))
    yield server
    server.stop()


@pytest.fixture
def sim_factory(tmp_path: Path):
    servers: list[SimServer] = []

    def make(
        speed: float = 1000,
        api_key: str | None = None,
        flavor: str | None = None,
        db: str | os.PathLike | None = None,
        **opts: Any,
    ) -> SimServer:
        server = start_sim(
            tmp_path / f"sim{len(servers)}",
            speed=speed,
            api_key=api_key,
            flavor=flavor,
            db=db,
            **opts,
        )
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
