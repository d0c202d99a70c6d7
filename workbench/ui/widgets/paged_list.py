"""A virtual list with a cursor, paged from the store: the base of every long list of rows.

toolong's pattern: a ScrollView whose virtual height is the row count and `render_line()` per
visible line, so ten rows or a hundred thousand cost one widget. Rows are fetched a page at a time
by the subclass (`fetch_page`) and a few pages are held (least recently used goes first). The base
owns what every such list does the same way: the cursor and its keys (up/k, down/j, page up/down,
home, end), keeping the cursor in view, clicks, and the `Highlighted` message up; a subclass says
how many rows there are, how to fetch a page and how to draw a line.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView

RowT = TypeVar("RowT")


class PagedList(ScrollView, Generic[RowT], can_focus=True):
    """Rows `0 … row_count - 1` with a cursor; only the visible lines are drawn.

    Subclasses implement `row_count`, `fetch_page()` and `render_line()`, and call
    `rows_changed()` when the rows are new (a reload, a filter).
    """

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
    ]

    PAGE_SIZE: ClassVar[int] = 100
    MAX_PAGES: ClassVar[int] = 6

    cursor: reactive[int] = reactive(0, always_update=True)

    @dataclass
    class Highlighted(Message):
        """The cursor is on another row (or the rows under it changed); `row` is None when the
        list is empty."""

        paged_list: PagedList[Any]
        index: int
        row: Any

        @property
        def control(self) -> PagedList[Any]:
            return self.paged_list

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pages: OrderedDict[int, list[RowT]] = OrderedDict()
        self.pages_loaded = 0  # how many page fetches happened (tests and the bench read it)

    # --- rows: the subclass says how many and fetches a page --------------------------------

    @property
    def row_count(self) -> int:
        raise NotImplementedError

    def fetch_page(self, number: int) -> list[RowT]:
        """Rows `number * PAGE_SIZE` … of the current view, at most PAGE_SIZE of them."""
        raise NotImplementedError

    @property
    def rows_held(self) -> int:
        """Rows in memory right now: bounded by PAGE_SIZE * MAX_PAGES."""
        return sum(len(page) for page in self._pages.values())

    def row(self, index: int) -> RowT | None:
        """The row at `index`, fetching its page when it is not held."""
        if not 0 <= index < self.row_count:
            return None
        number, offset = divmod(index, self.PAGE_SIZE)
        page = self._pages.get(number)
        if page is None:
            page = self._pages[number] = self.fetch_page(number)
            self.pages_loaded += 1
            while len(self._pages) > self.MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(number)
        return page[offset] if offset < len(page) else None

    @property
    def highlighted(self) -> RowT | None:
        """The row under the cursor."""
        return self.row(self.cursor)

    def rows_changed(self) -> None:
        """Forget the held pages and size the list for `row_count` rows (the cursor is kept in
        range by whoever sets it next)."""
        self._pages.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, self.row_count)
        self.refresh()

    def invalidate(self) -> None:
        """The rows changed in the store (same rows, new contents): fetch again when drawn."""
        self._pages.clear()
        self.refresh()

    # --- the cursor ---------------------------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, self.row_count - 1)) if self.row_count else 0

    def watch_cursor(self, value: int) -> None:
        self.scroll_to_cursor()
        self.refresh()
        self.post_message(self.Highlighted(self, value, self.row(value)))

    def scroll_to_cursor(self) -> None:
        height = self.scrollable_content_region.height
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif height and self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.cursor += direction * max(1, self.scrollable_content_region.height - 1)

    def action_jump(self, where: int) -> None:
        self.cursor = self.row_count - 1 if where < 0 else where

    # --- events -------------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        self.focus()
        index = self.scroll_offset.y + event.y
        if 0 <= index < self.row_count:
            again = index == self.cursor
            self.cursor = index
            if again and event.chain >= 2:
                self.row_chosen(index)

    def row_chosen(self, index: int) -> None:
        """A double click on the row under the cursor (a subclass may open it)."""

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self.row_count)

    def on_focus(self) -> None:
        self.refresh()  # the cursor is drawn differently with and without the focus

    def on_blur(self) -> None:
        self.refresh()
