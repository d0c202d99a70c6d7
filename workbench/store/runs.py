"""Every run of a prompt: what was sent, what came back, what it cost, and what went wrong.

A run is recorded whether it succeeded or not: a failed or cancelled run keeps the answer streamed
so far and the error, so the History pane (and `workbench history`) can always say what happened.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.core.redact import redact_secrets
from workbench.store.examples import now
from workbench.store.migrations import migration

if TYPE_CHECKING:
    import sqlite_utils

STATUSES = ("ok", "error", "cancelled")


@migration
def r001_runs(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        create table runs (
            id integer primary key,
            prompt_name text not null,
            version_id integer,            -- prompt_versions.id the run used (null: ad hoc)
            version_number integer,
            approach text not null,        -- zero-shot | few-shot | fine-tuned
            model text not null,
            params text not null default '{}',
            messages text not null,        -- the exact messages sent, JSON
            answer text not null default '',
            status text not null default 'ok' check (status in ('ok', 'error', 'cancelled')),
            input_tokens integer,
            output_tokens integer,
            cached_tokens integer,
            latency_ms integer,
            cost_usd real,                 -- null: no price known for the model
            error_kind text,
            error_message text,
            rerun_of integer,
            profile text not null default '',
            created_at text not null
        )"""
    )
    db.execute("create index runs_created on runs (created_at desc, id desc)")
    db.execute("create index runs_prompt on runs (prompt_name, created_at desc)")


@migration
def r002_runs_eval_run(db: sqlite_utils.Database) -> None:
    """A run sent by an evaluation names its eval run (eval_runs.id), so History can show it."""
    db.execute("alter table runs add column eval_run_id integer")
    db.execute("create index runs_eval_run on runs (eval_run_id)")


@dataclass
class Run:
    id: int
    prompt_name: str
    approach: str
    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    answer: str = ""
    status: str = "ok"
    version_id: int | None = None
    version_number: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    latency_ms: int | None = None
    cost_usd: float | None = None
    error_kind: str | None = None
    error_message: str | None = None
    rerun_of: int | None = None
    profile: str = ""
    created_at: str = ""
    eval_run_id: int | None = None  # the evaluation run that sent it (None: a run of its own)

    @property
    def version_label(self) -> str:
        return f"v{self.version_number}" if self.version_number else "-"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_JSON_FIELDS = ("messages", "params")


def _run(row: dict[str, Any]) -> Run:
    data = dict(row)
    for key in _JSON_FIELDS:
        data[key] = json.loads(data[key])
    return Run(**data)


def record_run(
    db: sqlite_utils.Database,
    *,
    prompt_name: str,
    approach: str,
    model: str,
    messages: list[dict[str, Any]],
    params: dict[str, Any] | None = None,
    answer: str = "",
    status: str = "ok",
    version_id: int | None = None,
    version_number: int | None = None,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    cached_tokens: int | None = None,
    latency_ms: int | None = None,
    cost_usd: float | None = None,
    error_kind: str | None = None,
    error_message: str | None = None,
    rerun_of: int | None = None,
    profile: str = "",
    eval_run_id: int | None = None,
) -> Run:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    with db.atomic():
        cursor = db.execute(
            """insert into runs (prompt_name, version_id, version_number, approach, model, params,
                                 messages, answer, status, input_tokens, output_tokens,
                                 cached_tokens, latency_ms, cost_usd, error_kind, error_message,
                                 rerun_of, profile, created_at, eval_run_id)
               values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                prompt_name,
                version_id,
                version_number,
                approach,
                model,
                json.dumps(params or {}, ensure_ascii=False),
                json.dumps(messages, ensure_ascii=False),
                answer,
                status,
                input_tokens,
                output_tokens,
                cached_tokens,
                latency_ms,
                cost_usd,
                error_kind,
                redact_secrets(error_message) if error_message else error_message,
                rerun_of,
                profile,
                now(),
                eval_run_id,
            ],
        )
    return get_run(db, cursor.lastrowid)


def get_run(db: sqlite_utils.Database, run_id: int) -> Run:
    rows = list(db.query("select * from runs where id = ?", [run_id]))
    if not rows:
        raise KeyError(f"no run with id {run_id}")
    return _run(rows[0])


def _where(
    prompt: str | None,
    model: str | None,
    approach: str | None,
    search: str | None,
    profile: str | None = None,
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("prompt_name", prompt),
        ("model", model),
        ("approach", approach),
        ("profile", profile),
    ):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if search:
        clauses.append(
            "(answer like ? or messages like ? or model like ? or prompt_name like ? "
            "or coalesce(error_message, '') like ?)"
        )
        params.extend([f"%{search}%"] * 5)
    return (" where " + " and ".join(clauses)) if clauses else "", params


def list_runs(
    db: sqlite_utils.Database,
    *,
    prompt: str | None = None,
    model: str | None = None,
    approach: str | None = None,
    search: str | None = None,
    profile: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> list[Run]:
    """A page of runs, newest first, optionally filtered (exact prompt/model/approach, text search)."""
    where, params = _where(prompt, model, approach, search, profile)
    sql = f"select * from runs{where} order by created_at desc, id desc"
    if limit is not None:
        sql += " limit ? offset ?"
        params = [*params, limit, offset]
    return [_run(r) for r in db.query(sql, params)]


def count_runs(
    db: sqlite_utils.Database,
    *,
    prompt: str | None = None,
    model: str | None = None,
    approach: str | None = None,
    search: str | None = None,
    profile: str | None = None,
) -> int:
    where, params = _where(prompt, model, approach, search, profile)
    return db.execute(f"select count(*) from runs{where}", params).fetchone()[0]


def distinct_values(db: sqlite_utils.Database, column: str) -> list[str]:
    """The prompts, models or approaches that have runs (for the History filters)."""
    if column not in ("prompt_name", "model", "approach"):
        raise ValueError(f"cannot list values of {column!r}")
    return [r[0] for r in db.execute(f"select distinct {column} from runs order by {column}")]
