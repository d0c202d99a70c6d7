"""The selection bar of the Examples pane: which few-shot examples the active prompt sends.

It shows the prompt's selection (mode, k, tag) and its size in tokens, and posts what the user
changes: `ModeChosen` (the pane decides which examples a new mode starts from) and `Changed` (a new
k or tag). The pane saves the selection and hands it back down with `show()`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Select, Static

from workbench.core.fewshot import FewShotSelection
from workbench.ui.plain import plain_options

MODE_OPTIONS = [("manual pick", "manual"), ("k most recent", "recent"), ("by tag", "tag")]
TOTAL_TOOLTIP = (
    "Tokens the chosen examples add to the prompt (their user/assistant messages, "
    "counted with the profile's default model tokenizer)"
)


class SelectionBar(Horizontal):
    """The active prompt's name, the selection's mode, k and tag, and the chosen examples' size."""

    @dataclass
    class ModeChosen(Message):
        """The user picked another selection mode."""

        bar: SelectionBar
        mode: str

        @property
        def control(self) -> SelectionBar:
            return self.bar

    @dataclass
    class Changed(Message):
        """The user changed k or the tag: the selection they now ask for."""

        bar: SelectionBar
        selection: FewShotSelection

        @property
        def control(self) -> SelectionBar:
            return self.bar

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.selection = FewShotSelection()

    def compose(self) -> ComposeResult:
        yield Static("", id="selection-prompt", markup=False)
        yield Select(
            MODE_OPTIONS, value="manual", allow_blank=False, id="selection-mode", compact=True
        )
        yield Input("3", type="integer", id="selection-k", compact=True, tooltip="k examples")
        yield Select([], prompt="tag", id="selection-tag", compact=True)
        total = Static("", id="selection-total", markup=False)
        total.tooltip = TOTAL_TOOLTIP
        yield total

    # --- attributes down ----------------------------------------------------------------------

    def show(self, selection: FewShotSelection) -> None:
        """Show `selection` in the controls (without announcing it back as a change)."""
        self.selection = selection
        mode = self.query_one("#selection-mode", Select)
        with mode.prevent(Select.Changed):
            mode.value = selection.mode
        k_input = self.query_one("#selection-k", Input)
        with k_input.prevent(Input.Changed):
            k_input.value = str(selection.k)
        tag = self.query_one("#selection-tag", Select)
        with tag.prevent(Select.Changed):
            try:
                tag.value = selection.tag if selection.tag else Select.NULL
            except Exception:  # a tag no example has any more
                tag.value = Select.NULL

    def set_tags(self, tags: list[str]) -> None:
        """The tags a by-tag selection can use (the selection's own stays chosen if listed)."""
        select = self.query_one("#selection-tag", Select)
        with select.prevent(Select.Changed):
            select.set_options(plain_options(tags))
            if self.selection.tag in tags:
                select.value = self.selection.tag

    def show_size(self, prompt: str, examples: int, tokens: int | None, exact: bool) -> None:
        """The prompt's name, and how many examples it sends and their tokens (None: counting)."""
        self.query_one("#selection-prompt", Static).update(
            Text.assemble(("Prompt ", "dim"), (prompt, "bold"))
        )
        words = f"{examples} example{'s' if examples != 1 else ''}"
        if tokens is None:
            words += " · … tokens"
        else:
            words += f" · {'' if exact else '≈'}{tokens} tokens"
        self.query_one("#selection-total", Static).update(words)

    # --- messages up --------------------------------------------------------------------------

    @on(Select.Changed, "#selection-mode")
    def _mode_changed(self, event: Select.Changed) -> None:
        event.stop()
        mode = str(event.value)
        if mode != self.selection.mode:
            self.post_message(self.ModeChosen(self, mode))

    @on(Input.Changed, "#selection-k")
    def _k_changed(self, event: Input.Changed) -> None:
        event.stop()
        try:
            k = max(0, min(int(event.value), 100))
        except ValueError:
            return
        sel = self.selection
        if k != sel.k:
            self.post_message(self.Changed(self, FewShotSelection(sel.mode, sel.ids, k, sel.tag)))

    @on(Select.Changed, "#selection-tag")
    def _tag_changed(self, event: Select.Changed) -> None:
        event.stop()
        tag = None if event.value == Select.NULL else str(event.value)
        sel = self.selection
        if tag != sel.tag:
            self.post_message(self.Changed(self, FewShotSelection(sel.mode, sel.ids, sel.k, tag)))
