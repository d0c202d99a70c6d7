"""The few-shot selection of each named prompt: which examples its few-shot approach sends.

One row per prompt name, saved at every change; the examples themselves stay in `examples`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from workbench.core.fewshot import FEW_SHOT, FewShotSelection, is_candidate, select_examples
from workbench.store.examples import Example, _example, now
from workbench.store.migrations import migration

if TYPE_CHECKING:
    import sqlite_utils


@migration
def s001_few_shot_selections(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        create table few_shot_selections (
            prompt_name text primary key,
            mode text not null default 'manual' check (mode in ('manual', 'recent', 'tag')),
            ids text not null default '[]',   -- manual picks, JSON list of example ids, prompt order
            k integer not null default 3,
            tag text,
            updated_at text not null
        )"""
    )


@migration
def s002_similar_mode(db: sqlite_utils.Database) -> None:
    """Allow mode 'similar' (k most similar per input): SQLite rebuilds the table for a new check."""
    db.execute("alter table few_shot_selections rename to few_shot_selections_old")
    db.execute(
        """
        create table few_shot_selections (
            prompt_name text primary key,
            mode text not null default 'manual'
                check (mode in ('manual', 'recent', 'tag', 'similar')),
            ids text not null default '[]',   -- manual picks, JSON list of example ids, prompt order
            k integer not null default 3,
            tag text,
            updated_at text not null
        )"""
    )
    db.execute("insert into few_shot_selections select * from few_shot_selections_old")
    db.execute("drop table few_shot_selections_old")


def get_selection(db: sqlite_utils.Database, prompt_name: str) -> FewShotSelection:
    """The saved selection, or an empty manual pick for a prompt that has none yet."""
    row = db.execute(
        "select mode, ids, k, tag from few_shot_selections where prompt_name = ?", [prompt_name]
    ).fetchone()
    if row is None:
        return FewShotSelection()
    mode, ids, k, tag = row
    return FewShotSelection(mode=mode, ids=tuple(int(i) for i in json.loads(ids)), k=k, tag=tag)


def set_selection(db: sqlite_utils.Database, prompt_name: str, selection: FewShotSelection) -> None:
    with db.atomic():
        db.execute(
            """insert into few_shot_selections (prompt_name, mode, ids, k, tag, updated_at)
               values (?, ?, ?, ?, ?, ?)
               on conflict (prompt_name) do update set
                 mode = excluded.mode, ids = excluded.ids, k = excluded.k, tag = excluded.tag,
                 updated_at = excluded.updated_at""",
            [
                prompt_name,
                selection.mode,
                json.dumps(list(selection.ids)),
                selection.k,
                selection.tag,
                now(),
            ],
        )


def _by_ids(db: sqlite_utils.Database, ids: tuple[int, ...]) -> list[Example]:
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    return [_example(r) for r in db.query(f"select * from examples where id in ({marks})", ids)]


def _newest(db: sqlite_utils.Database, k: int, tag: str | None, tagged: bool) -> list[Example]:
    """The k newest live few-shot candidates (optionally with `tag`), streamed until k are found."""
    if k <= 0 or (tagged and not tag):
        return []
    sql = "select * from examples where split = ? and deleted_at is null and data is not null"
    params: list = [FEW_SHOT]
    if tagged:
        sql += " and exists (select 1 from json_each(examples.tags) where value = ?)"
        params.append(tag)
    sql += " order by created_at desc, id desc"
    found: list[Example] = []
    for row in db.query(sql, params):
        example = _example(row)
        if is_candidate(example):
            found.append(example)
            if len(found) >= k:
                break
    return found


def few_shot_pool(db: sqlite_utils.Database) -> list[Example]:
    """Every live few-shot candidate (what "similar" picks from per input), oldest first."""
    rows = db.query(
        "select * from examples where split = ? and deleted_at is null and data is not null "
        "order by created_at, id",
        [FEW_SHOT],
    )
    return [e for e in (_example(r) for r in rows) if is_candidate(e)]


def selected_examples(db: sqlite_utils.Database, prompt_name: str) -> list[Example]:
    """The examples the prompt's few-shot approach sends: few-shot split, not deleted, prompt order.
    For "similar" the choice is per input (core.fewshot.select_similar on few_shot_pool): this is
    the k most recent, a stand-in of the right size for previews and estimates without an input."""
    selection = get_selection(db, prompt_name)
    if selection.mode == "manual":
        candidates = _by_ids(db, selection.ids)
    else:
        candidates = _newest(db, selection.k, selection.tag, tagged=selection.mode == "tag")
    return select_examples(candidates, selection)


def examples_for_input(db: sqlite_utils.Database, prompt_name: str, text: str) -> list[Example]:
    """What the prompt's few-shot approach sends for this input (similar: chosen for `text`)."""
    selection = get_selection(db, prompt_name)
    if selection.mode != "similar":
        return selected_examples(db, prompt_name)
    from workbench.core.fewshot import select_similar

    return select_similar(few_shot_pool(db), text, selection.k)
