"""The Examples pane."""

from __future__ import annotations

from textual.app import ComposeResult

from workbench.ui.pane import EmptyState, PaneScreen


class ExamplesScreen(PaneScreen):
    PANE = "examples"

    def compose_body(self) -> ComposeResult:
        yield EmptyState(
            "No examples yet. The few-shot library will list input/output examples here."
        )
