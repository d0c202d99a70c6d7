"""The one JSONL line parser and what reads through it: validate, the importer, the raw editor."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from workbench.core.dataset import validate_file
from workbench.core.dataset_io import parse_text, read_jsonl
from workbench.core.jsonl import MAX_DEPTH, NotARegularFile, check_regular_file, parse_jsonl_line
from workbench.store import examples as store
from workbench.store.dataset_export import import_lines

USER = {"role": "user", "content": "hi"}
ASSISTANT = {"role": "assistant", "content": "hello"}
GOOD = json.dumps({"messages": [USER, ASSISTANT]})

# (line text, code, words the message must hold); each one used to crash or pass wrongly
BROKEN = [
    ('{"messages": [], "\\ud800": 1}', "invalid_unicode", "the key `\\ud800`"),
    (
        '{"messages": [{"role": "\\ud800", "content": "hi"}, {"role": "assistant", "content": "a"}]}',
        "invalid_unicode",
        "`messages[0].role`",
    ),
    (
        '{"messages": [{"role": "user", "content": "x\\udfffy"}, {"role": "assistant", "content": "a"}]}',
        "invalid_unicode",
        "`messages[0].content`",
    ),
    (
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "a", '
        '"weight": "\\ud800"}]}',
        "invalid_unicode",
        "`messages[1].weight`",
    ),
    ('{"messages": [{"role": "assistant", "content": "a", "weight": NaN}]}', "invalid_json", "NaN"),
    ('{"a": Infinity}', "invalid_json", "column 7: Infinity is not a JSON value"),
    ('{"a": -Infinity}', "invalid_json", "-Infinity"),
    ('{"a": "NaN", "b": NaN}', "invalid_json", "column 19"),  # the one outside the string
    ('{"weight": ' + "9" * 5000 + "}", "invalid_number", "5,000-digit integer"),
    ('{"weight": 1e400}', "invalid_number", "1e400"),
    ("[" * 10_000 + "]" * 10_000, "invalid_json", "nested too deeply"),
    ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "invalid_json", "nested too deeply"),
    ("\ufeff" + GOOD, "invalid_json", "byte-order mark"),
]


@pytest.mark.parametrize(("text", "code", "words"), BROKEN)
def test_each_broken_line_is_a_problem_on_its_line(text, code, words):
    parsed = parse_jsonl_line(text.encode("utf-8"), 7)
    assert parsed.value is None and parsed.problem is not None
    assert (parsed.problem.line, parsed.problem.code) == (7, code)
    assert words in parsed.problem.message
    assert "set_int_max_str_digits" not in parsed.problem.message
    parsed.problem.message.encode("utf-8")  # printable on any UTF-8 terminal: no lone surrogate


def test_what_json_allows_still_parses():
    for text, value in [
        ('"\\ud83d\\ude00"', "😀"),  # a surrogate pair is one character
        ('"\\\\ud800"', "\\ud800"),  # an escaped backslash, not an escape
        ("[" * MAX_DEPTH + "]" * MAX_DEPTH, None),
        ('{"n": ' + "9" * 4000 + "}", {"n": int("9" * 4000)}),
        ('{"f": 1.5e300, "g": -0.0}', {"f": 1.5e300, "g": -0.0}),
        (GOOD + "\r", json.loads(GOOD)),
    ]:
        parsed = parse_jsonl_line(text.encode("utf-8"), 2)
        assert parsed.ok, parsed.problem
        if value is not None:
            assert parsed.value == value
    assert parse_jsonl_line(b"\xef\xbb\xbf" + GOOD.encode(), 1).ok  # a BOM opening the file


def test_invalid_utf8_names_the_byte():
    parsed = parse_jsonl_line(b'{"a": "\xff"}', 3)
    assert parsed.problem.code == "invalid_encoding" and "byte 8" in parsed.problem.message
    assert "\ufffd" in parsed.text


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_validate_reports_each_broken_line_and_keeps_the_report(tmp_path):
    lines = [GOOD] * 10 + [text for text, _, _ in BROKEN]
    path = write(tmp_path / "train.jsonl", lines)
    report = validate_file(path, workers=1)
    assert report.valid_examples == 10 and report.examples == 10 + len(BROKEN)
    assert [(p.line, p.code) for p in report.errors] == [
        (11 + i, code) for i, (_, code, _) in enumerate(BROKEN)
    ]
    json.dumps(report.to_json(), ensure_ascii=False).encode("utf-8")  # --json prints it whole

    # the same lines in a validation file
    val = write(tmp_path / "val.jsonl", [text for text, _, _ in BROKEN])
    report = validate_file(write(tmp_path / "ok.jsonl", [GOOD] * 10), validation_path=val)
    assert [(p.line, p.code) for p in report.errors] == [
        (1 + i, code) for i, (_, code, _) in enumerate(BROKEN)
    ]
    assert all(p.message.startswith("validation file: ") for p in report.errors)


def test_import_keeps_every_line_with_its_problem(tmp_path, db):
    lines = [GOOD, *(text for text, _, _ in BROKEN), GOOD]
    path = write(tmp_path / "nasty.jsonl", lines)
    dataset = store.create_dataset(db, "nasty")
    summary = import_lines(db, dataset.id, read_jsonl(path))
    assert summary.lines == len(lines) and summary.valid == 2
    rows = store.list_examples(db, dataset_id=dataset.id, limit=None)
    assert [r.source_line for r in rows] == list(range(1, len(lines) + 1))
    for row, (text, code, _) in zip(rows[1:-1], BROKEN, strict=True):
        assert row.data is None and row.raw == text
        assert [p["code"] for p in row.problems] == [code]


def test_an_import_failing_half_way_keeps_nothing_of_it(tmp_path, db):
    """A read error after the first batches were stored takes them back out."""
    dataset = store.create_dataset(db, "half")
    store.add_examples(db, [{"data": json.loads(GOOD)}], dataset.id)  # there before the import
    good = list(read_jsonl(write(tmp_path / "many.jsonl", [GOOD] * 2500)))

    def lines():
        yield from good
        raise OSError(5, "Input/output error")  # the disk gives up after 2,500 lines

    with pytest.raises(OSError):
        import_lines(db, dataset.id, lines())
    assert store.count_examples(db, dataset_id=dataset.id) == 1


def test_the_raw_editor_parses_through_the_same_parser():
    for text, code, _ in BROKEN:
        parsed = parse_text(text, 4)
        assert parsed.data is None and [p.code for p in parsed.problems] == [code]
    # a lone surrogate typed or pasted as a character, not as an escape, is reported too
    parsed = parse_text('{"messages": [{"role": "user", "content": "\ud800"}]}', 4)
    assert parsed.data is None and parsed.problems[0].code in ("invalid_json", "invalid_unicode")
    pretty = json.dumps({"messages": [USER, ASSISTANT]}, indent=2)  # the editor keeps newlines
    assert parse_text(pretty, 4).ok


def test_a_fifo_is_refused_at_once_not_read_for_ever(tmp_path):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def attempt() -> None:
        for call in (
            lambda: validate_file(fifo),
            lambda: list(read_jsonl(fifo)),
            lambda: check_regular_file(fifo),
        ):
            try:
                call()
            except OSError as exc:
                outcome.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the open() so the thread can end, then fail
        with open(fifo, "wb"):
            pass
        pytest.fail("reading a FIFO blocked")
    assert len(outcome) == 3 and all(isinstance(e, NotARegularFile) for e in outcome)
    assert "named pipe" in str(outcome[0])
