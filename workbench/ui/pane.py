"""What every pane screen shares: the pane tabs on top, the status line and footer below."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

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
from workbench.ui.widgets.footer import PaneFooter

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from workbench.app import WorkbenchApp

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
        yield PaneFooter()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    if TYPE_CHECKING:  # the app that runs every pane (ui/pane.py is imported by app.py itself)

        @property
        def app(self) -> WorkbenchApp: ...

    def palette_commands(self) -> Iterable[SystemCommand]:
        """The pane's actions in the command palette: one per key binding of the pane and of its
        widgets (built from their BINDINGS, so a new key is offered without listing it twice),
        then `palette_extras()` for the actions no key reaches."""
        yield from binding_commands(self, self.palette_prefix())
        yield from self.palette_extras()

    def palette_prefix(self) -> str:
        """Put before each binding's description in the palette ("Jobs: Cancel")."""
        return next((label for mode, label, _key in PANES if mode == self.PANE), self.PANE)

    def palette_extras(self) -> Iterable[SystemCommand]:
        """Palette commands that no key binding reaches."""
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


def _our_bindings(node: DOMNode) -> Iterator[Binding]:
    """The bindings a workbench class declares (not the ones Textual's widgets bring along)."""
    for cls in reversed(type(node).__mro__):
        if not cls.__module__.startswith("workbench."):
            continue
        for binding in cls.__dict__.get("BINDINGS", ()):
            if isinstance(binding, Binding):
                yield binding


def binding_commands(screen: Screen, prefix: str) -> Iterator[SystemCommand]:
    """One palette command per described binding of `screen` and its widgets, in the footer's
    words; the help line shows the key (and the binding's tooltip, which may say more). Left out,
    as the footer leaves them out: an action its node turns off (`check_action` False), and a
    binding hidden from the footer unless its tooltip says it belongs in the palette (cursor keys
    have none), and escape (the way back, not an action). A binding of several keys shows the
    first."""
    from textual.actions import parse

    seen: set[tuple[type, str]] = set()
    for node in (screen, *screen.walk_children()):
        for binding in _our_bindings(node):
            if not binding.description or binding.id == "go-to":
                continue
            if not binding.show and not binding.tooltip:
                continue
            first_key = binding.key.split(",")[0].strip()
            if first_key == "escape":
                continue  # a way back (leave the search, close a dialog), not an action to pick
            if (type(node), binding.action) in seen:
                continue
            seen.add((type(node), binding.action))
            _target, name, params = parse(binding.action)
            if node.check_action(name, params) is False:
                continue
            key = screen.app.get_key_display(replace(binding, key=first_key))
            help_text = f"{binding.tooltip} ({key})" if binding.tooltip else f"key: {key}"
            yield SystemCommand(
                f"{prefix}: {binding.description}",
                help_text,
                partial(node.run_action, binding.action),
            )


class EmptyState(Static):
    """A pane's honest 'nothing here yet' message, with the key that fixes it. Plain text, no markup."""

    def __init__(self, message: str, **kwargs) -> None:
        super().__init__(message, markup=False, classes="empty-state", **kwargs)
