"""The Prompt pane."""

from __future__ import annotations

from textual.app import ComposeResult

from workbench.ui.pane import EmptyState, PaneScreen


class PromptScreen(PaneScreen):
    PANE = "prompt"

    def compose_body(self) -> ComposeResult:
        yield EmptyState(
            "No prompt yet. The Prompt pane will let you write a system prompt and a user template, then run it streamed against the active provider."
        )
