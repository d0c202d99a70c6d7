"""Importing hostile files in the Training data pane: every line kept, nothing half-made, no hang."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from workbench.app import WorkbenchApp
from workbench.config import load_config
from workbench.store import examples as store
from workbench.ui.training import TrainingScreen
from workbench.ui.training_modals import ImportDialog, ImportRequest
from workbench.ui.widgets.report import ReportScreen

GOOD = json.dumps(
    {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
)
NASTY = [
    "[" * 10_000 + "]" * 10_000,  # RecursionError in the old parser
    GOOD.replace('"hello"', '"hello", "weight": ' + "7" * 5000),  # ValueError: int digits
    GOOD.replace('"hi"', '"\\ud800"'),  # UnicodeEncodeError when stored
    GOOD.replace('"hello"', '"hello", "weight": NaN'),
]


async def until(pilot, condition, tries: int = 200, step: float = 0.05) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(step)
    assert condition(), "condition not reached"


async def start_import(app, pilot, path: Path) -> None:
    await pilot.press("i")
    await until(pilot, lambda: isinstance(app.screen, ImportDialog))
    app.screen.query_one("#path").value = str(path)
    await pilot.pause()
    await pilot.press("enter")


async def test_one_bad_line_no_longer_aborts_the_import(db_path, tmp_path):
    path = tmp_path / "nasty.jsonl"
    path.write_text("\n".join([GOOD, *NASTY, GOOD]) + "\n", encoding="utf-8")
    app = WorkbenchApp(config=load_config(), db_path=db_path, start_pane="training")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await start_import(app, pilot, path)
        await app.workers.wait_for_complete()
        await until(pilot, lambda: isinstance(app.screen, ReportScreen))
        text = str(app.screen.query_one("#report-text").render())
        assert "imported 6 rows: 2 valid, 4 with problems" in text
        for line in (2, 3, 4, 5):
            assert f"line {line}  " in text
        dataset = store.find_dataset(app.db, "nasty")
        rows = store.list_examples(app.db, dataset_id=dataset.id, limit=None)
        assert [r.source_line for r in rows] == [1, 2, 3, 4, 5, 6]
        assert [r.data is None for r in rows] == [False, True, True, True, True, False]
        assert [r.problems[0]["code"] for r in rows[1:5]] == [
            "invalid_json",
            "invalid_number",
            "invalid_unicode",
            "invalid_json",
        ]


async def test_a_fifo_is_refused_and_leaves_no_dataset(db_path, tmp_path):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    app = WorkbenchApp(config=load_config(), db_path=db_path, start_pane="training")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await start_import(app, pilot, fifo)
        await pilot.pause()
        assert isinstance(app.screen, ImportDialog)  # the dialog says it is not a file
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TrainingScreen))
        # the worker refuses it too (a path that became a FIFO, another caller)
        screen = app.screen
        screen._start("importing pipe.jsonl")
        screen.import_worker(ImportRequest(fifo, "pipe"))
        try:
            await asyncio.wait_for(app.workers.wait_for_complete(), 10)
        except TimeoutError:
            with open(fifo, "wb"):  # let the blocked worker go, then fail
                pass
            raise AssertionError("the import worker blocked on a FIFO") from None
        await pilot.pause()
        assert store.list_datasets(app.db) == []  # no empty dataset left behind
        assert not screen.query_one("#progress-row").display
