"""Evaluations: the eval tables, their rows, and the reads and writes the engine goes through.

An eval set is the live examples in the held-out "test" split (never trained on, never few-shot).
One evaluation runs that set through several approaches at once; each approach is an EvalRun and
they share a `group_id`. Runs of the same `eval_name` (prompt + eval set) can be compared over time.

Only the tables and plain CRUD live here, so the schema is easy to read in one place: what an
estimate or verdict is built from is in store.eval_estimate, which test examples an evaluation
runs and its plan in store.eval_plan.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.store.examples import now
from workbench.store.migrations import migration

if TYPE_CHECKING:
    import sqlite_utils

    from workbench.core.evaluation.scoring import ItemResult

RUN_STATUSES = ("running", "batch", "done", "failed", "cancelled")


@migration
def v001_eval_runs_and_items(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        create table eval_runs (
            id integer primary key,
            eval_name text not null,        -- what is compared over time: prompt + eval set
            group_id text not null,         -- the runs started together (one per approach)
            prompt_name text not null default '',
            approach text not null,         -- zero-shot | few-shot | fine-tuned
            model text not null,
            scorer text not null,           -- JSON of core.evaluation.scoring.Scorer
            seed integer not null,          -- judge answer order, replayable
            mode text not null default 'concurrent' check (mode in ('concurrent', 'batch')),
            status text not null default 'running'
                check (status in ('running', 'batch', 'done', 'failed', 'cancelled')),
            batch_id text,                  -- the provider's batch id (Batch API runs)
            items_total integer not null default 0,
            error text,
            created_at text not null,
            finished_at text
        )"""
    )
    db.execute("create index eval_runs_name on eval_runs (eval_name, created_at desc)")
    db.execute("create index eval_runs_group on eval_runs (group_id)")
    db.execute(
        """
        create table eval_items (
            id integer primary key,
            run_id integer not null references eval_runs(id) on delete cascade,
            example_id integer not null,
            question text not null default '',
            expected text not null default '',
            answer text not null default '',
            passed integer,                 -- 1 / 0; null: not scored (request failed)
            detail text not null default '',
            latency_ms real,
            input_tokens integer,
            output_tokens integer,
            cached_tokens integer,
            cost_usd real,                  -- null: no price for the model
            error text,
            created_at text not null,
            unique (run_id, example_id)
        )"""
    )


@migration
def v002_cost_settings(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        create table cost_settings (
            prompt_name text primary key,
            data text not null,             -- JSON: volume, output_tokens, caching, batch, dataset, scorer
            updated_at text not null
        )"""
    )


def get_cost_settings(db: sqlite_utils.Database, prompt_name: str) -> dict[str, Any]:
    """What the user last set in the Costs pane for this prompt (empty: defaults)."""
    row = db.execute(
        "select data from cost_settings where prompt_name = ?", [prompt_name]
    ).fetchone()
    return json.loads(row[0]) if row else {}


def save_cost_settings(db: sqlite_utils.Database, prompt_name: str, data: dict[str, Any]) -> None:
    with db.atomic():
        db.execute(
            """insert into cost_settings (prompt_name, data, updated_at) values (?, ?, ?)
               on conflict (prompt_name) do update set data = excluded.data,
               updated_at = excluded.updated_at""",
            [prompt_name, json.dumps(data, sort_keys=True), now()],
        )


@dataclass
class EvalRun:
    id: int
    eval_name: str
    group_id: str
    approach: str
    model: str
    scorer: dict[str, Any]
    seed: int
    prompt_name: str = ""
    mode: str = "concurrent"
    status: str = "running"
    batch_id: str | None = None
    items_total: int = 0
    error: str | None = None
    created_at: str = ""
    finished_at: str | None = None
    items_done: int = 0


@dataclass
class EvalItem:
    run_id: int
    example_id: int
    question: str = ""
    expected: str = ""
    answer: str = ""
    passed: bool | None = None
    detail: str = ""
    latency_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    cost_usd: float | None = None
    error: str | None = None
    id: int | None = None


def _run_row(row: dict[str, Any]) -> EvalRun:
    data = dict(row)
    data["scorer"] = json.loads(data["scorer"])
    return EvalRun(**{k: v for k, v in data.items() if k in EvalRun.__dataclass_fields__})


def _item_row(row: dict[str, Any]) -> EvalItem:
    data = {k: row[k] for k in EvalItem.__dataclass_fields__ if k in row}
    data["passed"] = None if row["passed"] is None else bool(row["passed"])
    return EvalItem(**data)


_RUN_SELECT = """select r.*, (select count(*) from eval_items i where i.run_id = r.id) as items_done
                 from eval_runs r"""


def new_group_id() -> str:
    return uuid.uuid4().hex[:12]


def create_run(
    db: sqlite_utils.Database,
    *,
    eval_name: str,
    group_id: str,
    approach: str,
    model: str,
    scorer: dict[str, Any],
    seed: int,
    items_total: int,
    prompt_name: str = "",
    mode: str = "concurrent",
) -> EvalRun:
    with db.atomic():
        cursor = db.execute(
            """insert into eval_runs (eval_name, group_id, prompt_name, approach, model, scorer, seed,
                                      mode, status, items_total, created_at)
               values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                eval_name,
                group_id,
                prompt_name,
                approach,
                model,
                json.dumps(scorer, sort_keys=True),
                seed,
                mode,
                "batch" if mode == "batch" else "running",
                items_total,
                now(),
            ],
        )
    return get_run(db, cursor.lastrowid)


def get_run(db: sqlite_utils.Database, run_id: int) -> EvalRun:
    rows = list(db.query(f"{_RUN_SELECT} where r.id = ?", [run_id]))
    if not rows:
        raise KeyError(f"no eval run with id {run_id}")
    return _run_row(rows[0])


def record_item(db: sqlite_utils.Database, item: EvalItem) -> None:
    """Store one item's outcome (a re-run of the same item replaces it)."""
    with db.atomic():
        db.execute(
            """insert or replace into eval_items (run_id, example_id, question, expected, answer,
                   passed, detail, latency_ms, input_tokens, output_tokens, cached_tokens, cost_usd,
                   error, created_at)
               values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                item.run_id,
                item.example_id,
                item.question,
                item.expected,
                item.answer,
                None if item.passed is None else int(item.passed),
                item.detail,
                item.latency_ms,
                item.input_tokens,
                item.output_tokens,
                item.cached_tokens,
                item.cost_usd,
                item.error,
                now(),
            ],
        )


def finish_run(
    db: sqlite_utils.Database, run_id: int, status: str = "done", error: str | None = None
) -> None:
    if status not in RUN_STATUSES:
        raise ValueError(f"status must be one of {', '.join(RUN_STATUSES)}")
    with db.atomic():
        db.execute(
            "update eval_runs set status = ?, error = ?, finished_at = ? where id = ?",
            [status, error, now() if status in ("done", "failed", "cancelled") else None, run_id],
        )


def set_batch(db: sqlite_utils.Database, run_id: int, batch_id: str) -> None:
    with db.atomic():
        db.execute(
            "update eval_runs set batch_id = ?, status = 'batch' where id = ?", [batch_id, run_id]
        )


def list_runs(
    db: sqlite_utils.Database,
    *,
    eval_name: str | None = None,
    group_id: str | None = None,
    status: str | None = None,
    limit: int | None = 100,
) -> list[EvalRun]:
    """Eval runs, newest first."""
    clauses, params = [], []
    for column, value in (("eval_name", eval_name), ("group_id", group_id), ("status", status)):
        if value:
            clauses.append(f"r.{column} = ?")
            params.append(value)
    where = (" where " + " and ".join(clauses)) if clauses else ""
    sql = f"{_RUN_SELECT}{where} order by r.created_at desc, r.id desc"
    if limit is not None:
        sql += " limit ?"
        params.append(limit)
    return [_run_row(r) for r in db.query(sql, params)]


@dataclass
class EvalGroup:
    """One evaluation: the runs started together, one per approach."""

    group_id: str
    eval_name: str
    created_at: str
    runs: list[EvalRun] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return all(r.status in ("done", "failed", "cancelled") for r in self.runs)


def list_groups(
    db: sqlite_utils.Database, eval_name: str | None = None, limit: int = 20
) -> list[EvalGroup]:
    """Evaluations, newest first (optionally only those of one eval)."""
    where, params = ("where eval_name = ?", [eval_name]) if eval_name else ("", [])
    rows = db.query(
        f"""select group_id, eval_name, min(created_at) as created_at from eval_runs {where}
            group by group_id order by min(created_at) desc, max(id) desc limit ?""",
        [*params, limit],
    )
    groups = [EvalGroup(r["group_id"], r["eval_name"], r["created_at"]) for r in rows]
    for group in groups:
        group.runs = sorted(list_runs(db, group_id=group.group_id, limit=None), key=lambda r: r.id)
    return groups


def list_items(
    db: sqlite_utils.Database, run_id: int, *, limit: int | None = 100, offset: int = 0
) -> list[EvalItem]:
    sql = "select * from eval_items where run_id = ? order by example_id"
    params: list[Any] = [run_id]
    if limit is not None:
        sql += " limit ? offset ?"
        params += [limit, offset]
    return [_item_row(r) for r in db.query(sql, params)]


def item_results(db: sqlite_utils.Database, run_id: int) -> list[ItemResult]:
    """The slim per-item tuples aggregation needs (no answers, no questions)."""
    from workbench.core.evaluation.scoring import ItemResult

    return [
        ItemResult(
            example_id=r[0],
            passed=None if r[1] is None else bool(r[1]),
            latency_ms=r[2],
            cost_usd=r[3],
            error=r[4],
        )
        for r in db.execute(
            "select example_id, passed, latency_ms, cost_usd, error from eval_items "
            "where run_id = ? order by example_id",
            [run_id],
        )
    ]


def items_for_example(
    db: sqlite_utils.Database, group_id: str, example_id: int
) -> list[tuple[EvalRun, EvalItem]]:
    """Every approach's answer to one test item (for reading a disagreement)."""
    out = []
    for run in sorted(list_runs(db, group_id=group_id, limit=None), key=lambda r: r.id):
        rows = list(
            db.query(
                "select * from eval_items where run_id = ? and example_id = ?", [run.id, example_id]
            )
        )
        if rows:
            out.append((run, _item_row(rows[0])))
    return out


def latest_group(db: sqlite_utils.Database, eval_name: str) -> EvalGroup | None:
    groups = list_groups(db, eval_name, limit=1)
    return groups[0] if groups else None


def resumable_group(db: sqlite_utils.Database, eval_name: str) -> EvalGroup | None:
    """The newest evaluation of this eval left unfinished (killed, stopped, a batch out)."""
    group = latest_group(db, eval_name)
    if group is None or group.finished and not any(r.status == "cancelled" for r in group.runs):
        return None
    return group


class EvalLedger:
    """The SQLite side of core.evaluation.engine: eval runs and items, and a Run per request."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def open_runs(self, plan: Any, mode: str) -> tuple[str, dict[Any, int]]:
        """The runs of the plan's group (resumed) or of a new one; one run per approach."""
        group = plan.group_id or new_group_id()
        existing = {
            (r.approach, r.model): r for r in list_runs(self.db, group_id=group, limit=None)
        }
        runs: dict[Any, int] = {}
        for target in plan.approaches:
            run = existing.get((target.approach, target.model))
            if run is None:
                run = create_run(
                    self.db,
                    eval_name=plan.eval_name,
                    group_id=group,
                    approach=target.approach,
                    model=target.model,
                    scorer=plan.scorer.to_json(),
                    seed=plan.seed,
                    items_total=len(plan.cases),
                    prompt_name=plan.prompt_name,
                    mode=mode,
                )
            else:
                with self.db.atomic():
                    self.db.execute(
                        "update eval_runs set status = ?, finished_at = null, items_total = ? "
                        "where id = ?",
                        ["batch" if mode == "batch" else "running", len(plan.cases), run.id],
                    )
            runs[target] = run.id
        return group, runs

    def answered(self, run_id: int) -> set[int]:
        rows = self.db.execute(
            "select example_id from eval_items where run_id = ? and error is null", [run_id]
        )
        return {r[0] for r in rows}

    def record(self, item: Any, plan: Any) -> None:
        from workbench.store.runs import record_run

        case = item.case
        record_item(
            self.db,
            EvalItem(
                run_id=item.run_id,
                example_id=case.example_id,
                question=case.question,
                expected=case.expected,
                answer=item.answer,
                passed=item.passed,
                detail=item.detail,
                latency_ms=item.latency_ms,
                input_tokens=item.input_tokens,
                output_tokens=item.output_tokens,
                cached_tokens=item.cached_tokens,
                cost_usd=item.cost_usd,
                error=item.error,
            ),
        )
        record_run(
            self.db,
            prompt_name=plan.prompt_name,
            approach=item.approach,
            model=item.model,
            messages=item.messages,
            params=item.params,
            answer=item.answer,
            status="error" if item.error else "ok",
            version_id=plan.version_id,
            version_number=plan.version_number,
            input_tokens=item.input_tokens,
            output_tokens=item.output_tokens,
            cached_tokens=item.cached_tokens,
            latency_ms=None if item.latency_ms is None else round(item.latency_ms),
            cost_usd=item.cost_usd,
            error_kind="eval" if item.error else None,
            error_message=item.error,
            profile=plan.profile,
            eval_run_id=item.run_id,
        )

    def finish(self, run_id: int, status: str, error: str | None = None) -> None:
        finish_run(self.db, run_id, status, error)

    def batch_id(self, run_id: int) -> str | None:
        return get_run(self.db, run_id).batch_id

    def set_batch(self, run_id: int, batch_id: str | None) -> None:
        with self.db.atomic():
            self.db.execute("update eval_runs set batch_id = ? where id = ?", [batch_id, run_id])

    def item_results(self, run_id: int) -> list[Any]:
        return item_results(self.db, run_id)
