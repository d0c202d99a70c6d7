"""ReportScreen, the shared read-only report, in an app of its own."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App
from textual.widgets import Static

from tests.ui.conftest import wait_until
from workbench.ui.widgets.report import ReportScreen


async def _open(app: App, pilot, body) -> tuple[ReportScreen, list[object]]:
    """Push a report; the list gets what it dismissed with."""
    closed: list[object] = []
    report = ReportScreen("Imported [bold]x.jsonl[/]", body)
    app.push_screen(report, closed.append)
    await wait_until(pilot, lambda: app.screen is report)
    return report, closed


@pytest.mark.parametrize("key", ["escape", "q", "enter"])
async def test_plain_text_is_shown_as_it_is_and_the_key_closes(key):
    app = App()
    async with app.run_test(size=(100, 30)) as pilot:
        report, closed = await _open(app, pilot, "line 3  bad_json: [red]not[/red] JSON")
        shown = report.query_one("#report-text", Static).render()
        assert str(shown) == "line 3  bad_json: [red]not[/red] JSON"
        title = report.query_one(".dialog-title").render()
        assert str(title) == "Imported [bold]x.jsonl[/]"
        await pilot.press(key)
        await wait_until(pilot, lambda: app.screen is not report, f"{key} closes the report")
        assert closed == [None]


async def test_a_renderable_body_and_the_close_button():
    app = App()
    async with app.run_test(size=(100, 30)) as pilot:
        body = Text("✓ ready to upload", style="bold green")
        report, closed = await _open(app, pilot, body)
        assert report.body is body
        assert str(report.query_one("#report-text", Static).render()) == "✓ ready to upload"
        await pilot.click("#close")
        await wait_until(pilot, lambda: app.screen is not report, "the button closes the report")
        assert closed == [None]
