"""`workbench validate` as a user runs it: exit codes, the --json object, the readable report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workbench", "validate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def good_file(path: Path, n: int = 12) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            row = {
                "messages": [
                    {"role": "user", "content": f"What is {i} + {i}?"},
                    {"role": "assistant", "content": f"{i + i}", "weight": 1},
                ]
            }
            fh.write(json.dumps(row) + "\n")
    return path


@pytest.mark.requires_bpe
def test_a_valid_file_exits_0_with_the_json_object(tmp_path):
    path = good_file(tmp_path / "train.jsonl")
    out = run(str(path), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert list(report) == [
        "file",
        "model",
        "method",
        "examples",
        "valid_examples",
        "errors",
        "warnings",
        "tokens",
        "epochs",
        "estimated_training_tokens",
        "estimated_cost_usd",
        "tokenizer_exact",
        "tokenizer_note",
    ]
    assert list(report["tokens"]) == [
        "total",
        "billed_per_epoch",
        "assistant",
        "min",
        "median",
        "p95",
        "max",
    ]
    assert report["file"] == str(path)
    assert report["model"] == "gpt-4.1-mini-2025-04-14"
    assert report["method"] == "supervised"
    assert (report["examples"], report["valid_examples"]) == (12, 12)
    assert report["errors"] == [] and report["warnings"] == []
    assert report["epochs"] == 8  # 12 examples: 100 // 12
    assert report["estimated_training_tokens"] == report["tokens"]["billed_per_epoch"] * 8
    assert report["tokenizer_exact"] is True
    assert out.stderr == ""  # no progress bar when stderr is not a terminal


def test_errors_exit_1_and_json_lists_every_one(tmp_path):
    path = tmp_path / "many.jsonl"
    path.write_text("".join("{broken\n" for _ in range(30)), encoding="utf-8")
    out = run(str(path), "--json")
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert [(e["line"], e["code"]) for e in report["errors"]] == [
        (n, "invalid_json") for n in range(1, 31)
    ]
    assert set(report["errors"][0]) == {"line", "code", "message"}
    assert report["tokens"]["total"] == 0 and report["estimated_cost_usd"] is None


def test_the_readable_report_groups_problems_and_caps_the_listing(tmp_path):
    path = tmp_path / "many.jsonl"
    path.write_text("".join("{broken\n" for _ in range(30)), encoding="utf-8")
    out = run(str(path))
    assert out.returncode == 1
    text = out.stdout
    assert "NOT valid" in text
    assert "invalid_json (30)" in text
    assert "line 1: not valid JSON" in text
    assert "line 6:" not in text  # only the first 5 of a kind are spelled out
    assert "... and 25 more (lines 6, 7, 8" in text
    assert "--json lists all" in text


def test_the_messy_fixture_readable(tmp_path):
    out = run(str(DATA / "validate_messy.jsonl"))
    assert out.returncode == 1
    assert "line 20: not valid UTF-8" in out.stdout
    assert "special_token (1)" in out.stdout
    assert "Warnings (2)" in out.stdout
    assert "6 valid examples" in out.stdout


def test_readable_report_of_a_valid_file(tmp_path):
    out = run(str(good_file(tmp_path / "train.jsonl")))
    assert out.returncode == 0
    assert ": valid" in out.stdout
    assert "Tokens (12 valid examples)" in out.stdout
    assert "Training: 8 epochs (auto)" in out.stdout


@pytest.mark.parametrize("kind", ["missing", "directory", "permission"])
def test_unreadable_input_exits_2(tmp_path, kind):
    if kind == "missing":
        target = tmp_path / "nope.jsonl"
    elif kind == "directory":
        target = tmp_path
    else:
        if os.geteuid() == 0:
            pytest.skip("root reads any file")
        target = good_file(tmp_path / "locked.jsonl")
        target.chmod(0)
    out = run(str(target), "--json")
    assert out.returncode == 2
    assert out.stdout == ""
    assert "cannot read" in out.stderr
    assert "Traceback" not in out.stderr


def test_unreadable_validation_file_exits_2(tmp_path):
    out = run(str(good_file(tmp_path / "t.jsonl")), "--validation-file", str(tmp_path / "v.jsonl"))
    assert out.returncode == 2
    assert "v.jsonl" in out.stderr


@pytest.mark.requires_bpe
def test_validation_file_and_model_options(tmp_path):
    train = good_file(tmp_path / "train.jsonl")
    val = tmp_path / "val.jsonl"
    val.write_text(train.read_text(encoding="utf-8").splitlines()[3] + "\n", encoding="utf-8")
    out = run(str(train), "--validation-file", str(val), "--model", "gpt-4o-2024-08-06", "--json")
    assert out.returncode == 0
    report = json.loads(out.stdout)
    assert report["model"] == "gpt-4o-2024-08-06"
    assert [(w["line"], w["code"]) for w in report["warnings"]] == [(4, "duplicate_in_validation")]


@pytest.mark.requires_bpe
def test_dpo_method(tmp_path):
    path = tmp_path / "dpo.jsonl"
    row = {
        "input": {"messages": [{"role": "user", "content": "Say hi"}]},
        "preferred_output": [{"role": "assistant", "content": "Hi!"}],
        "non_preferred_output": [{"role": "assistant", "content": "No."}],
    }
    path.write_text((json.dumps(row) + "\n") * 10, encoding="utf-8")
    out = run(str(path), "--method", "dpo", "--json")
    assert out.returncode == 0
    report = json.loads(out.stdout)
    assert report["method"] == "dpo"
    assert [w["code"] for w in report["warnings"]] == ["dpo_billing_estimate"]
    # the same file as supervised fails on every line
    assert run(str(path), "--json").returncode == 1


def test_bad_method_is_a_usage_error(tmp_path):
    out = run(str(good_file(tmp_path / "t.jsonl")), "--method", "rft")
    assert out.returncode == 2
    assert "invalid choice" in out.stderr


def test_offline_counts_are_labelled_estimates(tmp_path):
    empty = tmp_path / "empty-cache"
    empty.mkdir()
    out = run(
        str(good_file(tmp_path / "t.jsonl")),
        env={"TIKTOKEN_CACHE_DIR": str(empty), "HTTPS_PROXY": "http://127.0.0.1:9"},
    )
    assert out.returncode == 0, out.stderr
    assert "≈" in out.stdout
    assert "Note: token counts are estimates" in out.stdout


def test_permission_denied_exits_2_in_process(tmp_path, monkeypatch, capsys):
    """Root can read anything, so the permission case is also checked with the error injected."""
    import argparse

    from workbench.commands import validate
    from workbench.core import dataset_scan

    path = good_file(tmp_path / "t.jsonl")

    def denied(p):
        raise PermissionError(13, "Permission denied", str(p))

    monkeypatch.setattr(dataset_scan, "_check_readable", denied)
    args = argparse.Namespace(
        file=str(path), validation_file=None, model="gpt-4o-mini", method="supervised", json=True
    )
    assert validate.run(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"cannot read {path}: Permission denied" in captured.err


def big_file(path: Path, size: int) -> int:
    """A valid file of about `size` bytes; returns its number of examples."""
    filler = "lorem ipsum dolor sit amet " * 60
    with open(path, "w", encoding="utf-8") as fh:
        i = 0
        while fh.tell() < size:
            row = {
                "messages": [
                    {"role": "system", "content": filler},
                    {"role": "user", "content": f"question {i}"},
                    {"role": "assistant", "content": f"answer {i}"},
                ]
            }
            fh.write(json.dumps(row) + "\n")
            i += 1
    return i


def test_progress_bar_on_a_terminal_for_big_files(tmp_path):
    """stderr on a pseudo-terminal: the bar is drawn and cleared; stdout stays clean JSON."""
    import pty

    from workbench.commands.validate import PROGRESS_MIN_BYTES

    path = tmp_path / "big.jsonl"
    i = big_file(path, PROGRESS_MIN_BYTES + 2**20)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench", "validate", str(path), "--json"],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=os.environ.copy(),
    )
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the process is done with it
            break
        if not chunk:
            break
        drawn += chunk
    out, _ = proc.communicate(timeout=120)
    os.close(leader)
    assert proc.returncode == 0
    assert json.loads(out)["valid_examples"] == i
    assert b"validating" in drawn and b"%" in drawn
    assert drawn.endswith(b"\r\x1b[K")  # cleared at the end


def test_ctrl_c_mid_scan_exits_130_without_tracebacks(tmp_path):
    """SIGINT to the whole process group (what Ctrl-C does) once the bar shows the scan is
    under way: the pool is cancelled, nothing but the bar reaches the terminal."""
    import pty
    import signal

    path = tmp_path / "big.jsonl"
    big_file(path, 40 * 2**20)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench", "validate", str(path), "--json"],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=os.environ.copy(),
        start_new_session=True,
        # a suite started with SIGINT ignored (`cmd &` in a script) would hand that on: Ctrl-C
        # must reach the child as it reaches a process started from a terminal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    os.close(follower)
    drawn = b""
    while b"validating" not in drawn:
        chunk = os.read(leader, 4096)
        assert chunk, "the process ended before drawing progress"
        drawn += chunk
    os.killpg(proc.pid, signal.SIGINT)
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    out, _ = proc.communicate(timeout=60)
    os.close(leader)
    assert proc.returncode == 130
    assert out == b""
    assert b"Traceback" not in drawn


def test_validation_file_problems_are_labelled_in_the_report(tmp_path):
    train = good_file(tmp_path / "train.jsonl")
    val = tmp_path / "val.jsonl"
    val.write_text('{"messages": []}\n{oops\n', encoding="utf-8")
    out = run(str(train), "--validation-file", str(val))
    assert out.returncode == 1
    assert "validation file line 1: `messages` is empty" in out.stdout
    assert "validation file line 2: not valid JSON" in out.stdout
    assert f"validation file {val}: 2 examples" in out.stdout
