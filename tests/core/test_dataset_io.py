"""Dataset files in and out: line numbers, BOM, broken lines kept, CSV mapping, exact bytes, split."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from workbench.core.dataset_io import (
    CSVColumnsMissing,
    check_example,
    dumps_line,
    read_csv,
    read_jsonl,
    sniff_method,
    split_train_validation,
    write_jsonl,
)
from workbench.core.tokens import get_tokenizer

DATA = Path(__file__).resolve().parents[1] / "data"
MESSY = DATA / "training_messy.jsonl"


def _ex(user: str, assistant: str) -> dict:
    return {
        "messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    }


def test_messy_file_keeps_every_line_with_its_number():
    lines = list(read_jsonl(MESSY))
    # 12 physical lines, line 5 is blank: 11 rows, numbered as in the file
    assert [item.line for item in lines] == [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12]
    by_line = {item.line: item for item in lines}

    # the BOM on line 1 and the CRLF endings are accepted
    assert by_line[1].data is not None and by_line[1].problems == []
    assert by_line[1].data["messages"][1]["content"] == "How do I reset my router?"
    assert not by_line[2].raw.endswith("\r")

    # invalid JSON is kept as text, with a problem that names the column
    broken = by_line[3]
    assert broken.data is None
    assert broken.raw.startswith('{"messages": [{"role": "user", "content": "Missing brace"}')
    assert [p.code for p in broken.problems] == ["invalid_json"]
    assert broken.problems[0].line == 3 and "column" in broken.problems[0].message

    # a JSON value that is not an object is kept as text, with the validator's problem
    assert by_line[6].data is None and by_line[6].raw == '["not", "an", "object"]'
    assert by_line[6].problems and by_line[6].problems[0].line == 6

    # structural problems come from the validator, each on its own line
    for number in (7, 8, 10):
        assert by_line[number].problems, f"line {number} should have a problem"
        assert all(p.line == number for p in by_line[number].problems)
        assert not by_line[number].ok
    for number in (1, 2, 4, 9, 11, 12):
        assert by_line[number].ok, (number, by_line[number].problems)

    # unicode and bracketed text come through untouched
    assert by_line[9].data["messages"][2]["content"] == "Très bien, merci. 日本語もOK"
    assert by_line[4].data["messages"][1]["content"] == "Is [/INST] a tag?"


def test_invalid_utf8_is_a_problem_not_a_crash(tmp_path):
    path = tmp_path / "latin1.jsonl"
    good = dumps_line(_ex("hi", "hello")).encode()
    path.write_bytes(good + b"\n" + '{"messages": "caf\xe9"}'.encode("latin-1") + b"\n")
    lines = list(read_jsonl(path))
    assert lines[0].ok
    assert lines[1].line == 2 and lines[1].data is None
    assert [p.code for p in lines[1].problems] == ["invalid_encoding"]
    assert "\ufffd" in lines[1].raw


def test_csv_maps_prompt_and_completion_to_messages():
    rows = list(read_csv(DATA / "training_prompts.csv", system="Be brief."))
    # the header is line 1; a quoted multi-line cell moves the next record's line number
    assert [r.line for r in rows] == [2, 3, 7, 8]
    first = rows[0].data
    assert first == {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "4"},
        ]
    }
    assert rows[1].data["messages"][1]["content"] == "Write a haiku\nabout routers"
    assert rows[2].data["messages"][1]["content"] == "Is [/INST] literal?"
    assert rows[0].ok and rows[1].ok and rows[2].ok
    # an empty prompt is a problem the validator reports, on the record's line
    assert rows[3].problems and rows[3].problems[0].line == 8


def test_csv_without_system_prompt_and_custom_columns(tmp_path):
    path = tmp_path / "qa.csv"
    path.write_text("question,answer\nWhy?,Because.\n", encoding="utf-8")
    rows = list(read_csv(path, prompt_column="question", completion_column="answer"))
    assert rows[0].data["messages"] == [
        {"role": "user", "content": "Why?"},
        {"role": "assistant", "content": "Because."},
    ]


def test_csv_missing_column_names_what_is_there(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("question,reply\nWhy?,Because.\n", encoding="utf-8")
    with pytest.raises(CSVColumnsMissing) as info:
        list(read_csv(path))
    assert "'prompt'" in str(info.value) and "'question'" in str(info.value)


def test_export_bytes_are_exact_and_stable():
    objs = [
        _ex("Héllo [/INST]", "ça va"),
        {
            "messages": [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b", "weight": 1},
            ]
        },
    ]
    fh = io.BytesIO()
    count, sha, size = write_jsonl(objs, fh)
    data = fh.getvalue()
    expected = (
        '{"messages":[{"role":"user","content":"Héllo [/INST]"},'
        '{"role":"assistant","content":"ça va"}]}\n'
        '{"messages":[{"role":"user","content":"a"},'
        '{"role":"assistant","content":"b","weight":1}]}\n'
    ).encode()
    assert data == expected
    assert count == 2 and size == len(expected)
    assert sha == hashlib.sha256(expected).hexdigest()
    # the same content writes the same bytes again
    again = io.BytesIO()
    assert write_jsonl(objs, again)[1] == sha
    # every line parses back to the object it came from
    assert [json.loads(line) for line in data.decode().splitlines()] == objs
    assert b"\r" not in data and not data.startswith(b"\xef\xbb\xbf")


def test_sniff_method_tells_preference_pairs_from_chat(tmp_path):
    dpo = tmp_path / "dpo.jsonl"
    pair = {
        "input": {"messages": [{"role": "user", "content": "hi"}]},
        "preferred_output": [{"role": "assistant", "content": "hello"}],
        "non_preferred_output": [{"role": "assistant", "content": "go away"}],
    }
    dpo.write_text("not json\n" + dumps_line(pair) + "\n", encoding="utf-8")
    assert sniff_method(dpo) == "dpo"
    assert sniff_method(MESSY) == "supervised"
    assert list(read_jsonl(dpo, method="dpo"))[1].ok


def test_split_is_seeded_deterministic_and_disjoint():
    ids = list(range(100, 200))
    train, validation = split_train_validation(ids, 0.2, seed=7)
    assert len(validation) == 20 and len(train) == 80
    assert set(train).isdisjoint(validation) and set(train) | set(validation) == set(ids)
    # same seed, same split, whatever order the ids came in
    assert split_train_validation(list(reversed(ids)), 0.2, seed=7)[1] == sorted(
        validation, reverse=True
    )
    assert split_train_validation(ids, 0.2, seed=7) == (train, validation)
    assert split_train_validation(ids, 0.2, seed=8) != (train, validation)
    # order is kept within each side
    assert train == sorted(train) and validation == sorted(validation)


def test_split_edges():
    assert split_train_validation([1, 2], 0.01, seed=1)[1] != []  # at least one each side
    assert split_train_validation([1, 2, 3], 0.99, seed=1)[0] != []
    assert split_train_validation([1, 2, 3], 0, seed=1) == ([1, 2, 3], [])
    assert split_train_validation([], 0.2, seed=1) == ([], [])
    with pytest.raises(ValueError):
        split_train_validation([1, 2], 1.0, seed=1)


def test_check_example_counts_tokens_and_reports_problems():
    tokenizer = get_tokenizer("gpt-4.1-mini-2025-04-14")
    good = check_example(_ex("How do I reset my router?", "Hold reset."), tokenizer)
    assert good.problems == [] and good.tokens and good.tokens > 5
    bad = check_example({"messages": [{"role": "robot", "content": "x"}]}, tokenizer)
    assert bad.problems and all(p["message"] for p in bad.problem_dicts())
