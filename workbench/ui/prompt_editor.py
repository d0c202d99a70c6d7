"""Editors for prompt text: `{{variable}}` placeholders highlighted with one regex per edit.

TextArea's own highlighting needs a tree-sitter grammar; a prompt has only one construct worth
colouring, so a regex over the document's lines is enough and costs microseconds per keystroke.
"""

from __future__ import annotations

from rich.style import Style
from textual.binding import Binding
from textual.widgets import TextArea

from workbench.core.prompts import placeholder_spans

PLACEHOLDER_HIGHLIGHT = "wb-placeholder"
PLACEHOLDER_STYLE = Style(color="magenta", bold=True)


class PaneTextArea(TextArea):
    """A soft-wrapped TextArea where tab moves focus and F6 still opens the History pane.

    TextArea binds F6 to "select line"; in this app the F-keys switch panes everywhere.
    """

    BINDINGS = [Binding("f6", "app.switch_mode('history')", "History", show=False)]

    def __init__(self, text: str = "", **kwargs) -> None:
        kwargs.setdefault("soft_wrap", True)
        kwargs.setdefault("tab_behavior", "focus")
        super().__init__(text, **kwargs)


class PlaceholderTextArea(PaneTextArea):
    """A plain-text TextArea that shows `{{name}}` placeholders in colour."""

    def _build_highlight_map(self) -> None:
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        theme = getattr(self, "_theme", None)
        if theme is not None:
            theme.syntax_styles.setdefault(PLACEHOLDER_HIGHLIGHT, PLACEHOLDER_STYLE)
        for index, line in enumerate(self.document.lines):
            if "{{" not in line:
                continue
            for start, end, _name in placeholder_spans(line):
                # the render step wants byte offsets into the UTF-8 line
                highlights[index].append(
                    (len(line[:start].encode()), len(line[:end].encode()), PLACEHOLDER_HIGHLIGHT)
                )

    def _set_theme(self, theme: str) -> None:
        super()._set_theme(theme)
        self._build_highlight_map()
