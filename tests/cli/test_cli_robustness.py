"""The text commands against hostile or odd input, run as a user runs them (a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.core.display import plural, printable, short_model

GOOD = json.dumps(
    {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
)
# OSC 0 (retitle the window), CSI 2J (clear the screen), an 8-bit CSI, a carriage return
PAYLOAD = "\x1b]0;pwned\x07\x1b[2J\x9b31m\rX"


def workbench(*args: str, env: dict | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="strict",
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def no_controls(text: str) -> bool:
    return not any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in text)


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_printable_shows_controls_as_escapes_and_keeps_text():
    assert printable("plain\ttext\nnext — ünïcode 😀") == "plain\ttext\nnext — ünïcode 😀"
    assert printable(PAYLOAD) == "\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\x0dX"
    assert printable("a\ud800b\u202ec") == "a\\ud800b\\u202ec"
    assert printable(5) == "5"


def test_plural():
    assert [plural(n, "row") for n in (0, 1, 2, 1204)] == [
        "0 rows",
        "1 row",
        "2 rows",
        "1,204 rows",
    ]
    assert plural(1, "approach", "approaches") == "1 approach"
    assert plural(3, "approach", "approaches") == "3 approaches"


def test_short_model_tells_two_fine_tunes_apart():
    a = short_model("ft:gpt-4.1-mini-2025-04-14:acme:support:AbC123xy", 18)
    b = short_model("ft:gpt-4.1-mini-2025-04-14:acme:support:ZZZ999qq", 18)
    assert len(a) <= 18 and len(b) <= 18 and a != b and a.endswith("AbC123xy")
    assert short_model("gpt-4.1-mini", 18) == "gpt-4.1-mini"
    assert len(short_model("gpt-4o-mini-2024-07-18", 18)) == 18


def test_validate_does_not_pass_escape_sequences_to_the_terminal(tmp_path):
    key = json.dumps(PAYLOAD)[1:-1]  # as escapes inside the JSON text
    evil = GOOD[:-1] + f', "{key}": 1' + "}"
    path = write(tmp_path / "evil.jsonl", [GOOD] * 10 + [evil])
    out = workbench("validate", str(path))
    assert out.returncode == 0, out.stderr
    assert "unknown_key" in out.stdout and "\\x1b]0;pwned\\x07" in out.stdout
    assert no_controls(out.stdout), repr(out.stdout)


def test_history_does_not_pass_escape_sequences_to_the_terminal(db, db_path):
    from workbench.store.runs import record_run

    record_run(
        db,
        prompt_name="p\x1b[31m",
        approach="zero-shot",
        model="gpt-4.1-mini",
        messages=[{"role": "user", "content": "hi"}],
        answer=f"the answer {PAYLOAD}",
    )
    out = workbench("--db", str(db_path), "history")
    assert out.returncode == 0, out.stderr
    assert "the answer \\x1b]0;pwned" in out.stdout
    assert no_controls(out.stdout), repr(out.stdout)


def test_history_with_an_unknown_profile_exits_2_naming_it(db, db_path):
    from workbench.store.runs import record_run

    for profile in ("default", "work"):
        record_run(
            db,
            prompt_name="p",
            approach="zero-shot",
            model="gpt-4.1-mini",
            messages=[],
            answer=f"via {profile}",
            profile=profile,
        )
    out = workbench("--db", str(db_path), "history", "--profile", "nosuch")
    assert out.returncode == 2
    assert "'nosuch'" in out.stderr and "known: default" in out.stderr
    assert out.stdout == ""
    out = workbench("--db", str(db_path), "history", "--profile", "default", "--json")
    assert out.returncode == 0
    assert [r["answer"] for r in json.loads(out.stdout)] == ["via default"]


def test_validate_lone_surrogates_nan_and_huge_numbers_are_reported_not_crashed(tmp_path):
    bad = [
        GOOD[:-1] + ', "\\ud800": 1}',
        GOOD.replace('"user"', '"\\ud800"'),
        GOOD.replace('"hello"', '"hello", "weight": NaN'),
        GOOD.replace('"hello"', '"hello", "weight": ' + "1" * 5000),
        GOOD.replace('"hi"', '"\\udc00 hi"'),
    ]
    path = write(tmp_path / "train.jsonl", [GOOD] * 10 + bad)
    val = write(tmp_path / "val.jsonl", bad)
    for extra in ([], ["--json"]):
        out = workbench("validate", str(path), "--validation-file", str(val), *extra)
        assert out.returncode == 1, out.stderr
        assert "Traceback" not in out.stderr and "set_int_max_str_digits" not in out.stdout
    report = json.loads(out.stdout)
    codes = [(e["line"], e["code"]) for e in report["errors"]]
    expected = ["invalid_unicode", "invalid_unicode", "invalid_json", "invalid_number"]
    expected.append("invalid_unicode")
    assert codes == [(11 + i, c) for i, c in enumerate(expected)] + [
        (1 + i, c) for i, c in enumerate(expected)
    ]


def test_validate_refuses_a_fifo_with_exit_2(tmp_path):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    out = workbench("validate", str(fifo), timeout=30)  # used to wait for ever
    assert out.returncode == 2
    assert "named pipe" in out.stderr and "not a regular file" in out.stderr
    out = workbench(
        "validate",
        str(write(tmp_path / "t.jsonl", [GOOD] * 10)),
        "--validation-file",
        str(fifo),
        timeout=30,
    )
    assert out.returncode == 2 and "named pipe" in out.stderr


def test_validate_on_a_shut_down_model_is_an_error(tmp_path):
    path = write(tmp_path / "train.jsonl", [GOOD] * 10)
    out = workbench("validate", str(path), "--model", "gpt-3.5-turbo-0125")
    assert out.returncode == 1
    assert "model_shut_down" in out.stdout and "2026-10-23" in out.stdout
    out = workbench("validate", str(path), "--model", "gpt-4.1-nano", "--json")
    assert [e["code"] for e in json.loads(out.stdout)["errors"]] == ["model_shut_down"]


def test_shut_down_dates_follow_today():
    from datetime import date

    from workbench.core.model_lifecycle import openai_shut_down_message, openai_shutdown

    assert openai_shutdown("gpt-4.1-nano") == date(2026, 10, 23)
    assert openai_shutdown("ft:gpt-3.5-turbo-0125:acme::x1") == date(2026, 10, 23)
    assert openai_shutdown("gpt-4.1") == date(2027, 1, 14)
    assert openai_shutdown("some-other-model") is None
    assert openai_shut_down_message("gpt-4.1-mini", date(2027, 1, 13)) is None
    assert "2027-01-14" in openai_shut_down_message("gpt-4.1-mini", date(2027, 1, 14))


def test_validate_offline_labels_every_estimate_and_prints_no_empty_heading(tmp_path):
    empty = tmp_path / "no-bpe"
    empty.mkdir()
    path = write(tmp_path / "train.jsonl", [GOOD] * 10)
    out = workbench(
        "validate",
        str(path),
        env={"TIKTOKEN_CACHE_DIR": str(empty), "HTTPS_PROXY": "http://127.0.0.1:9"},
    )
    assert out.returncode == 0, out.stderr
    assert "Warnings" not in out.stdout and "0 errors, 0 warnings" in out.stdout
    figures = [line for line in out.stdout.splitlines() if line.startswith(("  ", "Training:"))]
    for line in figures:  # every token count on these lines is an estimate
        numbers = [w for w in line.replace("·", " ").split() if w.replace(",", "").isdigit()]
        for n in numbers:
            if not line.startswith("Training:") or n != "10":  # "10 epochs" is not a count
                assert f"≈ {n}" in line, (n, line)
    assert "Note: token counts are estimates" in out.stdout


@pytest.mark.parametrize("width", [80])
def test_serve_help_says_how_to_get_the_web_extra(width):
    out = workbench("serve", "--help", env={"COLUMNS": str(width)})
    assert out.returncode == 0
    assert "pip install 'finetune-workbench[web]'" in " ".join(out.stdout.split())
