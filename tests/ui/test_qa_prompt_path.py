"""Found walking the prompt-engineering path as a new user (QA): each test failed before its fix."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.text import Text

from tests.ui.conftest import make_app, wait_until
from workbench.store.db import open_db
from workbench.store.prompts import latest_version


async def test_typing_right_after_start_lands_in_the_system_prompt(db_path):
    """The first screen shows two empty editors; typing must not vanish into the tab bar."""
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"Route tickets.")
        await pilot.pause()
        assert app.screen.query_one("#system").text == "Route tickets."
    db = open_db(db_path)
    try:
        assert latest_version(db, "default").system == "Route tickets."
    finally:
        db.close()


async def test_next_tab_to_variables_lets_you_type_the_value(db_path):
    """ctrl+t onto Variables used to focus the scrolling form, so the typed value went nowhere."""
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"Route.", "tab", *"Ticket: {{ticket}}")
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        await pilot.pause()
        await pilot.press(*"charged [bold]twice")
        await pilot.pause()
        assert app.screen.content.get("variables") == {"ticket": "charged [bold]twice"}


def test_output_sources_are_named_per_approach_when_they_differ():
    """Zero/few-shot averaged recorded runs while fine-tuned used the examples' replies; the
    Costs pane used to show only the first source, as if all three came from the runs."""
    from workbench.core.estimate import ApproachTokens, estimate
    from workbench.ui.costs_estimate import output_sources

    model = "gpt-4.1-mini-2025-04-14"

    reqs = [
        ApproachTokens("zero-shot", model, 54, 22, 45, "average of 1 recorded run"),
        ApproachTokens("few-shot", model, 154, 122, 43, "average of 1 recorded run"),
        ApproachTokens("fine-tuned", model, 54, 22, 5, "average reply in your examples"),
    ]
    text = output_sources(estimate(reqs))
    assert text == (
        "zero-shot/few-shot: average of 1 recorded run; fine-tuned: average reply in your examples"
    )
    assert output_sources(estimate(reqs[:2])) == "average of 1 recorded run"


async def test_costs_enter_in_the_volume_hands_the_keys_back(db_path):
    """After typing a volume and enter, e (Evaluate), b (Batch)... were typed into the field;
    escape did not leave it either. Now enter applies and leaves, and escape leaves."""
    from textual.widgets import Input

    from workbench.ui.costs import CostsScreen

    app = make_app(db_path, start_pane="costs")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, CostsScreen) and app.screen.view is not None,
            "the Costs pane to show its figures",
        )
        screen = app.screen
        await pilot.press("v")
        assert isinstance(screen.focused, Input)
        await pilot.press(*"5k", "enter")
        await pilot.pause()
        assert not isinstance(screen.focused, Input)
        await pilot.press("b")  # a screen key again, not a letter in the field
        await pilot.pause()
        assert screen.query_one("#volume", Input).value == "5k"
        assert screen.settings.batch
        await pilot.press("o")
        assert isinstance(screen.focused, Input)
        await pilot.press("escape")
        assert not isinstance(screen.focused, Input)


async def test_a_long_provider_error_is_not_clipped_in_a_narrow_run_column(db_path):
    """A 429's message ("... Please try again in 1s ...") was cut after five lines."""
    message = (
        "rate limited at http://127.0.0.1:1/v1: Rate limit reached for requests in organization "
        "sim-org on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s."
    )
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.action_show_tab("pt-run")
        await pilot.pause()
        column = app.screen.query_one("#run-zero-shot")
        column.show_problem(message)
        await pilot.pause()
        await pilot.pause()
        problem = column.query_one(".run-problem")
        width = problem.content_size.width
        needed = len(Text(message).wrap(Console(width=width), width))
        assert needed > 5
        assert problem.size.height == needed  # all of it, in a scrolling box


async def test_evaluate_tab_shows_no_pulsing_progress_bar_when_nothing_runs(db_path):
    """With no total the bar pulses, which read as an evaluation still running."""
    from textual.widgets import ProgressBar

    from workbench.ui.costs import CostsScreen

    app = make_app(db_path, start_pane="costs")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, CostsScreen) and app.screen.view is not None,
            "the Costs pane to show its figures",
        )
        app.screen.query_one("#costs-tabs").active = "ct-evaluate"
        await pilot.pause()
        assert not app.screen.query_one("#eval-progress", ProgressBar).display


async def test_history_page_keys_are_dimmed_when_there_is_one_page(db_path):
    """'n Next page' and 'p Prev page' sat in the footer and did nothing with a single page."""
    from workbench.ui.history import RunTable

    app = make_app(db_path, start_pane="history")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(RunTable)
        assert table.check_action("page", (1,)) is None
        assert table.check_action("page", (-1,)) is None
        app.screen.total = 250  # three pages: the next one exists, the previous does not
        assert table.check_action("page", (1,)) is True
        assert table.check_action("page", (-1,)) is None


async def test_an_evaluation_where_every_call_is_rate_limited_says_why(db_path, sim, monkeypatch):
    """With a 429 on every call the table showed 'errors 20' and 'no price' and the status line
    said nothing of the rate limit. Now the runs are failed and the reason is shown."""
    from tests.store.test_evals_store import seed_scenario
    from workbench.store import evals
    from workbench.ui.costs import CostsScreen

    db = open_db(db_path)
    seed_scenario(db)
    db.close()
    monkeypatch.setenv("OPENAI_API_KEY", sim.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", sim.base_url)
    sim.fault("429", path="/v1/chat/completions", count=1000, retry_after=0)
    app = make_app(db_path, start_pane="costs")
    app.active_prompt = "router"
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(
                pilot,
                lambda: isinstance(app.screen, CostsScreen) and app.screen.view is not None,
                "the Costs pane to show its figures",
            )
            screen = app.screen
            await pilot.press("e")

            def evaluation_over() -> bool:
                group = screen.view.group if screen.view else None
                return bool(
                    group is not None
                    and group.finished
                    and not screen.query_one("#eval-panel").running
                )

            await wait_until(pilot, evaluation_over, "the evaluation to finish", timeout=60)
            await app.workers.wait_for_complete()
            await pilot.pause()
            status = str(screen.query_one("#eval-status").render())
            assert "no answer at all" in status and "rate limit" in status.lower()
            row = [str(c) for c in screen.query_one("#eval-table").get_row("zero-shot")]
            assert "no price" not in row  # nothing was answered, so nothing to price
    finally:
        sim.clear_faults()
    db = open_db(db_path)
    group = evals.latest_group(db, "router / all test examples")
    assert {r.status for r in group.runs} == {"failed"}
    assert all("rate limit" in (r.error or "").lower() for r in group.runs)
    db.close()


@pytest.mark.parametrize("pane", ["prompt", "examples", "history", "costs"])
async def test_footer_keys_fit_80_columns(db_path, pane):
    """At 80 columns the Examples footer ran '^q Quit' under the palette key ('^q Qui')."""
    from textual.widgets import Footer
    from textual.widgets._footer import FooterKey

    app = make_app(db_path, start_pane=pane)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(5):
            await pilot.pause()
        keys = list(app.screen.query_one(Footer).query(FooterKey))
        palette = next(k for k in keys if k.description == "palette")
        for key in keys:
            if key is not palette:
                assert key.region.right <= palette.region.x, f"{key.description} is cut"
