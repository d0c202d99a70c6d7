"""A real `workbench` in a pty: what the terminal receives, and text typed just before SIGHUP."""

from __future__ import annotations

import os
import pty
import select
import signal
import sqlite3
import subprocess
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


def read_until(fd: int, marker: bytes, seconds: float) -> bool:
    """Read what the app draws until `marker` appears (True) or `seconds` pass (False)."""
    seen, end = b"", time.monotonic() + seconds
    while marker not in seen and time.monotonic() < end:
        seen += read_for(fd, 0.05)
    return marker in seen


def test_the_first_frame_is_the_whole_screen_with_the_users_prompt(db_path):
    """Textual drops the frame it renders inside its start-up batch; without redrawing the whole
    screen after it, the terminal got the tab bar and the footer first and the prompt later."""
    seeded = "You answer support tickets for Acme Bikes."
    subprocess.run(
        [sys.executable, "-m", "workbench", "--db", str(db_path), "prompt", "new", "support"]
        + ["--system", seeded],
        check=True,
        capture_output=True,
    )
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(TERM="xterm-256color", COLUMNS="80", LINES="24")
        os.execv(sys.executable, [sys.executable, "-m", "workbench", "--db", str(db_path)])
    marker = seeded[1:].encode()  # its first letter sits under the cursor, in its own style
    try:
        seen, deadline = b"", time.monotonic() + 30
        while marker not in seen and time.monotonic() < deadline:
            seen += read_for(fd, 0.1)
        os.write(fd, b"\x11")  # ctrl+q
        read_for(fd, 2.0)
        os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert marker in seen, seen[-2000:]
    # one frame draws the rows top to bottom: the tab bar, the prompt, then the footer. Before
    # the fix the footer (and the tab bar's underline) came in frames of their own before it.
    before_prompt = seen[: seen.index(marker)]
    assert before_prompt.count(b"F1 Prompt") == 1, before_prompt
    assert b"palette" not in before_prompt, before_prompt


def test_sighup_right_after_typing_saves_the_text(db_path):
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(TERM="xterm-256color", COLUMNS="100", LINES="30")
        os.execv(sys.executable, [sys.executable, "-m", "workbench", "--db", str(db_path)])
    try:
        # the tokenizer's name in the status line: the work after the first frame is done
        assert read_until(fd, b"o200k_base", 30)
        os.write(fd, b"hangup-proof")
        # the editor shows the text: the edit is made, and the 0.4 s save debounce has just begun
        # (a busy machine may take longer than that to handle the keys: waiting for a fixed
        # moment instead sent the hang-up before the app had read them)
        assert read_until(fd, b"hangup-proo", 10)
        os.kill(pid, signal.SIGHUP)
        read_for(fd, 3.0)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert os.WIFEXITED(status), status
    db = sqlite3.connect(str(db_path))
    systems = [r[0] for r in db.execute("select system from prompt_versions")]
    assert any("hangup-proof" in s for s in systems), systems
