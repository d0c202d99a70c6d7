"""The store: a fresh database, re-opening, upgrading an older schema, and failed migrations."""

from __future__ import annotations

import sqlite3

import pytest
import sqlite_utils

from workbench.store import examples
from workbench.store.db import open_db
from workbench.store.migrations import (
    MIGRATIONS_TABLE,
    SCHEMA_GENERATION,
    Migration,
    all_migrations,
    applied,
    migrate,
    schema_generation,
)


def test_fresh_database_gets_every_migration_and_pragmas(db_path):
    db = open_db(db_path)
    assert applied(db) == {m.name for m in all_migrations()}
    assert {"datasets", "examples", "dataset_versions", "dataset_uploads"} <= set(db.table_names())
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert db.execute("pragma foreign_keys").fetchone()[0] == 1
    assert db.execute("pragma busy_timeout").fetchone()[0] >= 1000


def test_reopening_applies_nothing_and_keeps_data(db_path):
    db = open_db(db_path)
    dataset = examples.create_dataset(db, "support")
    examples.add_example(
        db, {"messages": [{"role": "user", "content": "hi"}]}, dataset_id=dataset.id
    )
    db.close()

    again = open_db(db_path)
    assert migrate(again) == []
    assert examples.count_examples(again, dataset_id=dataset.id) == 1


def test_schema_generation_counts_every_migration():
    assert len(all_migrations()) == SCHEMA_GENERATION, (
        "a migration was added or removed: set SCHEMA_GENERATION in store/migrations.py to "
        f"{len(all_migrations())}"
    )


def test_an_up_to_date_file_is_known_by_its_generation(db_path):
    db = open_db(db_path)
    assert schema_generation(db) == SCHEMA_GENERATION
    db.close()
    # a file whose generation says "up to date" is trusted without reading _migrations ...
    raw = sqlite3.connect(db_path)
    raw.execute(f"delete from {MIGRATIONS_TABLE} where name = ?", [all_migrations()[-1].name])
    raw.commit()
    raw.close()
    reopened = open_db(db_path)
    assert migrate(reopened) == []
    assert all_migrations()[-1].name not in applied(reopened)


def test_a_newer_generation_is_not_lowered(db_path):
    open_db(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_GENERATION + 3}")
    raw.close()
    db = open_db(db_path)
    assert migrate(db) == []
    assert schema_generation(db) == SCHEMA_GENERATION + 3


def test_upgrade_from_the_first_schema_applies_only_the_rest(db_path):
    """A database made by an older release (only the first migration) is brought up to date."""
    everything = all_migrations()
    old = sqlite_utils.Database(sqlite3.connect(db_path))
    migrate(old, everything[:1])
    assert applied(old) == {everything[0].name}
    assert schema_generation(old) == 0  # a partial list never claims the file is up to date
    old.close()

    db = open_db(db_path)
    assert applied(db) == {m.name for m in everything}
    assert schema_generation(db) == SCHEMA_GENERATION


def test_a_failing_migration_leaves_nothing_half_applied(db_path):
    db = sqlite_utils.Database(sqlite3.connect(db_path))

    def m900_creates_then_fails(database):
        database.execute("create table half (id integer)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        migrate(db, [Migration("m900_creates_then_fails", m900_creates_then_fails)])
    assert "half" not in db.table_names()
    assert "m900_creates_then_fails" not in applied(db)
    # and the next attempt can run it again once fixed
    migrate(
        db,
        [
            Migration(
                "m900_creates_then_fails", lambda d: d.execute("create table half (id integer)")
            )
        ],
    )
    assert "half" in db.table_names()


def test_migrations_are_recorded_with_a_time(db):
    rows = list(db.query(f"select name, applied_at from [{MIGRATIONS_TABLE}]"))
    assert rows and all(r["applied_at"] for r in rows)


def test_foreign_keys_cascade_from_datasets_to_examples(db):
    dataset = examples.create_dataset(db, "d")
    examples.add_example(db, {"messages": []}, dataset_id=dataset.id)
    examples.delete_dataset(db, dataset.id)
    assert db.execute("select count(*) from examples").fetchone()[0] == 0


def test_split_marks_are_checked(db):
    with pytest.raises(ValueError):
        examples.add_example(db, {"messages": []}, split="holdout")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "insert into examples (split, position, created_at, updated_at) values ('x', 1, '', '')"
        )


def test_promote_moves_one_row_between_library_and_dataset(db):
    dataset = examples.create_dataset(db, "d")
    ex = examples.add_example(db, {"messages": []}, split="few-shot")
    moved = examples.promote_to_dataset(db, ex.id, dataset.id)
    assert (moved.id, moved.dataset_id, moved.split) == (ex.id, dataset.id, "train")
    back = examples.promote_to_few_shot(db, ex.id)
    assert (back.dataset_id, back.split) == (None, "few-shot")
    assert db.execute("select count(*) from examples").fetchone()[0] == 1


def test_soft_delete_and_restore(db):
    ex = examples.add_example(db, {"messages": []}, split="few-shot", tags=["billing"])
    examples.delete_example(db, ex.id)
    assert examples.count_examples(db, split="few-shot") == 0
    examples.restore_example(db, ex.id)
    assert examples.count_examples(db, tag="billing") == 1


def test_last_deleted_example_is_what_undo_restores_after_a_restart(db):
    first = examples.add_example(db, {"messages": []}, split="few-shot")
    second = examples.add_example(db, {"messages": []}, split="few-shot")
    assert examples.last_deleted_example(db, dataset_id=None) is None
    examples.delete_example(db, first.id)
    examples.delete_example(db, second.id)
    assert examples.last_deleted_example(db, dataset_id=None).id == second.id
    examples.restore_example(db, second.id)
    assert examples.last_deleted_example(db, dataset_id=None).id == first.id


def test_a_promoted_row_lands_at_the_end_of_the_library(db):
    dataset = examples.create_dataset(db, "d")
    library = examples.add_example(db, {"messages": []}, split="few-shot")
    row = examples.add_example(db, {"messages": []}, dataset_id=dataset.id)
    moved = examples.promote_to_few_shot(db, row.id)
    assert moved.position > library.position
