"""How long `workbench` takes to show its first screen, in a real pseudo-terminal.

Spawns the app in a pty (80x24), reads what it draws until the first pane's text appears, then quits it with
ctrl+q. The baseline is a minimal Textual app (one Static) run the same way in the same run, so the
ratio says what the workbench adds on top of Textual itself. Best of N runs each.

    python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time

SEEDED = "You answer support tickets for Acme Bikes."
# the seeded text as drawn: the editor's cursor sits on its first letter, in its own style
SEEDED_MARKER = b"support tickets for Acme Bikes."
BASELINE = """
from textual.app import App
from textual.widgets import Static
class Minimal(App):
    def compose(self):
        yield Static("F1 Prompt")
Minimal().run()
"""


def time_to_text(
    argv: list[str], marker: bytes, env: dict[str, str], timeout: float = 30.0
) -> float:
    """Seconds from spawn until `marker` appears on the terminal; then the app is told to quit."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    seen = b""
    elapsed = None
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            seen += chunk
            if marker in seen:
                elapsed = time.perf_counter() - start
                break
        os.write(fd, b"\x11")  # ctrl+q
        deadline = time.perf_counter() + 5
        while time.perf_counter() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            select.select([fd], [], [], 0.05)
            with contextlib.suppress(OSError):
                os.read(fd, 65536)
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    finally:
        os.close(fd)
    if elapsed is None:
        raise RuntimeError(f"{argv} never drew {marker!r}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "WORKBENCH_DB": os.path.join(tmp, "bench.db"),
            "WORKBENCH_CONFIG": os.path.join(tmp, "config.toml"),
        }
        # as a user's launches are: from bytecode (pip compiles a wheel on install; a checkout
        # writes __pycache__ on its first run). With PYTHONDONTWRITEBYTECODE set, every timed run
        # of the checkout would compile its ~150 modules from source, and the baseline none.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        # the first screen is only there once it shows the user's own prompt, read from the
        # database (the pane's chrome alone, or the tab bar, is drawn earlier)
        subprocess.run(
            [sys.executable, "-m", "workbench", "prompt", "new", "support", "--system", SEEDED],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        runs = {
            "baseline: minimal Textual app": ([sys.executable, "-c", BASELINE], b"Prompt"),
            "workbench (first screen)": ([sys.executable, "-m", "workbench"], SEEDED_MARKER),
        }
        for argv, marker in runs.values():
            time_to_text(argv, marker, env)  # untimed: writes the bytecode, warms the file cache
        # interleaved, so that a change in the machine's load falls on both alike
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.runs):
            for name, (argv, marker) in runs.items():
                times[name].append(time_to_text(argv, marker, env))
        for name, taken in times.items():
            print(
                f"{name:32} best {min(taken) * 1000:6.0f} ms   "
                f"median {statistics.median(taken) * 1000:6.0f} ms"
            )
        base, wb = (min(times[name]) for name in runs)
        print(f"ratio workbench / baseline: {wb / base:.2f}x (best)")
        medians = [statistics.median(times[name]) for name in runs]
        print(f"ratio of medians: {medians[1] / medians[0]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
