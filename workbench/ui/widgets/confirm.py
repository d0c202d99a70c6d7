"""The one yes/no dialog every pane uses before an action (delete, cancel, pause, leave rows out).

The default button is the one that has the focus and looks like the default, so enter does what
the dialog shows. An action that cannot be undone (`destructive=True`) defaults to the safe
answer: enter keeps things as they are, `y` (or a click) confirms. The dialog's own footer shows
its keys (y, n, esc), not the pane's underneath.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


class ConfirmDialog(ModalScreen[bool]):
    """Dismisses with True only when the user says yes. Title and message are plain text."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes-key"),
        Binding("n", "answer(False)", "No", id="confirm-no-key"),
        # its own action, so the footer shows it beside n (the footer lists one key per action)
        Binding("escape", "cancel", "Cancel", id="confirm-escape"),
    ]

    def __init__(
        self,
        title: str,
        message: str = "",
        yes: str = "Yes",
        no: str = "Cancel",
        *,
        destructive: bool = False,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.yes_label = yes
        self.no_label = no
        self.destructive = destructive
        self.set_class(destructive, "-destructive")

    @property
    def default(self) -> str:
        """The id of the button enter presses."""
        return "confirm-no" if self.destructive else "confirm-yes"

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Text(self.title_text, style="bold"), id="confirm-title")
            if self.message:
                yield Static(Text(self.message), id="confirm-message")
            with Horizontal(id="confirm-buttons"):
                yes_variant = "error" if self.destructive else "primary"
                no_variant = "primary" if self.destructive else "default"
                yield Button(
                    f"{self.yes_label} (y)", id="confirm-yes", variant=yes_variant, compact=True
                )
                yield Button(
                    f"{self.no_label} (n)", id="confirm-no", variant=no_variant, compact=True
                )
            hint = (
                f"enter: {self.no_label.lower()} · y: {self.yes_label.lower()} · esc: cancel"
                if self.destructive
                else f"enter: {self.yes_label.lower()} · n or esc: {self.no_label.lower()}"
            )
            yield Static(Text(hint), id="confirm-hint")
        yield Footer()

    def on_mount(self) -> None:
        button = self.query_one(f"#{self.default}", Button)
        button.add_class("-default")
        button.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def action_cancel(self) -> None:
        self.dismiss(False)
