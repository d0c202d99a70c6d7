"""Small modal dialogs of the Prompt pane: a name or a note, and picking a named prompt."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, OptionList
from textual.widgets.option_list import Option


class AskText(ModalScreen[str | None]):
    """One line of text (a prompt name, a version note); enter accepts, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__(classes="prompt-dialog")
        self.title_text = title
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self.title_text, markup=False)
            yield Input(self.value, placeholder=self.placeholder, id="dialog-input")
            yield Label("enter: OK · escape: cancel", classes="dialog-help")
        yield Footer()  # the dialog's own keys, not the pane's beneath

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickPrompt(ModalScreen[str | None]):
    """Choose one of the named prompts."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, names: list[str], current: str) -> None:
        super().__init__(classes="prompt-dialog")
        self.names = names
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label("Open prompt")
            yield OptionList(
                *(Option(Text(n), id=f"p{i}") for i, n in enumerate(self.names)),
                id="prompt-names",
            )
            yield Label("enter: open · escape: cancel", classes="dialog-help")
        yield Footer()  # the dialog's own keys, not the pane's beneath

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self.current in self.names:
            options.highlighted = self.names.index(self.current)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.names[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
