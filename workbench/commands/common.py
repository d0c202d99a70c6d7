"""What every command shares: the config and the database opened the same way (or one clear line
and exit 2), exit codes, JSON output, terminal-safe text, argparse types.

Not a command itself (cli.COMMANDS lists those). Exit codes of every command (also in the README):
0 ok, 1 the thing checked failed, 2 usage, unknown name, config or an unusable file (the message
names it), 3 the provider could not be reached or refused the key (what was stored is still
printed), 130 interrupted. stdout is data (`--json`), stderr is narrative; text from the data is
printed without control characters.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workbench.core.display import printable

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


EXIT_CODES_EPILOG = (
    "Exit codes: 0 ok, 1 the thing failed, 2 usage, unknown name or config, "
    "3 provider unreachable or key rejected."
)
# Problem kinds (providers.openai_api.explain_error) that mean "we cannot reach or use the provider".
PROVIDER_DOWN = frozenset({"auth", "missing_key", "forbidden", "connection", "timeout"})


class UsageError(Exception):
    """A bad argument or an unknown name: printed, exit 2."""


def one_line(text: Any, width: int) -> str:
    flat = " ".join(printable(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def err(command: str, message: str) -> None:
    print(f"workbench {command}: {printable(message)}", file=sys.stderr, flush=True)


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str), flush=True)


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def key_value(text: str) -> tuple[str, str]:
    """argparse type for `--var k=v`."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=VALUE")
    return key.strip(), value


def fraction(text: str) -> float:
    """argparse type for a share such as 0.1 or 10%."""
    t = text.strip()
    try:
        value = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a fraction such as 0.1 or 10%"
        ) from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 0 and below 1")
    return value


class Context:
    """The config, profile and database a command works with; use as a context manager."""

    def __init__(self, command: str, args: argparse.Namespace) -> None:
        self.config = open_config(command, getattr(args, "profile", None))
        self.profile = self.config.profile
        self.db = open_database(command, getattr(args, "db", None))

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()

    def explain(self, exc: BaseException):
        from workbench.providers.openai_api import explain_error

        return explain_error(exc, self.profile)


def run_with_context(command: str, args: argparse.Namespace, body) -> int:
    """Open the Context, run `body(ctx)`; config problems and UsageError exit 2, never a traceback."""
    with Context(command, args) as ctx:
        try:
            return int(body(ctx) or 0)
        except UsageError as exc:
            err(command, str(exc))
            return EXIT_USAGE


def find_dataset(db, name: str):
    from workbench.store.examples import find_dataset as find
    from workbench.store.examples import list_datasets

    dataset = find(db, name)
    if dataset is None:
        names = ", ".join(repr(d.name) for d in list_datasets(db)) or "none yet"
        raise UsageError(f"no dataset named {name!r} (datasets: {names})")
    return dataset


def require_prompt(db, name: str):
    """The prompt's latest version; UsageError naming the prompts that exist when it is unknown."""
    from workbench.store.prompts import latest_version, list_prompts

    version = latest_version(db, name)
    if version is None:
        names = ", ".join(repr(p.name) for p in list_prompts(db)) or "none yet"
        raise UsageError(f"no prompt named {name!r} (prompts: {names}; `workbench prompt new`)")
    return version


def print_listing(
    command: str,
    rows: list[dict],
    *,
    as_json: bool,
    empty: str,
    header: str,
    line: Callable[[dict], str],
) -> int:
    """What every `list` action prints: the rows as JSON with `--json`; otherwise a header and
    one line per row, or `empty` on stderr when there are none. Exit 0 either way."""
    if as_json:
        print_json(rows)
    elif not rows:
        err(command, empty)
    else:
        print(header)
        for row in rows:
            print(line(row))
    return EXIT_OK
