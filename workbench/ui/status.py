"""The status line at the bottom of every pane: profile, provider, key present, tokenizer state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

if TYPE_CHECKING:
    from workbench.app import WorkbenchApp


@dataclass(frozen=True)
class StatusInfo:
    """What the status line shows; the app replaces it (never mutates it) and broadcasts it."""

    profile: str
    base_url: str
    key_source: str  # "$OPENAI_API_KEY", "config file" or "missing": never the key itself
    tokenizer: str  # "o200k_base", "loading…" or "≈ estimate (…)"
    tokenizer_note: str = ""
    warning: str = ""

    def render(self, width: int = 200) -> Text:
        """The full line, or a compact one when it would not fit: the key and tokenizer state
        always stay visible, the URL is what gets cut."""
        full = self._line(compact=False)
        return full if full.cell_len <= width else self._line(compact=True)

    def _line(self, compact: bool) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" " if compact else " profile ", style="dim")
        text.append(self.profile, style="bold")
        text.append("  key " if not compact else "  key", style="dim")
        if self.key_source == "missing":
            text.append(" missing" if compact else "missing", style="bold red")
        else:
            text.append("✓" if compact else f"✓ {self.key_source}", style="green")
        text.append("  tokens " if not compact else "  tok ", style="dim")
        tokenizer = self.tokenizer
        if compact and tokenizer.startswith("≈"):
            tokenizer = "≈ estimate"
        text.append(tokenizer, style="yellow" if tokenizer.startswith("≈") else "")
        if self.warning:
            text.append("  ⚠ " + ("config" if compact else self.warning), style="bold yellow")
        text.append("  ")
        url = self.base_url.split("://", 1)[-1] if compact else self.base_url
        text.append(url)
        return text


class StatusLine(Widget):
    """Shows the app's current StatusInfo; follows `app.status_signal`."""

    info: reactive[StatusInfo | None] = reactive(None)

    if TYPE_CHECKING:  # the WorkbenchApp (imported by app.py itself, so typed only)

        @property
        def app(self) -> WorkbenchApp: ...

    def on_mount(self) -> None:
        self.show(self.app.status_info)
        self.app.status_signal.subscribe(self, self.show)

    def show(self, info: StatusInfo) -> None:
        self.info = info
        self.tooltip = info.tokenizer_note or None

    def render(self) -> Text:
        if self.info is None:
            return Text()
        return self.info.render(self.size.width or 200)
