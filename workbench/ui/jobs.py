"""The Jobs pane."""

from __future__ import annotations

from textual.app import ComposeResult

from workbench.ui.pane import EmptyState, PaneScreen


class JobsScreen(PaneScreen):
    PANE = "jobs"

    def compose_body(self) -> ComposeResult:
        yield EmptyState(
            "No fine-tuning jobs yet. Jobs you create or watch will be listed here and kept locally."
        )
