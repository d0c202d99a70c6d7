"""The bars above the Examples list and the Training table, each in an app of its own: what they
post up when the user changes them, and that what the pane hands down is not echoed back."""

from __future__ import annotations

from textual import on
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import Checkbox, Input, Select, Static

from tests.ui.conftest import wait_until
from workbench.core.fewshot import FewShotSelection
from workbench.ui.examples_selection import SelectionBar
from workbench.ui.training_filters import RowFilters


class BarApp(App):
    def __init__(self, bar_type: type) -> None:
        super().__init__()
        self.bar_type = bar_type
        self.posted: list[Message] = []

    def compose(self) -> ComposeResult:
        yield self.bar_type()

    @on(SelectionBar.ModeChosen)
    @on(SelectionBar.Changed)
    @on(RowFilters.Changed)
    def _record(self, event: Message) -> None:
        self.posted.append(event)


async def test_selection_bar_posts_the_users_changes_not_the_panes():
    app = BarApp(SelectionBar)
    async with app.run_test(size=(120, 5)) as pilot:
        bar = app.query_one(SelectionBar)
        await pilot.pause()
        bar.set_tags(["billing", "tone [x]"])
        bar.show(FewShotSelection("recent", (), 3, "billing"))
        bar.show_size("support", 2, 120, exact=False)
        await pilot.pause()
        assert app.posted == []  # handed down, not announced back
        assert bar.query_one("#selection-tag", Select).value == "billing"
        total = str(bar.query_one("#selection-total", Static).render())
        assert total == "2 examples · ≈120 tokens"

        bar.query_one("#selection-k", Input).value = "5"
        await wait_until(pilot, lambda: len(app.posted) == 1, "Changed for k")
        assert isinstance(app.posted[0], SelectionBar.Changed)
        assert app.posted[0].selection == FewShotSelection("recent", (), 5, "billing")

        bar.query_one("#selection-mode", Select).value = "tag"
        await wait_until(pilot, lambda: len(app.posted) == 2, "ModeChosen")
        assert isinstance(app.posted[1], SelectionBar.ModeChosen)
        assert app.posted[1].mode == "tag"


async def test_row_filters_post_once_after_typing_and_at_once_for_a_tick():
    app = BarApp(RowFilters)
    async with app.run_test(size=(100, 5)) as pilot:
        bar = app.query_one(RowFilters)
        await pilot.pause()
        assert bar.filters == {"split": None, "search": None, "with_problems": None}
        bar.focus_search()
        await pilot.press(*"alpha")
        await wait_until(pilot, lambda: app.posted, "Changed after the pause")
        assert len(app.posted) == 1  # one for the five keys, not one a key
        assert bar.filters["search"] == "alpha"

        bar.toggle_problems()
        await wait_until(pilot, lambda: len(app.posted) == 2, "Changed for the tick")
        assert bar.query_one("#problems-only", Checkbox).value is True
        bar.query_one("#split-filter", Select).value = "validation"
        await wait_until(pilot, lambda: len(app.posted) == 3, "Changed for the split")
        assert bar.filters == {"split": "validation", "search": "alpha", "with_problems": True}
