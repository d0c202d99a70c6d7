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


@pytest.mark.skipif(
    importlib.util.find_spec("pandas") is None or importlib.util.find_spec("numpy") is None,
    reason="pandas and numpy are not installed here, so sqlite-utils cannot import them anyway",
)
def test_the_store_and_the_simulator_do_not_import_pandas_or_numpy(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["pandas"]
