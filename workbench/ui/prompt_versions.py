"""Browse a prompt's versions, diff two, restore one.

The highlighted version is compared with the marked one (space marks; by default the version just
before it), as a unified diff.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from workbench.core.prompts import diff_versions
from workbench.store.prompts import PromptVersion


def render_diff(lines: list[str]) -> Text:
    """A unified diff as Text, coloured by line kind; prompt text stays literal."""
    if not lines:
        return Text("no differences", style="dim")
    text = Text()
    for line in lines:
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        text.append(line + "\n", style=style)
    return text


def version_option_text(version: PromptVersion, marked: bool) -> Text:
    text = Text()
    text.append("● " if marked else "  ", style="yellow")
    text.append(version.label, style="bold")
    text.append(f" {version.created_at[5:16].replace('T', ' ')}", style="dim")
    if version.note:
        text.append(f"\n    {version.note}", style="italic")
    return text


class VersionList(OptionList):
    BINDINGS = [
        Binding("space", "mark", "Compare with", tooltip="Compare other versions with this one"),
        Binding("r", "restore", "Restore", tooltip="Make a new version equal to this one"),
    ]

    @dataclass
    class Mark(Message):
        index: int

    @dataclass
    class Restore(Message):
        index: int

    def action_mark(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Mark(self.highlighted))

    def action_restore(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Restore(self.highlighted))


class VersionsView(Horizontal):
    """Version list on the left, the diff on the right."""

    @dataclass
    class RestoreRequested(Message):
        version: PromptVersion

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.versions: list[PromptVersion] = []
        self.marked_id: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="version-side"):
            yield VersionList(id="version-list")
            yield Static(
                Text("space: compare with · r: restore · ctrl+s: save version", style="dim"),
                id="version-help",
            )
        with VerticalScroll(id="diff-box"):
            yield Static(Text("no versions yet", style="dim"), id="diff")

    def show(self, versions: list[PromptVersion]) -> None:
        """Versions newest first."""
        listing = self.query_one(VersionList)
        # a new version (or draft) moves the highlight to the newest; otherwise it stays put
        same = [v.id for v in versions] == [v.id for v in self.versions]
        keep = self._highlighted() if same else None
        self.versions = versions
        if self.marked_id not in {v.id for v in versions}:
            self.marked_id = None
        listing.set_options(
            [Option(version_option_text(v, v.id == self.marked_id)) for v in versions]
        )
        if versions:
            ids = [v.id for v in versions]
            listing.highlighted = ids.index(keep.id) if keep and keep.id in ids else 0
        self._show_diff()

    def _highlighted(self) -> PromptVersion | None:
        index = self.query_one(VersionList).highlighted
        if index is None or index >= len(self.versions):
            return None
        return self.versions[index]

    def diff_pair(self) -> tuple[PromptVersion, PromptVersion] | None:
        """(old, new) the diff shows: the marked version (or the one before) against the highlight."""
        new = self._highlighted()
        if new is None:
            return None
        old = next((v for v in self.versions if v.id == self.marked_id), None)
        if old is None or old.id == new.id:
            older = [v for v in self.versions if v.number < new.number]
            old = older[0] if older else None
        if old is None:
            return None
        return old, new

    def _show_diff(self) -> None:
        diff = self.query_one("#diff", Static)
        pair = self.diff_pair()
        if pair is None:
            new = self._highlighted()
            diff.update(Text("the first version: nothing to compare with" if new else "", "dim"))
            return
        old, new = pair
        diff.update(render_diff(diff_versions(old, new, old.label, new.label)))

    @on(OptionList.OptionHighlighted)
    def _highlight(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_diff()

    @on(VersionList.Mark)
    def _mark(self, event: VersionList.Mark) -> None:
        version = self.versions[event.index]
        self.marked_id = None if self.marked_id == version.id else version.id
        self.show(self.versions)

    @on(VersionList.Restore)
    def _restore(self, event: VersionList.Restore) -> None:
        self.post_message(self.RestoreRequested(self.versions[event.index]))
