"""A normal wheel install must carry the stylesheets (they live in top-level styles/ in the repo)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_the_styles_and_the_entry_point(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    # the distribution is finetune-workbench (`workbench` on PyPI is another project)
    wheel = next(tmp_path.glob("finetune_workbench-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for css in (ROOT / "styles").glob("*.tcss"):
        assert f"workbench/styles/{css.name}" in names
    assert "workbench/cli.py" in names
    entry = (
        zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith("entry_points.txt")))
        .decode()
    )
    assert "workbench = workbench.cli:main" in entry


def test_styles_are_found_from_a_checkout():
    from workbench.app import styles_dir

    assert (styles_dir() / "base.tcss").exists()
