"""The status line at the bottom of every pane: profile, provider, key present, tokenizer state."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static


@dataclass(frozen=True)
class StatusInfo:
    """What the status line shows; the app replaces it (never mutates it) and broadcasts it."""

    profile: str
    base_url: str
    key_source: str  # "$OPENAI_API_KEY", "config file" or "missing": never the key itself
    tokenizer: str  # "o200k_base", "loading…" or "≈ estimate (…)"
    tokenizer_note: str = ""
    warning: str = ""

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" profile ", style="dim")
        text.append(self.profile, style="bold")
        text.append("  ")
        text.append(self.base_url)
        text.append("  key ", style="dim")
        if self.key_source == "missing":
            text.append("missing", style="bold red")
        else:
            text.append(f"✓ {self.key_source}", style="green")
        text.append("  tokens ", style="dim")
        text.append(self.tokenizer, style="yellow" if self.tokenizer.startswith("≈") else "")
        if self.warning:
            text.append("  ⚠ " + self.warning, style="bold yellow")
        return text


class StatusLine(Static):
    """Shows the app's current StatusInfo; follows `app.status_signal`."""

    def on_mount(self) -> None:
        app = self.app
        self.show(app.status_info)  # type: ignore[attr-defined]
        app.status_signal.subscribe(self, self.show)  # type: ignore[attr-defined]

    def show(self, info: StatusInfo) -> None:
        self.update(info.render())
        self.tooltip = info.tokenizer_note or None
