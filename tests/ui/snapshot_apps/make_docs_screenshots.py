"""Make the README's pictures from the populated snapshot database:

    .venv/bin/python -m tests.ui.snapshot_apps.make_docs_screenshots [TERMINAL_PANE [BROWSER_PANE]]

docs/screenshot-terminal.png: the app at 120x40 (Textual's SVG screenshot, drawn by Chromium, which
keeps the SVG's monospace grid; cairosvg without it).
docs/screenshot-browser.png: `workbench serve` in headless Chromium (needs chromium + chromedriver).
Runs with a throwaway config and data dir against the local simulator (`workbench sim`) as the
provider, so nothing of the user's is shown and no network is used.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
PANE_KEYS = {
    "prompt": "f1",
    "examples": "f2",
    "training": "f3",
    "jobs": "f4",
    "costs": "f5",
    "history": "f6",
}


def isolate(home: Path) -> None:
    os.environ.update(
        WORKBENCH_CONFIG=str(home / "config.toml"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        TZ="UTC",
    )
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "WORKBENCH_PROFILE", "NO_COLOR"):
        os.environ.pop(name, None)
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(ROOT.parent / "shared" / "tiktoken"))


async def terminal_svg(db_path: Path, pane: str) -> str:
    from tests.ui.conftest import app_started
    from workbench.app import WorkbenchApp
    from workbench.config import load_config

    app = WorkbenchApp(config=load_config(), db_path=db_path, start_pane=pane)
    async with app.run_test(size=(120, 40)) as pilot:
        await app_started(app, pilot)
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        await pilot.pause()
        return app.export_screenshot(title="workbench")


def browser_png(db_path: Path, pane: str, out: Path, tmp: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from tests.ui.test_browser import Served, active_tab, chromium_driver, wait_for_screen

    served = Served(db_path, tmp / "serve.log", dict(os.environ))
    try:
        driver = chromium_driver(tmp)
        try:
            driver.set_window_size(1200, 760)
            driver.get(served.url + "/")
            wait_for_screen(driver, lambda s: active_tab(s) == "F1 Prompt", "the app")
            key = getattr(Keys, PANE_KEYS.get(pane, "f1").upper())
            driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea").send_keys(key)
            label = f"{PANE_KEYS.get(pane, 'f1').upper()} "
            wait_for_screen(driver, lambda s: (active_tab(s) or "").startswith(label), pane)
            driver.execute_script("return new Promise(r => setTimeout(r, 1500))")
            driver.save_screenshot(str(out))
        finally:
            driver.quit()
    finally:
        served.stop()


def svg_to_png(svg: str, out: Path, tmp: Path) -> None:
    import re
    import shutil
    import subprocess

    chromium = shutil.which("chromium")
    if chromium is None:
        import cairosvg

        cairosvg.svg2png(bytestring=svg.encode(), write_to=str(out))
        return
    width, height = (
        round(float(v)) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups()
    )
    page = tmp / "terminal.svg"
    page.write_text(svg)
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={tmp / 'chromium-svg'}",
            f"--window-size={width},{height}",
            f"--screenshot={out}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def main(argv: list[str]) -> int:
    from tests.sim_fixture import start_sim
    from tests.ui.snapshot_apps.populate import populate

    pane = argv[0] if argv else "jobs"
    browser_pane = argv[1] if len(argv) > 1 else pane
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        isolate(tmp / "home")
        sim = start_sim(tmp / "sim")
        try:
            os.environ.update(OPENAI_BASE_URL=sim.base_url, OPENAI_API_KEY=sim.api_key)
            db_path = populate(tmp / "workbench.db", base_url=sim.base_url)
            svg = asyncio.run(terminal_svg(db_path, pane))
            svg_to_png(svg, DOCS / "screenshot-terminal.png", tmp)
            print(DOCS / "screenshot-terminal.png")
            browser_png(db_path, browser_pane, DOCS / "screenshot-browser.png", tmp)
            print(DOCS / "screenshot-browser.png")
        finally:
            sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
