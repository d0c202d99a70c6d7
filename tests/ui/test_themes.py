"""Themes and NO_COLOR, end to end: the palette changes the theme, the config remembers it (0600),
the next start uses it; NO_COLOR leaves no hue on the screen."""

from __future__ import annotations

import re
import stat
import tomllib
from pathlib import Path

import pytest

from tests.ui.conftest import make_app, wait_until
from workbench.config import config_path

SIZE = (100, 30)


async def test_theme_chosen_in_the_palette_is_remembered(db_path: Path) -> None:
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme != "nord"
        await pilot.press("ctrl+p")
        await pilot.press(*"theme")
        await pilot.pause()
        await pilot.press("enter")  # Textual's own "Theme: Change the current theme"
        await pilot.pause()
        await pilot.press(*"nord")
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.theme == "nord", "the theme became nord")
        await app.workers.wait_for_complete()

    path = config_path()
    assert tomllib.loads(path.read_text())["theme"] == "nord"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    again = make_app(db_path)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "nord"


async def test_theme_change_keeps_the_rest_of_the_config(db_path: Path) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        'active_profile = "work"\n[profiles.work]\nbase_url = "http://127.0.0.1:9/v1"\n'
    )
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "gruvbox"
        await pilot.pause()
    saved = tomllib.loads(path.read_text())
    assert saved["theme"] == "gruvbox"
    assert saved["active_profile"] == "work"
    assert saved["profiles"]["work"]["base_url"] == "http://127.0.0.1:9/v1"


async def test_an_unknown_theme_in_the_config_falls_back(db_path: Path) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('theme = "no-such-theme"\n')
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme in app.available_themes


async def test_starting_without_a_theme_writes_no_config(db_path: Path) -> None:
    """Opening the app must not create a config file the user never asked for."""
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
    assert not config_path().exists()


HEX = re.compile(r"#([0-9a-fA-F]{6})\b")


def screen_colours(svg: str) -> set[tuple[int, int, int]]:
    """Every colour of the terminal cells (not the three window buttons the SVG frame draws)."""
    svg = re.sub(r"<circle[^>]*>", "", svg)
    return {(int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)) for h in HEX.findall(svg)}


def hued(colours: set[tuple[int, int, int]]) -> set[tuple[int, int, int]]:
    """Colours that are not a shade of grey (a little slack for rounding)."""
    return {c for c in colours if max(c) - min(c) > 3}


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
async def test_no_color_leaves_only_greys(
    no_color: bool, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        svg = app.export_screenshot()
    colours = hued(screen_colours(svg))
    if no_color:
        assert app.no_color
        assert not colours, f"colours left under NO_COLOR: {sorted(colours)[:5]}"
    else:  # the same check finds colour when colour is on, so it can fail
        assert colours
