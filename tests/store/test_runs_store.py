"""Runs: recorded with usage, cost and errors; listed newest first, paged and filtered."""

from __future__ import annotations

from workbench.store.runs import count_runs, distinct_values, get_run, list_runs, record_run


def _run(db, **kw):
    base = dict(
        prompt_name="p",
        approach="zero-shot",
        model="gpt-4.1-mini",
        messages=[{"role": "user", "content": "[/INST] hi"}],
    )
    base.update(kw)
    return record_run(db, **base)


def test_a_run_keeps_everything_including_a_failure(db):
    run = _run(
        db,
        answer="partial",
        status="error",
        input_tokens=10,
        output_tokens=None,
        latency_ms=123,
        cost_usd=None,
        error_kind="dropped",
        error_message="stopped",
        params={"temperature": 0.2},
        version_id=7,
        version_number=2,
    )
    again = get_run(db, run.id)
    assert again.messages == [{"role": "user", "content": "[/INST] hi"}]
    assert again.answer == "partial" and again.status == "error"
    assert again.cost_usd is None and again.error_kind == "dropped"
    assert again.params == {"temperature": 0.2} and again.version_label == "v2"
    assert again.to_json()["latency_ms"] == 123


def test_list_is_newest_first_paged_and_filtered(db):
    for i in range(5):
        _run(db, approach=("few-shot" if i % 2 else "zero-shot"), answer=f"answer {i}")
    _run(db, prompt_name="q", model="other", answer="needle")
    assert [r.answer for r in list_runs(db, limit=2)] == ["needle", "answer 4"]
    assert [r.answer for r in list_runs(db, limit=2, offset=2)] == ["answer 3", "answer 2"]
    assert {r.approach for r in list_runs(db, approach="few-shot")} == {"few-shot"}
    assert count_runs(db, approach="few-shot") == 2
    assert [r.answer for r in list_runs(db, search="needle")] == ["needle"]
    assert count_runs(db, prompt="p", model="gpt-4.1-mini") == 5
    assert distinct_values(db, "model") == ["gpt-4.1-mini", "other"]
