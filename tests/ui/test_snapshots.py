"""Snapshot tests: every pane at 80x24 and 120x40, empty and populated, so a layout change fails.

The populated database comes from `snapshot_apps/populate.py` (store APIs only, no network, fixed
times). After a deliberate change, regenerate and look at every SVG before committing:

    .venv/bin/pytest tests/ui/test_snapshots.py --snapshot-update

Snapshots depend on the Textual version (recorded in TEXTUAL_VERSION below): after upgrading
Textual, regenerate them and review the differences.
"""

from __future__ import annotations

import re
import time
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.ui.conftest import make_app
from tests.ui.snapshot_apps.populate import populate
from workbench.app import WorkbenchApp
from workbench.ui.pane import PANES

TEXTUAL_VERSION = "8.2.8"  # the version the stored snapshots were taken with
SIZES = {"80x24": (80, 24), "120x40": (120, 40)}

pytestmark = pytest.mark.skipif(
    version("textual") != TEXTUAL_VERSION,
    reason=f"snapshots were taken with textual {TEXTUAL_VERSION}, not {version('textual')}; "
    "regenerate them with --snapshot-update and review",
)


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch):
    """Times print the same on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def settle(pilot) -> None:
    """Wait until the pane has loaded its data and the screen stops changing, with a steady cursor.

    Panes load in workers and redraw after short debounce timers (0.3-0.4 s), so "workers done"
    is not enough: the screen must look the same twice in a row, half a second apart.
    """
    app = pilot.app
    previous = None
    for _ in range(40):
        await app.workers.wait_for_complete()
        await pilot.pause(0.5)
        for widget in app.screen.query("Input, TextArea"):
            steady_cursor(widget)
        await pilot.pause()
        current = re.sub(r"terminal-\d+-", "", app.export_screenshot())
        if current == previous:
            return
        previous = current
    raise AssertionError("the screen kept changing for 20 s")


def steady_cursor(widget) -> None:
    """Stop the blink with the cursor shown on the focused editor only.

    Textual has no public switch that works here: `cursor_blink = False` keeps whichever blink
    frame TextArea's line cache holds, so the cursor would be there in one run and not the next.
    """
    widget._pause_blink(visible=widget.has_focus)


def workbench_app(db_path: Path, pane: str) -> WorkbenchApp:
    app = make_app(db_path, start_pane=pane)
    # no animation: an indeterminate progress bar or a sliding tab underline would be caught
    # at a different frame on every run
    app.animation_level = "none"
    return app


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("pane", [mode for mode, _label, _key in PANES])
@pytest.mark.parametrize("state", ["empty", "populated"])
def test_pane(snap_compare, tmp_path: Path, state: str, pane: str, size: str) -> None:
    db_path = tmp_path / "workbench.db"
    if state == "populated":
        populate(db_path)
    app = workbench_app(db_path, pane)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=settle)
