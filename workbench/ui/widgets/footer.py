"""Textual's Footer, rebuilt only when the keys it shows change.

Footer removes and remounts all its keys on every bindings signal of its screen. A pane sends three
before its first frame (focus, the screen stack, an idle refresh), each with the same keys, and the
keys' styling was about half of all the styling done before the first frame. Pressing a key that
changes nothing (most of them, for the footer) sent another such rebuild.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer

# what the keys are drawn from: each active binding (key, description, group, shown or not, the
# palette's own among them), on or off, and its tooltip
KeysShown = tuple[tuple[object, bool, str], ...]


class PaneFooter(Footer):
    """A Footer that skips the rebuilds that would draw the same keys."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._composed: KeysShown | None = None  # None: no keys drawn yet

    def keys_shown(self) -> KeysShown:
        return tuple(
            (binding, enabled, tooltip)
            for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
        )

    def compose(self) -> ComposeResult:
        keys, drawn = self.keys_shown(), False
        for widget in super().compose():  # nothing before the screen's first bindings signal
            drawn = True
            yield widget
        self._composed = keys if drawn else None

    async def recompose(self) -> None:
        if self._composed is not None and self.is_attached and self.keys_shown() == self._composed:
            return
        await super().recompose()
