"""What one approach would send for the prompt as edited: its model and messages, or why not.

The Prompt pane's preview and its runs ask the same function, so the preview shows exactly what a
run sends and names the same problems a run refuses on. The rendering itself is
`core.prompts.assemble_messages` (the one renderer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.core.prompts import MissingVariables, assemble_messages, missing_variables

NO_MODEL = "choose a model"
NO_EXAMPLES = "no few-shot examples chosen: pick them in the Examples pane (F2)"
NO_FT_MODEL = "no fine-tuned model chosen: pick one on the Model tab"


@dataclass(frozen=True)
class ApproachDraft:
    """One approach's request as the prompt stands now."""

    approach: str
    model: str  # "" when none is chosen
    messages: list[dict[str, Any]]  # an unfilled placeholder stays as it is written
    problems: tuple[str, ...] = ()  # what stops it being sent, the most basic first

    @property
    def problem(self) -> str:
        """The first thing to fix ("" when it can be sent)."""
        return self.problems[0] if self.problems else ""


def plan_approach(
    approach: str, content: Mapping[str, Any], examples: Sequence[Any]
) -> ApproachDraft:
    """The model, messages and problems of `approach` for a prompt's `content` (its draft fields)
    with the few-shot `examples` chosen for it."""
    model = content.get("ft_model") if approach == "fine-tuned" else content.get("model")
    template = content.get("template", "")
    variables = content.get("variables", {})
    problems = []
    if not model:
        problems.append(NO_FT_MODEL if approach == "fine-tuned" else NO_MODEL)
    if approach == "few-shot" and not examples:
        problems.append(NO_EXAMPLES)
    missing = missing_variables(template, variables)
    if missing:
        problems.append(str(MissingVariables(missing)))
    parts = (approach, content.get("system", ""), template, variables, examples)
    try:
        messages = assemble_messages(*parts, content.get("ft_system"))
    except MissingVariables as exc:
        # what the preview shows meanwhile: each unfilled placeholder as it is written
        messages = assemble_messages(*parts, content.get("ft_system"), strict=False)
        if not missing:
            problems.append(str(exc))  # an example whose input is empty
    return ApproachDraft(approach, model or "", messages, tuple(problems))
