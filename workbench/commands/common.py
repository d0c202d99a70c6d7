"""What every command opens the same way: the config and the database, or one clear line and exit 2.

Exit codes of every command (also in the README): 0 ok, 1 the thing checked failed, 2 usage, config
or an unusable file (the message names it), 3 the provider could not be reached or refused the key
(what was stored is still printed), 130 interrupted.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.config import Config
    from workbench.store.db import Database

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PROVIDER, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def fail(command: str, message: str, code: int = EXIT_USAGE) -> SystemExit:
    """Print `workbench COMMAND: message` on stderr; raise the returned SystemExit."""
    prefix = f"workbench {command}" if command else "workbench"
    print(f"{prefix}: {message}", file=sys.stderr)
    return SystemExit(code)


def open_config(command: str, profile: str | None = None) -> Config:
    """The config with `profile` active, or exit 2 naming the file and the setting."""
    from workbench.config import ConfigError, load_config

    try:
        return load_config(profile=profile)
    except ConfigError as exc:
        raise fail(command, str(exc)) from None


def open_database(command: str, db_arg: str | None = None) -> Database:
    """The migrated database (`--db`, $WORKBENCH_DB or the XDG path), or exit 2 saying why."""
    from workbench.config import db_path
    from workbench.store.db import BUSY_MESSAGE, DatabaseError, is_busy, open_db

    path = db_path(db_arg)
    try:
        return open_db(path)
    except DatabaseError as exc:
        raise fail(command, str(exc)) from None
    except OSError as exc:
        raise fail(command, f"{path}: {exc.strerror or exc}") from None
    except Exception as exc:
        if is_busy(exc):
            raise fail(command, f"{path}: {BUSY_MESSAGE.split(';')[0]}") from None
        raise
