"""The Examples pane: the few-shot library, and which examples go into the active prompt.

The list shows the library (examples in no dataset), paged from SQLite. Every edit is written at
once; deletes are soft, so ctrl+z brings them back. The few-shot selection of the active prompt
(`app.active_prompt`) is saved per prompt name in `store.selection`, which the Prompt pane reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Select, Static

from workbench.core.fewshot import (
    FEW_SHOT,
    FewShotSelection,
    ImportReport,
    TokenCosts,
)
from workbench.store import examples as store
from workbench.store.selection import get_selection, selected_examples, set_selection
from workbench.ui.examples_detail import example_detail_text
from workbench.ui.examples_dialogs import ImportDialog, ImportRequest, PromoteDialog, PromoteRequest
from workbench.ui.examples_form import ExampleForm
from workbench.ui.examples_list import ExampleList, RowSource
from workbench.ui.examples_selection import MODE_OPTIONS, SelectionBar
from workbench.ui.pane import EmptyState, PaneScreen
from workbench.ui.plain import plain_options
from workbench.ui.widgets.search import SearchInput

EMPTY_MESSAGE = "No examples yet — press a to add one or i to import"
SPLIT_FILTERS = [
    ("few-shot", "few-shot"),
    ("train", "train"),
    ("validation", "validation"),
    ("test", "test"),
]
IMPORT_BATCH = 500
NARROW_WIDTH = 110


class ExamplesScreen(PaneScreen):
    PANE = "examples"

    # Each described binding is also a palette command ("Examples: <description>", its tooltip
    # the help line): the hidden ones carry a tooltip so the palette still offers them.
    BINDINGS = [
        Binding("a", "add", "Add", id="examples-add", tooltip="Add a few-shot example"),
        Binding(
            "e,enter", "edit", "Edit", id="examples-edit", tooltip="Edit the highlighted example"
        ),
        Binding(
            "space",
            "toggle_pick",
            "Pick",
            id="examples-pick",
            tooltip="Add or remove the highlighted example in the prompt",
        ),
        Binding(
            "d,delete",
            "delete",
            "Delete",
            id="examples-delete",
            tooltip="Delete the highlighted example (ctrl+z restores it)",
        ),
        Binding(
            "ctrl+z",
            "undo",
            "Undo delete",
            id="examples-undo",
            show=False,
            tooltip="Restore the last deleted example",
        ),
        Binding(
            "c",
            "duplicate",
            "Duplicate",
            id="examples-duplicate",
            show=False,
            tooltip="Copy the highlighted example",
        ),
        Binding(
            "i",
            "import_file",
            "Import",
            id="examples-import",
            tooltip="Add examples from a JSONL or CSV file",
        ),
        Binding(
            "p",
            "promote",
            "Promote",
            id="examples-promote",
            tooltip="Move the highlighted example to a dataset (training data)",
        ),
        Binding(
            "m",
            "cycle_mode",
            "Selection mode",
            id="examples-mode",
            show=False,
            tooltip="Which few-shot examples the prompt sends: manual, k most recent, by tag",
        ),
        Binding(
            "slash",
            "search",
            "Search",
            id="examples-search-key",
            show=False,
            tooltip="Search the examples",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.search = ""
        self.split_filter: str | None = None
        self.tag_filter: str | None = None
        self.selection = FewShotSelection()
        self.costs = TokenCosts()
        self.tokenizer = None
        self.undo_stack: list[int] = []
        self.last_report: ImportReport | None = None
        self._reload_timer = None
        self._known_tags: set[str] = set()

    # --- layout -----------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="examples-filters"):
            yield SearchInput(placeholder="/ search examples", id="examples-search", compact=True)
            yield Select(SPLIT_FILTERS, prompt="all splits", id="examples-split", compact=True)
            yield Select([], prompt="all tags", id="examples-tag", compact=True)
        yield SelectionBar(id="examples-selection")
        with Container(id="examples-main"):
            with Vertical(id="examples-listing"):
                yield Static("", id="examples-header", markup=False)
                yield ExampleList(self._row_source(), id="examples-list")
            with VerticalScroll(id="examples-detail"):
                yield Static("", id="examples-detail-text", markup=False)
        yield EmptyState(EMPTY_MESSAGE, id="examples-empty")
        yield Static("", id="examples-message", markup=False)

    def _row_source(self) -> RowSource:
        def filters() -> dict:
            return {
                "dataset_id": None,
                "split": self.split_filter,
                "tag": self.tag_filter,
                "search": self.search or None,
            }

        return RowSource(
            count=lambda: store.count_examples(self.app.db, **filters()),
            page=lambda offset, limit: store.list_examples(
                self.app.db, **filters(), order="position", limit=limit, offset=offset
            ),
        )

    @property
    def example_list(self) -> ExampleList:
        return self.query_one("#examples-list", ExampleList)

    @property
    def selection_bar(self) -> SelectionBar:
        return self.query_one(SelectionBar)

    def on_mount(self) -> None:
        self.example_list.cost_of = self._cost_of
        self.watch(self.app, "active_prompt", self._prompt_changed, init=False)
        self._prompt_changed()
        self.refresh_tags()
        self.reload()
        self.load_tokenizer()
        self.example_list.focus()

    def on_screen_resume(self) -> None:
        # other panes (Training data, Prompt) may have changed examples or the active prompt
        if self.is_mounted:
            self._prompt_changed()
            self.refresh_tags()
            self.reload()

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW_WIDTH, "-narrow")

    @work(thread=True, exclusive=True, group="examples-tokenizer", description="loading tokenizer")
    def load_tokenizer(self) -> None:
        from workbench.core.tokens import get_tokenizer

        tokenizer = get_tokenizer(self.app.config.profile.default_model)
        self.app.call_from_thread(self._tokenizer_ready, tokenizer)

    def _tokenizer_ready(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self.example_list.refresh()
        self.update_selection_view()
        self.show_detail(self.example_list.highlighted)

    def _cost_of(self, example: store.Example) -> int | None:
        if self.tokenizer is None or example.data is None:
            return None
        return self.costs.cost(example, self.tokenizer)

    # --- list and detail --------------------------------------------------------------------

    def reload(self, keep_id: int | None = None) -> None:
        """Re-read the list (filters, edits); show the empty state when the library is empty."""
        empty = store.count_examples(self.app.db, dataset_id=None) == 0
        self.query_one("#examples-empty").display = empty
        self.query_one("#examples-main").display = not empty
        lst = self.example_list
        if keep_id is None and lst.highlighted is not None:
            keep_id = lst.highlighted.id
        filtered = bool(self.search or self.split_filter or self.tag_filter)
        lst.empty_text = "No examples match the search or filters." if filtered else EMPTY_MESSAGE
        lst.reload(keep_id)
        self.update_selection_view()

    def _schedule_reload(self) -> None:
        if self._reload_timer is not None:
            self._reload_timer.stop()
        self._reload_timer = self.set_timer(0.15, self.reload)

    def refresh_tags(self) -> None:
        tags = store.all_tags(self.app.db)
        self._known_tags = set(tags)
        select = self.query_one("#examples-tag", Select)
        with select.prevent(Select.Changed):
            select.set_options(plain_options(tags))
            if self.tag_filter in tags:
                select.value = self.tag_filter
        self.selection_bar.set_tags(tags)
        if self.tag_filter not in tags:
            self.tag_filter = None

    @on(ExampleList.HeaderChanged)
    def _header_changed(self, event: ExampleList.HeaderChanged) -> None:
        self.query_one("#examples-header", Static).update(event.header)

    @on(ExampleList.Highlighted)
    def _highlighted(self, event: ExampleList.Highlighted) -> None:
        self.show_detail(event.example)

    def show_detail(self, example: store.Example | None) -> None:
        self.query_one("#examples-detail-text", Static).update(self.detail_text(example))

    def detail_text(self, example: store.Example | None) -> Text:
        if example is None:
            return Text()
        position = self.example_list.marks.get(example.id)
        return example_detail_text(example, self._cost_of(example), position)

    # --- filters ----------------------------------------------------------------------------

    @on(Input.Changed, "#examples-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search = event.value.strip()
        self._schedule_reload()

    @on(Input.Submitted, "#examples-search")
    @on(SearchInput.Left, "#examples-search")
    def _search_done(self) -> None:
        self.example_list.focus()

    @on(Select.Changed, "#examples-split")
    def _split_changed(self, event: Select.Changed) -> None:
        value = None if event.value == Select.NULL else str(event.value)
        if value != self.split_filter:
            self.split_filter = value
            self.reload()

    @on(Select.Changed, "#examples-tag")
    def _tag_changed(self, event: Select.Changed) -> None:
        value = None if event.value == Select.NULL else str(event.value)
        if value != self.tag_filter:
            self.tag_filter = value
            self.reload()

    def action_search(self) -> None:
        self.query_one("#examples-search", Input).focus()

    # --- the few-shot selection ---------------------------------------------------------------

    def _prompt_changed(self) -> None:
        self.selection = get_selection(self.app.db, self.app.active_prompt)
        self._show_selection_controls()
        self.update_selection_view()

    def _show_selection_controls(self) -> None:
        sel = self.selection
        self.selection_bar.show(sel)
        self.set_class(sel.mode != "manual", "-k-mode")
        self.set_class(sel.mode == "tag", "-tag-mode")

    def set_selection(self, selection: FewShotSelection) -> None:
        """Save the active prompt's selection at once and show its new marks and size."""
        self.selection = selection
        set_selection(self.app.db, self.app.active_prompt, selection)
        self._show_selection_controls()
        self.update_selection_view()

    def chosen(self) -> list[store.Example]:
        return selected_examples(self.app.db, self.app.active_prompt)

    def update_selection_view(self) -> None:
        if not self.is_mounted:
            return
        chosen = self.chosen()
        lst = self.example_list
        lst.marks = {e.id: i for i, e in enumerate(chosen, start=1)}
        lst.refresh()
        tokenizer = self.tokenizer
        exact = tokenizer is None or tokenizer.exact
        total = self.total_tokens(chosen)
        self.selection_bar.show_size(self.app.active_prompt, len(chosen), total, exact)

    def total_tokens(self, chosen: list[store.Example] | None = None) -> int | None:
        """The few-shot examples' share of the prompt, in tokens (None until the tokenizer loads)."""
        if self.tokenizer is None:
            return None
        return self.costs.total(self.chosen() if chosen is None else chosen, self.tokenizer)

    @on(SelectionBar.ModeChosen)
    def _mode_chosen(self, event: SelectionBar.ModeChosen) -> None:
        self.set_mode(event.mode)

    def set_mode(self, mode: str) -> None:
        sel = self.selection
        ids = sel.ids if mode == "manual" and sel.mode == "manual" else ()
        if mode == "manual" and sel.mode != "manual":
            ids = tuple(e.id for e in self.chosen())  # start from what the prompt had
        tag = sel.tag or self.tag_filter
        self.set_selection(FewShotSelection(mode, ids or sel.ids, sel.k, tag))

    @on(SelectionBar.Changed)
    def _selection_changed(self, event: SelectionBar.Changed) -> None:
        self.set_selection(event.selection)

    def action_cycle_mode(self) -> None:
        modes = [value for _, value in MODE_OPTIONS]
        self.set_mode(modes[(modes.index(self.selection.mode) + 1) % len(modes)])

    def action_toggle_pick(self) -> None:
        example = self.example_list.highlighted
        if example is None:
            return
        if example.split != FEW_SHOT:
            self.notify(
                f"Example #{example.id} is in the {example.split} split; only few-shot examples "
                "go into a prompt (edit its split to use it).",
                severity="warning",
            )
            return
        sel = self.selection
        if sel.mode != "manual":
            current = tuple(e.id for e in self.chosen())
            sel = FewShotSelection("manual", current, sel.k, sel.tag)
            self.notify("Switched to a manual pick, starting from the examples already chosen.")
        self.set_selection(sel.toggled(example.id))
        self.show_detail(example)

    # --- editing ----------------------------------------------------------------------------

    def _saved(self, example: store.Example) -> None:
        if not set(example.tags) <= self._known_tags:
            self.refresh_tags()
        self.reload(keep_id=example.id)

    def action_add(self) -> None:
        split = self.split_filter or FEW_SHOT
        self.app.push_screen(ExampleForm(None, self._saved, default_split=split), self._form_closed)

    def action_edit(self) -> None:
        example = self.example_list.highlighted
        if example is None:
            self.action_add()
            return
        self.app.push_screen(ExampleForm(example, self._saved), self._form_closed)

    def _form_closed(self, example_id: int | None) -> None:
        self.example_list.focus()
        if example_id is not None:
            self.reload(keep_id=example_id)

    def action_duplicate(self) -> None:
        example = self.example_list.highlighted
        if example is None:
            return
        copy = store.duplicate_example(self.app.db, example.id)
        self.reload(keep_id=copy.id)
        self.notify(f"Duplicated example #{example.id} as #{copy.id}.")

    def action_delete(self) -> None:
        example = self.example_list.highlighted
        if example is None:
            return
        store.delete_example(self.app.db, example.id)
        self.undo_stack.append(example.id)
        self.refresh_tags()
        self.reload()
        self.notify(f"Deleted example #{example.id}. Press ctrl+z to undo.")

    def action_undo(self) -> None:
        if not self.undo_stack:
            self.notify("Nothing to undo.")
            return
        example_id = self.undo_stack.pop()
        store.restore_example(self.app.db, example_id)
        self.refresh_tags()
        self.reload(keep_id=example_id)
        self.notify(f"Restored example #{example_id}.")

    # --- promote ------------------------------------------------------------------------------

    def action_promote(self) -> None:
        example = self.example_list.highlighted
        if example is None:
            return
        if example.split == "test":
            self.notify(
                f"Example #{example.id} is a held-out test example: it is never trained on. "
                "Change its split first if you really mean to.",
                severity="warning",
            )
            return

        def done(request: PromoteRequest | None) -> None:
            if request is not None:
                self.promote(example.id, request)

        datasets = store.list_datasets(self.app.db)
        self.app.push_screen(PromoteDialog(datasets, f"example #{example.id}"), done)

    def promote(self, example_id: int, request: PromoteRequest) -> None:
        db = self.app.db
        if request.dataset_id is None:
            dataset = store.create_dataset(db, request.new_name)
        else:
            dataset = store.get_dataset(db, request.dataset_id)
        store.promote_to_dataset(db, example_id, dataset.id, request.split)
        self.refresh_tags()
        self.reload()
        self.notify(f"Moved example #{example_id} to dataset {dataset.name!r} ({request.split}).")

    # --- import -------------------------------------------------------------------------------

    def action_import_file(self) -> None:
        def done(request: ImportRequest | None) -> None:
            if request is not None:
                self.show_message(f"Importing {request.path.name}…")
                self.import_file(request)

        self.app.push_screen(ImportDialog(), done)

    @work(thread=True, exclusive=True, group="examples-import", description="importing examples")
    def import_file(self, request: ImportRequest) -> ImportReport:
        from workbench.store.db import open_db
        from workbench.store.library_import import import_library_file

        db = open_db(self.app.db_path)
        try:  # the same import as `workbench examples import`
            report = import_library_file(
                db, request.path, split=request.split, batch_size=IMPORT_BATCH
            )
        finally:
            db.close()
        self.app.call_from_thread(self._import_done, report)
        return report

    def _import_done(self, report: ImportReport) -> None:
        self.last_report = report
        self.show_message(report.summary())
        self.refresh_tags()
        self.reload()
        bad = bool(report.error or report.skipped)
        self.notify(report.summary(), severity="warning" if bad else "information", timeout=10)

    def show_message(self, message: str) -> None:
        self.query_one("#examples-message", Static).update(message)

    # --- command palette ------------------------------------------------------------------------

    def palette_extras(self) -> Iterable[SystemCommand]:
        """Each selection mode by name (the m key cycles through them)."""
        for label, mode in MODE_OPTIONS:
            yield SystemCommand(
                f"Examples: selection {label}",
                "Which few-shot examples the prompt sends (m cycles)",
                partial(self.set_mode, mode),
            )
