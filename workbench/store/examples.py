"""The one example store: few-shot library entries and training-data rows are the same rows.

An example is the JSON object of one JSONL line (`{"messages": [...], "tools": [...]}` for supervised
data, `{"input", "preferred_output", "non_preferred_output"}` for DPO), plus tags, a note and a split
mark. The split mark (few-shot / train / validation / test) is exclusive, so a held-out test example
can never also be trained on. Promoting an example between the few-shot library and a dataset changes
its dataset and split; it is never copied.

A line that did not parse on import is kept too, as `raw` text with its line number, so nothing the
user had is lost and they can fix it in place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.store.columns import dumps as _dumps
from workbench.store.columns import now
from workbench.store.migrations import migration

if TYPE_CHECKING:
    import sqlite_utils

SPLITS = ("few-shot", "train", "validation", "test")


@migration
def m001_datasets_and_examples(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        create table datasets (
            id integer primary key,
            name text not null unique,
            method text not null default 'supervised' check (method in ('supervised', 'dpo')),
            note text not null default '',
            created_at text not null,
            updated_at text not null
        )"""
    )
    db.execute(
        """
        create table examples (
            id integer primary key,
            dataset_id integer references datasets(id) on delete cascade,
            split text not null default 'train'
                check (split in ('few-shot', 'train', 'validation', 'test')),
            data text,              -- the JSON object of one JSONL line; null when `raw` is set
            raw text,               -- the original text of a line that did not parse
            source_line integer,    -- 1-based line number in the file it was imported from
            position real not null, -- order within the dataset (export order)
            tags text not null default '[]',
            note text not null default '',
            tokens integer,         -- cached token count (null: not computed yet)
            problems text not null default '[]', -- cached validation problems: [{code, message}]
            created_at text not null,
            updated_at text not null,
            deleted_at text         -- soft delete: undo restores it
        )"""
    )
    db.execute("create index examples_dataset on examples (dataset_id, deleted_at, position)")
    db.execute("create index examples_split on examples (split, deleted_at)")
    db.execute(
        """
        create table dataset_versions (
            id integer primary key,
            dataset_id integer not null references datasets(id) on delete cascade,
            split text not null check (split in ('train', 'validation')),
            sha256 text not null,
            examples integer not null,
            bytes integer not null,
            path text,              -- where the exported JSONL was written, if anywhere
            created_at text not null
        )"""
    )
    db.execute(
        """
        create table dataset_uploads (
            id integer primary key,
            version_id integer not null references dataset_versions(id) on delete cascade,
            profile text not null,
            base_url text not null,
            file_id text not null,
            created_at text not null
        )"""
    )


@dataclass
class Dataset:
    id: int
    name: str
    method: str = "supervised"
    note: str = ""
    created_at: str = ""
    updated_at: str = ""


@dataclass
class Example:
    id: int
    data: dict[str, Any] | None
    split: str = "train"
    dataset_id: int | None = None
    raw: str | None = None
    source_line: int | None = None
    position: float = 0.0
    tags: list[str] = field(default_factory=list)
    note: str = ""
    tokens: int | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""
    deleted_at: str | None = None

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages (supervised rows; DPO rows give their input messages)."""
        if not self.data:
            return []
        if "messages" in self.data:
            return list(self.data.get("messages") or [])
        return list((self.data.get("input") or {}).get("messages") or [])


def _dataset(row: dict[str, Any]) -> Dataset:
    return Dataset(**{k: row[k] for k in Dataset.__dataclass_fields__})


def _example(row: dict[str, Any]) -> Example:
    return Example(
        id=row["id"],
        data=json.loads(row["data"]) if row["data"] is not None else None,
        split=row["split"],
        dataset_id=row["dataset_id"],
        raw=row["raw"],
        source_line=row["source_line"],
        position=row["position"],
        tags=json.loads(row["tags"]),
        note=row["note"],
        tokens=row["tokens"],
        problems=json.loads(row["problems"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        deleted_at=row["deleted_at"],
    )


# --- datasets ---------------------------------------------------------------------------------


def create_dataset(
    db: sqlite_utils.Database, name: str, method: str = "supervised", note: str = ""
) -> Dataset:
    stamp = now()
    with db.atomic():
        cursor = db.execute(
            "insert into datasets (name, method, note, created_at, updated_at) values (?, ?, ?, ?, ?)",
            [name, method, note, stamp, stamp],
        )
    return get_dataset(db, cursor.lastrowid)


def get_dataset(db: sqlite_utils.Database, dataset_id: int) -> Dataset:
    rows = list(db.query("select * from datasets where id = ?", [dataset_id]))
    if not rows:
        raise KeyError(f"no dataset with id {dataset_id}")
    return _dataset(rows[0])


def find_dataset(db: sqlite_utils.Database, name: str) -> Dataset | None:
    rows = list(db.query("select * from datasets where name = ?", [name]))
    return _dataset(rows[0]) if rows else None


def list_datasets(db: sqlite_utils.Database) -> list[Dataset]:
    return [_dataset(r) for r in db.query("select * from datasets order by name")]


def rename_dataset(db: sqlite_utils.Database, dataset_id: int, name: str) -> None:
    with db.atomic():
        db.execute(
            "update datasets set name = ?, updated_at = ? where id = ?", [name, now(), dataset_id]
        )


def delete_dataset(db: sqlite_utils.Database, dataset_id: int) -> None:
    with db.atomic():
        db.execute("delete from datasets where id = ?", [dataset_id])


# --- examples ---------------------------------------------------------------------------------


def _next_position(db: sqlite_utils.Database, dataset_id: int | None) -> float:
    row = db.execute(
        "select coalesce(max(position), 0) from examples where dataset_id is ?", [dataset_id]
    ).fetchone()
    return float(row[0]) + 1.0


def add_example(
    db: sqlite_utils.Database,
    data: dict[str, Any] | None,
    *,
    split: str = "train",
    dataset_id: int | None = None,
    raw: str | None = None,
    source_line: int | None = None,
    tags: Iterable[str] = (),
    note: str = "",
    tokens: int | None = None,
    problems: list[dict[str, Any]] | None = None,
) -> Example:
    """Insert one example and return it. Saved at once: there is no separate save step."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    stamp = now()
    with db.atomic():
        cursor = db.execute(
            """insert into examples (dataset_id, split, data, raw, source_line, position, tags, note,
                                     tokens, problems, created_at, updated_at)
               values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                dataset_id,
                split,
                _dumps(data) if data is not None else None,
                raw,
                source_line,
                _next_position(db, dataset_id),
                _dumps(list(tags)),
                note,
                tokens,
                _dumps(problems or []),
                stamp,
                stamp,
            ],
        )
    return get_example(db, cursor.lastrowid)


def add_examples(
    db: sqlite_utils.Database,
    rows: Iterable[dict[str, Any]],
    dataset_id: int | None,
    split: str = "train",
) -> int:
    """Bulk insert (imports): each row may carry data, raw, source_line, tags, note, tokens, problems.

    One transaction for the lot; returns how many were inserted.
    """
    stamp = now()
    count = 0
    with db.atomic():
        position = _next_position(db, dataset_id)
        for row in rows:
            db.conn.execute(
                """insert into examples (dataset_id, split, data, raw, source_line, position, tags,
                                         note, tokens, problems, created_at, updated_at)
                   values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    dataset_id,
                    row.get("split", split),
                    _dumps(row["data"]) if row.get("data") is not None else None,
                    row.get("raw"),
                    row.get("source_line"),
                    position,
                    _dumps(list(row.get("tags", ()))),
                    row.get("note", ""),
                    row.get("tokens"),
                    _dumps(row.get("problems") or []),
                    stamp,
                    stamp,
                ],
            )
            position += 1.0
            count += 1
    return count


def get_example(db: sqlite_utils.Database, example_id: int) -> Example:
    rows = list(db.query("select * from examples where id = ?", [example_id]))
    if not rows:
        raise KeyError(f"no example with id {example_id}")
    return _example(rows[0])


_UPDATABLE = {
    "data",
    "raw",
    "split",
    "dataset_id",
    "tags",
    "note",
    "tokens",
    "problems",
    "position",
}


def update_example(db: sqlite_utils.Database, example_id: int, **changes: Any) -> Example:
    """Change some fields of an example (saved at once). `data` set clears `raw`."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"cannot update {', '.join(sorted(unknown))}")
    if "split" in changes and changes["split"] not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}")
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key in ("data", "tags", "problems") and value is not None:
            value = _dumps(list(value) if key == "tags" else value)
        values[key] = value
    if changes.get("data") is not None:
        values["raw"] = None
    values["updated_at"] = now()
    assignments = ", ".join(f"[{k}] = ?" for k in values)
    with db.atomic():
        db.execute(
            f"update examples set {assignments} where id = ?", [*values.values(), example_id]
        )
    return get_example(db, example_id)


def delete_example(db: sqlite_utils.Database, example_id: int) -> None:
    """Soft delete; `restore_example` undoes it."""
    with db.atomic():
        db.execute("update examples set deleted_at = ? where id = ?", [now(), example_id])


def restore_example(db: sqlite_utils.Database, example_id: int) -> None:
    with db.atomic():
        db.execute("update examples set deleted_at = null where id = ?", [example_id])


def duplicate_example(db: sqlite_utils.Database, example_id: int) -> Example:
    src = get_example(db, example_id)
    return add_example(
        db,
        src.data,
        split=src.split,
        dataset_id=src.dataset_id,
        raw=src.raw,
        tags=src.tags,
        note=src.note,
        tokens=src.tokens,
        problems=src.problems,
    )


def promote_to_dataset(
    db: sqlite_utils.Database, example_id: int, dataset_id: int, split: str = "train"
) -> Example:
    """Move an example (e.g. from the few-shot library) into a dataset: one row, never a copy."""
    if split not in ("train", "validation"):
        raise ValueError("a dataset row is in the train or validation split")
    return update_example(
        db, example_id, dataset_id=dataset_id, split=split, position=_next_position(db, dataset_id)
    )


def promote_to_few_shot(db: sqlite_utils.Database, example_id: int) -> Example:
    """Make a dataset row a few-shot example (it leaves training, so it cannot leak into evals)."""
    return update_example(
        db, example_id, dataset_id=None, split="few-shot", position=_next_position(db, None)
    )


def last_deleted_example(
    db: sqlite_utils.Database, *, dataset_id: int | None | type[...] = ...
) -> Example | None:
    """The most recently deleted example (of a dataset, or of the library with dataset_id=None):
    what undo restores, even after a restart."""
    clauses = ["deleted_at is not null"]
    params: list[Any] = []
    if dataset_id is not ...:
        clauses.append("dataset_id is ?")
        params.append(dataset_id)
    rows = list(
        db.query(
            f"select * from examples where {' and '.join(clauses)} order by deleted_at desc, id desc limit 1",
            params,
        )
    )
    return _example(rows[0]) if rows else None


def _where(
    dataset_id: int | None | type[...] = ...,
    split: str | None = None,
    tag: str | None = None,
    search: str | None = None,
    with_problems: bool | None = None,
    include_deleted: bool = False,
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if not include_deleted:
        clauses.append("deleted_at is null")
    if dataset_id is not ...:
        clauses.append("dataset_id is ?")
        params.append(dataset_id)
    if split is not None:
        clauses.append("split = ?")
        params.append(split)
    if tag:
        clauses.append("exists (select 1 from json_each(examples.tags) where value = ?)")
        params.append(tag)
    if search:
        clauses.append("(coalesce(data, raw) like ? or note like ? or tags like ?)")
        params.extend([f"%{search}%"] * 3)
    if with_problems is True:
        clauses.append("problems != '[]'")
    elif with_problems is False:
        clauses.append("problems = '[]'")
    return (" where " + " and ".join(clauses)) if clauses else "", params


_ORDERS = {
    "position": "position",
    "tokens": "tokens",
    "-tokens": "tokens desc",
    "updated": "updated_at desc",
    "created": "created_at desc",
    "line": "source_line",
}


def list_examples(
    db: sqlite_utils.Database,
    *,
    dataset_id: int | None | type[...] = ...,
    split: str | None = None,
    tag: str | None = None,
    search: str | None = None,
    with_problems: bool | None = None,
    order: str = "position",
    limit: int | None = None,
    offset: int = 0,
) -> list[Example]:
    """A page of examples. `dataset_id=None` means the rows in no dataset (the library);
    leaving it out means every dataset."""
    where, params = _where(dataset_id, split, tag, search, with_problems)
    sql = f"select * from examples{where} order by {_ORDERS[order]}, id"
    if limit is not None:
        sql += " limit ? offset ?"
        params = [*params, limit, offset]
    return [_example(r) for r in db.query(sql, params)]


def count_examples(
    db: sqlite_utils.Database,
    *,
    dataset_id: int | None | type[...] = ...,
    split: str | None = None,
    tag: str | None = None,
    search: str | None = None,
    with_problems: bool | None = None,
) -> int:
    where, params = _where(dataset_id, split, tag, search, with_problems)
    return db.execute(f"select count(*) from examples{where}", params).fetchone()[0]


def iter_examples(
    db: sqlite_utils.Database, dataset_id: int, split: str | None = None
) -> Iterator[Example]:
    """Every live example of a dataset in export order, streamed (no list of 100k objects)."""
    where, params = _where(dataset_id, split)
    for row in db.query(f"select * from examples{where} order by position, id", params):
        yield _example(row)


def all_tags(db: sqlite_utils.Database) -> list[str]:
    rows = db.query(
        "select distinct value from examples, json_each(examples.tags) "
        "where deleted_at is null order by value"
    )
    return [r["value"] for r in rows]
