"""The pane shell: every pane reachable by key, by mouse and from the palette; status line; quit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.conftest import app_started, make_app, run_from_palette, wait_until
from workbench.ui.pane import PANES, GoToPane
from workbench.ui.status import StatusLine


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_every_pane_is_reachable_by_its_key(db_path, size):
    app = make_app(db_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert app.current_mode == "prompt"
        for mode, _label, key in PANES:
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode
            assert mode == app.screen.PANE
        await pilot.press("alt+2")
        await pilot.pause()
        assert app.current_mode == "examples"


async def test_panes_are_reachable_by_mouse(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.click("#tab-jobs")
        await pilot.pause()
        assert app.current_mode == "jobs"
        await pilot.click("#tab-history")
        await pilot.pause()
        assert app.current_mode == "history"
        # coming back, the tab bar shows the pane we are on
        await pilot.press("f4")
        await pilot.pause()
        assert app.screen.query_one("PaneTabs").active == "tab-jobs"


async def test_command_palette_switches_panes(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await run_from_palette(app, pilot, "go to costs", "Go to Costs")
        await wait_until(pilot, lambda: app.current_mode == "costs", "the Costs pane")


async def test_palette_lists_every_pane(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for _mode, label, _key in PANES:
            assert f"Go to {label}" in titles


async def test_ctrl_q_quits(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not app._exit
        await pilot.press("ctrl+q")
        assert app._exit  # exit requested by the binding
    assert app.return_code == 0


async def test_status_line_shows_profile_url_key_and_tokenizer(db_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8089/v1")
    app = make_app(db_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await app_started(app, pilot)
        await pilot.pause()
        text = str(app.screen.query_one(StatusLine).render())
        assert "default" in text
        assert "http://127.0.0.1:8089/v1" in text
        assert "$OPENAI_API_KEY" in text
        assert "o200k_base" in text
        assert "sk-secret-value" not in text


async def test_status_line_says_when_the_key_is_missing(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await app_started(app, pilot)
        await pilot.pause()
        assert "key missing" in str(app.screen.query_one(StatusLine).render())


async def test_the_database_is_created_on_start(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
    assert db_path.exists()


async def test_status_line_keeps_key_and_tokenizer_visible_at_80_columns(db_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://my-resource.openai.azure.com/openai/v1/")
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await app_started(app, pilot)
        await pilot.pause()
        visible = app.screen.query_one(StatusLine).render().plain[:80]
        assert "key✓" in visible and "o200k_base" in visible
        assert "sk-secret-value" not in visible


async def test_f_keys_switch_panes_even_from_an_editor(db_path):
    from textual.widgets import TextArea

    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query(TextArea).first().focus()
        await pilot.pause()
        await pilot.press("f6")
        await pilot.pause()
        assert app.current_mode == "history"


async def test_first_screen_reads_only_its_own_sheet_and_the_rest_right_after(db_path):
    """Parsing every pane's CSS before the first paint was a third of the start-up."""
    from workbench.app import _stylesheets

    app = make_app(db_path, start_pane="costs")
    assert [p.name for p in app.css_path] == ["base.tcss", "costs.tcss"]
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        sheets = [Path(key[0]) for key in app.stylesheet.source if key[1] == ""]
        # after the first paint every sheet is read, in CSS_PATH's order (a later one wins ties)
        assert sheets == _stylesheets()
        await pilot.press("f2")
        await pilot.pause()
        # rules of examples.tcss apply: width 16, margin-left 1 (a Select has neither by default)
        split = app.screen.query_one("#examples-split")
        assert (split.outer_size.width, split.styles.margin.left) == (16, 1)


async def send_terminal_bytes(app, pilot, data: str) -> None:
    """Feed `data` through Textual's real input parser (what the Linux driver does with the
    bytes a terminal, tmux, SSH or xterm.js sends), then deliver the events like the driver."""
    import time

    from textual._xterm_parser import XTermParser
    from textual.constants import ESCAPE_DELAY

    parser = XTermParser()
    events = list(parser.feed(data))
    time.sleep(ESCAPE_DELAY * 1.5)  # a lone ESC+digit is decided when no more bytes follow
    events += list(parser.tick())
    for event in events:
        app._driver.process_message(event)
    await pilot.pause()


@pytest.mark.parametrize("digit,mode", [("2", "examples"), ("4", "jobs"), ("6", "history")])
async def test_alt_digit_bytes_switch_panes_and_type_nothing(db_path, digit, mode):
    """alt+2 arrives as ESC 2 in xterm, tmux, over SSH and in xterm.js; Textual decoded it as the
    macOS Option character ("™") and typed it into the focused editor instead."""
    from textual.widgets import TextArea

    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        editor = app.screen.query_one("#template", TextArea)
        editor.focus()
        await pilot.pause()
        await send_terminal_bytes(app, pilot, "\x1b" + digit)
        assert app.current_mode == mode
        await send_terminal_bytes(app, pilot, "\x1b1")
        assert app.current_mode == "prompt"
        assert editor.text == ""


async def test_ctrl_g_then_a_digit_goes_to_a_pane(db_path):
    """The fallback that arrives everywhere (ctrl+g is one byte, 0x07): ctrl+g, then 1-6."""
    from textual.widgets import TextArea

    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one("#template", TextArea).focus()

        async def go_to_pane(key: str) -> None:
            await send_terminal_bytes(app, pilot, "\x07")
            await wait_until(pilot, lambda: isinstance(app.screen, GoToPane), "the pane picker")
            await send_terminal_bytes(app, pilot, key)
            await wait_until(pilot, lambda: not isinstance(app.screen, GoToPane), "it to close")

        await go_to_pane("5")
        await wait_until(pilot, lambda: app.current_mode == "costs", "the Costs pane")
        await go_to_pane("\x1b")  # escape: stay where we are
        assert app.current_mode == "costs"
        await go_to_pane("3")
        await wait_until(pilot, lambda: app.current_mode == "training", "the Training pane")
