"""Opening the one SQLite file everything is kept in."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from workbench.store.migrations import migrate

BUSY_TIMEOUT_MS = 5000


def connect(path: Path | str) -> sqlite_utils.Database:
    """A connection with WAL, a busy timeout and foreign keys on; no migration."""
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return db


def open_db(path: Path | str) -> sqlite_utils.Database:
    """Connect and bring the schema up to date. The only caller of `migrate()`.

    One connection per thread: workers open their own with this function.
    """
    db = connect(path)
    migrate(db)
    return db
