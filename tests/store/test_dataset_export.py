"""Import into the store (nothing lost), export versions (once per content), split in place."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from workbench.core.dataset_io import read_jsonl
from workbench.core.tokens import get_tokenizer
from workbench.store import dataset_versions as versions
from workbench.store import examples as store
from workbench.store.dataset_export import (
    ExportRefused,
    apply_split,
    export_version,
    import_lines,
)

MESSY = Path(__file__).resolve().parents[1] / "data" / "training_messy.jsonl"


def _ex(i: int) -> dict:
    return {
        "messages": [
            {"role": "user", "content": f"question {i}"},
            {"role": "assistant", "content": f"answer {i}"},
        ]
    }


def _dataset_with(db, n: int, name: str = "support") -> int:
    dataset = store.create_dataset(db, name)
    store.add_examples(db, [{"data": _ex(i), "tokens": 10} for i in range(n)], dataset.id)
    return dataset.id


def test_import_keeps_every_line_and_caches_tokens_and_problems(db):
    dataset = store.create_dataset(db, "messy")
    tokenizer = get_tokenizer("gpt-4.1-mini-2025-04-14")
    seen: list[int] = []
    summary = import_lines(
        db, dataset.id, read_jsonl(MESSY), tokenizer=tokenizer, progress=seen.append
    )
    assert summary.lines == 11 and summary.valid == 6 and summary.with_problems == 5
    assert seen[-1] == 11
    assert {line for line, _, _ in summary.problem_lines} == {3, 6, 7, 8, 10}

    rows = store.list_examples(db, dataset_id=dataset.id, order="line")
    assert [r.source_line for r in rows] == [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12]
    by_line = {r.source_line: r for r in rows}
    assert by_line[3].data is None and "Missing brace" in by_line[3].raw
    assert by_line[3].problems[0]["code"] == "invalid_json"
    assert by_line[1].tokens and by_line[1].tokens > 10 and by_line[1].problems == []
    assert store.count_examples(db, dataset_id=dataset.id, with_problems=True) == 5


def test_export_writes_valid_rows_and_records_one_version_per_content(db, tmp_path):
    dataset_id = _dataset_with(db, 12)
    version, path = export_version(db, dataset_id)
    data = path.read_bytes()
    assert version.sha256 == hashlib.sha256(data).hexdigest()
    assert version.examples == 12 and version.bytes == len(data)
    assert data.count(b"\n") == 12 and data.endswith(b"\n")
    assert json.loads(data.splitlines()[0]) == _ex(0)
    assert path.parent.name == "exports" and version.sha256[:12] in path.name

    again, again_path = export_version(db, dataset_id)
    assert again.id == version.id and again_path == path
    assert len(versions.list_versions(db, dataset_id)) == 1

    # an edit is new content, so a new version
    first = store.list_examples(db, dataset_id=dataset_id, limit=1)[0]
    store.update_example(db, first.id, data=_ex(99))
    changed, _ = export_version(db, dataset_id, path=tmp_path / "out" / "train.jsonl")
    assert changed.id != version.id and changed.path == str(tmp_path / "out" / "train.jsonl")
    assert len(versions.list_versions(db, dataset_id)) == 2


def test_export_refuses_rows_with_problems_unless_told(db):
    dataset = store.create_dataset(db, "messy")
    import_lines(db, dataset.id, read_jsonl(MESSY))
    with pytest.raises(ExportRefused) as info:
        export_version(db, dataset.id)
    assert info.value.problem_rows == 5 and info.value.valid_rows == 6
    version, path = export_version(db, dataset.id, allow_problems=True)
    assert version.examples == 6
    assert all(json.loads(line)["messages"] for line in path.read_text().splitlines())


def test_export_refuses_an_empty_dataset(db):
    dataset = store.create_dataset(db, "empty")
    with pytest.raises(ExportRefused):
        export_version(db, dataset.id)


def test_split_then_export_both_sides(db):
    dataset_id = _dataset_with(db, 50)
    assert apply_split(db, dataset_id, 0.2, seed=3) == (40, 10)
    assert store.count_examples(db, dataset_id=dataset_id, split="validation") == 10
    before = [e.id for e in store.list_examples(db, dataset_id=dataset_id, split="validation")]
    # same seed again: same rows
    apply_split(db, dataset_id, 0.2, seed=3)
    after = [e.id for e in store.list_examples(db, dataset_id=dataset_id, split="validation")]
    assert before == after
    train, train_path = export_version(db, dataset_id, "train")
    validation, validation_path = export_version(db, dataset_id, "validation")
    assert (train.examples, validation.examples) == (40, 10)
    train_lines = set(train_path.read_text().splitlines())
    assert train_lines.isdisjoint(validation_path.read_text().splitlines())


def test_split_leaves_test_rows_alone(db):
    dataset_id = _dataset_with(db, 10)
    held = store.list_examples(db, dataset_id=dataset_id, limit=1)[0]
    store.update_example(db, held.id, split="test")
    train, validation = apply_split(db, dataset_id, 0.5, seed=1)
    assert train + validation == 9
    assert store.get_example(db, held.id).split == "test"


def test_import_warns_about_rows_over_the_model_token_limit(db, tmp_path):
    path = tmp_path / "long.jsonl"
    long = {
        "messages": [
            {"role": "user", "content": "word " * 5000},
            {"role": "assistant", "content": "ok"},
        ]
    }
    path.write_text(json.dumps(long) + "\n" + json.dumps(_ex(1)) + "\n", encoding="utf-8")
    dataset = store.create_dataset(db, "long")
    tokenizer = get_tokenizer("gpt-3.5-turbo-0613")
    summary = import_lines(
        db, dataset.id, read_jsonl(path), tokenizer=tokenizer, model="gpt-3.5-turbo-0613"
    )
    assert summary.valid == 2  # a warning does not block
    rows = store.list_examples(db, dataset_id=dataset.id)
    assert [p["code"] for p in rows[0].problems] == ["too_many_tokens"]
    assert rows[0].problems[0]["severity"] == "warning" and rows[0].tokens > 4096
    assert rows[1].problems == []
    # warnings do not keep a row out of the export
    version, _ = export_version(db, dataset.id)
    assert version.examples == 2


def test_export_counts_and_source_lines_follow_the_export(db):
    """One rule for export, upload and pre-flight: the counts are what the export writes, and
    each export line maps back to the row's line in its imported file."""
    from workbench.store.dataset_export import export_counts, export_rows, export_source_lines

    dataset = store.create_dataset(db, "rule")
    store.add_examples(
        db,
        [
            {"data": _ex(1), "source_line": 4},
            {"raw": "{", "source_line": 5, "problems": [{"code": "invalid_json", "message": "x"}]},
            {"data": _ex(2), "source_line": 6, "problems": [{"code": "c", "message": "no sev"}]},
            {
                "data": _ex(3),
                "source_line": 7,
                "problems": [{"message": "w", "severity": "warning"}],
            },
            {"data": _ex(4)},
        ],
        dataset.id,
    )
    ids, left_out = export_rows(db, dataset.id, "train")
    assert export_counts(db, dataset.id, "train") == (len(ids), left_out) == (3, 2)
    assert export_source_lines(db, dataset.id, "train") == [4, 7, None]
