"""What every pane screen shares: the pane tabs on top, the status line and footer below."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, OptionList, Static, Tab, Tabs
from textual.widgets.option_list import Option

from workbench.ui.keys import decode_alt_digits
from workbench.ui.status import StatusLine

# alt+1 … alt+6 must arrive as keys, not as the Option characters Textual decodes them to
decode_alt_digits()

# (mode id, label, key): the order of the tabs and of the F-keys.
PANES: tuple[tuple[str, str, str], ...] = (
    ("prompt", "Prompt", "f1"),
    ("examples", "Examples", "f2"),
    ("training", "Training data", "f3"),
    ("jobs", "Jobs", "f4"),
    ("costs", "Costs", "f5"),
    ("history", "History", "f6"),
)


class PaneTabs(Tabs):
    """Clickable pane names; the F-keys do the same from the keyboard."""

    can_focus = False


PANE_KEYS_HELP = "F1–F6, alt+1–6, or ctrl+g then 1–6"


class GoToPane(ModalScreen[str | None]):
    """ctrl+g, then 1-6: the pane keys that reach the app everywhere (F-keys can be taken by the
    browser or the terminal, alt+digit by a desktop or a browser's tab switching)."""

    BINDINGS = [
        *(
            Binding(str(i), f"go('{mode}')", label, id=f"go-{mode}")
            for i, (mode, label, _key) in enumerate(PANES, start=1)
        ),
        Binding("escape,ctrl+g", "go('')", "Stay", id="go-stay"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="go-to-pane"):
            yield Static(Text("Go to pane: press 1–6", style="bold"), id="go-title")
            yield OptionList(
                *(
                    Option(Text(f"{i}  {label}  ({key.upper()})"), id=mode)
                    for i, (mode, label, key) in enumerate(PANES, start=1)
                ),
                id="go-list",
            )
        yield Footer()

    def action_go(self, mode: str) -> None:
        self.dismiss(mode or None)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)


class PaneScreen(Screen):
    """Base class of the six panes. Subclasses set PANE and implement `compose_body()`."""

    PANE = ""
    # priority: reaches the pane from inside an editor, like the F-keys
    BINDINGS = [Binding("ctrl+g", "go_to_pane", "Panes", show=False, priority=True, id="go-to")]

    def compose(self) -> ComposeResult:
        yield PaneTabs(
            *(Tab(f"{key.upper()} {label}", id=f"tab-{mode}") for mode, label, key in PANES),
            active=f"tab-{self.PANE}",
        )
        with Container(id="pane-body", classes=f"pane-{self.PANE}"):
            yield from self.compose_body()
        yield StatusLine(id="status-line")
        yield Footer()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def palette_commands(self) -> Iterable[SystemCommand]:
        """The pane's main actions, offered in the command palette while it is shown."""
        return ()

    def action_go_to_pane(self) -> None:
        def chosen(mode: str | None) -> None:
            if mode and mode != self.PANE:
                self.app.switch_mode(mode)

        self.app.push_screen(GoToPane(), chosen)

    @on(Tabs.TabActivated)
    def _switch_pane(self, event: Tabs.TabActivated) -> None:
        event.stop()
        mode = str(event.tab.id).removeprefix("tab-")
        if mode != self.PANE:
            # put this screen's tab back, so it is right when the user returns here
            event.tabs.active = f"tab-{self.PANE}"
            self.app.switch_mode(mode)


class EmptyState(Static):
    """A pane's honest 'nothing here yet' message, with the key that fixes it. Plain text, no markup."""

    def __init__(self, message: str, **kwargs) -> None:
        super().__init__(message, markup=False, classes="empty-state", **kwargs)
