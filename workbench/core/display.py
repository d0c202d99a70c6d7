"""Text for people: counts with the right plural, and data made safe to print on a terminal.

Every text-mode command prints data it did not write (key names from a user's file, stored model
answers, error messages from a server). A terminal obeys the control characters in such text: an OSC
sequence can retitle the window or plant a link, CSI can move the cursor and overwrite what was
printed. `printable()` shows them as visible escapes instead; JSON output is escaped by `json.dumps`.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls, bidi overrides/isolates (they reorder what
# the reader sees), and lone surrogates (a terminal cannot even be sent those).
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """`text` as a string whose control characters (but \\n and \\t) show as `\\x1b`-style escapes."""
    text = text if isinstance(text, str) else str(text)
    if _UNPRINTABLE.search(text) is None:
        return text
    return _UNPRINTABLE.sub(_escape, text)


def plural(n: int, word: str, many: str | None = None) -> str:
    """ "1 row", "2 rows", "1,204 examples"; `many` for irregular plurals ("1 entry", "2 entries")."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def fit_middle(text: str, width: int) -> str:
    """`text` cut to `width` characters in the middle, so both its start and its end show."""
    if len(text) <= width:
        return text
    if width < 3:
        return text[:width]
    head = (width - 1) // 2
    return f"{text[:head]}…{text[len(text) - (width - 1 - head) :]}"


def short_model(model: str, width: int) -> str:
    """A model id in `width` characters that still tells two fine-tuned models apart.

    `ft:<base>:<org>:<suffix>:<id>` keeps the suffix and the id (what differs between two
    fine-tunes of one base), shown as `ft:<suffix>:<id>`; anything else too long is cut in the
    middle (`gpt-4o-m…-07-18`)."""
    if len(model) <= width:
        return model
    if model.startswith("ft:"):
        parts = model.split(":")
        tail = [p for p in parts[3:] if p]
        if tail:
            return fit_middle("ft:" + ":".join(tail), width)
    return fit_middle(model, width)
