"""The command line: --version, --help, paths, and that subcommands stay light (no Textual, no SDK)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from workbench import __version__


def run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_version():
    out = run("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"workbench {__version__}"


def test_help_lists_the_subcommands():
    out = run("--help")
    assert out.returncode == 0
    assert "usage: workbench" in out.stdout
    assert "paths" in out.stdout


def test_unknown_subcommand_is_a_usage_error():
    out = run("no-such-command")
    assert out.returncode == 2
    assert "invalid choice" in out.stderr


def test_paths_json_follows_the_overrides(tmp_path):
    out = run("paths", "--json", env={"WORKBENCH_DB": str(tmp_path / "x.db")})
    assert out.returncode == 0
    paths = json.loads(out.stdout)
    assert paths["database"] == str(tmp_path / "x.db")
    assert paths["config"].endswith("config.toml")
    out = run("--db", str(tmp_path / "y.db"), "paths", "--json")
    assert json.loads(out.stdout)["database"] == str(tmp_path / "y.db")


HYGIENE = """
import sys, importlib, pkgutil
import workbench.cli, workbench.config, workbench.core, workbench.store, workbench.providers
for pkg in (workbench.core, workbench.store, workbench.providers):
    for info in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + "."):
        importlib.import_module(info.name)
parser = workbench.cli.build_parser()   # imports every subcommand module
import workbench.local.server, workbench.local.export   # `workbench local` loads torch lazily
bad = sorted(m for m in ("textual", "openai", "torch", "transformers") if m in sys.modules)
print(",".join(bad))
"""


def test_core_store_providers_and_cli_do_not_import_textual_or_the_sdk():
    """The CLI must start fast and the domain must not depend on the UI (harlequin's contract)."""
    out = subprocess.run(
        [sys.executable, "-c", HYGIENE], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_only_the_bare_launch_skips_building_the_commands():
    from workbench.cli import _opens_the_app

    for launch in ([], ["--db", "x.db"], ["--profile=azure", "--db=x.db"]):
        assert _opens_the_app(launch), launch
    for other in (["--db"], ["history"], ["--help"], ["--version"], ["--db", "x.db", "jobs"]):
        assert not _opens_the_app(other), other


def test_a_bare_launch_with_a_missing_value_is_a_usage_error():
    out = run("--db")
    assert out.returncode == 2
    assert "--db" in out.stderr and "Traceback" not in out.stderr
