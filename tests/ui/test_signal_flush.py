"""A real `workbench` in a pty: text typed just before SIGHUP (an SSH drop) is in the database."""

from __future__ import annotations

import os
import pty
import select
import signal
import sqlite3
import sys
import time


def read_for(fd: int, seconds: float) -> bytes:
    out, end = b"", time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    return out


def test_sighup_right_after_typing_saves_the_text(db_path):
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(TERM="xterm-256color", COLUMNS="100", LINES="30")
        os.execv(sys.executable, [sys.executable, "-m", "workbench", "--db", str(db_path)])
    try:
        seen = b""
        deadline = time.monotonic() + 30
        while b"System prompt" not in seen and time.monotonic() < deadline:
            seen += read_for(fd, 0.5)
        assert b"System prompt" in seen
        read_for(fd, 1.0)
        os.write(fd, b"hangup-proof")
        time.sleep(0.1)  # well inside the 0.4 s save debounce
        os.kill(pid, signal.SIGHUP)
        read_for(fd, 3.0)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert os.WIFEXITED(status), status
    db = sqlite3.connect(str(db_path))
    systems = [r[0] for r in db.execute("select system from prompt_versions")]
    assert any("hangup-proof" in s for s in systems), systems
