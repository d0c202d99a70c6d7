"""A read-only report to scroll through (an import summary, a validation report), closed with esc.

Generic: a title and a body, either plain text (shown as it is: user data is never parsed as
markup) or a Rich renderable the caller built. The dialog's own footer shows its keys.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, Static


class ReportScreen(ModalScreen[None]):
    """Shows `body` under `title`; escape, q, enter or the Close button close it."""

    DEFAULT_CSS = """
    ReportScreen {
        align: center middle;
    }
    ReportScreen .dialog.report {
        width: 90;
        max-width: 95%;
        height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    ReportScreen #report-body {
        height: 1fr;
    }
    ReportScreen .dialog-title {
        text-style: bold;
        margin-bottom: 1;
    }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="report-close"),
        Binding("enter", "close", "Close", show=False, id="report-close-enter"),
    ]

    def __init__(self, title: str, body: str | RenderableType) -> None:
        super().__init__()
        self.title_text = title
        self.body = Text(body) if isinstance(body, str) else body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog report"):
            yield Label(Text(self.title_text), classes="dialog-title")
            with VerticalScroll(id="report-body"):
                yield Static(self.body, id="report-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", variant="primary", id="close", compact=True)
        yield Footer()  # the dialog's own keys, not the pane's beneath

    def on_mount(self) -> None:
        self.query_one("#report-body").focus()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
