"""sqlite-utils comes without pandas and numpy: they cost seconds of every start where installed."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

PROBE = """
import sys
import workbench.app, workbench.store.db, workbench.sim.state
from workbench.store.db import open_db
db = open_db(sys.argv[1])            # sqlite-utils still works: migrations create every table
assert "examples" in db.table_names(), db.table_names()
print(",".join(m for m in ("pandas", "numpy") if m in sys.modules))
import pandas                        # and a later import elsewhere is not blocked
print(pandas.__name__)
"""


def run_probe(probe: str, tmp_path) -> str:
    """Run `probe` in a fresh interpreter (nothing imported yet) on a new file; its output."""
    out = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.skipif(
    importlib.util.find_spec("pandas") is None or importlib.util.find_spec("numpy") is None,
    reason="pandas and numpy are not installed here, so sqlite-utils cannot import them anyway",
)
def test_the_store_and_the_simulator_do_not_import_pandas_or_numpy(tmp_path):
    assert run_probe(PROBE, tmp_path).split() == ["pandas"]


START_PROBE = """
import sys
from workbench.store.db import open_db
from workbench.store import prompts
db = open_db(sys.argv[1])             # a new file: the migrations use sqlite-utils
prompts.create_prompt(db, "p", system="s")
db.close()
for name in [m for m in sys.modules if m.startswith("sqlite_utils")]:
    del sys.modules[name]
db = open_db(sys.argv[1])             # what a start does: open, check, read the prompt
name = prompts.most_recent_prompt(db)
version = prompts.latest_version(db, name)
print(name, version.system, "sqlite_utils" in sys.modules)
print(db["prompts"].count, "sqlite_utils" in sys.modules)   # then anything else loads it
"""


def test_a_start_opens_the_file_and_reads_the_prompt_without_importing_sqlite_utils(tmp_path):
    """Importing sqlite-utils costs ~80 ms, a quarter of what the app adds to a bare Textual start."""
    assert run_probe(START_PROBE, tmp_path).splitlines() == ["p s False", "1 True"]
