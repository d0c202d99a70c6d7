"""A bad --db or config file: one line naming it, exit 2, no traceback, in every command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def workbench(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def assert_clean_refusal(result, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


@pytest.fixture(params=["not-sqlite", "truncated", "directory", "under-a-file"])
def bad_db(request, tmp_path):
    kind = request.param
    if kind == "not-sqlite":
        path = tmp_path / "bad.db"
        path.write_text("this is a text file, not a database\n" * 10)
    elif kind == "truncated":
        path = tmp_path / "trunc.db"
        whole = tmp_path / "whole.db"
        from workbench.store.db import open_db

        db = open_db(whole)
        db.conn.execute("pragma journal_mode = delete")
        db.close()
        path.write_bytes(whole.read_bytes()[:3000])
    elif kind == "directory":
        path = tmp_path / "adir"
        path.mkdir()
    else:
        (tmp_path / "afile").write_text("x")
        path = tmp_path / "afile" / "w.db"
    return path


@pytest.mark.parametrize("command", [["history"], ["estimate"], ["jobs", "list", "--offline"]])
def test_bad_db_is_named_in_every_command(bad_db, command):
    if command == ["history"] and not bad_db.parent.is_dir():
        pytest.skip("history reads only: a path that cannot exist is 'no runs yet', exit 0")
    assert_clean_refusal(workbench("--db", str(bad_db), *command), str(bad_db))


def test_bad_db_is_named_before_the_tui_starts(bad_db):
    assert_clean_refusal(workbench("--db", str(bad_db)), str(bad_db))


@pytest.mark.parametrize(
    "text, words",
    [
        ("profiles = 5\n", ["profiles"]),
        ("[profiles.x]\norganization = 5\n", ["profiles.x.organization"]),
        ('[profiles.x]\ntimeout = "fast"\n', ["profiles.x.timeout", "seconds"]),
    ],
)
@pytest.mark.parametrize("command", [["history"], ["estimate"], ["doctor"], []])
def test_bad_config_settings_are_named(text, words, command):
    path = os.environ["WORKBENCH_CONFIG"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)
    assert_clean_refusal(workbench(*command), path, *words)


def test_a_directory_as_config_is_named():
    path = os.environ["WORKBENCH_CONFIG"]
    os.makedirs(path)
    assert_clean_refusal(workbench("history"), path, "directory")


def test_estimate_unknown_prompt_exits_2():
    result = workbench("estimate", "--prompt", "nosuch")
    assert_clean_refusal(result, "nosuch")
