"""Mutated JSONL lines through every reader: validate (core and CLI), the importer, the raw editor.

No exception may escape any of them, and every line they call broken must really be broken by a
strict reference check written here independently (Python's json with NaN refused, UTF-8 strict,
no lone surrogates, bounded nesting). Hypothesis with a fixed budget keeps it to a few seconds.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.dataset import validate_file
from workbench.core.dataset_io import parse_text, read_jsonl
from workbench.core.jsonl import MAX_DEPTH
from workbench.store import examples as store
from workbench.store.dataset_export import import_lines

PARSE_CODES = {"invalid_json", "invalid_encoding", "invalid_unicode", "invalid_number"}

SEEDS = [
    {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
    {
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "what is this?"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "look", "arguments": '{"q": 1}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "a cat"},
            {"role": "assistant", "content": "A cat.", "weight": 1},
        ],
        "tools": [{"type": "function", "function": {"name": "look", "parameters": {}}}],
    },
]

# byte-level edits that real files carry
INSERTS = [
    b"\x00",
    b"\xef\xbb\xbf",
    b"\r",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",  # a surrogate encoded as UTF-8: not UTF-8
    b'"\\ud800"',
    b"\\ud800",
    b"\\udfff\\ud800",
    b"NaN",
    b"-Infinity",
    b"1e400",
    b"9" * 4400,
    b"[" * 300,
    b"]",
    b"{",
    b'"weight": 0.5,',
    b'"weight": "1",',
    b'"weight": true,',
    b"\x1b]0;t\x07",
    b",",
    b":",
]

# values put where a string, a role or a weight was, so the rest of the line stays valid JSON
VALUES = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e400",
    b"9" * 5000,
    b'"\\ud800"',
    b'"x\\udfffy"',
    b'"\\ud83d\\ude00"',  # a valid pair
    b"[" * (MAX_DEPTH + 2) + b"]" * (MAX_DEPTH + 2),
    b"0",
    b"0.5",
    b'"1"',
    b"true",
    b"null",
    b"{}",
    b'[{"type": "text", "text": "t"}]',
    b'[{"type": "image_url"}]',
    b'"\\u001b]0;t\\u0007"',
]
TARGETS = [b'"hello"', b'"hi"', b'"user"', b'"assistant"', b'"A cat."', b"1}", b'"c1"', b'"look"']


def strict_reference_broken(raw: bytes, line: int) -> bool:
    """True when the line is not one JSON value a strict reader accepts (written apart from
    workbench.core.jsonl on purpose)."""
    if line == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    raw = raw.removesuffix(b"\r")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return True

    def refuse(_: str) -> None:
        raise ValueError("not JSON")

    try:
        value = json.loads(text, parse_constant=refuse)
    except (ValueError, RecursionError):
        return True

    def bad(item, depth: int) -> bool:
        if depth > MAX_DEPTH:
            return True
        if isinstance(item, str):
            return any(0xD800 <= ord(c) <= 0xDFFF for c in item)
        if isinstance(item, float):
            return math.isinf(item)
        if isinstance(item, dict):
            return any(bad(k, depth) or bad(v, depth + 1) for k, v in item.items())
        if isinstance(item, list):
            return any(bad(v, depth + 1) for v in item)
        return False

    try:
        return bad(value, 1)
    except RecursionError:
        return True


@st.composite
def mutated_line(draw) -> bytes:
    raw = json.dumps(draw(st.sampled_from(SEEDS)), ensure_ascii=draw(st.booleans())).encode()
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(
            st.sampled_from(["value", "value", "key", "insert", "truncate", "replace", "wrap"])
        )
        at = draw(st.integers(0, len(raw)))
        if kind == "value":
            target = draw(st.sampled_from(TARGETS))
            value = draw(st.sampled_from(VALUES))
            raw = raw.replace(target, value + (b"}" if target == b"1}" else b""), 1)
        elif kind == "key" and raw.endswith(b"}"):
            key = draw(st.sampled_from([b'"\\ud800"', b'"extra"', b'"\\u009b31m"']))
            raw = raw[:-1] + b", " + key + b": " + draw(st.sampled_from(VALUES)) + b"}"
        elif kind == "insert":
            raw = raw[:at] + draw(st.sampled_from(INSERTS)) + raw[at:]
        elif kind == "truncate":
            raw = raw[:at]
        elif kind == "replace" and at < len(raw):
            raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]
        elif kind == "wrap":
            depth = draw(st.sampled_from([2, MAX_DEPTH - 1, MAX_DEPTH + 5, 5000]))
            raw = b"[" * depth + raw + b"]" * depth
    return raw.replace(b"\n", b" ")  # one physical line


def write(path, lines: list[bytes], crlf: bool) -> None:
    path.write_bytes(b"".join(line + (b"\r\n" if crlf else b"\n") for line in lines))


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same cases every run: a failure reproduces
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=st.lists(mutated_line(), min_size=1, max_size=6), crlf=st.booleans())
def test_mutated_lines_never_escape_and_only_broken_lines_are_called_broken(
    tmp_path, db, lines, crlf
):
    path = tmp_path / "fuzz.jsonl"
    write(path, lines, crlf)
    physical = {i + 1: raw for i, raw in enumerate(lines)}

    report = validate_file(path, workers=1)
    json.dumps(report.to_json(), ensure_ascii=False).encode("utf-8")
    for problem in report.errors:
        if problem.code in PARSE_CODES:
            assert strict_reference_broken(physical[problem.line], problem.line), problem

    imported = list(read_jsonl(path))
    dataset = store.create_dataset(db, f"fuzz {len(store.list_datasets(db))}")
    summary = import_lines(db, dataset.id, imported)
    kept = [line.line for line in imported]
    assert summary.lines == len(kept) == store.count_examples(db, dataset_id=dataset.id)
    for item in imported:
        codes = {p.code for p in item.problems}
        if codes & PARSE_CODES:
            assert strict_reference_broken(physical[item.line], item.line), item.problems
        elif item.line in physical and not physical[item.line].strip(b" \t\r"):
            continue
        else:
            assert not strict_reference_broken(physical[item.line], item.line), item.raw

    for number, raw in physical.items():
        text = raw.decode("utf-8", errors="replace")
        parsed = parse_text(text, number)  # what the raw editor does with the text shown
        if {p.code for p in parsed.problems} & PARSE_CODES:
            assert strict_reference_broken(text.encode("utf-8", "backslashreplace"), number)


def test_the_cli_reports_a_fuzzed_file_without_a_traceback(tmp_path):
    """One file with every kind of edit, through `workbench validate` as a user runs it."""
    base = json.dumps(SEEDS[1]).encode()
    lines = [base] * 10 + [base[:40] + insert + base[40:] for insert in INSERTS]
    lines.append(b"[" * 20_000)
    path = tmp_path / "fuzz.jsonl"
    write(path, lines, crlf=True)
    for extra in ([], ["--json"]):
        out = subprocess.run(
            [sys.executable, "-m", "workbench", "validate", str(path), *extra],
            capture_output=True,
            timeout=120,
        )
        assert out.returncode == 1, out.stderr
        assert b"Traceback" not in out.stderr and out.stdout.decode("utf-8")
    report = json.loads(out.stdout)
    for error in report["errors"]:
        if error["code"] in PARSE_CODES:
            assert strict_reference_broken(lines[error["line"] - 1], error["line"]), error
