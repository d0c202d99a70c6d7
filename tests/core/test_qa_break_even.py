"""Break-even in words: "never" only when a fine-tuned request is not cheaper (QA finding).

With no dataset picked the training cost is unknown, and the Costs pane and the verdict used to
say fine-tuning "never" pays back although its requests were cheaper.
"""

from __future__ import annotations

from workbench.core.estimate import ApproachTokens, estimate
from workbench.core.evaluation.scoring import ApproachResult, wilson_interval
from workbench.core.evaluation.verdict import ApproachFacts, make_verdict

MODEL = "gpt-4.1-mini-2025-04-14"


def requests(ft_input: int) -> list[ApproachTokens]:
    return [
        ApproachTokens("zero-shot", MODEL, 54, 22, 45),
        ApproachTokens("few-shot", MODEL, 1154, 1122, 45),
        ApproachTokens("fine-tuned", MODEL, ft_input, 22, 45),
    ]


def test_no_training_plan_means_unknown_not_never():
    est = estimate(requests(54), training=None)
    assert est.break_even is None
    assert "unknown" in est.break_even_words() and "never" not in est.break_even_words()


def test_a_dearer_fine_tuned_request_means_never():
    est = estimate(requests(5000), training=None)
    assert est.break_even_words().startswith("none (fine-tuning never")


def measured(passes: int = 15, n: int = 20) -> dict[str, ApproachResult]:
    return {
        name: ApproachResult(name, MODEL, n, passes, 0, wilson_interval(passes, n), 400.0, 900.0, 0)
        for name in ("few-shot", "fine-tuned")
    }


def test_verdict_does_not_say_never_when_only_the_training_cost_is_missing():
    facts = [
        ApproachFacts("few-shot", MODEL, per_request=0.0005, one_off=0.0),
        ApproachFacts("fine-tuned", MODEL, per_request=0.0001, one_off=None),
    ]
    text = " ".join(make_verdict(facts, measured(), volume=1000).reasons)
    assert "never pays back" not in text
    assert "no training cost" in text
    dear = [facts[0], ApproachFacts("fine-tuned", MODEL, per_request=0.001, one_off=None)]
    assert "never pays back" in " ".join(make_verdict(dear, measured(), volume=1000).reasons)


def test_no_leaning_when_every_approach_scored_zero():
    """Exact match against a chatty model scored 0/20 everywhere; the verdict still 'leaned' to
    the cheapest approach as if quality had been compared."""
    facts = [
        ApproachFacts("zero-shot", MODEL, per_request=0.0001, one_off=0.0),
        ApproachFacts("few-shot", MODEL, per_request=0.0002, one_off=0.0),
    ]
    verdict = make_verdict(facts, measured(passes=0), volume=1000)
    assert "Leaning" not in verdict.headline
    assert verdict.headline.startswith("No approach passed a single test item")


def test_markdown_says_unknown_for_a_missing_training_cost():
    from workbench.core.evaluation.formatting import verdict_markdown

    facts = [
        ApproachFacts("few-shot", MODEL, per_request=0.0005, one_off=0.0),
        ApproachFacts("fine-tuned", MODEL, per_request=0.0001, one_off=None),
    ]
    text = verdict_markdown(make_verdict(facts, measured(), volume=1000))
    row = next(line for line in text.splitlines() if line.startswith("| fine-tuned"))
    assert "unknown" in row and "no price" not in row
