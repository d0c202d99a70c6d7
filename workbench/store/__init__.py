"""SQLite: one module per table family. sqlite-utils is loaded first without pandas (lean_imports)."""

from workbench.lean_imports import sqlite_utils as _sqlite_utils

_sqlite_utils()
