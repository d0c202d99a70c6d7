"""User text is never parsed as markup: toasts (notifications ON) and Select options."""

from __future__ import annotations

from textual.widgets import Select

from tests.ui.conftest import wait_until
from workbench.app import WorkbenchApp
from workbench.config import load_config
from workbench.store.db import open_db
from workbench.store.examples import create_dataset
from workbench.store.prompts import ensure_prompt
from workbench.store.runs import record_run

NAMES = ["support [/INST]", "[bold]loud[/bold]", "[link=x]click"]


def seeded(db_path) -> None:
    db = open_db(db_path)
    for name in NAMES:
        create_dataset(db, name)
        ensure_prompt(db, name, system="s")
        record_run(db, prompt_name=name, approach="zero-shot", model=name, messages=[])
    db.close()


async def test_toasts_and_selects_show_bracketed_names_literally(db_path):
    seeded(db_path)
    app = WorkbenchApp(config=load_config(), db_path=db_path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        for name in NAMES:
            app.screen.notify(f"imported into {name}")  # the real toast path, markup and all
        await wait_until(
            pilot, lambda: len(app.screen.query("Toast")) >= len(NAMES), "a toast for each name"
        )
        toasts = list(app.screen.query("Toast"))
        rendered = " ".join(str(t.render()) for t in toasts)
        for name in NAMES:
            assert f"imported into {name}" in rendered

        app.switch_mode("history")
        await wait_until(
            pilot, lambda: app.screen.query("#filter-prompt Select, #filter-prompt"), "History"
        )
        select = app.screen.query_one("#filter-prompt", Select)
        await wait_until(pilot, lambda: len(select._options) >= len(NAMES), "the prompt filter")
        prompts = [str(prompt) for prompt, _value in select._options]
        for name in NAMES:
            assert name in prompts
        select.value = NAMES[0]
        await wait_until(
            pilot,
            lambda: NAMES[0] in str(select.query_one("SelectCurrent Static").render()),
            "the chosen name shown as it is",
        )

        app.switch_mode("costs")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: app.screen.query("#dataset"), "the Costs pane")
        dataset = app.screen.query_one("#dataset", Select)
        await wait_until(pilot, lambda: len(dataset._options) >= len(NAMES), "the dataset list")
        assert {str(p) for p, _v in dataset._options} >= set(NAMES)
        assert app.is_running
