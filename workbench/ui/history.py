"""The History pane."""

from __future__ import annotations

from textual.app import ComposeResult

from workbench.ui.pane import EmptyState, PaneScreen


class HistoryScreen(PaneScreen):
    PANE = "history"

    def compose_body(self) -> ComposeResult:
        yield EmptyState("No runs yet. Every prompt run is recorded here.")
