"""What every pane screen shares: the pane tabs on top, the status line and footer below."""

from __future__ import annotations

from collections.abc import Iterable

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Footer, Static, Tab, Tabs

from workbench.ui.status import StatusLine

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


class PaneScreen(Screen):
    """Base class of the six panes. Subclasses set PANE and implement `compose_body()`."""

    PANE = ""

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
