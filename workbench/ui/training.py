"""The Training data pane: datasets, their examples (paged), the editor, import/export/split/upload.

The pane renders what the store holds and sends work to workers: imports, whole-dataset validation,
exports and uploads run in thread workers with their own database connection and report progress
back through `call_from_thread`. The rules come from `core.dataset` (the validator), file formats
from `core.dataset_io`, versions from `store.dataset_export`, uploads from `providers.files`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Checkbox, Footer, Input, OptionList, ProgressBar, Select, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from workbench.core.display import plural
from workbench.store import dataset_checks as checks
from workbench.store import dataset_export as exports
from workbench.store import examples as store
from workbench.ui.pane import EmptyState, PaneScreen
from workbench.ui.training_editor import ExampleEditor, problems_text
from workbench.ui.training_modals import (
    ExportDialog,
    ExportRequest,
    ImportDialog,
    ImportRequest,
    NameDialog,
    ReportScreen,
    SplitDialog,
    SplitRequest,
)
from workbench.ui.training_table import ExampleTable, TableHeader, header_text
from workbench.ui.widgets.confirm import ConfirmDialog
from workbench.ui.widgets.search import SearchInput

NO_DATASETS = "No datasets yet — press n to create one or i to import a JSONL file"
EMPTY_DATASET = "This dataset has no examples yet — press a to add one or i to import a file"
NO_MATCH = "No example matches the filter — clear the search or untick “problems only”"
SPLIT_FILTERS = [("train", "train"), ("validation", "validation"), ("test", "test")]
ORDERS = ("position", "line", "-tokens", "tokens")
ORDER_LABELS = {
    "position": "file order",
    "line": "line",
    "-tokens": "most tokens",
    "tokens": "fewest tokens",
}
REPORT_PROBLEMS = 500


class DatasetList(OptionList):
    """The datasets, with row and problem counts. Highlighting one shows it."""

    BINDINGS = [
        # not in the footer (80 columns keep the pane's keys visible); in the palette
        Binding("r", "rename", "Rename", show=False, id="training-rename-dataset"),
        Binding("d", "delete", "Delete dataset", show=False, id="training-delete-dataset"),
    ]

    class RenameRequested(Message):
        pass

    class DeleteRequested(Message):
        pass

    def action_rename(self) -> None:
        self.post_message(self.RenameRequested())

    def action_delete(self) -> None:
        self.post_message(self.DeleteRequested())


class TrainingScreen(PaneScreen):
    PANE = "training"

    BINDINGS = [
        # n and a are named by the empty states and in the palette; the footer keeps room for
        # Split, Upload and Undo at 80 columns
        Binding("n", "new_dataset", "New", show=False, id="training-new-dataset"),
        Binding("a", "add_example", "Add", show=False, id="training-add-example"),
        Binding("i", "import_file", "Import", id="training-import"),
        Binding("e", "export", "Export", id="training-export"),
        Binding("v", "validate", "Check", id="training-validate", tooltip="Validate the dataset"),
        Binding("s", "split", "Split", id="training-split"),
        Binding("u", "upload", "Upload", id="training-upload"),
        Binding("ctrl+z", "undo", "Undo", id="training-undo"),
        Binding("slash", "focus_search", "Search", show=False, id="training-search"),
        Binding("o", "cycle_order", "Sort", show=False, id="training-sort"),
        Binding("f", "toggle_problems", "Problems only", show=False, id="training-problems-only"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dataset_id: int | None = None
        self.order = "position"
        self.undo_stack: list[tuple[str, int, int | None, str, float]] = []
        self._search_timer: Timer | None = None
        self._busy: str | None = None

    # --- layout -------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        yield EmptyState(NO_DATASETS, id="training-empty")
        with Horizontal(id="training-main"):
            yield DatasetList(id="datasets")
            with Vertical(id="examples-side"):
                with Horizontal(id="filter-bar"):
                    yield SearchInput(placeholder="/ search", id="search", compact=True)
                    yield Select(
                        SPLIT_FILTERS, prompt="all splits", id="split-filter", compact=True
                    )
                    yield Checkbox("problems only", id="problems-only", compact=True)
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
        return self.app.db  # type: ignore[attr-defined]

    @property
    def table(self) -> ExampleTable:
        return self.query_one("#examples", ExampleTable)

    @property
    def model(self) -> str:
        return self.app.config.profile.default_model  # type: ignore[attr-defined]

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

    def _filters(self) -> dict[str, Any]:
        split = self.query_one("#split-filter", Select).value
        return {
            "split": split if isinstance(split, str) else None,
            "search": self.query_one("#search", Input).value.strip() or None,
            "with_problems": True if self.query_one("#problems-only", Checkbox).value else None,
        }

    def reload_rows(self, keep_id: int | None = None) -> None:
        if self.dataset_id is None:
            return
        filters = self._filters()
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
        example = self.table.current if self.table.row_count else None
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

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(0.25, lambda: self.reload_rows())

    @on(Input.Submitted, "#search")
    @on(SearchInput.Left, "#search")
    def _search_submitted(self) -> None:
        self.table.focus()

    @on(Select.Changed, "#split-filter")
    @on(Checkbox.Changed, "#problems-only")
    def _filter_changed(self) -> None:
        self.reload_rows()

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_toggle_problems(self) -> None:
        box = self.query_one("#problems-only", Checkbox)
        box.value = not box.value

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

    # --- editing ------------------------------------------------------------------------------

    def _tokenizer(self):
        from workbench.core.tokens import get_tokenizer

        return get_tokenizer(self.model)

    def open_editor(self, example_id: int, new: bool = False) -> None:
        dataset = self.dataset
        editor = ExampleEditor(
            self.db,
            example_id,
            method=dataset.method if dataset else "supervised",
            model=self.model,
            tokenizer=self._tokenizer(),
            new=new,
        )

        def closed(edited: bool | None) -> None:
            if new and not edited:
                store.delete_example(self.db, example_id)  # an untouched blank row is not kept
            self._rows_changed(keep_id=example_id)
            self.table.focus()

        self.app.push_screen(editor, closed)

    @on(ExampleTable.EditRequested)
    def _edit(self, event: ExampleTable.EditRequested) -> None:
        self.open_editor(event.example_id)

    def action_add_example(self) -> None:
        dataset = self.dataset
        if dataset is None:
            self.notify("create a dataset first: press n", severity="warning")
            return
        data = checks.blank_example(dataset.method, self._common_system_prompt())
        example = checks.add_checked_example(self.db, dataset.id, data, method=dataset.method)
        self.open_editor(example.id, new=True)

    def _common_system_prompt(self) -> str | None:
        """A new row starts with the system prompt of the row under the cursor, as most rows share one."""
        example = self.table.current if self.table.row_count else None
        messages = example.messages if example else []
        if messages and messages[0].get("role") == "system":
            content = messages[0].get("content")
            return content if isinstance(content, str) else None
        return None

    @on(ExampleTable.DeleteRequested)
    def _delete_row(self, event: ExampleTable.DeleteRequested) -> None:
        example = store.get_example(self.db, event.example_id)
        store.delete_example(self.db, example.id)
        self.undo_stack.append(
            ("delete", example.id, example.dataset_id, example.split, example.position)
        )
        self._after_row_left(f"row {self._where(example)} deleted — ctrl+z to undo")

    @on(ExampleTable.PromoteRequested)
    def action_promote(self, event: ExampleTable.PromoteRequested | None = None) -> None:
        example_id = event.example_id if event else self.table.current_id
        if example_id is None:
            return
        example = store.get_example(self.db, example_id)
        if checks.has_errors(example):
            self.notify(
                "fix this row's problems before using it as a few-shot example",
                severity="warning",
            )
            return
        store.promote_to_few_shot(self.db, example.id)
        self.undo_stack.append(
            ("promote", example.id, example.dataset_id, example.split, example.position)
        )
        self._after_row_left(
            f"row {self._where(example)} moved to the few-shot library (Examples pane) — "
            "ctrl+z to undo"
        )

    @staticmethod
    def _where(example: store.Example) -> str:
        return f"at line {example.source_line}" if example.source_line else f"#{example.id}"

    def _after_row_left(self, message: str) -> None:
        cursor = self.table.cursor
        self.refresh_datasets(keep_rows=True)
        self.table.cursor = min(cursor, max(0, self.table.row_count - 1))
        self.notify(message)

    def action_undo(self) -> None:
        if not self.undo_stack:
            self.notify("nothing to undo")
            return
        kind, example_id, dataset_id, split, position = self.undo_stack.pop()
        if kind == "delete":
            store.restore_example(self.db, example_id)
        else:
            store.update_example(
                self.db, example_id, dataset_id=dataset_id, split=split, position=position
            )
        self.refresh_datasets(select=dataset_id, keep_rows=True)
        self.reload_rows(keep_id=example_id)
        self.notify("restored the row" if kind == "delete" else "moved the row back")

    # --- progress -----------------------------------------------------------------------------

    def _start(self, label: str, total: float | None = None) -> bool:
        if self._busy:
            self.notify(f"wait: {self._busy} is still running", severity="warning")
            return False
        self._busy = label
        self.query_one("#progress-row").display = True
        self.query_one("#progress-label", Static).update(Text(label))
        self.query_one("#progress", ProgressBar).update(total=total, progress=0)
        return True

    def _progress(self, done: float, total: float | None = None) -> None:
        bar = self.query_one("#progress", ProgressBar)
        if total is not None:
            bar.update(total=total, progress=done)
        else:
            bar.update(progress=done)

    def _finish(self) -> None:
        self._busy = None
        self.query_one("#progress-row").display = False

    def _thread_progress(self) -> Callable[[float, float], None]:
        """A progress callback for thread workers (throttled: one UI update per percent)."""
        last = [-1]

        def report(done: float, total: float) -> None:
            step = int(100 * done / total) if total else 0
            if step != last[0]:
                last[0] = step
                self.app.call_from_thread(self._progress, done, total)

        return report

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        """The app's worker router reports the failure; here the progress ends."""
        if str(worker.group).startswith("training-"):
            self._finish()

    # --- import -------------------------------------------------------------------------------

    def action_import_file(self) -> None:
        dataset = self.dataset

        def chosen(request: ImportRequest | None) -> None:
            if request and self._start(f"importing {request.path.name}"):
                self.import_worker(request)

        self.app.push_screen(ImportDialog(dataset.name if dataset else ""), chosen)

    @work(thread=True, exclusive=True, group="training-import", exit_on_error=False)
    def import_worker(self, request: ImportRequest) -> None:
        from workbench.core.dataset_io import (
            CSVColumnsMissing,
            read_csv,
            read_jsonl,
            sniff_method,
        )
        from workbench.core.jsonl import check_regular_file
        from workbench.core.tokens import get_tokenizer
        from workbench.store.db import open_db

        db = open_db(self.app.db_path)  # type: ignore[attr-defined]
        created = None  # a dataset this import made: removed again if the import fails
        try:
            check_regular_file(request.path)  # a FIFO or a device would block the worker
            dataset = store.find_dataset(db, request.dataset_name)
            if dataset is None:
                method = "supervised" if request.is_csv else sniff_method(request.path)
                dataset = created = store.create_dataset(db, request.dataset_name, method=method)
            total = _count_lines(request.path)
            progress = self._thread_progress()
            if request.is_csv:
                lines = read_csv(
                    request.path, request.prompt_column, request.completion_column, request.system
                )
            else:
                lines = read_jsonl(request.path, method=dataset.method)
            summary = exports.import_lines(
                db,
                dataset.id,
                lines,
                tokenizer=get_tokenizer(self.model),
                method=dataset.method,
                model=self.model,
                progress=lambda n: progress(n, max(total, n)),
            )
        except CSVColumnsMissing as exc:
            exports.drop_new_dataset(db, created)
            self.app.call_from_thread(self._import_failed, str(exc))
            return
        except (OSError, UnicodeDecodeError) as exc:
            exports.drop_new_dataset(db, created)
            self.app.call_from_thread(self._import_failed, f"could not read {request.path}: {exc}")
            return
        except BaseException:  # reported by _worker_failed; the half-made dataset goes
            exports.drop_new_dataset(db, created)
            raise
        finally:
            db.close()
        self.app.call_from_thread(self._imported, request, dataset.id, summary)

    def _import_failed(self, message: str) -> None:
        self._finish()
        self.notify(message, severity="error", timeout=10)

    def _imported(self, request: ImportRequest, dataset_id: int, summary: Any) -> None:
        self._finish()
        self.refresh_datasets(select=dataset_id)
        self.table.focus()
        body = Text()
        body.append(summary.describe() + "\n", style="bold")
        if summary.problem_lines:
            body.append("\nProblems by line (the rows are kept: filter with f, fix with enter)\n")
            for line, code, message in summary.problem_lines:
                body.append(f"line {line}  ", style="dim")
                body.append(f"{code}: ", style="red")
                body.append(message + "\n")
            if summary.with_problems > len(summary.problem_lines):
                body.append("… and more: tick “problems only” to see them all\n", style="dim")
        self.app.push_screen(ReportScreen(f"Imported {request.path.name}", body))

    # --- split --------------------------------------------------------------------------------

    def action_split(self) -> None:
        if self.dataset is None:
            self.notify("create or import a dataset first", severity="warning")
            return
        dataset_id = self.dataset_id

        def chosen(request: SplitRequest | None) -> None:
            if request is None or dataset_id is None:
                return
            train, validation = exports.apply_split(
                self.db, dataset_id, request.validation_fraction, request.seed
            )
            self._rows_changed(keep_id=self.table.current_id)
            self.notify(f"split: {train:,} train, {validation:,} validation (seed {request.seed})")

        self.app.push_screen(SplitDialog(), chosen)

    # --- export -------------------------------------------------------------------------------

    def _problem_rows(self, split: str) -> tuple[int, int]:
        """(rows an export would leave out, rows it would write) without loading them."""
        good, bad = exports.export_counts(self.db, self.dataset_id, split)
        return bad, good

    def _confirm_problems(self, split: str, verb: str, then: Callable[[bool], None]) -> None:
        bad, good = self._problem_rows(split)
        if not good:
            self.notify(f"no valid {split} rows to {verb}", severity="warning")
            return
        if not bad:
            then(False)
            return
        self.app.push_screen(
            ConfirmDialog(
                f"{bad:,} rows have problems",
                f"{bad:,} {split} rows still have problems and would be left out. "
                f"{verb.capitalize()} only the {good:,} valid rows? (Or cancel, press f to see "
                "them and fix them first.)",
                yes=f"{verb.capitalize()} {good:,} rows",
            ),
            lambda yes: then(True) if yes else None,
        )

    def action_export(self) -> None:
        if self.dataset is None:
            self.notify("create or import a dataset first", severity="warning")
            return
        _, validation = self._problem_rows("validation")

        def chosen(request: ExportRequest | None) -> None:
            if request is None:
                return
            self._confirm_problems(
                request.split,
                "export",
                lambda allow: (
                    self._start(f"exporting {request.split}") and self.export_worker(request, allow)
                ),
            )

        self.app.push_screen(ExportDialog(has_validation=validation > 0), chosen)

    @work(thread=True, exclusive=True, group="training-export", exit_on_error=False)
    def export_worker(self, request: ExportRequest, allow_problems: bool) -> None:
        from workbench.store.db import open_db

        db = open_db(self.app.db_path)  # type: ignore[attr-defined]
        try:
            version, path = exports.export_version(
                db, self.dataset_id, request.split, request.path, allow_problems=allow_problems
            )
        except (exports.ExportRefused, OSError) as exc:
            self.app.call_from_thread(self._import_failed, f"not exported: {exc}")
            return
        finally:
            db.close()
        self.app.call_from_thread(self._exported, version, path)

    def _exported(self, version: store.DatasetVersion, path: Path) -> None:
        self._finish()
        self.last_export = (version, path)
        self.notify(
            f"exported {plural(version.examples, 'row')} ({version.bytes:,} bytes) to {path} "
            f"· sha256 {version.sha256[:12]}",
            timeout=10,
        )

    # --- validate -----------------------------------------------------------------------------

    def action_validate(self) -> None:
        if self.dataset is None:
            self.notify("create or import a dataset first", severity="warning")
            return
        if self._start("validating"):
            self.validate_worker(self.dataset_id)

    @work(thread=True, exclusive=True, group="training-validate", exit_on_error=False)
    def validate_worker(self, dataset_id: int) -> None:
        from workbench.store.db import open_db

        db = open_db(self.app.db_path)  # type: ignore[attr-defined]
        try:
            name = store.get_dataset(db, dataset_id).name
            checked = checks.validate_dataset(
                db, dataset_id, model=self.model, progress=self._thread_progress()
            )
        except (OSError, ValueError) as exc:
            self.app.call_from_thread(self._import_failed, f"could not validate: {exc}")
            return
        finally:
            db.close()
        body = _report_text(checked.report, checked.findings, checked.rows)
        self.app.call_from_thread(self._validated, name, checked.report, body)

    def _validated(self, name: str, report: Any, body: Text) -> None:
        self._finish()
        self.last_report = report
        self._rows_changed(keep_id=self.table.current_id)
        self.table.invalidate()
        self.app.push_screen(ReportScreen(f"Validation of {name!r}", body))

    # --- upload -------------------------------------------------------------------------------

    def _upload_off(self) -> str | None:
        """Why the active provider takes no file uploads (providers/capabilities.py), or None."""
        from workbench.providers.capabilities import capabilities_for

        profile = self.app.config.profile  # type: ignore[attr-defined]
        caps = capabilities_for(profile)
        return None if caps.has("files") else caps.why_not("files", profile.name)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Upload shows dimmed where the provider has no Files API."""
        if action == "upload" and self._upload_off():
            return None
        return True

    def action_upload(self) -> None:
        off = self._upload_off()
        if off:
            self.notify(off, severity="warning", markup=False)
            return
        if self.dataset is None:
            self.notify("create or import a dataset first", severity="warning")
            return
        dataset_id = self.dataset_id
        _, validation = self._problem_rows("validation")
        splits = ["train"] + (["validation"] if validation else [])

        def go(allow: bool) -> None:
            if self._start("uploading"):
                self.upload_worker(dataset_id, splits, allow)

        self._confirm_problems("train", "upload", go)

    @work(thread=True, exclusive=True, group="training-upload", exit_on_error=False)
    def upload_worker(self, dataset_id: int, splits: list[str], allow_problems: bool) -> None:
        from workbench.providers.files import upload_file
        from workbench.providers.openai_api import explain_error, make_client
        from workbench.store.db import open_db

        profile = self.app.config.profile  # type: ignore[attr-defined]
        db = open_db(self.app.db_path)  # type: ignore[attr-defined]
        lines: list[str] = []
        try:
            client = None
            for split in splits:
                self.app.call_from_thread(self._label, f"exporting {split}")
                version, path = exports.export_version(
                    db, dataset_id, split, allow_problems=allow_problems
                )
                existing = store.uploaded_file_id(db, version.id, profile.base_url)
                if existing:
                    lines.append(f"{split}: already uploaded as {existing} (same content)")
                    continue
                client = client or make_client(profile)
                self.app.call_from_thread(self._label, f"uploading {split} ({version.bytes:,} B)")
                uploaded = upload_file(client, path, progress=self._thread_progress())
                store.record_upload(db, version.id, profile.name, profile.base_url, uploaded.id)
                lines.append(
                    f"{split}: uploaded as {uploaded.id} ({plural(version.examples, 'row')})"
                )
        except exports.ExportRefused as exc:
            self.app.call_from_thread(self._import_failed, f"not uploaded: {exc}")
            return
        except Exception as exc:  # provider errors are explained in words, never a traceback
            problem = explain_error(exc, profile)
            self.app.call_from_thread(self._import_failed, f"upload failed: {problem.message}")
            return
        finally:
            db.close()
        self.app.call_from_thread(self._uploaded, lines)

    def _label(self, text: str) -> None:
        self.query_one("#progress-label", Static).update(Text(text))
        self.query_one("#progress", ProgressBar).update(total=None, progress=0)

    def _uploaded(self, lines: list[str]) -> None:
        self._finish()
        self.last_upload = lines
        self.notify("\n".join(lines), title="Upload", timeout=12)

    # --- palette ------------------------------------------------------------------------------

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand(
            "Training: new dataset", "Create an empty dataset (n)", self.action_new_dataset
        )
        yield SystemCommand(
            "Training: add example", "Add an example to the dataset (a)", self.action_add_example
        )
        yield SystemCommand(
            "Training: import file", "Import a JSONL or CSV file (i)", self.action_import_file
        )
        yield SystemCommand(
            "Training: export JSONL", "Export the valid rows, byte-exact (e)", self.action_export
        )
        yield SystemCommand(
            "Training: validate dataset",
            "Check every row, count tokens and cost (v)",
            self.action_validate,
        )
        yield SystemCommand(
            "Training: split train/validation", "Seeded split (s)", self.action_split
        )
        yield SystemCommand(
            "Training: upload to provider", "Upload the exported files (u)", self.action_upload
        )
        yield SystemCommand(
            "Training: promote row to few-shot",
            "Move the row to the few-shot library (p)",
            self.action_promote,
        )
        yield SystemCommand(
            "Training: rename dataset", "Rename the dataset (r)", self.action_rename_dataset
        )
        yield SystemCommand(
            "Training: delete dataset",
            "Delete the dataset, after confirming",
            self.action_delete_dataset,
        )
        yield SystemCommand(
            "Training: undo", "Undo the last delete or promote (ctrl+z)", self.action_undo
        )
        yield SystemCommand(
            "Training: only rows with problems",
            "Show only the rows with problems, or all rows again (f)",
            self.action_toggle_problems,
        )
        yield SystemCommand(
            "Training: sort rows",
            "File order, line, most or fewest tokens (o)",
            self.action_cycle_order,
        )


# --- helpers for the workers (no widgets here) -------------------------------------------------


def _count_lines(path: Path) -> int:
    count = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
    return count + 1


def _report_text(
    report: Any, findings: dict[int, list[Any]], rows: list[tuple[int, int | None]]
) -> Text:
    text = Text()
    ok = not report.errors
    text.append(
        "✓ ready to upload\n" if ok else "⚠ problems to fix before uploading\n",
        style="bold green" if ok else "bold red",
    )
    text.append(f"\nexamples        {report.examples:,} ({report.valid_examples:,} valid)")
    if report.validation_examples:
        text.append(f", validation {report.validation_examples:,}")
    tokens = report.tokens
    text.append(f"\ntokens          {tokens.total:,} total, {tokens.assistant:,} assistant")
    text.append(
        f"\nper example     min {tokens.min:,} · median {tokens.median:,} · "
        f"p95 {tokens.p95:,} · max {tokens.max:,}"
    )
    text.append(f"\nbilled / epoch  {tokens.billed_per_epoch:,}")
    text.append(f"\nepochs          {report.epochs} (OpenAI's default rule)")
    text.append(f"\ntraining tokens {report.estimated_training_tokens:,}")
    cost = report.estimated_cost_usd
    text.append("\nestimated cost  ")
    text.append(f"${cost:,.2f}" if cost is not None else "no price known", style="bold")
    text.append(f" for {report.model}")
    if not report.tokenizer_exact:
        text.append(f"\n{report.tokenizer_note}", style="yellow")

    def add(label: str, problem: Any) -> None:
        error = problem.severity == "error"
        text.append(f"{label}  " if label else "", style="dim")
        text.append(f"{problem.code}: ", style="red" if error else "yellow")
        text.append(problem.message + "\n")

    whole = findings.get(0, [])
    if whole:
        text.append("\n\nWhole dataset\n", style="bold")
        for problem in whole:
            add("", problem)
    shown = 0
    per_row = sum(len(v) for k, v in findings.items() if k)
    if per_row:
        text.append(f"\n\nProblems by line ({per_row:,})\n", style="bold")
    for example_id, source_line in rows:
        for problem in findings.get(example_id, []):
            if shown < REPORT_PROBLEMS:
                add(f"line {source_line}" if source_line else f"row #{example_id}", problem)
            shown += 1
    if shown > REPORT_PROBLEMS:
        text.append(f"… {shown - REPORT_PROBLEMS:,} more: tick “problems only” to see them\n")
    return text
