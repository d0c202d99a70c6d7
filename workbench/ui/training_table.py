"""The examples table: one widget that draws only the visible rows, paged from SQLite.

toolong's pattern: a ScrollView whose virtual height is the row count, `render_line()` per visible
line, and a small cache of pages. It holds the ids of the filtered, sorted rows (cheap even for 100k)
and asks its owner for the rows of one page at a time, so a 100k-row dataset costs one widget and a
few hundred Example objects. Every cell is rich Text, never markup.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from workbench.store.examples import Example

PAGE_ROWS = 100
MAX_PAGES = 6

# (title, width); the last column takes what is left.
COLUMNS: tuple[tuple[str, int], ...] = (("", 2), ("line", 6), ("split", 6), ("tokens", 7))
SPLIT_LABELS = {"train": "train", "validation": "valid", "test": "test", "few-shot": "shot"}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


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
        parts.append(_content_text(user.get("content")))
    if reply is not None:
        text = _content_text(reply.get("content"))
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


class ExampleTable(ScrollView, can_focus=True):
    """The rows of the current dataset view; only visible lines are drawn."""

    COMPONENT_CLASSES = {"example-table--cursor"}
    DEFAULT_CSS = """
    ExampleTable > .example-table--cursor { background: $block-cursor-background; }
    """

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "edit", "Edit", id="training-edit"),
        Binding("d", "delete", "Delete", id="training-delete-row"),
        Binding("p", "promote", "Few-shot", show=False, id="training-promote"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)

    @dataclass
    class RowMessage(Message):
        table: ExampleTable
        example_id: int

        @property
        def control(self) -> ExampleTable:
            return self.table

    class Highlighted(RowMessage):
        """The cursor moved to another row."""

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
        self._pages: OrderedDict[int, list[Example]] = OrderedDict()
        self.pages_loaded = 0  # how many page fetches happened (tests and the bench read it)

    # --- data ---------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._ids)

    @property
    def rows_held(self) -> int:
        """Example objects in memory right now: bounded by PAGE_ROWS * MAX_PAGES."""
        return sum(len(page) for page in self._pages.values())

    def set_rows(self, ids: list[int], keep_id: int | None = None) -> None:
        """Show these rows (already filtered and sorted); keep the cursor on `keep_id` if present."""
        self._ids = ids
        self._pages.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, len(ids))
        index = None
        if keep_id is not None:
            try:
                index = ids.index(keep_id)
            except ValueError:
                index = None
        self.cursor = min(index if index is not None else self.cursor, max(0, len(ids) - 1))
        self.refresh()

    def invalidate(self) -> None:
        """Rows changed in the store (same ids): fetch again when drawn."""
        self._pages.clear()
        self.refresh()

    def example_at(self, index: int) -> Example | None:
        if not 0 <= index < len(self._ids):
            return None
        page_no, offset = divmod(index, PAGE_ROWS)
        page = self._pages.get(page_no)
        if page is None:
            ids = self._ids[page_no * PAGE_ROWS : (page_no + 1) * PAGE_ROWS]
            page = self._fetch(ids)
            self.pages_loaded += 1
            self._pages[page_no] = page
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page[offset] if offset < len(page) else None

    @property
    def current_id(self) -> int | None:
        return self._ids[self.cursor] if 0 <= self.cursor < len(self._ids) else None

    @property
    def current(self) -> Example | None:
        return self.example_at(self.cursor)

    # --- drawing ------------------------------------------------------------------------------

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._ids))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        example = self.example_at(index)
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

    def watch_cursor(self, old: int, new: int) -> None:
        self.scroll_to_cursor()
        self.refresh()
        current = self.current_id
        if current is not None:
            self.post_message(self.Highlighted(self, current))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def scroll_to_cursor(self) -> None:
        height = self.scrollable_content_region.height
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif height and self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def on_click(self, event) -> None:
        index = self.scroll_offset.y + event.y
        if 0 <= index < len(self._ids):
            if index == self.cursor and event.chain >= 2:
                self.action_edit()
            self.cursor = index

    # --- actions ------------------------------------------------------------------------------

    def _move(self, index: int) -> None:
        if self._ids:
            self.cursor = max(0, min(index, len(self._ids) - 1))

    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor + direction * max(1, self.scrollable_content_region.height - 1))

    def action_jump(self, where: int) -> None:
        self._move(len(self._ids) - 1 if where < 0 else where)

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
