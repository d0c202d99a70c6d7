"""The Costs pane through Pilot: live figures, editable volume, toggles, the chart, evaluations,
the verdict and its Markdown export."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from tests.store.test_evals_store import MODEL, seed_scenario
from tests.ui.conftest import app_factory, wait_until
from workbench.store import evals
from workbench.store.db import open_db
from workbench.store.eval_plan import eval_name_for
from workbench.ui.costs import CostsScreen
from workbench.ui.costs_answers import AnswersDialog
from workbench.ui.costs_chart import CostChart
from workbench.ui.costs_estimate import parse_count


@pytest.fixture
def seeded(db_path):
    db = open_db(db_path)
    seed_scenario(db)
    db.close()
    return db_path


make_app = app_factory("costs", active_prompt="router")


async def settle(app, pilot) -> CostsScreen:
    for _ in range(50):
        await pilot.pause()
        await app.workers.wait_for_complete()
        screen = app.screen
        if isinstance(screen, CostsScreen) and screen.view is not None and not screen._debounce:
            return screen
        await pilot.pause(0.05)
    raise AssertionError("the Costs pane never showed its figures")


async def run_from_palette(pilot, title: str) -> None:
    """ctrl+p, type `title`, wait until it is the palette's first hit, and run it with enter."""
    from textual.command import CommandList

    def first_hit() -> str | None:
        lists = pilot.app.screen.query(CommandList)
        if not lists or lists.first().highlighted is None:
            return None
        hits = lists.first()
        return hits.get_option_at_index(hits.highlighted).hit.text

    await pilot.press("ctrl+p")
    await pilot.press(*title)
    await wait_until(pilot, lambda: first_hit() == title, f"the palette to offer {title!r} first")
    await pilot.press("enter")


def cell(screen, table_id: str, row: str, column: int) -> str:
    table = screen.query_one(table_id, DataTable)
    return str(table.get_row(row)[column])


def test_parse_count():
    assert parse_count("5k") == 5000 and parse_count("1.5M") == 1_500_000
    assert parse_count("1,000") == 1000 and parse_count("") is None and parse_count("lots") is None


async def test_volume_edit_changes_the_figures_and_is_saved(seeded):
    app = make_app(seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(app, pilot)
        table = screen.query_one("#cost-table", DataTable)
        assert table.row_count == 3
        before = cell(screen, "#cost-table", "few-shot", 5)
        per_request = screen.view.estimate.approach("few-shot").per_request
        assert str(table.columns["per month"].label) == "per 100k"
        await pilot.press("v")
        assert screen.focused is screen.query_one("#volume", Input)
        await pilot.press(*"5k", "enter")
        screen = await settle(app, pilot)
        assert screen.view.estimate.settings.volume == 5000
        after = cell(screen, "#cost-table", "few-shot", 5)
        assert after != before
        assert screen.view.estimate.approach("few-shot").per_n(5000) == pytest.approx(
            per_request * 5000
        )
        assert str(table.columns["per month"].label) == "per 5k"
        # the chart follows: break-even and the user's month are drawn
        chart = screen.query_one(CostChart)
        assert set(chart.series) == {"zero-shot", "few-shot", "fine-tuned"}
        assert chart.break_even == screen.view.estimate.break_even
    db = open_db(seeded)
    assert evals.get_cost_settings(db, "router")["volume"] == 5000
    db.close()


async def test_volume_presets(seeded):
    app = make_app(seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        screen = await settle(app, pilot)
        assert screen.view.estimate.settings.volume == 1_000_000
        assert screen.query_one("#volume", Input).value == "1M"
        await pilot.press("1")
        screen = await settle(app, pilot)
        assert screen.view.estimate.settings.volume == 1_000


async def test_invalid_volume_is_flagged_and_ignored(seeded):
    app = make_app(seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(app, pilot)
        await pilot.press("v", *"lots")
        screen = await settle(app, pilot)
        assert screen.query_one("#volume", Input).has_class("-invalid")
        assert screen.view.estimate.settings.volume == 100_000


async def test_batch_and_caching_toggles(seeded):
    app = make_app(seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(app, pilot)
        plain = screen.view.estimate.approach("zero-shot").per_request
        await pilot.press("b")
        screen = await settle(app, pilot)
        assert screen.view.estimate.settings.batch
        assert screen.view.estimate.approach("zero-shot").per_request == pytest.approx(plain / 2)
        await pilot.press("c")
        screen = await settle(app, pilot)
        assert screen.view.estimate.settings.caching
        # no prompt here reaches 1024 tokens: the pane says caching changes nothing
        assert "caching changes nothing" in str(screen.query_one("#cost-summary").render())


async def test_output_tokens_figure(seeded):
    app = make_app(seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(app, pilot)
        await pilot.press("o", *"250", "enter")
        screen = await settle(app, pilot)
        few = screen.view.estimate.approach("few-shot")
        assert few.output_tokens == 250 and few.output_source == "your figure"
        assert cell(screen, "#cost-table", "few-shot", 3) == "250"


async def test_unknown_fine_tuned_model_says_no_price(seeded):
    from workbench.store.prompts import save_draft

    db = open_db(seeded)
    save_draft(db, "router", ft_model="ft:mystery-model:me::x")
    db.close()
    app = make_app(seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(app, pilot)
        assert cell(screen, "#cost-table", "fine-tuned", 4) == "no price"
        assert "$0" not in cell(screen, "#cost-table", "fine-tuned", 5)


def add_finished_eval(db_path, question: str = "ticket [/INST] [bold]x[/bold]"):
    """An evaluation written straight into the store: few-shot passes items 1-16, zero-shot none."""
    db = open_db(db_path)
    group = evals.new_group_id()
    runs = [
        evals.create_run(
            db,
            eval_name=eval_name_for("router", None),
            group_id=group,
            approach=approach,
            model=MODEL,
            scorer={"kind": "exact"},
            seed=1,
            items_total=20,
            prompt_name="router",
        )
        for approach in ("zero-shot", "few-shot")
    ]
    for run in runs:
        for i in range(1, 21):
            ok = run.approach == "few-shot" and i <= 16
            evals.record_item(
                db,
                evals.EvalItem(
                    run.id,
                    i,
                    question if i == 20 else f"q{i}",
                    "hardware",
                    "hardware" if ok else "no idea [/INST]",
                    ok,
                    latency_ms=200.0,
                    cost_usd=1e-4,
                ),
            )
        evals.finish_run(db, run.id)
    db.close()


async def test_evaluate_tab_and_answers_dialog_with_bracketed_text(seeded):
    add_finished_eval(seeded)
    app = make_app(seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(app, pilot)
        screen.query_one("#costs-tabs").active = "ct-evaluate"
        await pilot.pause()
        results = screen.query_one("#eval-table", DataTable)
        assert results.row_count == 2  # zero-shot, few-shot (no fine-tuned model yet)
        assert cell(screen, "#eval-table", "few-shot", 1).startswith("0.80 [0.58–0.92] n=20")
        diff = screen.query_one("#eval-diff", DataTable)
        assert diff.row_count == 16
        diff.focus()
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, AnswersDialog)
        assert "no idea [/INST]" in str(dialog.body)
        await pilot.press("escape")


async def test_verdict_tab_and_markdown_export(seeded, tmp_path, monkeypatch):
    add_finished_eval(seeded)
    monkeypatch.chdir(tmp_path)
    app = make_app(seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(app, pilot)
        screen.query_one("#costs-tabs").active = "ct-verdict"
        await pilot.pause()
        headline = str(screen.query_one("#verdict-headline").render())
        assert "few-shot" in headline
        assert screen.query_one("#verdict-table", DataTable).row_count == 3
        await pilot.press("m")
        await pilot.pause()
        # beside the database, not wherever the app was started
        assert list(tmp_path.glob("verdict-*.md")) == []
        written = list((seeded.parent / "exports").glob("verdict-router-*.md"))
        assert len(written) == 1
        assert str(written[0]) in " ".join(str(n.message) for n in app._notifications)
        text = written[0].read_text()
        assert "| approach | customization | quality (measured) |" in text
        assert "0.80 [0.58–0.92] n=20" in text


async def test_evaluation_through_the_simulator_from_the_pane(seeded, sim, monkeypatch):
    """Press e: the pane runs the test set through the simulator and shows the scores."""
    monkeypatch.setenv("OPENAI_API_KEY", sim.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", sim.base_url)
    app = make_app(seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(app, pilot)
        await pilot.press("e")
        for _ in range(100):
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = await settle(app, pilot)
            if screen.view.group is not None and screen.view.group.finished and screen.view.results:
                break
        results = screen.view.results
        assert results["few-shot"].passes == 16 and results["zero-shot"].passes == 0
        assert screen.query_one("#eval-table", DataTable).row_count == 2
        assert not screen.query_one("#eval-panel").running
    db = open_db(seeded)
    group = evals.latest_group(db, "router / all test examples")
    assert [r.status for r in group.runs] == ["done", "done"]
    assert all(r.items_done == 20 for r in group.runs)
    assert group.runs[0].model == MODEL
    db.close()


async def test_batch_evaluation_from_the_pane(seeded, sim, monkeypatch):
    """Tick 'Batch API' and press e: one batch per approach at the simulator, watched, scored."""
    import workbench.providers.evals as provider_evals

    monkeypatch.setenv("OPENAI_API_KEY", sim.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", sim.base_url)
    real = provider_evals.SdkBatches
    monkeypatch.setattr(
        provider_evals,
        "SdkBatches",
        lambda client: real(client, poll_seconds=0.05, max_poll_seconds=0.2),
    )
    app = make_app(seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(app, pilot)
        screen.query_one("#costs-tabs").active = "ct-evaluate"
        await pilot.pause()
        await pilot.click("#eval-batch")
        await pilot.press("e")
        for _ in range(200):
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = await settle(app, pilot)
            if screen.view.group is not None and screen.view.group.finished and screen.view.results:
                break
        assert screen.view.results["few-shot"].passes == 16
    db = open_db(seeded)
    group = evals.latest_group(db, "router / all test examples")
    # collected: the run forgets its batch id (a resume asks failed items anew), the provider kept both
    assert all(r.mode == "batch" and r.status == "done" and not r.batch_id for r in group.runs)
    names = {(b.metadata or {}).get("label") for b in sim.client().batches.list(limit=100).data}
    assert {f"eval-{r.id}-{r.approach}" for r in group.runs} <= names
    items = evals.list_items(db, group.runs[1].id)
    assert len(items) == 20 and all(i.latency_ms is None for i in items)
    db.close()


async def test_no_api_key_says_so_and_keeps_the_last_evaluation(seeded):
    add_finished_eval(seeded)
    app = make_app(seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(app, pilot)
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = str(screen.query_one("#eval-status").render())
        assert "no API key" in status and "OPENAI_API_KEY" in status
        screen = await settle(app, pilot)
        assert screen.view.results["few-shot"].passes == 16  # the earlier evaluation still counts
    db = open_db(seeded)
    assert len(evals.list_groups(db)) == 1
    db.close()


async def test_ctrl_t_walks_the_tabs_by_key(seeded):
    """Evaluate and Verdict are reachable without a mouse, as the Prompt pane's tabs are."""
    app = make_app(seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(app, pilot)
        tabs = screen.query_one("#costs-tabs")
        seen = []
        for _ in range(3):
            await pilot.press("ctrl+t")
            await pilot.pause()
            seen.append(tabs.active)
        assert seen == ["ct-evaluate", "ct-verdict", "ct-estimate"]
        batch = screen.settings.batch
        await pilot.press("b")  # the pane's own keys still reach it from the tab bar
        await pilot.pause()
        assert screen.settings.batch is not batch


async def test_palette_offers_the_pane_actions_and_runs_them(seeded):
    """The palette's Costs commands come from the pane's keys (help names the key), plus the
    Evaluate tab's key-less Batch API box; x is offered only while an evaluation runs."""
    app = make_app(seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(app, pilot)
        commands = {c.title: c.help for c in app.get_system_commands(screen)}
        for action in (
            "Volume",
            "Output tokens",
            "1k/mo",
            "100k/mo",
            "1M/mo",
            "Caching",
            "Batch",
            "Evaluate",
            "Export .md",
            "Tabs",
            "Recompute",
            "Batch API for evaluations",
        ):
            assert f"Costs: {action}" in commands, action
        assert commands["Costs: Caching"].endswith("(c)")
        assert "Costs: Stop eval" not in commands  # nothing runs: x would do nothing
        assert "Costs: Leave field" not in commands  # escape in a field, not a command

        await run_from_palette(pilot, "Costs: Caching")
        await wait_until(pilot, lambda: screen.settings.caching, "caching to be on")
        assert str(screen.query_one("#cache").label) == "caching on"

        await run_from_palette(pilot, "Costs: Batch API for evaluations")
        await wait_until(
            pilot,
            lambda: evals.get_cost_settings(app.db, "router").get("eval_batch") is True,
            "the Batch API choice to be saved",
        )
        assert screen.query_one("#eval-batch").value

        screen.query_one("#eval-panel").running = True  # what _begin sets as an evaluation starts
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "Costs: Stop eval" in titles


async def test_scorer_and_held_out_set_are_saved_and_come_back(seeded):
    """The Evaluate tab's choices go up to the pane: saved per prompt, the scope recomputed."""
    app = make_app(seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(app, pilot)
        screen.query_one("#costs-tabs").active = "ct-evaluate"
        await pilot.pause()
        screen.query_one("#scorer").value = "contains"
        screen.query_one("#eval-scope").value = "tickets"  # the seed's dataset
        await wait_until(pilot, lambda: screen.eval_scope == "tickets", "the scope in the pane")
        screen = await settle(app, pilot)
        assert screen.view.scope == "tickets" and screen.view.test_items == 20
        assert "dataset tickets" in str(screen.query_one("#eval-status").render())
        saved = evals.get_cost_settings(app.db, "router")
        assert saved["eval_scope"] == "tickets" and saved["scorer"]["kind"] == "contains"

    again = make_app(seeded)
    async with again.run_test(size=(100, 30)) as pilot:
        screen = await settle(again, pilot)
        assert screen.eval_scope == "tickets" and screen.view.scope == "tickets"
        assert screen.query_one("#scorer").value == "contains"
        assert screen.query_one("#eval-scope").value == "tickets"


async def test_estimate_settings_come_back_after_a_restart(seeded):
    """The form's own start-up values (100k, caching off...) never overwrite the saved ones."""
    app = make_app(seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("3", "b", "c", "o", *"250", "enter")
        screen = await settle(app, pilot)
        wanted = (1_000_000, 250, True, True)
        s = screen.settings
        assert (s.volume, s.output_tokens, s.caching, s.batch) == wanted

    again = make_app(seeded)
    async with again.run_test(size=(100, 30)) as pilot:
        screen = await settle(again, pilot)
        s = screen.view.estimate.settings
        assert (s.volume, s.output_tokens, s.caching, s.batch) == wanted
        assert screen.query_one("#volume", Input).value == "1M"
        assert screen.query_one("#output-tokens", Input).value == "250"
        assert str(screen.query_one("#batch").label) == "batch on"
        assert screen.view.dataset == "tickets" and screen.dataset == "tickets"
    db = open_db(seeded)
    saved = evals.get_cost_settings(db, "router")
    db.close()
    assert (saved["volume"], saved["output_tokens"], saved["caching"], saved["batch"]) == wanted
