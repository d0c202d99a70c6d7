"""Key decoding: what a terminal sends must reach the app as the key the user pressed.

xterm, GNOME Terminal, tmux, an SSH session and xterm.js (the browser) all send alt+digit as ESC
followed by the digit. Textual maps ESC 1 … ESC 6 to the characters WezTerm on macOS sends for
Option+digit (¡ ™ £ ¢ ∞ §), so alt+2 typed "™" into the focused editor (one was saved into a
prompt) instead of switching panes. Without those six entries the parser reads ESC 1 as alt+1.
A Mac keyboard's Option+digit that sends the character itself (Terminal.app, iTerm2) is untouched.
"""

from __future__ import annotations

from textual import _ansi_sequences

ALT_DIGITS = tuple(f"\x1b{digit}" for digit in "123456")


def decode_alt_digits() -> None:
    """Let ESC 1 … ESC 6 arrive as alt+1 … alt+6 (the pane keys); idempotent."""
    table = _ansi_sequences.ANSI_SEQUENCES_KEYS
    for sequence in ALT_DIGITS:
        if isinstance(table.get(sequence), str):  # an Option character, not a key
            table.pop(sequence)  # type: ignore[attr-defined]  # typed as a Mapping; it is a dict
