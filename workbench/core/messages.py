"""Chat messages as plain data: what a message's `content` says, as text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def content_text(content: Any) -> str:
    """The text of a message's content: a string as is, the text parts of a list joined, "" for None.

    The one rule for "message content -> text" (few-shot pairs, evaluation cases, the simulator's
    replies). Images and other non-text parts add nothing.
    """
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text", "")) for p in content if isinstance(p, Mapping) and "text" in p
        )
    return "" if content is None else str(content)
