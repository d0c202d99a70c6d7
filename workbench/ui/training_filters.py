"""The filter bar above the Training table: search text, split, and "problems only".

It owns its controls and the pause after typing, and posts `Changed` when the rows to show are
different; the pane asks for `filters` (the store's query arguments) and reloads the table.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Checkbox, Input, Select

from workbench.ui.widgets.search import SearchInput

SPLIT_FILTERS = [("train", "train"), ("validation", "validation"), ("test", "test")]
SEARCH_DELAY = 0.25


class RowFilters(Horizontal):
    """Search, split and problems-only; `filters` are `store.dataset_export.example_ids`'s."""

    class Changed(Message):
        """The filters are different: the rows to show are too."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield SearchInput(placeholder="/ search", id="search", compact=True)
        yield Select(SPLIT_FILTERS, prompt="all splits", id="split-filter", compact=True)
        yield Checkbox("problems only", id="problems-only", compact=True)

    @property
    def filters(self) -> dict[str, Any]:
        split = self.query_one("#split-filter", Select).value
        return {
            "split": split if isinstance(split, str) else None,
            "search": self.query_one("#search", Input).value.strip() or None,
            "with_problems": True if self.query_one("#problems-only", Checkbox).value else None,
        }

    def focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def toggle_problems(self) -> None:
        box = self.query_one("#problems-only", Checkbox)
        box.value = not box.value

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY, lambda: self.post_message(self.Changed()))

    @on(Select.Changed, "#split-filter")
    @on(Checkbox.Changed, "#problems-only")
    def _filter_changed(self, event: Message) -> None:
        event.stop()
        self.post_message(self.Changed())
