"""The Training data pane's dialogs: names, import/export/split options (yes/no questions use the
shared `ui.widgets.confirm.ConfirmDialog`, reports the shared `ui.widgets.report.ReportScreen`).

Each dialog returns plain values through `dismiss()`; the pane decides what to do with them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from workbench.ui.widgets.path_suggester import PathSuggester

# re-exported: training_files.py still imports the report from here (it moved to ui/widgets)
from workbench.ui.widgets.report import ReportScreen as ReportScreen


class Dialog(ModalScreen):
    """A small centred box with a title, fields, an error line and OK/Cancel."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    TITLE_TEXT = ""
    OK_LABEL = "OK"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.TITLE_TEXT), classes="dialog-title")
            yield from self.compose_fields()
            yield Static("", classes="dialog-error", id="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.OK_LABEL, variant="primary", id="ok", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()  # the dialog's own keys, not the pane's beneath

    def compose_fields(self) -> ComposeResult:
        return ()

    def show_error(self, message: str) -> None:
        self.query_one("#dialog-error", Static).update(Text(message))

    def submit(self) -> None:
        raise NotImplementedError

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted)
    def _ok(self) -> None:
        self.submit()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class NameDialog(Dialog):
    """Ask for a name (new dataset, rename)."""

    OK_LABEL = "Save"

    def __init__(
        self, title: str, value: str = "", check: Callable[[str], str | None] | None = None
    ) -> None:
        super().__init__()
        self.TITLE_TEXT = title
        self._value = value
        self._check = check

    def compose_fields(self) -> ComposeResult:
        yield Input(self._value, placeholder="name", id="name", compact=True)

    def submit(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        if not name:
            self.show_error("a name is needed")
            return
        error = self._check(name) if self._check else None
        if error:
            self.show_error(error)
            return
        self.dismiss(name)


@dataclass(frozen=True)
class ImportRequest:
    path: Path
    dataset_name: str
    prompt_column: str = "prompt"
    completion_column: str = "completion"
    system: str | None = None

    @property
    def is_csv(self) -> bool:
        return self.path.suffix.lower() in (".csv", ".tsv")


class ImportDialog(Dialog):
    """Which file, into which dataset; CSV column mapping when the file is a CSV."""

    TITLE_TEXT = "Import a JSONL or CSV file"
    OK_LABEL = "Import"

    def __init__(self, dataset_name: str = "", path: str = "") -> None:
        super().__init__()
        self._dataset_name = dataset_name
        self._path = path
        self._suggested_name = ""  # the dataset name last filled in from the file name

    def compose_fields(self) -> ComposeResult:
        yield Label("File (→ completes the path)")
        yield Input(
            self._path,
            placeholder="path/to/train.jsonl",
            id="path",
            suggester=PathSuggester(),
            compact=True,
        )
        yield Label("Into dataset (a new name creates it)")
        yield Input(self._dataset_name, placeholder="dataset name", id="dataset", compact=True)
        with Vertical(id="csv-options"):
            yield Label("CSV columns: prompt → user, completion → assistant")
            with Horizontal(classes="dialog-row"):
                yield Input("prompt", placeholder="prompt column", id="prompt-column", compact=True)
                yield Input(
                    "completion",
                    placeholder="completion column",
                    id="completion-column",
                    compact=True,
                )
            yield Input("", placeholder="system prompt (optional)", id="system", compact=True)

    def on_mount(self) -> None:
        self._toggle_csv(self._path)
        self.query_one("#path", Input).focus()

    @on(Input.Changed, "#path")
    def _path_changed(self, event: Input.Changed) -> None:
        self._toggle_csv(event.value)
        dataset = self.query_one("#dataset", Input)
        # follow the file name until the user types a name of their own (then it is theirs)
        if self._dataset_name or dataset.value not in ("", self._suggested_name):
            return
        if event.value.strip():
            self._suggested_name = Path(event.value.strip()).stem
            dataset.value = self._suggested_name

    def _toggle_csv(self, value: str) -> None:
        is_csv = value.strip().lower().endswith((".csv", ".tsv"))
        self.query_one("#csv-options").display = is_csv

    def submit(self) -> None:
        raw = self.query_one("#path", Input).value.strip()
        if not raw:
            self.show_error("which file? type its path")
            return
        path = Path(os.path.expanduser(raw))
        if not path.is_file():
            self.show_error(f"{path} is not a file")
            return
        name = self.query_one("#dataset", Input).value.strip() or path.stem
        system = self.query_one("#system", Input).value.strip() or None
        self.dismiss(
            ImportRequest(
                path,
                name,
                self.query_one("#prompt-column", Input).value.strip() or "prompt",
                self.query_one("#completion-column", Input).value.strip() or "completion",
                system,
            )
        )


@dataclass(frozen=True)
class ExportRequest:
    split: str
    path: Path | None  # None: the exports folder beside the database


class ExportDialog(Dialog):
    """Which split, and where (empty: the exports folder, named by content hash)."""

    TITLE_TEXT = "Export JSONL (valid rows, byte-exact)"
    OK_LABEL = "Export"

    def __init__(self, has_validation: bool) -> None:
        super().__init__()
        self._has_validation = has_validation

    def compose_fields(self) -> ComposeResult:
        yield Label("Split")
        options = [("train", "train")]
        if self._has_validation:
            options.append(("validation", "validation"))
        yield Select(options, value="train", allow_blank=False, id="split", compact=True)
        yield Label("File (empty: exports/ beside the database)")
        yield Input(
            "",
            placeholder="path/to/train.jsonl",
            id="path",
            suggester=PathSuggester(),
            compact=True,
        )

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    def submit(self) -> None:
        raw = self.query_one("#path", Input).value.strip()
        path = Path(os.path.expanduser(raw)) if raw else None
        if path is not None and path.is_dir():
            self.show_error(f"{path} is a folder: add a file name")
            return
        self.dismiss(ExportRequest(str(self.query_one("#split", Select).value), path))


@dataclass(frozen=True)
class SplitRequest:
    validation_fraction: float
    seed: int


class SplitDialog(Dialog):
    """Validation share and seed (the same seed gives the same split)."""

    TITLE_TEXT = "Split into train and validation"
    OK_LABEL = "Split"

    def compose_fields(self) -> ComposeResult:
        yield Label("Validation share, in percent")
        yield Input("10", id="percent", type="number", compact=True)
        yield Label("Seed (same seed, same split)")
        yield Input("42", id="seed", type="integer", compact=True)

    def on_mount(self) -> None:
        self.query_one("#percent", Input).focus()

    def submit(self) -> None:
        try:
            percent = float(self.query_one("#percent", Input).value)
        except ValueError:
            self.show_error("the validation share must be a number, e.g. 10")
            return
        if not 0 <= percent < 100:
            self.show_error("the validation share must be at least 0 and below 100")
            return
        try:
            seed = int(self.query_one("#seed", Input).value)
        except ValueError:
            self.show_error("the seed must be a whole number")
            return
        self.dismiss(SplitRequest(percent / 100, seed))
