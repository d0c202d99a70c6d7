"""The layer rules in pyproject.toml's [tool.importlinter] hold (CI runs `lint-imports` too).

core imports nothing of ours but config, store nothing of providers or the UI, nothing below the
UI imports it, and core/store never import Textual or the SDK. The second test proves the check
can fail: the same contracts on a copy of the package with one forbidden import added.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    script = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run(
        [sys.executable, "-c", script, "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_layer_contracts_are_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_ui_import_in_core_breaks_the_contract(tmp_path):
    shutil.copytree(
        ROOT / "workbench", tmp_path / "workbench", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    tokens = tmp_path / "workbench" / "core" / "tokens.py"
    tokens.write_text(tokens.read_text() + "\nfrom workbench.ui import pane  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "workbench.core.tokens -> workbench.ui.pane" in result.stdout
