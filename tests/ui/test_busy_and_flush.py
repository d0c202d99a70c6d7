"""Typing while another process holds the write lock: the app stays up, keeps the text, saves it."""

from __future__ import annotations

import sqlite3

from tests.ui.conftest import app_started, wait_until
from workbench.app import WorkbenchApp
from workbench.config import load_config
from workbench.core.redact import redact_secrets
from workbench.store.prompts import latest_version


async def test_typing_while_locked_is_kept_then_saved(db_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_BUSY_TIMEOUT", "0.2")
    app = WorkbenchApp(config=load_config(), db_path=db_path)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await app_started(app, pilot)
        other = sqlite3.connect(str(db_path), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        app.screen.query_one("#system").focus()
        await pilot.press(*"kept")
        await wait_until(pilot, lambda: app.pending_saves.busy, "the busy state")
        assert app.is_running

        def toasts() -> str:  # the toast is mounted on a later refresh than the busy flag
            return " ".join(str(t.render()) for t in app.screen.query("Toast"))

        await wait_until(pilot, lambda: "database is busy" in toasts(), "the busy toast")
        other.rollback()
        other.close()
        await wait_until(
            pilot, lambda: latest_version(app.db, "default").system == "kept", "the saved text"
        )


async def test_pane_switch_writes_the_pending_edit_at_once(db_path):
    app = WorkbenchApp(config=load_config(), db_path=db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await app_started(app, pilot)
        app.screen.query_one("#system").focus()
        await pilot.press(*"typed")
        await pilot.press("f6")  # well inside the 0.4 s debounce
        assert latest_version(app.db, "default").system == "typed"


def test_key_fragments_are_redacted():
    text = redact_secrets("Incorrect API key provided: sk-****-123. Bearer abcdefghijk")
    assert "123" not in text and "abcdefghijk" not in text
