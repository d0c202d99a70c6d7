"""One disagreement read in full: every approach's answer to one test item, side by side.

Opened by enter in the Evaluate tab's disagreements table. Questions and answers are the user's
and the models' text, so the body is built as `Text` (never markup: `[/INST]` stays literal).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from workbench.store.evals import EvalItem, EvalRun


def answers_text(pairs: Sequence[tuple[EvalRun, EvalItem]]) -> Text:
    """The question, the expected answer, then each approach's answer marked passed or failed."""
    body = Text()
    body.append("Question\n", style="bold")
    body.append(pairs[0][1].question + "\n\n")
    body.append("Expected\n", style="bold")
    body.append(pairs[0][1].expected + "\n")
    for run, item in pairs:
        mark, style = ("✓", "green") if item.passed else ("✗", "red")
        body.append(f"\n{mark} {run.approach} ({run.model})\n", style=f"bold {style}")
        body.append(item.answer or (item.error or ""))
        if item.detail:
            body.append(f"\n  {item.detail}", style="dim")
        body.append("\n")
    return body


class AnswersDialog(ModalScreen[None]):
    """Every approach's answer to one test item, side by side in plain text."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]

    def __init__(self, title: str, body: Text) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(id="answers-dialog"):
            yield Static(Text(self.title_text, style="bold"), id="answers-title")
            with VerticalScroll():
                yield Static(self.body, id="answers-body")
            yield Static(Text("escape: close", style="dim"))
