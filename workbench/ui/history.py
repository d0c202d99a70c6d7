"""The History pane: every recorded run, newest first, paged from SQLite.

Filters (prompt, model, approach) and a text search narrow the list; enter opens a run in full
and ctrl+r there re-runs it. Runs recorded elsewhere (the Prompt pane) show up on return.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import DataTable, Input, Select, Static

from workbench.core.display import short_model
from workbench.store.runs import Run, count_runs, distinct_values, get_run, list_runs
from workbench.ui.history_detail import RunDetail
from workbench.ui.pane import PaneScreen
from workbench.ui.plain import plain_options
from workbench.ui.prompt_run import format_cost

PAGE_SIZE = 100
SEARCH_DELAY = 0.25
COLUMNS = ("#", "Appr.", "Model", "In", "Out", "Time", "Cost", "Answer", "Prompt", "When")
# Long model ids and prompt names are cut so tokens, cost and the answer stay on an 80-column screen.
COLUMN_WIDTHS = {"Model": 18, "Cost": 9, "Answer": 28, "Prompt": 12}
APPROACH_SHORT = {"zero-shot": "zero", "few-shot": "few", "fine-tuned": "ft"}


def run_row(run: Run) -> list[Text]:
    """One table row; every cell is Text so `[/INST]` in an answer stays literal."""
    answer = " ".join(run.answer.split())
    if run.status != "ok":  # the reason first: the answer streamed before it failed, if any, after
        reason = " ".join((run.error_message or "").split())
        answer = " · ".join(t for t in (reason, answer) if t)
        answer = f"⚠ {run.error_kind or run.status}: {answer}"
    return [
        Text(str(run.id), justify="right"),
        Text(APPROACH_SHORT.get(run.approach, run.approach)),
        Text(short_model(run.model, COLUMN_WIDTHS["Model"])),
        Text("-" if run.input_tokens is None else str(run.input_tokens), justify="right"),
        Text("-" if run.output_tokens is None else str(run.output_tokens), justify="right"),
        Text("-" if run.latency_ms is None else f"{run.latency_ms / 1000:.1f}s", justify="right"),
        Text(format_cost(run.cost_usd) if run.input_tokens is not None else "-", justify="right"),
        Text(answer[:80], style="red" if run.status == "error" else ""),
        Text(f"{run.prompt_name} {run.version_label}"),
        Text(run.created_at[5:16].replace("T", " ")),
    ]


def page_count(total: int) -> int:
    """Pages of PAGE_SIZE runs for `total` runs (one, empty, when there are none)."""
    return max(1, -(-total // PAGE_SIZE))


class RunTable(DataTable):
    """The runs of the current page; enter opens one (RowSelected), n / p ask for another page.

    `page` and `total` are the screen's, bound down: they say whether there is a page that way.
    """

    BINDINGS = [
        Binding(
            "enter", "select_cursor", "Open", id="history-open", tooltip="Show the run in full"
        ),
        Binding("n", "page(1)", "Next page", id="history-next-page", tooltip="Older runs"),
        Binding("p", "page(-1)", "Prev page", id="history-prev-page", tooltip="Newer runs"),
    ]

    page: reactive[int] = reactive(0, bindings=True)
    total: reactive[int] = reactive(0, bindings=True)

    class PageRequested(Message):
        """n / p: the page `step` pages away (1 older, -1 newer)."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def action_page(self, step: int) -> None:
        self.post_message(self.PageRequested(step))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """n / p are dimmed in the footer when there is no page that way."""
        if action == "page" and parameters:
            step = parameters[0]
            target = self.page + (step if isinstance(step, int) else 0)
            return True if 0 <= target < page_count(self.total) else None
        return True


class HistoryScreen(PaneScreen):
    PANE = "history"

    BINDINGS = [
        Binding(
            "ctrl+f",
            "search",
            "Search",
            id="history-search",
            tooltip="Search the answers and messages of every run",
        ),
        Binding(
            "ctrl+r",
            "rerun",
            "Re-run",
            id="history-rerun-selected",
            tooltip="Send the selected run again (same model, messages and parameters)",
        ),
    ]

    page: reactive[int] = reactive(0)  # the page shown, from 0
    total: reactive[int] = reactive(0)  # the runs that match the filters

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.runs: list[Run] = []
        self._search_timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="history-filters"):
            yield Input(placeholder="search", id="history-search-input")
            yield Select[str]([], prompt="any prompt", id="filter-prompt")
            yield Select[str]([], prompt="any model", id="filter-model")
            yield Select[str]([], prompt="any approach", id="filter-approach")
        yield RunTable(id="run-table", cursor_type="row", zebra_stripes=True).data_bind(
            HistoryScreen.page, HistoryScreen.total
        )
        yield Static(id="history-pager")

    def on_mount(self) -> None:
        table = self.query_one(RunTable)
        for column in COLUMNS:
            table.add_column(column, key=column, width=COLUMN_WIDTHS.get(column))
        self.refresh_runs()
        table.focus()

    def on_screen_resume(self) -> None:
        self.refresh_runs()

    # --- data ----------------------------------------------------------------------------------

    def filters(self) -> dict[str, Any]:
        def value(selector: str) -> str | None:
            v = self.query_one(selector, Select).value
            return v if isinstance(v, str) else None

        return {
            "prompt": value("#filter-prompt"),
            "model": value("#filter-model"),
            "approach": value("#filter-approach"),
            "search": self.query_one("#history-search-input", Input).value.strip() or None,
        }

    def _fill_filter(self, selector: str, values: list[str]) -> None:
        select = self.query_one(selector, Select)
        current = select.value
        with self.prevent(Select.Changed):
            select.set_options(plain_options(values))
            if isinstance(current, str) and current in values:
                select.value = current

    def refresh_runs(self, keep_page: bool = True) -> None:
        """Reload the filter choices and the current page from the database."""
        db = self.app.db
        self._fill_filter("#filter-prompt", distinct_values(db, "prompt_name"))
        self._fill_filter("#filter-model", distinct_values(db, "model"))
        self._fill_filter("#filter-approach", distinct_values(db, "approach"))
        filters = self.filters()
        self.total = count_runs(db, **filters)
        pages = page_count(self.total)
        self.page = min(self.page if keep_page else 0, pages - 1)
        self.runs = list_runs(db, limit=PAGE_SIZE, offset=self.page * PAGE_SIZE, **filters)
        table = self.query_one(RunTable)
        row = table.cursor_row
        table.clear()
        for run in self.runs:
            table.add_row(*run_row(run), key=str(run.id))
        if self.runs:
            table.move_cursor(row=min(row, len(self.runs) - 1))
        self._show_pager(pages)

    def _show_pager(self, pages: int) -> None:
        pager = self.query_one("#history-pager", Static)
        if not self.total:
            filtered = any(self.filters().values())
            pager.update(
                Text(
                    "No runs match the filters."
                    if filtered
                    else "No runs yet: run a prompt in the Prompt pane (F1, ctrl+r).",
                    style="dim",
                )
            )
            return
        first = self.page * PAGE_SIZE + 1
        last = first + len(self.runs) - 1
        more = "  n: next page · p: previous" if pages > 1 else ""
        pager.update(
            Text(
                f"runs {first}–{last} of {self.total} · page {self.page + 1}/{pages} · "
                f"enter: open{more}",
                style="dim",
            )
        )

    @on(RunTable.PageRequested)
    def _turn_page(self, event: RunTable.PageRequested) -> None:
        page = self.page + event.step
        if 0 <= page < page_count(self.total):
            self.page = page
            self.query_one(RunTable).move_cursor(row=0)
            self.refresh_runs()

    @on(Input.Changed, "#history-search-input")
    def _search_changed(self, event: Input.Changed) -> None:
        """Typing searches a moment after the last key (a LIKE over every run's text)."""
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY, self._filters_changed)

    @on(Select.Changed)
    def _filter_picked(self, event: Select.Changed) -> None:
        event.stop()
        self._filters_changed()

    def _filters_changed(self) -> None:
        self._search_timer = None
        self.page = 0
        self.refresh_runs(keep_page=False)

    @on(Input.Submitted, "#history-search-input")
    def _search_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(RunTable).focus()

    # --- actions -------------------------------------------------------------------------------

    def selected_run(self) -> Run | None:
        table = self.query_one(RunTable)
        if not self.runs or table.cursor_row is None or table.cursor_row >= len(self.runs):
            return None
        return self.runs[table.cursor_row]

    def action_open_run(self, rerun: bool = False) -> None:
        run = self.selected_run()
        if run is None:
            return
        detail = RunDetail(get_run(self.app.db, run.id))

        def closed(new_run: int | None) -> None:
            self.refresh_runs()
            if new_run is not None:
                self.notify(f"re-run recorded as #{new_run}")

        self.app.push_screen(detail, closed)
        if rerun:
            self.call_after_refresh(detail.action_rerun)

    @on(DataTable.RowSelected, "#run-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_run()

    def action_rerun(self) -> None:
        self.action_open_run(rerun=True)

    def action_search(self) -> None:
        self.query_one("#history-search-input", Input).focus()
