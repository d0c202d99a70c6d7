"""The Costs pane."""

from __future__ import annotations

from textual.app import ComposeResult

from workbench.ui.pane import EmptyState, PaneScreen


class CostsScreen(PaneScreen):
    PANE = "costs"

    def compose_body(self) -> ComposeResult:
        yield EmptyState(
            "Nothing to estimate yet: costs are computed from your prompt, examples and dataset."
        )
