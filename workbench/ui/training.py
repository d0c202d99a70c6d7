"""The Training data pane."""

from __future__ import annotations

from textual.app import ComposeResult

from workbench.ui.pane import EmptyState, PaneScreen


class TrainingScreen(PaneScreen):
    PANE = "training"

    def compose_body(self) -> ComposeResult:
        yield EmptyState("No datasets yet. Build or import a chat-format JSONL training set here.")
