"""The preview: exactly the messages each approach will send, with tokens per message and total."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from workbench.core.prompts import APPROACH_LABELS, PromptSize

ROLE_STYLES = {"system": "bold cyan", "user": "bold green", "assistant": "bold yellow"}


@dataclass(frozen=True)
class ApproachPreview:
    approach: str
    model: str
    size: PromptSize | None  # None: cannot be assembled (see problem)
    problem: str = ""
    note: str = ""


def render_preview(preview: ApproachPreview) -> Text:
    """One approach as Text: a header with the total, then each message (user text is never markup)."""
    text = Text()
    label = APPROACH_LABELS.get(preview.approach, preview.approach)
    text.append(f"{label}", style="bold reverse")
    text.append(f"  {preview.model or '(no model)'}", style="bold")
    if preview.size is not None:
        approx = "" if preview.size.exact else "≈"
        text.append(f"  {approx}{preview.size.total} prompt tokens", style="bold")
    text.append("\n")
    if preview.note:
        text.append(preview.note + "\n", style="dim")
    if preview.problem:
        text.append(preview.problem + "\n", style="bold red")
    if preview.size is not None:
        for message in preview.size.messages:
            text.append(f"{message.role}", style=ROLE_STYLES.get(message.role, "bold"))
            text.append(f" · {approx}{message.tokens} tok\n", style="dim")
            text.append(message.content + "\n")
        text.append("+ 3 tokens priming the reply\n", style="dim")
    return text


class PreviewView(VerticalScroll):
    """A stack of the three approaches; each is one Static holding plain Text."""

    def show(self, previews: list[ApproachPreview]) -> None:
        statics = list(self.query(Static))
        if len(statics) != len(previews):
            self.remove_children()
            statics = [Static(classes="preview-approach") for _ in previews]
            self.mount_all(statics)
        for static, preview in zip(statics, previews, strict=True):
            static.update(render_preview(preview))
            static.set_class(bool(preview.problem), "-problem")
