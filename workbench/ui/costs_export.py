"""`m` in the Costs pane: the verdict as a Markdown file, beside the database.

Beside the database rather than in the working directory: the app may be started from anywhere
(a desktop launcher, `workbench serve`), and the exports belong with the data they describe.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from workbench.ui.costs_view import CostView


def export_path(prompt: str, db_path: Path) -> Path:
    """exports/verdict-<prompt>-<date>.md beside the database (not wherever the app started)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in prompt).strip("-") or "prompt"
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return db_path.parent / "exports" / f"verdict-{safe}-{stamp}.md"


def write_verdict(view: CostView, path: Path) -> None:
    """Write the view's verdict to `path` as Markdown. Raises OSError when it cannot."""
    from workbench.core.evaluation.formatting import verdict_markdown

    text = verdict_markdown(view.verdict, title=f"Fine-tune or prompt-engineer? ({view.prompt})")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
