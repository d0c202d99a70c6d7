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


def test_restart_on_the_same_port_right_after_a_stop():
    """A stopped server's accepted connections linger in TIME_WAIT on its port; the restart's
    port check must not take that for another simulator (it refused for a minute)."""
    import socket

    from workbench.commands.sim import _claimable_port

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # the server closes first: its side of the connection goes to TIME_WAIT
    client.recv(1)
    client.close()
    listener.close()
    assert _claimable_port("127.0.0.1", port) == port


def test_port_check_still_refuses_a_port_someone_listens_on():
    import socket

    import pytest

    from workbench.commands.sim import _claimable_port

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with pytest.raises(OSError):
            _claimable_port("127.0.0.1", listener.getsockname()[1])
