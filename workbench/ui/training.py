"""The Training data pane: datasets, their examples (paged), the editor, import/export/split/upload.

The pane renders what the store holds and sends work to workers: imports, whole-dataset validation,
exports and uploads run in thread workers with their own database connection and report progress
back through `call_from_thread`. The rules come from `core.dataset` (the validator), file formats
from `core.dataset_io`, versions from `store.dataset_export`, uploads from `providers.files`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from workbench.core.display import plural
from workbench.store import dataset_checks as checks
from workbench.store import dataset_export as exports
from workbench.store import examples as store
from workbench.ui.pane import EmptyState, PaneScreen
from workbench.ui.training_datasets import DatasetList
from workbench.ui.training_files import DatasetFileActions
from workbench.ui.training_filters import RowFilters
from workbench.ui.training_modals import NameDialog
from workbench.ui.training_report import problems_text
from workbench.ui.training_rows import RowActions
from workbench.ui.training_table import ExampleTable, TableHeader, header_text
from workbench.ui.widgets.confirm import ConfirmDialog
from workbench.ui.widgets.search import SearchInput

NO_DATASETS = "No datasets yet — press n to create one or i to import a JSONL file"
EMPTY_DATASET = "This dataset has no examples yet — press a to add one or i to import a file"
NO_MATCH = "No example matches the filter — clear the search or untick “problems only”"
ORDERS = ("position", "line", "-tokens", "tokens")
ORDER_LABELS = {
    "position": "file order",
    "line": "line",
    "-tokens": "most tokens",
    "tokens": "fewest tokens",
}


class TrainingScreen(RowActions, DatasetFileActions, PaneScreen):
    PANE = "training"

    # Each described binding is also a palette command ("Training data: <description>", its
    # tooltip the help line): the hidden ones carry a tooltip so the palette still offers them.
    BINDINGS = [
        # n and a are named by the empty states and in the palette; the footer keeps room for
        # Split, Upload and Undo at 80 columns
        Binding(
            "n",
            "new_dataset",
            "New dataset",
            show=False,
            id="training-new-dataset",
            tooltip="Create an empty dataset",
        ),
        Binding(
            "a",
            "add_example",
            "Add example",
            show=False,
            id="training-add-example",
            tooltip="Add an example to the dataset and open it in the editor",
        ),
        Binding(
            "i",
            "import_file",
            "Import",
            id="training-import",
            tooltip="Import a JSONL or CSV file into a dataset",
        ),
        Binding(
            "e",
            "export",
            "Export",
            id="training-export",
            tooltip="Export the valid rows as JSONL, byte-exact",
        ),
        Binding(
            "v",
            "validate",
            "Check",
            id="training-validate",
            tooltip="Validate the dataset: every row, tokens and cost",
        ),
        Binding(
            "s",
            "split",
            "Split",
            id="training-split",
            tooltip="Split into train and validation (seeded)",
        ),
        Binding(
            "u",
            "upload",
            "Upload",
            id="training-upload",
            tooltip="Upload the exported files to the provider",
        ),
        Binding(
            "ctrl+z",
            "undo",
            "Undo",
            id="training-undo",
            tooltip="Undo the last delete or promote",
        ),
        Binding(
            "slash",
            "focus_search",
            "Search",
            show=False,
            id="training-search",
            tooltip="Search the rows of the dataset",
        ),
        Binding(
            "o",
            "cycle_order",
            "Sort rows",
            show=False,
            id="training-sort",
            tooltip="File order, line, most or fewest tokens",
        ),
        Binding(
            "f",
            "toggle_problems",
            "Problems only",
            show=False,
            id="training-problems-only",
            tooltip="Show only the rows with problems, or all rows again",
        ),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dataset_id: int | None = None
        self.order = "position"
        self.undo_stack: list[tuple[str, int, int | None, str, float]] = []
        self._busy: str | None = None

    # --- layout -------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        yield EmptyState(NO_DATASETS, id="training-empty")
        with Horizontal(id="training-main"):
            yield DatasetList(id="datasets")
            with Vertical(id="examples-side"):
                yield RowFilters(id="filter-bar")
                yield TableHeader(id="table-header")
                yield ExampleTable(self._fetch_rows, id="examples")
                yield Static(Text(EMPTY_DATASET), id="dataset-empty", classes="empty-state")
                yield Static("", id="row-detail", markup=False)
                yield Static("", id="dataset-summary", markup=False)
                with Horizontal(id="progress-row"):
                    yield Static("", id="progress-label", markup=False)
                    yield ProgressBar(id="progress", show_eta=False)

    @property
    def db(self):
        return self.app.db

    @property
    def table(self) -> ExampleTable:
        return self.query_one("#examples", ExampleTable)

    @property
    def model(self) -> str:
        return self.app.config.profile.default_model

    def _fetch_rows(self, ids: Iterable[int]) -> list[store.Example]:
        return exports.examples_by_id(self.db, list(ids))

    def on_mount(self) -> None:
        # the compact footer fits Edit … Upload and Undo in 80 columns
        self.query_one(Footer).compact = True
        self.query_one("#progress-row").display = False
        self.refresh_datasets()

    def on_screen_resume(self) -> None:
        # rows may have moved here from the Examples pane (promote) while we were away
        if self.is_mounted:
            self.refresh_datasets(keep_rows=True)

    def on_resize(self) -> None:
        self._update_header()

    # --- datasets -----------------------------------------------------------------------------

    def refresh_datasets(self, select: int | None = None, keep_rows: bool = False) -> None:
        datasets = store.list_datasets(self.db)
        counts = exports.dataset_counts(self.db)
        has_any = bool(datasets)
        self.query_one("#training-empty").display = not has_any
        self.query_one("#training-main").display = has_any
        listing = self.query_one("#datasets", DatasetList)
        wanted = select if select is not None else self.dataset_id
        listing.clear_options()
        for dataset in datasets:
            rows, problems = counts.get(dataset.id, (0, 0))
            label = Text(no_wrap=True, overflow="ellipsis")
            label.append(dataset.name)
            label.append(f" {rows:,}", style="dim")
            if problems:
                label.append(f" ⚠{problems:,}", style="red")
            listing.add_option(Option(label, id=str(dataset.id)))
        if not has_any:
            self.dataset_id = None
            if self.focused is not None and self.focused.id != "search":
                self.set_focus(None)  # nothing hidden keeps the focus (and the footer's keys)
            return
        if self.focused is None:
            listing.focus()
        ids = [d.id for d in datasets]
        target = wanted if wanted in ids else ids[0]
        listing.highlighted = ids.index(target)
        if target != self.dataset_id or not keep_rows:
            self.show_dataset(target)
        else:
            self.reload_rows(keep_id=self.table.current_id)
            self._update_summary()

    @on(OptionList.OptionHighlighted, "#datasets")
    def _dataset_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.highlighted != event.option_index:
            return  # a stale event from before the list was rebuilt
        dataset_id = int(event.option.id or 0)
        if dataset_id != self.dataset_id:
            self.show_dataset(dataset_id)

    @on(OptionList.OptionSelected, "#datasets")
    def _dataset_selected(self) -> None:
        self.table.focus()

    def show_dataset(self, dataset_id: int) -> None:
        self.dataset_id = dataset_id
        self.table.cursor = 0
        self.table.scroll_to(y=0, animate=False)
        self.reload_rows()
        self._update_summary()

    @property
    def dataset(self) -> store.Dataset | None:
        if self.dataset_id is None:
            return None
        try:
            return store.get_dataset(self.db, self.dataset_id)
        except KeyError:
            return None

    def action_new_dataset(self) -> None:
        def created(name: str | None) -> None:
            if name:
                dataset = store.create_dataset(self.db, name)
                self.refresh_datasets(select=dataset.id)
                self.notify(f"dataset {name!r} created — press a to add an example")

        self.app.push_screen(NameDialog("New dataset", check=self._name_taken), created)

    def _name_taken(self, name: str, current: int | None = None) -> str | None:
        found = store.find_dataset(self.db, name)
        if found is not None and found.id != current:
            return f"there is already a dataset called {name!r}"
        return None

    @on(DatasetList.RenameRequested)
    def action_rename_dataset(self) -> None:
        dataset = self.dataset
        if dataset is None:
            return

        def renamed(name: str | None) -> None:
            if name and name != dataset.name:
                store.rename_dataset(self.db, dataset.id, name)
                self.refresh_datasets(keep_rows=True)

        self.app.push_screen(
            NameDialog(
                f"Rename {dataset.name!r}",
                dataset.name,
                check=lambda name: self._name_taken(name, dataset.id),
            ),
            renamed,
        )

    @on(DatasetList.DeleteRequested)
    def action_delete_dataset(self) -> None:
        dataset = self.dataset
        if dataset is None:
            return
        rows = store.count_examples(self.db, dataset_id=dataset.id)

        def confirmed(yes: bool | None) -> None:
            if yes:
                store.delete_dataset(self.db, dataset.id)
                self.dataset_id = None
                self.undo_stack = [u for u in self.undo_stack if u[2] != dataset.id]
                self.refresh_datasets()
                self.notify(f"dataset {dataset.name!r} deleted")

        self.app.push_screen(
            ConfirmDialog(
                "Delete dataset",
                f"Delete {dataset.name!r} and its {plural(rows, 'example')}? This cannot be undone "
                "(exported files stay on disk).",
                yes="Delete",
                no="Keep it",
                destructive=True,
            ),
            confirmed,
        )

    # --- rows ---------------------------------------------------------------------------------

    def reload_rows(self, keep_id: int | None = None) -> None:
        if self.dataset_id is None:
            return
        filters = self.query_one(RowFilters).filters
        ids = exports.example_ids(self.db, self.dataset_id, order=self.order, **filters)
        self.table.set_rows(ids, keep_id)
        filtered = any(v is not None for v in filters.values())
        empty = not ids
        self.table.display = not empty
        # a filter that matches nothing keeps the column titles, with "no example matches"
        self.query_one("#table-header").display = not empty or filtered
        notice = self.query_one("#dataset-empty", Static)
        notice.display = empty
        notice.update(Text(NO_MATCH if filtered else EMPTY_DATASET))
        self._update_header()
        self._show_row_detail()

    def _update_header(self) -> None:
        header = self.query_one("#table-header", TableHeader)
        header.update(header_text(max(1, header.size.width or 80), self.order))

    def _update_summary(self) -> None:
        if self.dataset_id is None:
            return
        summary = checks.dataset_summary(self.db, self.dataset_id)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(plural(summary.rows, "row"), style="bold")
        if summary.with_problems:
            text.append(f" · {summary.with_problems:,} with problems", style="red")
        text.append(f" · {summary.train:,} train / {summary.validation:,} valid")
        if summary.test:
            text.append(f" / {summary.test:,} test")
        text.append(f" · {summary.tokens:,} tokens", style="cyan")
        text.append(f" · sort: {ORDER_LABELS[self.order]} (o)", style="dim")
        self.query_one("#dataset-summary", Static).update(text)

    @on(ExampleTable.Highlighted)
    def _show_row_detail(self) -> None:
        detail = self.query_one("#row-detail", Static)
        example = self.table.highlighted
        if example is None or not example.problems:
            detail.update("")
            detail.display = False
            return
        text = Text(no_wrap=False)
        where = f"line {example.source_line}" if example.source_line else f"row #{example.id}"
        text.append(f"{where}: ", style="bold")
        text.append_text(problems_text(example.problems))
        detail.update(text)
        detail.display = True

    @on(Input.Submitted, "#search")
    @on(SearchInput.Left, "#search")
    def _search_submitted(self) -> None:
        self.table.focus()

    @on(RowFilters.Changed)
    def _filter_changed(self) -> None:
        self.reload_rows()

    def action_focus_search(self) -> None:
        self.query_one(RowFilters).focus_search()

    def action_toggle_problems(self) -> None:
        self.query_one(RowFilters).toggle_problems()

    def action_cycle_order(self) -> None:
        self.set_order(ORDERS[(ORDERS.index(self.order) + 1) % len(ORDERS)])
        self.notify(f"sorted by {ORDER_LABELS[self.order]}", timeout=2)

    @on(TableHeader.SortClicked)
    def _sort_clicked(self, event: TableHeader.SortClicked) -> None:
        if event.column == "tokens":
            order = "tokens" if self.order == "-tokens" else "-tokens"
        else:
            order = event.column or "position"
        self.set_order(order)

    def set_order(self, order: str) -> None:
        self.order = order
        self.reload_rows(keep_id=self.table.current_id)
        self._update_summary()

    def _rows_changed(self, keep_id: int | None = None) -> None:
        self.refresh_datasets(keep_rows=True)
        if keep_id is not None:
            self.reload_rows(keep_id=keep_id)

    # --- the table's requests, handled by RowActions ---------------------------------------------

    @on(ExampleTable.EditRequested)
    def _edit_requested(self, event: ExampleTable.EditRequested) -> None:
        self._edit(event)

    @on(ExampleTable.DeleteRequested)
    def _delete_requested(self, event: ExampleTable.DeleteRequested) -> None:
        self._delete_row(event)

    @on(ExampleTable.PromoteRequested)
    def _promote_requested(self, event: ExampleTable.PromoteRequested) -> None:
        self.action_promote(event)
