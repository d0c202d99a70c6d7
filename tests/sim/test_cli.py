"""`workbench sim` as a user starts it: the banner, Ctrl-C, refusing the app's own database."""

from __future__ import annotations

import signal
import subprocess
import sys

from tests.sim.conftest import wait_for
from tests.sim_fixture import http_json


def test_banner_says_simulator_and_ctrl_c_stops_cleanly(tmp_path):
    log = tmp_path / "err.txt"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "workbench",
                "sim",
                "--port",
                "0",
                "--db",
                str(tmp_path / "s.db"),
                "--speed",
                "3",
            ],
            stdout=subprocess.PIPE,
            stderr=err,
        )
    try:
        banner = wait_for(lambda: "Ctrl-C" in log.read_text() and log.read_text(), timeout=20)
        assert "SIMULATOR" in banner and "Nothing is trained" in banner
        url = next(w for w in banner.split() if w.startswith("http://"))
        assert url.endswith("/v1")
        assert f"OPENAI_BASE_URL={url} OPENAI_API_KEY=sk-sim workbench" in banner
        wait_for(lambda: _healthy(url), timeout=20)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert "Traceback" not in text
    assert "stopped" in text
    assert proc.stdout.read() == b""  # stdout is for data; the banner is narrative


def _healthy(url: str) -> bool:
    try:
        return http_json("GET", url.removesuffix("/v1") + "/_sim/health", timeout=1)[0] == 200
    except OSError:
        return False


def test_refuses_the_workbench_database(tmp_path, db, db_path):
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "sim", "--port", "0", "--db", str(db_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "not a simulator state file" in result.stderr


def test_bad_speed_is_a_usage_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "sim", "--speed", "0", "--db", str(tmp_path / "s.db")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "--speed" in result.stderr
