"""The History pane: runs newest first, paged from SQLite, filtered, opened and re-run."""

from __future__ import annotations

from tests.ui.conftest import make_app, wait_until
from tests.ui.test_prompt_pane import MODEL, write_sim_config
from workbench.store.runs import list_runs, record_run
from workbench.ui.history import PAGE_SIZE, HistoryScreen
from workbench.ui.prompt_run import RunColumn


def _seed(db, n: int) -> None:
    with db.atomic():
        for i in range(n):
            record_run(
                db,
                prompt_name="alpha" if i % 2 else "beta",
                approach=("zero-shot", "few-shot", "fine-tuned")[i % 3],
                model=MODEL,
                messages=[{"role": "user", "content": f"question {i} [/INST]"}],
                answer=f"answer {i}",
                input_tokens=10,
                output_tokens=2,
                latency_ms=100,
                cost_usd=0.00001 if i % 5 else None,
            )


async def _history(app, pilot) -> HistoryScreen:
    await app.workers.wait_for_complete()
    await app.switch_mode("history")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


async def test_pages_filters_and_search(db, db_path):
    _seed(db, PAGE_SIZE + 20)
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _history(app, pilot)
        table = screen.query_one("#run-table")
        assert table.row_count == PAGE_SIZE  # one page in the widget, never every row
        assert str(table.get_row_at(0)[7]) == f"answer {PAGE_SIZE + 19}"
        pager = str(screen.query_one("#history-pager").render())
        assert f"of {PAGE_SIZE + 20}" in pager and "page 1/2" in pager
        table.focus()
        await pilot.press("n")
        await pilot.pause()
        assert table.row_count == 20 and str(table.get_row_at(19)[7]) == "answer 0"
        await pilot.press("p")
        await pilot.pause()
        assert table.row_count == PAGE_SIZE

        screen.query_one("#filter-approach").value = "few-shot"
        await pilot.pause()
        assert {r.approach for r in screen.runs} == {"few-shot"}
        screen.query_one("#filter-prompt").value = "alpha"
        await pilot.pause()
        assert {(r.prompt_name, r.approach) for r in screen.runs} == {("alpha", "few-shot")}
        assert table.row_count == len(screen.runs) > 0

        screen.query_one("#filter-prompt").clear()
        screen.query_one("#filter-approach").clear()
        await pilot.press("ctrl+f")
        await pilot.press(*"answer 7")
        await wait_until(pilot, lambda: screen.total == 11)  # searched after typing stops
        expected = sorted(f"answer {i}" for i in range(PAGE_SIZE + 20) if str(i).startswith("7"))
        assert sorted(r.answer for r in screen.runs) == expected


async def test_open_shows_everything_literally(db, db_path):
    _seed(db, 3)
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _history(app, pilot)
        screen.query_one("#run-table").focus()
        await pilot.press("enter")
        await pilot.pause()
        detail = str(app.screen.query_one("#detail-text").render())
        assert "question 2 [/INST]" in detail and "answer 2" in detail
        assert "in 10 · out 2" in detail
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_rerun_sends_the_same_messages_and_records_a_new_run(sim, monkeypatch, db, db_path):
    write_sim_config(sim, monkeypatch)
    _seed(db, 1)
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _history(app, pilot)
        screen.query_one("#run-table").focus()
        await pilot.press("ctrl+r")
        await pilot.pause()
        column = app.screen.query_one(RunColumn)
        await wait_until(pilot, lambda: column.status in ("ok", "error"), timeout=60)
        assert column.status == "ok", str(column.query_one(".run-problem").render())
        await pilot.press("escape")
        await pilot.pause()
        runs = list_runs(app.db)
        assert len(runs) == 2 and runs[0].rerun_of == runs[1].id
        assert runs[0].messages == runs[1].messages and runs[0].model == runs[1].model
        assert runs[0].input_tokens > 0 and runs[0].cost_usd is not None
        assert screen.query_one("#run-table").row_count == 2


def footer_key(screen, description: str):
    return next(k for k in screen.query("FooterKey") if k.description == description)


async def test_page_keys_follow_the_page_shown(db, db_path):
    """n / p are dimmed in the footer when there is no page that way, as the pages turn."""
    _seed(db, PAGE_SIZE + 20)
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _history(app, pilot)
        screen.query_one("#run-table").focus()
        await wait_until(pilot, lambda: not footer_key(screen, "Next page").has_class("-disabled"))
        assert footer_key(screen, "Prev page").has_class("-disabled")
        await pilot.press("n")
        await wait_until(pilot, lambda: footer_key(screen, "Next page").has_class("-disabled"))
        assert not footer_key(screen, "Prev page").has_class("-disabled")
        assert screen.page == 1 and screen.query_one("#run-table").row_count == 20


async def test_palette_offers_the_pane_actions_and_runs_them(db, db_path):
    """The History commands come from the keys of the pane and of its run table."""
    from tests.ui.test_costs_pane import run_from_palette

    _seed(db, PAGE_SIZE + 20)
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _history(app, pilot)
        commands = {c.title: c.help for c in app.get_system_commands(screen)}
        for action in ("Open", "Next page", "Prev page", "Search", "Re-run"):
            assert f"History: {action}" in commands, action
        assert commands["History: Next page"] == "Older runs (n)"

        await run_from_palette(pilot, "History: Next page")
        await wait_until(pilot, lambda: screen.page == 1, "the second page")
        assert str(screen.query_one("#run-table").get_row_at(19)[7]) == "answer 0"

        await run_from_palette(pilot, "History: Open")
        await wait_until(pilot, lambda: app.screen is not screen, "the run to open")
        assert "answer 19" in str(app.screen.query_one("#detail-text").render())
