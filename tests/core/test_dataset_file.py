"""validate_file: streaming a real file, exact line numbers, encodings, file-level rules,
duplicates against the validation file, statistics, cost, the worker pool, the offline fallback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.core import dataset, dataset_scan
from workbench.core.dataset import example_token_counts, validate_file
from workbench.core.tokens import get_tokenizer

DATA = Path(__file__).resolve().parents[1] / "data"


def example(i: int, answer_words: int = 3) -> dict:
    return {
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": f"Question {i}?"},
            {"role": "assistant", "content": " ".join(["word"] * answer_words) + f" {i}."},
        ]
    }


def write_lines(path: Path, lines: list[str | dict], *, encoding_prefix: bytes = b"") -> Path:
    text = "".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines)
    path.write_bytes(encoding_prefix + text.encode())
    return path


def found(report) -> list[tuple[int, str]]:
    return [(p.line, p.code) for p in report.errors + report.warnings]


@pytest.mark.requires_bpe
def test_the_messy_file_every_problem_by_line():
    report = validate_file(DATA / "validate_messy.jsonl")
    assert [(p.line, p.code) for p in report.errors] == [
        (2, "invalid_json"),
        (3, "not_an_object"),
        (4, "missing_messages"),
        (5, "empty_messages"),
        (6, "unknown_role"),
        (7, "invalid_content_type"),
        (8, "no_assistant_target"),
        (9, "invalid_weight"),
        (10, "weight_not_on_assistant"),
        (11, "tool_calls_without_tools"),
        (12, "invalid_tool_arguments"),
        (12, "missing_tool_call_id"),
        (13, "special_token"),
        (17, "missing_content"),
        (20, "invalid_encoding"),
    ]
    assert [(p.line, p.code) for p in report.warnings] == [(14, "blank_line"), (18, "unknown_key")]
    assert report.examples == 20  # 21 lines, one blank
    assert report.valid_examples == 6
    assert not report.ok
    assert 'did you mean "user"' in report.errors[4].message
    assert "0xe9" in report.errors[-1].message


def test_a_bom_on_line_1_is_accepted_elsewhere_it_is_not(tmp_path):
    lines = [example(i) for i in range(12)]
    report = validate_file(
        write_lines(tmp_path / "bom.jsonl", lines, encoding_prefix=b"\xef\xbb\xbf")
    )
    assert report.ok and report.valid_examples == 12
    text = "".join(json.dumps(x) + "\n" for x in lines)
    second = text.replace("\n", "\n\ufeff", 1)  # a BOM at the start of line 2
    (tmp_path / "bom2.jsonl").write_text(second, encoding="utf-8")
    report = validate_file(tmp_path / "bom2.jsonl")
    assert [(p.line, p.code) for p in report.errors] == [(2, "invalid_json")]


@pytest.mark.requires_bpe
def test_bad_utf8_is_reported_for_its_line_and_the_rest_is_read(tmp_path):
    path = tmp_path / "latin1.jsonl"
    good = [json.dumps(example(i)).encode() for i in range(12)]
    good[4] = json.dumps(example(4)).replace("Question", "Qu\u00e9stion").encode("latin-1")
    path.write_bytes(b"\n".join(good) + b"\n")
    report = validate_file(path)
    assert found(report) == [(5, "invalid_encoding")]
    assert report.valid_examples == 11


def test_crlf_line_endings_and_a_missing_final_newline(tmp_path):
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b"\r\n".join(json.dumps(example(i)).encode() for i in range(12)))
    report = validate_file(path)
    assert report.ok and report.examples == 12 and report.valid_examples == 12


def test_numeric_weight_does_not_crash_and_is_not_counted(tmp_path):
    rows = [example(i) for i in range(12)]
    for row in rows:
        row["messages"][2]["weight"] = 1
    with_weight = validate_file(write_lines(tmp_path / "w.jsonl", rows))
    without = validate_file(write_lines(tmp_path / "n.jsonl", [example(i) for i in range(12)]))
    assert with_weight.ok
    assert with_weight.tokens.total == without.tokens.total


@pytest.mark.requires_bpe
def test_fewer_than_ten_examples(tmp_path):
    report = validate_file(write_lines(tmp_path / "nine.jsonl", [example(i) for i in range(9)]))
    assert found(report) == [(0, "too_few_examples")]
    assert "9 examples" in report.errors[0].message
    assert validate_file(write_lines(tmp_path / "ten.jsonl", [example(i) for i in range(10)])).ok
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert found(validate_file(empty)) == [(0, "too_few_examples")]


@pytest.mark.requires_bpe
def test_over_the_token_limit_is_a_warning_and_billed_at_the_limit(tmp_path):
    rows = [example(i) for i in range(11)] + [example(99, answer_words=17_000)]
    path = write_lines(tmp_path / "long.jsonl", rows)
    report = validate_file(path, model="gpt-3.5-turbo-0125")
    # OpenAI shut the model down (2026-10-23): the one error; the 16,385-token limit still applies
    assert [(p.line, p.code) for p in report.errors] == [(0, "model_shut_down")]
    assert [(p.line, p.code) for p in report.warnings] == [(12, "too_many_tokens")]
    long_tokens = example_token_counts(rows[-1], get_tokenizer("gpt-3.5-turbo-0125"))[0]
    assert long_tokens > 16_385
    assert report.tokens.max == long_tokens
    assert report.tokens.over_limit == 1
    assert report.tokens.billed_per_epoch == report.tokens.total - long_tokens + 16_385
    # the same file is fine for gpt-4.1-mini (65,536)
    assert validate_file(path).warnings == []


@pytest.mark.requires_bpe
def test_duplicates_between_training_and_validation(tmp_path):
    train = write_lines(tmp_path / "train.jsonl", [example(i) for i in range(12)])
    copy_of_3 = json.dumps(example(3), indent=None, separators=(", ", ": "), sort_keys=True)
    val = write_lines(tmp_path / "val.jsonl", [example(100), copy_of_3, example(101), example(7)])
    report = validate_file(train, validation_path=val)
    assert report.ok  # OpenAI accepts it; it only spoils the validation metrics
    dupes = [(p.line, p.code, p.message) for p in report.warnings]
    assert dupes == [
        (4, "duplicate_in_validation", "the same example is in the validation file at line 2"),
        (8, "duplicate_in_validation", "the same example is in the validation file at line 4"),
    ]
    assert report.validation_examples == 4
    # validation tokens are not billed
    assert report.tokens.total == validate_file(train).tokens.total


def test_problems_in_the_validation_file_are_labelled(tmp_path):
    train = write_lines(tmp_path / "train.jsonl", [example(i) for i in range(12)])
    val = write_lines(tmp_path / "val.jsonl", [example(100), "{oops"])
    report = validate_file(train, validation_path=val)
    assert [(p.line, p.code) for p in report.errors] == [(2, "invalid_json")]
    assert report.errors[0].message.startswith(dataset.VALIDATION_PREFIX)
    assert dataset.VALIDATION_PREFIX == "validation file: "  # the Training pane maps rows by it


@pytest.mark.requires_bpe
def test_a_file_over_512_mb_is_reported_without_reading_it(tmp_path):
    path = tmp_path / "huge.jsonl"
    with open(path, "wb") as fh:  # sparse: no disk used, and reading it would take a while
        fh.truncate(dataset.MAX_FILE_BYTES + 1)
    report = validate_file(path)
    assert found(report) == [(0, "file_too_large")]
    assert "512 MB" in report.errors[0].message
    assert report.examples == 0 and report.lines == 0


def test_unreadable_files_raise_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        validate_file(tmp_path / "missing.jsonl")
    with pytest.raises(IsADirectoryError):
        validate_file(tmp_path)


def test_statistics_over_valid_examples(tmp_path):
    rows = [example(i, answer_words=i + 1) for i in range(20)] + ["{broken"]
    report = validate_file(write_lines(tmp_path / "stats.jsonl", rows))
    tok = get_tokenizer(dataset.DEFAULT_MODEL)
    per = sorted(example_token_counts(r, tok)[0] for r in rows[:20])
    assert report.valid_examples == 20 and report.examples == 21
    t = report.tokens
    assert (t.min, t.max, t.total) == (per[0], per[-1], sum(per))
    assert t.median == per[9]  # nearest rank: the 10th of 20
    assert t.p95 == per[18]  # the 19th of 20
    assert t.assistant == sum(example_token_counts(r, tok)[1] for r in rows[:20])
    assert report.epochs == 5  # 20 examples: 100 // 20
    assert report.estimated_training_tokens == t.billed_per_epoch * 5


@pytest.mark.requires_bpe
def test_cost_with_a_known_price(tmp_path, monkeypatch):
    monkeypatch.setattr(dataset, "training_price_per_million", lambda model: 4.0)
    report = validate_file(write_lines(tmp_path / "c.jsonl", [example(i) for i in range(40)]))
    assert report.epochs == 3
    assert report.estimated_training_tokens == report.tokens.billed_per_epoch * 3
    assert report.estimated_cost_usd == pytest.approx(
        report.estimated_training_tokens * 4.0 / 1e6, abs=1e-6
    )
    monkeypatch.setattr(dataset, "training_price_per_million", lambda model: None)
    unpriced = validate_file(tmp_path / "c.jsonl")
    assert unpriced.estimated_cost_usd is None
    assert found(unpriced) == [(0, "no_training_price")]
    assert unpriced.ok  # a missing price is not a problem with the file


def test_cost_uses_the_price_table(tmp_path):
    pricing = pytest.importorskip("workbench.core.pricing")
    price = pricing.training_price_per_million("gpt-4.1-mini-2025-04-14")
    report = validate_file(write_lines(tmp_path / "c.jsonl", [example(i) for i in range(40)]))
    assert price is not None
    assert report.estimated_cost_usd == pytest.approx(
        report.estimated_training_tokens * price / 1e6, abs=1e-4
    )


@pytest.mark.requires_bpe
def test_dpo_file_says_its_billing_is_an_estimate(tmp_path):
    row = {
        "input": {"messages": [{"role": "user", "content": "Say hi"}]},
        "preferred_output": [{"role": "assistant", "content": "Hi!"}],
        "non_preferred_output": [{"role": "assistant", "content": "No."}],
    }
    path = write_lines(tmp_path / "dpo.jsonl", [row] * 12)
    report = validate_file(path, method="dpo")
    assert report.ok and report.valid_examples == 12
    assert [(p.line, p.code) for p in report.warnings] == [(0, "dpo_billing_estimate")]
    assert "undocumented" in report.warnings[0].message
    per = example_token_counts(row, get_tokenizer(dataset.DEFAULT_MODEL), method="dpo")[0]
    assert report.tokens.total == 12 * per
    # the same file read as supervised: every line says why
    wrong = validate_file(path)
    assert {p.code for p in wrong.errors} == {"missing_messages"}
    assert len(wrong.errors) == 12


def big_messy_file(path: Path, n: int) -> tuple[Path, list[tuple[int, str]]]:
    """n lines with a known problem every 97th line, spread over many blocks."""
    expected = []
    with open(path, "w", encoding="utf-8") as fh:
        for line in range(1, n + 1):
            if line % 97 == 0:
                fh.write('{"messages": [}\n')
                expected.append((line, "invalid_json"))
            elif line % 101 == 0:
                fh.write(json.dumps({"messages": [{"role": "user", "content": "q"}]}) + "\n")
                expected.append((line, "no_assistant_target"))
            else:
                fh.write(json.dumps(example(line, answer_words=line % 13)) + "\n")
    return path, expected


def test_line_numbers_stay_exact_across_blocks_and_workers(tmp_path, monkeypatch):
    monkeypatch.setattr(dataset_scan, "BLOCK_BYTES", 4096)  # many small blocks
    path, expected = big_messy_file(tmp_path / "big.jsonl", 3000)
    seen = []
    single = validate_file(path, workers=1, progress=lambda done, total: seen.append((done, total)))
    pooled = validate_file(path, workers=2)
    assert [(p.line, p.code) for p in single.errors] == expected
    assert pooled.to_json() == single.to_json()
    assert single.examples == 3000
    # progress: bytes, increasing, ending at the file size
    size = path.stat().st_size
    assert len(seen) > 10
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1] == (size, size)


def test_a_line_longer_than_a_block(tmp_path, monkeypatch):
    monkeypatch.setattr(dataset_scan, "BLOCK_BYTES", 1024)
    rows = [example(i) for i in range(11)] + [example(50, answer_words=2000), example(51)]
    report = validate_file(write_lines(tmp_path / "long.jsonl", rows))
    assert report.ok and report.examples == 13 and report.valid_examples == 13


def test_tokenizer_fallback_when_offline(tmp_path):
    """No BPE file and no network: counts become labelled estimates and validation completes."""
    path = write_lines(tmp_path / "t.jsonl", [example(i) for i in range(12)])
    empty_cache = tmp_path / "tiktoken-empty"
    empty_cache.mkdir()
    env = {
        **os.environ,
        "TIKTOKEN_CACHE_DIR": str(empty_cache),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
    }
    code = (
        "import json, sys; from workbench.core.dataset import validate_file; "
        "print(json.dumps(validate_file(sys.argv[1]).to_json()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60, env=env
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["tokenizer_exact"] is False
    assert "estimate" in report["tokenizer_note"]
    assert report["valid_examples"] == 12 and report["errors"] == []
    assert [w["code"] for w in report["warnings"]] == ["token_estimate"]
    assert report["tokens"]["total"] > 0


def test_from_a_thread_the_pool_starts_clean(tmp_path, monkeypatch):
    """The TUI calls validate_file from a worker thread: forking then is unsafe, so the pool
    spawns fresh workers, and the result is the same."""
    import threading

    monkeypatch.setattr(dataset_scan, "BLOCK_BYTES", 8192)
    path, expected = big_messy_file(tmp_path / "big.jsonl", 600)
    box = {}
    worker = threading.Thread(target=lambda: box.update(report=validate_file(path, workers=2)))
    worker.start()
    worker.join(120)
    assert [(p.line, p.code) for p in box["report"].errors] == expected
    assert box["report"].to_json() == validate_file(path, workers=1).to_json()


def test_small_files_are_checked_in_this_process():
    assert dataset_scan.auto_workers(100_000) == 1
    assert dataset_scan.auto_workers(dataset_scan.POOL_MIN_BYTES) >= 1


def test_a_gap_in_the_rules_is_an_error_not_a_crash(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(dataset_scan, "token_counts", broken)
    report = validate_file(write_lines(tmp_path / "t.jsonl", [example(i) for i in range(10)]))
    assert [(p.line, p.code) for p in report.errors] == [(n, "unchecked") for n in range(1, 11)]


@pytest.mark.requires_bpe
def test_a_utf16_file_is_one_problem_not_one_per_line(tmp_path):
    path = tmp_path / "utf16.jsonl"
    text = "".join(json.dumps(example(i)) + "\n" for i in range(12))
    path.write_bytes(text.encode("utf-16"))  # with its BOM, as Windows tools write it
    report = validate_file(path)
    assert found(report) == [(0, "invalid_encoding")]
    assert "UTF-16" in report.errors[0].message and "UTF-8" in report.errors[0].message
