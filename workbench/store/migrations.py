"""Versioned schema migrations: named functions, applied once each, recorded in `_migrations`.

The pattern is simonw/llm's, with its failure modes fixed: each migration and its bookkeeping row are
one transaction taken with BEGIN IMMEDIATE (so two processes opening the same file cannot both apply
it), and `migrate()` is only called from `open_db()`.

Each table family lives in its own module (see FAMILIES) and registers its migrations with
`@migration`; adding a table later means adding a function, never editing an applied one.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils


MIGRATIONS_TABLE = "_migrations"

# Modules that define tables, in the order their migrations run. A module that does not exist yet is
# skipped, so a family can be added without touching the others.
FAMILIES: tuple[str, ...] = (
    "workbench.store.examples",
    "workbench.store.selection",
    "workbench.store.prompts",
    "workbench.store.runs",
    "workbench.store.jobs",
    "workbench.store.evals",
)


# How many migrations FAMILIES register: add one here with each new migration (a test checks).
# A file with every one applied carries it as its `user_version`, so opening an up-to-date file
# (every start, every worker's connection) neither imports the families nor reads _migrations.
SCHEMA_GENERATION = 9


@dataclass(frozen=True)
class Migration:
    name: str
    apply: Callable[[sqlite_utils.Database], None]


_REGISTRY: list[Migration] = []


def migration(
    fn: Callable[[sqlite_utils.Database], None],
) -> Callable[[sqlite_utils.Database], None]:
    """Register `fn` as a migration named after itself. Names must be unique and never change."""
    if any(m.name == fn.__name__ for m in _REGISTRY):
        raise ValueError(f"duplicate migration name: {fn.__name__}")
    _REGISTRY.append(Migration(fn.__name__, fn))
    return fn


def all_migrations() -> list[Migration]:
    for module in FAMILIES:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    order = {name: i for i, name in enumerate(FAMILIES)}
    return sorted(
        _REGISTRY,
        key=lambda m: (order.get(m.apply.__module__, len(order)), _REGISTRY.index(m)),
    )


def applied(db: sqlite_utils.Database) -> set[str]:
    if MIGRATIONS_TABLE not in db.table_names():
        return set()
    return {row["name"] for row in db.query(f"select name from [{MIGRATIONS_TABLE}]")}


def migrate(db: sqlite_utils.Database, migrations: list[Migration] | None = None) -> list[str]:
    """Apply every pending migration; returns the names applied now."""
    every_one = migrations is None
    if every_one and schema_generation(db) == SCHEMA_GENERATION:
        return []
    migrations = all_migrations() if migrations is None else migrations
    db.execute(
        f"create table if not exists [{MIGRATIONS_TABLE}] "
        "(name text primary key, applied_at text not null)"
    )
    done_now: list[str] = []
    for step in migrations:
        if step.name in applied(db):
            continue
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            # re-check under the write lock: another process may have applied it meanwhile
            if db.conn.execute(
                f"select 1 from [{MIGRATIONS_TABLE}] where name = ?", [step.name]
            ).fetchone():
                db.conn.execute("COMMIT")
                continue
            step.apply(db)
            db.conn.execute(
                f"insert into [{MIGRATIONS_TABLE}] (name, applied_at) values (?, ?)",
                [step.name, datetime.now(UTC).isoformat(timespec="seconds")],
            )
            db.conn.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
        done_now.append(step.name)
    if every_one and schema_generation(db) < SCHEMA_GENERATION:
        # not lowered: a file from a newer workbench keeps its generation (and gets the slow check)
        db.execute(f"PRAGMA user_version = {SCHEMA_GENERATION}")
    return done_now


def schema_generation(db: sqlite_utils.Database) -> int:
    """The file's `user_version`: SCHEMA_GENERATION of the workbench that last brought it up to date."""
    return db.conn.execute("PRAGMA user_version").fetchone()[0]
