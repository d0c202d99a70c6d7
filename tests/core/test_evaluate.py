"""Scorers, intervals and the verdict (plain Python, no provider)."""

from __future__ import annotations

import pytest

from workbench.core.evaluation.formatting import verdict_markdown
from workbench.core.evaluation.scoring import (
    ItemResult,
    Scorer,
    ScorerError,
    aggregate,
    disagreements,
    eval_case,
    judge_messages,
    percentile,
    read_judge_reply,
    score_answer,
    wilson_interval,
)
from workbench.core.evaluation.verdict import ApproachFacts, make_verdict


def passed(kind, answer, expected, **kw):
    return score_answer(Scorer(kind, **kw), answer, expected).passed


def test_exact_and_contains():
    assert passed("exact", "  Paris ", "paris")
    assert not passed("exact", "Paris", "paris", case_sensitive=True)
    assert passed("contains", "The capital is Paris.", "paris")
    assert not passed("contains", "Lyon", "Paris")


def test_regex():
    assert passed("regex", "Order #12345 shipped", "", pattern=r"#\d{5}\b")
    assert not passed("regex", "no order", "", pattern=r"#\d{5}")
    with pytest.raises(ScorerError, match="regex pattern"):
        Scorer("regex", pattern="(unclosed")


def test_json_and_schema():
    assert passed("json", '{"a": 1}', "")
    assert passed("json", '```json\n{"a": 1}\n```', "")
    result = score_answer(Scorer("json"), "{'a': 1}", "")
    assert not result.passed and "not JSON" in result.detail
    schema = {
        "type": "object",
        "required": ["label"],
        "properties": {"label": {"enum": ["a", "b"]}},
    }
    assert passed("json_schema", '{"label": "a"}', "", schema=schema)
    bad = score_answer(Scorer("json_schema", schema=schema), '{"label": "c"}', "")
    assert not bad.passed and "label" in bad.detail
    with pytest.raises(ScorerError, match="JSON schema"):
        Scorer("json_schema", schema={"type": "no-such-type"})


def test_numeric_tolerance():
    assert passed("numeric", "The total is 41.9 EUR", "42", tolerance=0.5)
    assert not passed("numeric", "The total is 40", "42", tolerance=0.5)
    assert passed("numeric", "1,234.5", "1234.5")
    assert not passed("numeric", "none", "3")


def test_judge_order_is_seeded_and_both_orders_occur():
    scorer = Scorer("judge")
    orders = {judge_messages(scorer, "q", "ref", "cand", seed=7, item_key=i)[1] for i in range(20)}
    assert orders == {True, False}
    again = [judge_messages(scorer, "q", "ref", "cand", seed=7, item_key=i)[1] for i in range(20)]
    assert again == [
        judge_messages(scorer, "q", "ref", "cand", seed=7, item_key=i)[1] for i in range(20)
    ]
    messages, first = judge_messages(scorer, "q", "REF", "CAND", seed=7, item_key=3)
    body = messages[1]["content"]
    assert (body.index("CAND") < body.index("REF")) == first


def test_judge_reply_reading():
    assert read_judge_reply("1", candidate_first=True).passed
    assert not read_judge_reply("2", candidate_first=True).passed
    assert read_judge_reply("2", candidate_first=False).passed
    assert read_judge_reply("TIE", candidate_first=False).passed
    assert read_judge_reply("Answer 2.", candidate_first=False).passed
    assert read_judge_reply("no idea", candidate_first=True) is None
    # a number inside a longer reply is not a verdict
    assert (
        read_judge_reply("Simulated reply: answer 1 hardware answer 2", candidate_first=True)
        is None
    )


def test_wilson_interval_known_values():
    lo, hi = wilson_interval(17, 20)
    assert (round(lo, 3), round(hi, 3)) == (0.640, 0.948)
    assert wilson_interval(20, 20)[1] == 1.0
    assert wilson_interval(0, 20)[0] == 0.0
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_percentiles():
    assert percentile([100, 200, 300, 400], 50) == 250
    assert percentile([1.0] * 19 + [100.0], 95) == pytest.approx(5.95)
    assert percentile([], 50) is None


def test_aggregate_and_disagreements():
    items = [ItemResult(i, i % 2 == 0, 100.0 + i, 0.001) for i in range(10)]
    items.append(ItemResult(99, None, error="rate limited"))
    result = aggregate("few-shot", "m", items)
    assert (result.n, result.passes, result.errors) == (10, 5, 1)
    assert result.score == 0.5 and result.cost_per_request == pytest.approx(0.001)
    assert result.p50_ms == pytest.approx(104.5)
    other = [ItemResult(i, True) for i in range(10)]
    assert disagreements({"a": items, "b": other}) == [1, 3, 5, 7, 9]


def test_eval_case_and_messages():
    case = eval_case(
        5,
        [
            {"role": "system", "content": "You label tickets."},
            {"role": "user", "content": "Printer on fire"},
            {"role": "assistant", "content": "hardware"},
        ],
    )
    assert case.expected == "hardware" and case.question == "Printer on fire"
    assert eval_case(1, [{"role": "user", "content": "no answer"}]) is None


def results(ft=(19, 20), few=(17, 20), zero=(4, 20)):
    from workbench.core.evaluation.scoring import ApproachResult

    def r(name, p, n):
        return ApproachResult(name, "m", n, p, 0, wilson_interval(p, n), 400.0, 900.0, 1e-4)

    return {
        "fine-tuned": r("fine-tuned", *ft),
        "few-shot": r("few-shot", *few),
        "zero-shot": r("zero-shot", *zero),
    }


FACTS = [
    ApproachFacts("zero-shot", "gpt-4.1-mini", 300e-6, 0.0),
    ApproachFacts("few-shot", "gpt-4.1-mini", 1000e-6, 0.0, examples_needed=5),
    ApproachFacts("fine-tuned", "ft:gpt-4.1-mini:x", 400e-6, 30.0, examples_needed=60),
]


def test_verdict_changes_with_volume():
    # break-even: 30 / (1000e-6 - 400e-6) = 50,000 requests
    low = make_verdict(FACTS, results(), volume=5_000, break_even=50_000)
    high = make_verdict(FACTS, results(), volume=100_000, break_even=50_000)
    assert low.recommendation == "few-shot"
    assert high.recommendation == "fine-tuned"
    text = " ".join(low.reasons)
    assert "fine-tuned reaches 0.95" in text and "few-shot reaches 0.85" in text
    assert "pays back after 50k requests (10.0 months at your volume)" in text
    assert "5k requests/month" in text
    # zero-shot is clearly worse, so its low price does not win
    assert "clearly worse than fine-tuned: zero-shot" in text
    # 19/20 vs 17/20 overlap: the verdict says the quality difference is not established
    assert low.thin and "overlap" in text


def test_verdict_says_when_data_is_too_thin():
    thin = make_verdict(
        FACTS, results(ft=(5, 5), few=(3, 5), zero=(1, 5)), volume=5_000, break_even=50_000
    )
    assert thin.thin and thin.headline.startswith("Too thin to conclude")
    assert any("only 5 scored test items" in r for r in thin.reasons)


def test_clear_quality_win_and_no_measurement():
    clear = make_verdict(
        FACTS, results(ft=(60, 60), few=(30, 60), zero=(5, 60)), volume=1000, break_even=50_000
    )
    assert clear.recommendation == "fine-tuned" and not clear.thin
    assert "clearly the best quality" in clear.headline
    none = make_verdict(FACTS, {}, volume=1000)
    assert none.recommendation is None and "run an evaluation" in none.headline


def test_markdown_export_has_the_table_and_escapes_user_text():
    facts = [*FACTS[:2], ApproachFacts("fine-tuned", "ft:a|b [/INST]", 400e-6, 30.0, 60)]
    md = verdict_markdown(
        make_verdict(facts, results(), volume=5_000, break_even=50_000, prices_as_of="2026-06-27")
    )
    assert "| approach | customization | quality (measured) | cost per 1k requests |" in md
    assert "ft:a\\|b [/INST]" in md
    assert "$1.00" in md  # few-shot per 1k
    assert "Prices as of 2026-06-27" in md
    assert md.startswith("# Fine-tune or prompt-engineer?")


def test_train_time_words_reads_iso_text_and_epoch_seconds():
    from workbench.core.evaluation.verdict import train_time_words

    assert train_time_words("2026-01-01T10:00:00", "2026-01-01T10:12:20") == "trained in 12 min"
    assert train_time_words(1_000_000, 1_000_030) == "trained in under a minute"
    assert (
        train_time_words("2026-01-01T10:05:00", "2026-01-01T10:00:00")
        == "trained in under a minute"
    )
    assert train_time_words("yesterday", "2026-01-01T10:00:00") == ""
