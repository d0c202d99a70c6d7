"""The example list: one line per example, paged from SQLite as the user scrolls.

A `PagedList` (ui/widgets/paged_list.py): only the pages under the viewport are ever held (a few
hundred rows), so a library of thousands of examples costs the same as one of ten. Text is rich
`Text`, never markup.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.strip import Strip

from workbench.core.fewshot import pair_from_messages
from workbench.store.examples import Example
from workbench.ui.widgets.paged_list import PagedList

PAGE_SIZE = 100
MAX_PAGES = 8
SPLIT_LABELS = {"few-shot": "few", "train": "train", "validation": "valid", "test": "test"}


@dataclass
class RowSource:
    """Where the list reads from: how many rows match, and one page of them."""

    count: Callable[[], int]
    page: Callable[[int, int], list[Example]]  # (offset, limit)


def one_line(text: str) -> str:
    return " ".join(text.split())


class ExampleList(PagedList[Example]):
    """A virtual list of examples with a cursor (`PagedList`); posts Highlighted when it moves."""

    COMPONENT_CLASSES = {"example-list--cursor", "example-list--picked", "example-list--dim"}
    PAGE_SIZE = PAGE_SIZE
    MAX_PAGES = MAX_PAGES

    class Highlighted(PagedList.Highlighted):
        """The cursor is on another example (None: nothing is listed)."""

        @property
        def example(self) -> Example | None:
            return self.row

    @dataclass
    class HeaderChanged(Message):
        """The column titles for the list's current width (the pane shows them above it)."""

        header: Text

    def __init__(self, source: RowSource | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.total = 0
        self.marks: dict[int, int] = {}  # example id -> 1-based position in the prompt
        self.cost_of: Callable[[Example], int | None] = lambda e: None
        self.empty_text = "No examples match."

    # --- data -------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return self.total

    def fetch_page(self, number: int) -> list[Example]:
        if self.source is None:
            return []
        return self.source.page(number * PAGE_SIZE, PAGE_SIZE)

    def reload(self, keep_id: int | None = None) -> None:
        """Forget cached pages, recount, keep the cursor on `keep_id` when it is still listed."""
        self.total = self.source.count() if self.source else 0
        self.rows_changed()
        cursor = min(self.cursor, max(self.total - 1, 0))
        if keep_id is not None:
            # an edited example stays near the cursor; a new one is last (library order)
            near = range(max(cursor - PAGE_SIZE, 0), min(cursor + PAGE_SIZE, self.total))
            last = range(self.total - 1, max(self.total - PAGE_SIZE, 0) - 1, -1)
            for index in itertools.chain(last, near):
                row = self.row(index)
                if row is not None and row.id == keep_id:
                    cursor = index
                    break
        self.cursor = cursor

    def on_resize(self) -> None:
        # the base sizes the list; the pane's column titles follow the width
        self.post_message(self.HeaderChanged(self.header_text(self.row_width)))

    @property
    def row_width(self) -> int:
        """Cells a row's columns use: the width less the scrollbar's column, shown or not."""
        return max(self.size.width - 1, 1)

    @staticmethod
    def columns(width: int) -> tuple[int, int, int]:
        """(input, output, tags) widths; tags only when there is room."""
        tags_width = 14 if width >= 60 else 0
        rest = max(width - 4 - 6 - 7 - tags_width - 3 - 1, 10)
        w_in = rest * 3 // 5
        return w_in, rest - w_in, tags_width

    def header_text(self, width: int) -> Text:
        w_in, w_out, tags_width = self.columns(width)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(f"{'':<4}{'split':<6}{'input':<{w_in}}   {'output':<{w_out}}")
        if tags_width:
            text.append(" " + "tags".ljust(tags_width - 1))
        text.append(f"{'tokens':>7}")
        return text

    # --- rendering --------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        base = self.rich_style
        if self.total == 0:
            if y == 0:
                text = Text(
                    self.empty_text, style=self.get_component_rich_style("example-list--dim")
                )
                return self._strip(text, width, base)
            return Strip.blank(width, base)
        example = self.row(index)
        if example is None:
            return Strip.blank(width, base)
        over = (
            self.get_component_rich_style("example-list--cursor") if index == self.cursor else None
        )
        return self._strip(self.row_text(example, width), width, base, over)

    def _strip(self, text: Text, width: int, base: Style, over: Style | None = None) -> Strip:
        """`text` as one line of `width` cells on the widget's background (`over` on top)."""
        text.truncate(width, overflow="ellipsis", pad=True)
        segments = []
        for seg in text.render(self.app.console):
            if seg.text == "\n":
                continue
            style = base + seg.style if seg.style else base
            segments.append(Segment(seg.text, style + over if over else style))
        return Strip(segments)

    def row_text(self, example: Example, width: int) -> Text:
        """One example as a line: pick mark, split, input → output, tags, token cost."""
        dim = self.get_component_rich_style("example-list--dim")
        picked = self.get_component_rich_style("example-list--picked")
        position = self.marks.get(example.id)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(f"{'●' + str(position) if position else '○':<4}", picked if position else dim)
        text.append(f"{SPLIT_LABELS.get(example.split, example.split):<6}", dim)
        cost = self.cost_of(example)
        cost_text = f"{cost:>7}" if cost is not None else f"{'…':>7}"
        w_in, w_out, tags_width = self.columns(self.row_width)
        if example.data is None:
            text.append(_fit(one_line(example.raw or ""), w_in + w_out + 3), "red")
        else:
            text_in, text_out = pair_from_messages(example.messages)
            turns = sum(1 for m in example.messages if m.get("role") == "user")
            if turns > 1:
                text_in = f"({turns} turns) {text_in}"
            text.append(_fit(one_line(text_in), w_in))
            text.append(" → ", dim)
            text.append(_fit(one_line(text_out), w_out))
        if tags_width:
            text.append(" " + _fit(", ".join(example.tags), tags_width - 1), dim)
        text.append(cost_text, dim)
        text.append(" ")
        return text


def _fit(value: str, width: int) -> str:
    if width <= 0:
        return ""
    if len(value) > width:
        return value[: max(width - 1, 0)] + "…"
    return value.ljust(width)
