"""Browser mode: `workbench serve` checked as a user meets it.

The unit tests cover the guard (loopback only, same-origin websocket) and the served command. The
server tests run `workbench serve` in a subprocess and talk HTTP to it. The browser test drives
Debian's headless Chromium with Selenium and the system chromedriver; it reads the terminal's text
from xterm.js's buffer (the text layer is a canvas), so it checks what the browser really shows.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.commands import serve

SECRET = "sk-test-never-in-the-page-0123456789"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
    "--disable-dev-shm-usage",
    # the page asks for a web font: keep every name but loopback unresolvable (no network in tests)
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1280,800",
)

# textual.js keeps its terminal object in a closure; catch it when its constructor assigns
# `fitAddon`, then read lines from xterm.js's buffer (what the canvas shows, as text).
TERMINAL_HOOK = """
Object.defineProperty(Object.prototype, 'fitAddon', {
  configurable: true,
  set(value) {
    Object.defineProperty(this, 'fitAddon',
      {value, writable: true, configurable: true, enumerable: true});
    window.__workbenchTerminal = this;
  },
});
window.__workbenchScreen = () => {
  const holder = window.__workbenchTerminal;
  if (!holder || !holder.terminal) return null;
  const term = holder.terminal, buffer = term.buffer.active, lines = [];
  for (let row = 0; row < term.rows; row++) {
    const line = buffer.getLine(buffer.viewportY + row);
    lines.push(line ? line.translateToString(true) : '');
  }
  return lines.join('\\n');
};
"""


# --- the guard and the command, without a server ----------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert serve.is_loopback(host) is expected


def test_request_problem_refuses_rebinding_and_cross_site_websockets() -> None:
    ok = serve.request_problem("127.0.0.1:8000", None, loopback_only=True, websocket=False)
    assert ok is None
    same_origin = serve.request_problem(
        "127.0.0.1:8000", "http://127.0.0.1:8000", loopback_only=True, websocket=True
    )
    assert same_origin is None
    # a public name pointing at 127.0.0.1 (DNS rebinding) is not the loopback server's page
    rebinding = serve.request_problem(
        "evil.example:8000", None, loopback_only=True, websocket=False
    )
    assert rebinding is not None and "loopback" in rebinding
    # any other site could open ws://127.0.0.1:8000/ws and type into the app
    cross = serve.request_problem(
        "127.0.0.1:8000", "http://evil.example", loopback_only=True, websocket=True
    )
    assert cross is not None and "origin" in cross
    # with --allow-remote any Host is fine, the websocket origin still has to match
    assert (
        serve.request_problem(
            "box.lan:8000", "http://box.lan:8000", loopback_only=False, websocket=True
        )
        is None
    )
    assert serve.request_problem(
        "box.lan:8000", "http://x.lan", loopback_only=False, websocket=True
    )
    assert serve.request_problem(None, None, loopback_only=False, websocket=False)
    # behind a reverse proxy (--public-url) the public name and origin are the page's own
    proxied = {"loopback_only": True, "public_url": "https://wb.example.org"}
    assert (
        serve.request_problem("127.0.0.1:8000", "https://wb.example.org", websocket=True, **proxied)
        is None
    )
    assert serve.request_problem("wb.example.org", None, websocket=False, **proxied) is None
    assert serve.request_problem("evil.example", None, websocket=False, **proxied)
    assert serve.request_problem(
        "127.0.0.1:8000", "https://evil.example", websocket=True, **proxied
    )


def test_app_command_has_the_database_and_profile_but_no_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    command = serve.app_command(str(tmp_path / "my db.sqlite"), "work")
    assert SECRET not in command
    argv = shlex.split(command)
    assert argv == [
        sys.executable,
        "-m",
        "workbench",
        "--db",
        str(tmp_path / "my db.sqlite"),
        "--profile",
        "work",
    ]
    assert shlex.split(serve.app_command(None, None)) == [sys.executable, "-m", "workbench"]


def run_cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_non_loopback_host_needs_allow_remote() -> None:
    result = run_cli("serve", "--host", "0.0.0.0", "--port", "1")
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr
    assert "ssh -L 8000:127.0.0.1:8000" in result.stderr


def test_missing_textual_serve_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.cli import main

    monkeypatch.setitem(sys.modules, "textual_serve", None)  # import fails as if not installed
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    assert main(["serve", "--port", "1"]) == 2
    assert "pip install 'finetune-workbench[web]'" in capsys.readouterr().err


def test_a_busy_port_is_reported_before_serving() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve", "--port", str(port))
    assert result.returncode == 2
    assert "in use" in result.stderr and "--port" in result.stderr
    assert "serving on" not in result.stderr


def test_bad_profile_is_reported_before_serving() -> None:
    result = run_cli("serve", "--profile", "nope", "--port", "1")
    assert result.returncode == 2
    assert "nope" in result.stderr


# --- a real server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    """`workbench serve` in its own session, so every app process it starts is stopped with it."""

    def __init__(self, db: Path, log: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "workbench", "--db", str(db), "serve"]
                + ["--port", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"workbench serve exited: {log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"workbench serve did not listen within 30 s: {log.read_text()}")

    def request(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def session_command_lines(self) -> list[str]:
        """Command lines of the server and every process it started (same session)."""
        lines = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if os.getsid(int(proc.name)) != self.process.pid:
                    continue
                lines.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except (OSError, ProcessLookupError):
                continue
        return lines

    def app_processes(self) -> list[str]:
        return [
            line
            for line in self.session_command_lines()
            if "-m workbench --db" in line and " serve " not in line and "/bin/sh" not in line
        ]

    def wait_for_apps(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.app_processes()) == count:
                return
            time.sleep(0.2)
        raise AssertionError(f"expected {count} app processes, found {self.app_processes()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        # app processes may outlive the server by a moment; end what is left of the session
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    server = Served(tmp_path / "served.db", tmp_path / "serve.log", dict(os.environ))
    yield server
    server.stop()


def test_server_page_has_no_key_and_refuses_other_sites(served: Served) -> None:
    status, page = served.request("/")
    assert status == 200
    assert f"ws://127.0.0.1:{served.port}/ws" in page
    assert SECRET not in page
    # the page follows the address the browser used (an SSH tunnel on another local port)
    status, page = served.request("/", {"Host": "localhost:9000"})
    assert status == 200 and "ws://localhost:9000/ws" in page
    status, body = served.request("/", {"Host": "evil.example:8000"})
    assert status == 403 and "loopback" in body
    upgrade = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Origin": "http://evil.example",
    }
    status, body = served.request("/ws", upgrade)
    assert status == 403 and "origin" in body
    assert "serving on" in served.log.read_text()


# --- a real browser --------------------------------------------------------------------------


def chromium_driver(tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(10)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TERMINAL_HOOK})
    return driver


def active_tab(screen: str) -> str | None:
    """The pane tab whose underline is highlighted: the label above the `╸━━╺` span."""
    lines = screen.split("\n")
    for above, line in zip(lines, lines[1:], strict=False):
        start, end = line.find("╸"), line.find("╺")
        if "F1 Prompt" in above and 0 <= start < end:
            return above[start + 1 : end].strip() or None
    return None


def wait_for_screen(driver, condition, what: str, timeout: float = 60) -> str:
    """Poll the terminal's text until `condition(text)` holds; fail with the last screen."""
    deadline = time.monotonic() + timeout
    screen = None
    while time.monotonic() < deadline:
        screen = driver.execute_script("return window.__workbenchScreen && __workbenchScreen()")
        if screen and condition(screen):
            return screen
        time.sleep(0.2)
    if screen is None:
        raise AssertionError(
            "could not read the terminal from the page (textual.js no longer assigns "
            "`fitAddon` in its constructor?)"
        )
    raise AssertionError(
        f"the browser never showed {what} within {timeout} s; last screen:\n{screen}"
    )


@pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Chromium or chromedriver not installed (apt-get install chromium chromium-driver); "
    ".ci/run installs them where apt works",
)
def test_browser_shows_the_app_and_switches_pane_with_the_keyboard(
    served: Served, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = chromium_driver(tmp_path)
    try:
        driver.get(served.url + "/")
        screen = wait_for_screen(
            driver,
            lambda s: active_tab(s) == "F1 Prompt" and "profile" in s,
            "the Prompt pane with its status line",
        )
        assert "F4 Jobs" in screen
        assert SECRET not in screen and SECRET not in driver.page_source
        served.wait_for_apps(1)  # this tab's own app process, started by the server
        assert not any(SECRET in line for line in served.session_command_lines())
        driver.save_screenshot(str(tmp_path / "browser-prompt.png"))

        driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea").send_keys(Keys.F4)
        wait_for_screen(driver, lambda s: active_tab(s) == "F4 Jobs", "the Jobs pane")
        shot = tmp_path / "browser-jobs.png"
        assert driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 1000

        # a second tab is a second app process on the same database, starting on its own pane
        first = driver.current_window_handle
        driver.switch_to.new_window("tab")
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TERMINAL_HOOK})
        driver.get(served.url + "/")
        wait_for_screen(driver, lambda s: active_tab(s) == "F1 Prompt", "Prompt in the new tab")
        served.wait_for_apps(2)
        driver.close()  # closing a tab ends its app process
        driver.switch_to.window(first)
        served.wait_for_apps(1)
    finally:
        driver.quit()
