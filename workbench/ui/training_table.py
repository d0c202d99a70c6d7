"""The examples table: one widget that draws only the visible rows, paged from SQLite.

A `PagedList` (ui/widgets/paged_list.py): it holds the ids of the filtered, sorted rows (cheap even
for 100k) and asks its owner for the rows of one page at a time, so a 100k-row dataset costs one
widget and a few hundred Example objects. Every cell is rich Text, never markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip
from textual.widgets import Static

from workbench.core.messages import content_text
from workbench.store.examples import Example
from workbench.ui.widgets.paged_list import PagedList

PAGE_ROWS = 100
MAX_PAGES = 6

# (title, width); the last column takes what is left.
COLUMNS: tuple[tuple[str, int], ...] = (("", 2), ("line", 6), ("split", 6), ("tokens", 7))
SPLIT_LABELS = {"train": "train", "validation": "valid", "test": "test", "few-shot": "shot"}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _preview_text(content: object) -> str:
    """`content_text` for a one-line preview: text parts read as words, so a space between them."""
    if isinstance(content, list):
        return " ".join(text for text in (content_text([part]) for part in content) if text)
    return content_text(content)


def example_preview(example: Example) -> str:
    """One line that says what the example is: the last user turn → the assistant's reply."""
    if example.data is None:
        return _one_line(example.raw or "")
    messages = example.messages
    user = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    reply = next((m for m in reversed(messages) if m.get("role") == "assistant"), None)
    if not messages:
        return _one_line(str(example.data))
    parts = []
    if user is not None:
        parts.append(_preview_text(user.get("content")))
    if reply is not None:
        text = _preview_text(reply.get("content"))
        if not text and reply.get("tool_calls"):
            text = "(tool call)"
        parts.append(text)
    return _one_line(" → ".join(parts))


def has_errors(example: Example) -> bool:
    return example.data is None or any(
        p.get("severity", "error") == "error" for p in example.problems
    )


def row_text(example: Example, width: int) -> Text:
    """A table row as Text (user text is data: no markup is parsed)."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    if has_errors(example):
        text.append("⚠ ", style="bold red")
    elif example.problems:
        text.append("! ", style="yellow")
    else:
        text.append("  ")
    line = str(example.source_line) if example.source_line is not None else "new"
    text.append(f"{line:>5} ", style="dim")
    text.append(f"{SPLIT_LABELS.get(example.split, example.split):<6}")
    tokens = f"{example.tokens:,}" if example.tokens is not None else "–"
    text.append(f"{tokens:>6} ", style="cyan")
    if example.problems:
        first = example.problems[0]
        style = "red" if first.get("severity", "error") == "error" else "yellow"
        text.append(f"{first.get('message', first.get('code', ''))} ", style=style)
        text.append("│ ", style="dim")
    text.append(example_preview(example))
    text.truncate(width, overflow="ellipsis", pad=True)
    return text


def header_text(width: int, order: str) -> Text:
    arrows = {"line": ("line", "↑"), "tokens": ("tokens", "↑"), "-tokens": ("tokens", "↓")}
    sorted_col, arrow = arrows.get(order, ("", ""))
    text = Text(no_wrap=True, end="", style="bold")
    for title, size in COLUMNS:
        label = title + (arrow if title == sorted_col and title else "")
        text.append(f"{label:>{size - 1}} " if title in ("line", "tokens") else f"{label:<{size}}")
    text.append("example")
    text.truncate(width, pad=True)
    return text


class TableHeader(Static):
    """The column titles above the table (with the sort arrow); click a title to sort by it."""

    class SortClicked(Message):
        def __init__(self, column: str) -> None:
            super().__init__()
            self.column = column  # "line", "tokens" or "" (file order)

    def on_click(self, event) -> None:
        x = event.x
        for title, size in COLUMNS:
            if x < size:
                self.post_message(self.SortClicked(title if title in ("line", "tokens") else ""))
                return
            x -= size
        self.post_message(self.SortClicked(""))


class ExampleTable(PagedList[Example]):
    """The rows of the current dataset view; only visible lines are drawn.

    It holds the ids of the filtered, sorted rows and asks its owner for the rows of one page of
    ids at a time (`fetch`); the cursor, its keys and the paging are `PagedList`'s.
    """

    COMPONENT_CLASSES = {"example-table--cursor"}
    DEFAULT_CSS = """
    ExampleTable > .example-table--cursor { background: $block-cursor-background; }
    """

    BINDINGS = [
        Binding("enter", "edit", "Edit", id="training-edit", tooltip="Open the row in the editor"),
        Binding(
            "d",
            "delete",
            "Delete",
            id="training-delete-row",
            tooltip="Delete the row under the cursor (ctrl+z undoes it)",
        ),
        Binding(
            "p",
            "promote",
            "Promote to few-shot",
            show=False,
            id="training-promote",
            tooltip="Move the row to the few-shot library (Examples pane)",
        ),
    ]

    PAGE_SIZE = PAGE_ROWS
    MAX_PAGES = MAX_PAGES

    class Highlighted(PagedList.Highlighted):
        """The cursor moved to another row."""

    @dataclass
    class RowMessage(Message):
        table: ExampleTable
        example_id: int

        @property
        def control(self) -> ExampleTable:
            return self.table

    class EditRequested(RowMessage):
        """Open the row in the editor."""

    class DeleteRequested(RowMessage):
        """Delete the row (undoable)."""

    class PromoteRequested(RowMessage):
        """Move the row to the few-shot library."""

    def __init__(self, fetch: Callable[[Sequence[int]], list[Example]], **kwargs) -> None:
        super().__init__(**kwargs)
        self._fetch = fetch
        self._ids: list[int] = []

    # --- data ---------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._ids)

    def fetch_page(self, number: int) -> list[Example]:
        return self._fetch(self._ids[number * PAGE_ROWS : (number + 1) * PAGE_ROWS])

    def set_rows(self, ids: list[int], keep_id: int | None = None) -> None:
        """Show these rows (already filtered and sorted); keep the cursor on `keep_id` if present."""
        self._ids = ids
        self.rows_changed()
        index = ids.index(keep_id) if keep_id is not None and keep_id in ids else None
        self.cursor = index if index is not None else self.cursor

    @property
    def current_id(self) -> int | None:
        return self._ids[self.cursor] if 0 <= self.cursor < len(self._ids) else None

    # --- drawing ------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        example = self.row(index)
        if example is None:
            return Strip.blank(width, self.rich_style)
        text = row_text(example, width)
        if index == self.cursor:
            cursor_style = self.get_component_rich_style("example-table--cursor")
            if not self.has_focus:
                cursor_style = cursor_style + Style(dim=True)
            text.stylize(cursor_style)
        strip = Strip(list(text.render(self.app.console, end="")), text.cell_len)
        return strip.adjust_cell_length(width, self.rich_style).apply_style(self.rich_style)

    def row_chosen(self, index: int) -> None:
        self.action_edit()

    # --- actions ------------------------------------------------------------------------------

    def _post(self, kind: type[RowMessage]) -> None:
        current = self.current_id
        if current is not None:
            self.post_message(kind(self, current))

    def action_edit(self) -> None:
        self._post(self.EditRequested)

    def action_delete(self) -> None:
        self._post(self.DeleteRequested)

    def action_promote(self) -> None:
        self._post(self.PromoteRequested)
