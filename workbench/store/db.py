"""Opening the one SQLite file everything is kept in.

Every write transaction takes the write lock up front (`BEGIN IMMEDIATE`, see `Database.atomic`):
a transaction that read first and then tried to write would fail at once with "database is locked"
while another process writes, instead of waiting within the busy timeout.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.store.migrations import migrate

if TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT_MS = 5000
BUSY_TIMEOUT_ENV = "WORKBENCH_BUSY_TIMEOUT"  # seconds; tests and scripts shorten the wait
BUSY_MESSAGE = (
    "database is busy (locked by another workbench?); your edit is kept and will be saved "
    "when it frees"
)


class DatabaseError(Exception):
    """The database file cannot be used; the message names the file and says why, in words."""


def busy_timeout_ms() -> int:
    """How long a write waits for another process's lock: $WORKBENCH_BUSY_TIMEOUT s, or 5 s."""
    raw = os.environ.get(BUSY_TIMEOUT_ENV)
    if raw:
        try:
            return max(0, int(float(raw) * 1000))
        except ValueError:
            pass
    return BUSY_TIMEOUT_MS


def is_busy(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" / "busy": another connection holds the write lock."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    message = str(exc).lower()
    return "locked" in message or "busy" in message


class Database:
    """One connection to the workbench file: sqlite-utils' Database, built when first needed.

    Importing sqlite-utils costs ~80 ms (a quarter of what the app adds to a bare Textual start),
    and opening the file, checking its schema and reading the user's prompt need none of it: those
    reads use `rows()`. Anything else (`db["table"]`, `query`, `execute`, `table_names`, ...) is
    sqlite-utils' own, on this same connection. Its transactions take the write lock when they
    begin (`atomic`).
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._utils: sqlite_utils.Database | None = None

    @property
    def utils(self) -> sqlite_utils.Database:
        if self._utils is None:
            from workbench.lean_imports import sqlite_utils

            # no sqlite-utils plugins: their discovery scans every installed package's entry
            # points (~20 ms on the first connection of each process, with the ML stack installed)
            self._utils = sqlite_utils().Database(self.conn, execute_plugins=False)
        return self._utils

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.utils, name)

    def __getitem__(self, table: str) -> Any:
        return self.utils[table]

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        """The rows of a read, as dicts, straight from sqlite3 (for the start-up path)."""
        cursor = self.conn.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return (dict(zip(names, row, strict=True)) for row in cursor)

    def close(self) -> None:
        self.conn.close()

    @contextlib.contextmanager
    def atomic(self) -> Generator[Database, None, None]:
        if self.conn.in_transaction:  # nested: a savepoint inside the outer (immediate) one
            with self.utils.atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.conn.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.rollback()
            raise


def _check_path(path: Path) -> None:
    """Say in words why a path cannot hold the database, before SQLite says it less clearly."""
    if path.is_dir():
        raise DatabaseError(f"{path}: is a directory, not a database file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise DatabaseError(f"{path}: cannot be created: a file is in the way ({exc})") from exc
    except OSError as exc:
        raise DatabaseError(f"{path}: cannot create its folder: {exc.strerror or exc}") from exc


def connect(path: Path | str) -> Database:
    """A connection with WAL, a busy timeout and foreign keys on; no migration."""
    path = Path(path)
    if str(path) != ":memory:":
        _check_path(path)
    timeout = busy_timeout_ms()
    conn = sqlite3.connect(str(path), timeout=timeout / 1000, check_same_thread=False)
    db = Database(conn)
    conn.execute("PRAGMA recursive_triggers = ON")  # as sqlite-utils' Database sets it
    conn.execute(f"PRAGMA busy_timeout = {timeout}")
    conn.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return db


def open_db(path: Path | str) -> Database:
    """Connect and bring the schema up to date. The only caller of `migrate()`.

    One connection per thread: workers open their own with this function.
    """
    try:
        db = connect(path)
        migrate(db)
        _check_writable(db)
    except sqlite3.DatabaseError as exc:
        if is_busy(exc):
            raise
        raise DatabaseError(_explain(Path(path), exc)) from exc
    return db


def _check_writable(db: Database) -> None:
    """A read-only file would open and fail on the first edit; find out now."""
    db.conn.execute("BEGIN IMMEDIATE")
    db.conn.execute("ROLLBACK")


def _explain(path: Path, exc: sqlite3.DatabaseError) -> str:
    message = str(exc)
    if "readonly" in message or "read-only" in message:
        return (
            f"{path}: is read-only; workbench saves every edit as it is made, so it needs write "
            "access to the file and its folder (or pass another --db)"
        )
    if "not a database" in message or "malformed" in message or "corrupt" in message:
        return f"{path}: is not a workbench database (not an SQLite file, or damaged: {message})"
    if "unable to open" in message:
        return f"{path}: cannot be opened ({message})"
    return f"{path}: cannot be used as the database ({message})"
