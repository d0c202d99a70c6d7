"""The cached checks of a dataset's rows stay true: summary counts, saving a row, full validation."""

from __future__ import annotations

from workbench.core.dataset import Problem
from workbench.core.tokens import get_tokenizer
from workbench.store import dataset_checks as checks
from workbench.store import examples as store

MODEL = "gpt-4.1-mini-2025-04-14"
NO_REPLY = {"messages": [{"role": "user", "content": "hi"}]}


def _ex(i: int) -> dict:
    return {
        "messages": [
            {"role": "user", "content": f"question {i}"},
            {"role": "assistant", "content": f"answer {i}"},
        ]
    }


def test_dataset_summary_counts_live_rows_problems_tokens_and_splits(db):
    dataset = store.create_dataset(db, "support")
    other = store.create_dataset(db, "other")
    store.add_examples(db, [{"data": _ex(i), "tokens": 10} for i in range(5)], dataset.id)
    store.add_examples(db, [{"data": _ex(9), "tokens": 7}], dataset.id, split="validation")
    store.add_examples(db, [{"data": _ex(8), "tokens": 3}], dataset.id, split="test")
    bad = store.add_example(
        db, NO_REPLY, dataset_id=dataset.id, problems=[{"code": "x", "message": "m"}]
    )
    gone = store.add_example(db, _ex(7), dataset_id=dataset.id, tokens=1000)
    store.delete_example(db, gone.id)
    store.add_examples(db, [{"data": _ex(1), "tokens": 99}], other.id)

    summary = checks.dataset_summary(db, dataset.id)
    assert summary == checks.DatasetSummary(
        rows=8, with_problems=1, tokens=60, train=6, validation=1, test=1
    )
    assert bad.split == "train"
    empty = store.create_dataset(db, "empty")
    assert checks.dataset_summary(db, empty.id) == checks.DatasetSummary()


def test_save_example_caches_tokens_and_problems_of_the_new_data(db):
    dataset = store.create_dataset(db, "support")
    row = store.add_example(db, _ex(0), dataset_id=dataset.id, tokens=5)
    tokenizer = get_tokenizer(MODEL)

    check = checks.save_example(db, row.id, NO_REPLY, tokenizer=tokenizer, model=MODEL, line=3)
    saved = store.get_example(db, row.id)
    assert saved.data == NO_REPLY and saved.tokens == check.tokens and check.tokens > 0
    assert [p["code"] for p in saved.problems] == ["no_assistant_target"]
    assert saved.problems[0]["severity"] == "error"
    assert checks.has_errors(saved)

    check = checks.save_example(db, row.id, _ex(1), tokenizer=tokenizer, model=MODEL)
    fixed = store.get_example(db, row.id)
    assert fixed.problems == [] and check.problems == [] and not checks.has_errors(fixed)
    assert fixed.tokens == check.tokens


def test_save_example_keeps_text_that_is_not_json_yet_as_raw(db):
    dataset = store.create_dataset(db, "support")
    row = store.add_example(db, _ex(0), dataset_id=dataset.id, tokens=5)
    problem = Problem(2, "invalid_json", "not JSON: missing brace")
    check = checks.save_example(db, row.id, None, raw='{"messages": [', problems=[problem])
    saved = store.get_example(db, row.id)
    assert saved.data is None and saved.raw == '{"messages": [' and saved.tokens is None
    assert saved.problems == [
        {"code": "invalid_json", "message": "not JSON: missing brace", "severity": "error"}
    ]
    assert check.tokens is None and check.problems == [problem]
    assert checks.has_errors(saved)


def test_add_checked_example_stores_the_blank_rows_problems(db):
    dataset = store.create_dataset(db, "support")
    data = checks.blank_example("supervised", system="be brief")
    assert data["messages"][0] == {"role": "system", "content": "be brief"}
    row = checks.add_checked_example(db, dataset.id, data)
    assert row.dataset_id == dataset.id and row.data == data
    assert "empty_content" in {p["code"] for p in row.problems}
    assert set(checks.blank_example("dpo")) == {
        "input",
        "preferred_output",
        "non_preferred_output",
    }


def test_validate_dataset_writes_each_rows_problems_to_its_cache(db):
    dataset = store.create_dataset(db, "support")
    store.add_examples(
        db,
        [
            {"data": _ex(0), "source_line": 1},
            {"data": NO_REPLY, "source_line": 2},  # an error the cache does not know yet
            # a stale problem on a row that is fine: cleared by the validation
            {"data": _ex(2), "source_line": 3, "problems": [{"code": "old", "message": "x"}]},
        ],
        dataset.id,
    )
    store.add_examples(db, [{"data": NO_REPLY, "source_line": 4}], dataset.id, split="validation")
    ids = [e.id for e in store.iter_examples(db, dataset.id)]
    seen: list[tuple[int, int]] = []

    checked = checks.validate_dataset(
        db, dataset.id, model=MODEL, progress=lambda d, t: seen.append((d, t))
    )
    assert checked.report.examples == 3 and checked.report.validation_examples == 1
    assert checked.rows == [(ids[0], 1), (ids[1], 2), (ids[2], 3), (ids[3], 4)]
    assert [p.code for p in checked.findings[ids[1]]] == ["no_assistant_target"]
    # the report says where: the validation file's problems carry its prefix
    assert checked.findings[ids[3]][0].message.startswith("validation file: ")

    rows = {e.id: e for e in store.iter_examples(db, dataset.id)}
    assert rows[ids[0]].problems == [] and rows[ids[2]].problems == []
    assert [p["code"] for p in rows[ids[1]].problems] == ["no_assistant_target"]
    # the row's own cache does not: the problem is the row's, wherever it is exported to
    assert rows[ids[3]].problems == [
        {
            "code": "no_assistant_target",
            "message": "no assistant message to train on",
            "severity": "error",
        }
    ]
    assert checks.dataset_summary(db, dataset.id).with_problems == 2
    assert seen and seen[-1][0] == seen[-1][1]


def test_store_findings_changes_only_rows_whose_cache_differs(db):
    dataset = store.create_dataset(db, "support")
    store.add_examples(db, [{"data": _ex(i)} for i in range(3)], dataset.id)
    rows = [(e.id, e.source_line) for e in store.iter_examples(db, dataset.id)]
    problem = Problem(1, "too_many_tokens", "validation file: long", "warning")
    assert checks.store_findings(db, {rows[1][0]: [problem]}, rows) == 1
    assert checks.store_findings(db, {rows[1][0]: [problem]}, rows) == 0
    assert store.get_example(db, rows[1][0]).problems == [
        {"code": "too_many_tokens", "message": "long", "severity": "warning"}
    ]
