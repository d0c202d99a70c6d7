"""User text shown as data, never parsed as markup: the helpers every choice list uses."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text


def plain_options(values: Iterable[str]) -> list[tuple[Text, str]]:
    """`Select` options whose prompts are literal text (a name like `support [/INST]` stays as is)."""
    return [(Text(value), value) for value in values]
