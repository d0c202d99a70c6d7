"""Completes a file path from what is on disk, for every "path" Input (import, export, open)."""

from __future__ import annotations

from pathlib import Path

from textual.suggester import Suggester


class PathSuggester(Suggester):
    """Suggests the first name in the folder being typed that starts with what is typed.

    Folders end in "/" so the next name can be typed at once; hidden names are offered only when
    the typed name starts with ".". Tab or → accepts.
    """

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        typed = Path(value).expanduser()
        folder, prefix = (typed, "") if value.endswith("/") else (typed.parent, typed.name)
        try:
            names = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
        except OSError:
            return None
        for name in names:
            if name.startswith(prefix) and (prefix.startswith(".") or not name.startswith(".")):
                return value + name[len(prefix) :]
        return None
