"""Small dialogs of the Examples pane: import a file, promote an example to a dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from workbench.store.examples import Dataset
from workbench.ui.widgets.path_suggester import PathSuggester

IMPORT_SPLITS = [
    ("few-shot", "few-shot"),
    ("test (held out)", "test"),
    ("train", "train"),
    ("validation", "validation"),
]


@dataclass(frozen=True)
class ImportRequest:
    path: Path
    split: str


class ImportDialog(ModalScreen[ImportRequest | None]):
    """Ask for a JSONL or CSV file and the split its examples go to."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="import-dialog", classes="examples-dialog"):
            yield Static("Import examples", classes="dialog-title", markup=False)
            yield Static(
                "JSONL (chat rows, or input/output fields) or CSV (input/output or "
                "prompt/completion columns, optional tags column).",
                classes="dialog-help",
                markup=False,
            )
            yield Input(
                placeholder="path to a .jsonl or .csv file (→ completes)",
                id="import-path",
                compact=True,
                suggester=PathSuggester(),
            )
            with Horizontal(classes="dialog-row"):
                yield Label("Add them as ", classes="dialog-label")
                yield Select(
                    IMPORT_SPLITS,
                    value="few-shot",
                    allow_blank=False,
                    id="import-split",
                    compact=True,
                )
            yield Static("", id="import-error", classes="dialog-error", markup=False)
            yield Static("enter imports · esc cancels", classes="dialog-hint", markup=False)
        yield Footer()  # the dialog's own keys, not the pane's beneath

    @on(Input.Submitted, "#import-path")
    def _submit(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        if not event.value.strip():
            self.query_one("#import-error", Static).update("Type the path of a file to import.")
            return
        if not path.is_file():
            self.query_one("#import-error", Static).update(f"No file at {path}")
            return
        split = self.query_one("#import-split", Select).value
        self.dismiss(ImportRequest(path, str(split)))

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class PromoteRequest:
    dataset_id: int | None  # None: create `new_name`
    new_name: str
    split: str


class PromoteDialog(ModalScreen[PromoteRequest | None]):
    """Pick the dataset (or name a new one) an example moves to, and its split there."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, datasets: list[Dataset], example_label: str) -> None:
        super().__init__()
        self.datasets = datasets
        self.example_label = example_label

    def compose(self) -> ComposeResult:
        with Vertical(id="promote-dialog", classes="examples-dialog"):
            yield Static(
                f"Move {self.example_label} to a dataset", classes="dialog-title", markup=False
            )
            with Horizontal(classes="dialog-row"):
                yield Label("Split there ", classes="dialog-label")
                yield Select(
                    [("train", "train"), ("validation", "validation")],
                    value="train",
                    allow_blank=False,
                    id="promote-split",
                    compact=True,
                )
            yield OptionList(
                *(Option(Text(d.name), id=str(d.id)) for d in self.datasets), id="promote-datasets"
            )
            yield Input(
                placeholder="or a new dataset name, then enter", id="promote-new", compact=True
            )
            yield Static("", id="promote-error", classes="dialog-error", markup=False)
            yield Static(
                "enter moves it there (not a copy) · esc cancels",
                classes="dialog-hint",
                markup=False,
            )
        yield Footer()  # the dialog's own keys, not the pane's beneath

    def on_mount(self) -> None:
        target = "#promote-datasets" if self.datasets else "#promote-new"
        self.query_one(target).focus()

    def _split(self) -> str:
        return str(self.query_one("#promote-split", Select).value)

    @on(OptionList.OptionSelected, "#promote-datasets")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(PromoteRequest(int(event.option.id or 0), "", self._split()))

    @on(Input.Submitted, "#promote-new")
    def _new(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if not name:
            self.query_one("#promote-error", Static).update("Type a name for the new dataset.")
            return
        existing = next((d for d in self.datasets if d.name == name), None)
        if existing is not None:
            self.dismiss(PromoteRequest(existing.id, "", self._split()))
        else:
            self.dismiss(PromoteRequest(None, name, self._split()))

    def action_cancel(self) -> None:
        self.dismiss(None)
