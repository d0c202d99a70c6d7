"""The Examples pane's detail view as text: one example in full, beside the list.

A plain function from the example (and what the pane knows of it: its token cost, its place in
the prompt) to Rich text. Everything the user typed is appended as text, never parsed as markup.
"""

from __future__ import annotations

from rich.text import Text

from workbench.store.examples import Example


def example_detail_text(example: Example, cost: int | None, position: int | None) -> Text:
    """Id, split, tokens (None: not counted yet), place in the prompt, tags, note, messages."""
    text = Text()
    text.append(f"#{example.id}", "bold")
    text.append(f"  {example.split}", "bold magenta" if example.split == "test" else "bold")
    if cost is not None:
        text.append(f"  {cost} tokens", "dim")
    if position:
        text.append(f"  in prompt #{position}", "green")
    if example.tags:
        text.append("\ntags: ", "dim")
        text.append(", ".join(example.tags))
    if example.note:
        text.append("\nnote: ", "dim")
        text.append(example.note, "italic")
    if example.data is None:
        text.append(f"\nline {example.source_line} did not parse:\n", "red")
        text.append(example.raw or "")
        return text
    for message in example.messages:
        role = str(message.get("role", "?"))
        text.append(f"\n{role}: ", "bold cyan" if role == "user" else "bold green")
        content = message.get("content")
        text.append(content if isinstance(content, str) else str(content))
    return text
