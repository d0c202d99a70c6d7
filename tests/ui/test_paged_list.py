"""PagedList, the base of the Examples list and the Training table, in an app of its own."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.strip import Strip

from tests.ui.conftest import wait_until
from workbench.ui.widgets.paged_list import PagedList

ROWS = 1000
HEIGHT = 10


class Numbers(PagedList[str]):
    """Rows "row 0" … "row 999", fetched a page at a time; the chosen rows are kept."""

    DEFAULT_CSS = "Numbers { height: 10; }"
    PAGE_SIZE = 50
    MAX_PAGES = 3

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count
        self.fetched: list[int] = []
        self.chosen: list[int] = []

    @property
    def row_count(self) -> int:
        return self.count

    def fetch_page(self, number: int) -> list[str]:
        self.fetched.append(number)
        start = number * self.PAGE_SIZE
        return [f"row {i}" for i in range(start, min(start + self.PAGE_SIZE, self.count))]

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        row = self.row(index)
        text = Text(("> " if index == self.cursor else "  ") + (row or ""))
        return Strip(list(text.render(self.app.console, end="")))

    def row_chosen(self, index: int) -> None:
        self.chosen.append(index)


class ListApp(App):
    def __init__(self, count: int = ROWS) -> None:
        super().__init__()
        self.count = count
        self.highlighted: list[tuple[int, str | None]] = []

    def compose(self) -> ComposeResult:
        yield Numbers(self.count)

    def on_mount(self) -> None:
        self.numbers.rows_changed()
        self.numbers.focus()

    @property
    def numbers(self) -> Numbers:
        return self.query_one(Numbers)

    @on(PagedList.Highlighted)
    def _highlighted(self, event: PagedList.Highlighted) -> None:
        assert event.control is self.numbers
        self.highlighted.append((event.index, event.row))


async def test_the_keys_move_the_cursor_and_keep_it_in_view():
    app = ListApp()
    async with app.run_test(size=(40, 20)) as pilot:
        numbers = app.numbers
        await pilot.pause()
        assert numbers.cursor == 0
        await pilot.press("down", "j", "j")
        await wait_until(pilot, lambda: numbers.cursor == 3)
        await pilot.press("k", "up")
        await wait_until(pilot, lambda: numbers.cursor == 1)
        await pilot.press("up", "up")  # not above the first row
        await wait_until(pilot, lambda: numbers.cursor == 0)

        await pilot.press("pagedown")
        await wait_until(pilot, lambda: numbers.cursor == HEIGHT - 1)
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: numbers.cursor == 2 * (HEIGHT - 1))
        # the cursor stays on screen: the last visible line
        assert numbers.scroll_offset.y == 2 * (HEIGHT - 1) - HEIGHT + 1
        await pilot.press("pageup")
        await wait_until(pilot, lambda: numbers.cursor == HEIGHT - 1)

        await pilot.press("end")
        await wait_until(pilot, lambda: numbers.cursor == ROWS - 1)
        assert numbers.scroll_offset.y == ROWS - HEIGHT
        assert numbers.highlighted == f"row {ROWS - 1}"
        await pilot.press("down")  # not below the last row
        await pilot.pause()
        assert numbers.cursor == ROWS - 1
        await pilot.press("home")
        await wait_until(pilot, lambda: numbers.cursor == 0)
        assert numbers.scroll_offset.y == 0


async def test_every_move_posts_highlighted_with_the_row():
    app = ListApp()
    async with app.run_test(size=(40, 20)) as pilot:
        await pilot.pause()
        app.highlighted.clear()
        await pilot.press("j", "end")
        await wait_until(pilot, lambda: len(app.highlighted) == 2)
        assert app.highlighted == [(1, "row 1"), (ROWS - 1, f"row {ROWS - 1}")]


async def test_only_a_few_pages_are_held():
    app = ListApp()
    async with app.run_test(size=(40, 20)) as pilot:
        numbers = app.numbers
        await pilot.pause()
        for _ in range(30):
            await pilot.press("pagedown")
        await pilot.press("end", "home")
        await wait_until(pilot, lambda: numbers.cursor == 0)
        assert numbers.rows_held <= Numbers.PAGE_SIZE * Numbers.MAX_PAGES
        assert len(numbers._pages) <= Numbers.MAX_PAGES
        assert numbers.pages_loaded == len(numbers.fetched)
        # rows_changed forgets them: the next draw fetches again
        numbers.rows_changed()
        assert numbers.rows_held == 0
        assert numbers.row(0) == "row 0"


async def test_a_click_moves_the_cursor_and_a_double_click_chooses():
    app = ListApp()
    async with app.run_test(size=(40, 20)) as pilot:
        numbers = app.numbers
        await pilot.pause()
        await pilot.click(Numbers, offset=(2, 4))
        await wait_until(pilot, lambda: numbers.cursor == 4)
        assert numbers.chosen == []
        await pilot.click(Numbers, offset=(2, 4), times=2)
        await wait_until(pilot, lambda: numbers.chosen == [4])


async def test_an_empty_list_keeps_the_cursor_at_zero():
    app = ListApp(count=0)
    async with app.run_test(size=(40, 20)) as pilot:
        numbers = app.numbers
        await pilot.pause()
        app.highlighted.clear()
        await pilot.press("down", "end", "pagedown")
        await wait_until(pilot, lambda: len(app.highlighted) == 3)
        assert numbers.cursor == 0
        assert numbers.highlighted is None
        assert app.highlighted == [(0, None)] * 3
