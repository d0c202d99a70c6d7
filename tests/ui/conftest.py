"""What every UI test shares: the app, and waiting for it.

    make_app = app_factory("training")       # at the top of a test module: its starting pane
    app = make_app(db_path)
    await wait_until(pilot, lambda: table.row_count == 5, "the five rows")

Waiting is always on a condition, bounded by wall time, and a timeout says what never happened.
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Callable
from typing import Any

from workbench.app import WorkbenchApp
from workbench.config import load_config

# Generous: a timeout is a failure, and the machine may be busy (xdist, other work). A condition
# that holds returns at once, so this bound costs nothing in a passing run.
WAIT_SECONDS = 30.0


def app_factory(start_pane: str = "prompt", **attributes: Any) -> Callable[..., WorkbenchApp]:
    """A `make_app(db_path, **kwargs)` that opens `start_pane` and sets `attributes` on the app."""

    def make_app(db_path: str | os.PathLike, **kwargs: Any) -> WorkbenchApp:
        kwargs.setdefault("start_pane", start_pane)
        app = WorkbenchApp(config=load_config(), db_path=db_path, **kwargs)
        for name, value in attributes.items():
            setattr(app, name, value)
        return app

    return make_app


make_app = app_factory()


def _describe(condition: Callable[[], object]) -> str:
    try:
        return " ".join(inspect.getsource(condition).split())
    except (OSError, TypeError):
        return repr(condition)


async def wait_until(
    pilot,
    condition: Callable[[], object],
    what: str | None = None,
    timeout: float = WAIT_SECONDS,
    step: float = 0.05,
) -> None:
    """Let the app run until `condition()` is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause()
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {what or _describe(condition)}"
            )
        await pilot.pause(step)


async def app_started(app: WorkbenchApp, pilot) -> None:
    """Wait for the start-up work that follows the first frame (the Prompt pane's other tabs, the
    model list, the tokenizer), as a user's first keys would arrive after it."""
    await wait_until(pilot, lambda: app.started, "the work after the first frame")
    await app.workers.wait_for_complete()


async def type_into(pilot, widget, text: str) -> None:
    """Focus `widget` and type `text` one key at a time (the pilot takes ~60 ms a key)."""
    widget.focus()
    await pilot.pause()
    await pilot.press(*text)


async def paste_into(pilot, widget, text: str) -> None:
    """Focus `widget` and paste `text`, as a terminal's bracketed paste arrives: one event the app
    forwards to the focused widget. For text whose typing is not what a test is about."""
    from textual import events

    widget.focus()
    await pilot.pause()
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()


async def run_from_palette(app, pilot, query: str, title: str) -> None:
    """Type `query` in the command palette and run `title` once it is the highlighted match."""
    from textual.command import CommandList, CommandPalette

    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
    palette = app.screen
    await pilot.press(*[{" ": "space"}.get(ch, ch) for ch in query])

    def highlighted_title() -> str | None:
        results = palette.query_one(CommandList)
        if results.highlighted is None:
            return None
        return results.get_option_at_index(results.highlighted).hit.text

    await wait_until(pilot, lambda: highlighted_title() == title, f"{title!r} highlighted")
    await pilot.press("enter")
