"""core.prompt_plan: what the Prompt pane's preview shows and its runs send, from one function."""

from workbench.core.prompt_plan import NO_EXAMPLES, NO_FT_MODEL, NO_MODEL, plan_approach
from workbench.core.prompts import MissingVariables, assemble_messages

MODEL = "gpt-4.1-mini-2025-04-14"


def test_the_preview_and_the_run_share_one_plan():
    """plan_approach is what both ask: the run sends its messages, the preview lists its problems."""
    content = {"system": "S", "template": "{{q}}", "variables": {}, "model": MODEL, "ft_model": ""}
    plan = plan_approach("fine-tuned", content, [])
    assert plan.problems == (NO_FT_MODEL, str(MissingVariables(["q"])))
    assert plan.problem == NO_FT_MODEL  # what the run column says
    assert plan.messages[-1] == {"role": "user", "content": "{{q}}"}  # the preview, unfilled
    assert plan_approach("few-shot", content, []).problems[0] == NO_EXAMPLES
    assert plan_approach("zero-shot", {**content, "model": ""}, []).problem == NO_MODEL

    filled = {**content, "variables": {"q": "hi"}}
    plan = plan_approach("zero-shot", filled, [])
    assert plan.problems == () and plan.model == MODEL
    assert plan.messages == assemble_messages("zero-shot", "S", "{{q}}", {"q": "hi"})
