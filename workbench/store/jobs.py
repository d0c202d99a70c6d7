"""Fine-tuning jobs, their events and checkpoints: the local truth the Jobs pane is drawn from.

Everything a poll brings back is written here first, so reopening the app (or a new SSH session)
shows each job's whole story before any network call. Jobs are keyed by (base_url, job id): the
same id on two providers is two jobs. The profile name is kept too, for "jobs of the active
profile". Events are deduplicated by their id (the API returns them newest first with no "since"
cursor, so the same page is fetched again and again).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.core.jobs import (
    Job,
    JobCheckpoint,
    JobEvent,
    JobSnapshot,
    checkpoint_from_api,
    event_from_api,
    job_from_api,
    json_dumps,
)
from workbench.store.examples import now
from workbench.store.migrations import migration

if TYPE_CHECKING:
    import sqlite_utils


@migration
def m001_jobs(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        create table jobs (
            base_url text not null,
            id text not null,
            profile text not null,
            status text not null,
            model text not null default '',
            fine_tuned_model text,
            created_at integer,          -- unix seconds (the API's)
            finished_at integer,
            estimated_finish integer,
            trained_tokens integer,
            training_file text,
            validation_file text,
            method text not null default 'supervised',
            hyperparameters text not null default '{}',
            suffix text,
            seed integer,
            metadata text not null default '{}',
            error text,                  -- {code, message, param} or null
            result_files text not null default '[]',
            statuses_seen text not null default '[]',  -- every status we saw, for the timeline
            dataset_name text,           -- set when the workbench created the job
            estimated_tokens integer,    -- pre-flight estimate of billed tokens
            estimated_cost_usd real,
            results_csv text,            -- the decoded metrics CSV, once fetched
            raw text not null default '{}', -- the last job object as the API sent it
            first_seen_at text not null,
            updated_at text not null,
            primary key (base_url, id)
        )"""
    )
    db.execute("create index jobs_profile on jobs (profile, base_url, created_at)")
    db.execute(
        """
        create table job_events (
            base_url text not null,
            job_id text not null,
            id text not null,
            created_at integer not null,
            level text not null default 'info',
            message text not null default '',
            type text not null default 'message',
            data text,
            primary key (base_url, id)
        )"""
    )
    db.execute("create index job_events_job on job_events (base_url, job_id, created_at)")
    db.execute(
        """
        create table job_checkpoints (
            base_url text not null,
            job_id text not null,
            id text not null,
            created_at integer not null,
            step_number integer,
            fine_tuned_model_checkpoint text,
            metrics text not null default '{}',
            primary key (base_url, id)
        )"""
    )
    db.execute("create index job_checkpoints_job on job_checkpoints (base_url, job_id)")


_JSON_COLUMNS = ("hyperparameters", "metadata", "error", "result_files")
# A change in any of these means "something happened" (the poll interval resets).
_WATCHED = (
    "status",
    "fine_tuned_model",
    "finished_at",
    "estimated_finish",
    "trained_tokens",
    "error",
    "result_files",
)


def _job(row: dict[str, Any]) -> Job:
    values = {k: row[k] for k in Job.__dataclass_fields__ if k in row}
    for key in _JSON_COLUMNS:
        if values.get(key) is not None:
            values[key] = json.loads(values[key])
    return Job(**values)


def upsert_job(
    db: sqlite_utils.Database,
    profile: str,
    base_url: str,
    obj: dict[str, Any],
    **local: Any,
) -> tuple[Job, bool]:
    """Store the API's job object; returns the job and whether anything that matters changed.

    `local` may set dataset_name, estimated_tokens, estimated_cost_usd (what the workbench knew
    when it created the job); they are never overwritten by a later poll.
    """
    fields = job_from_api(obj)
    job_id = fields["id"]
    stamp = now()
    with db.atomic():
        old = db.execute(
            "select * from jobs where base_url = ? and id = ?", [base_url, job_id]
        ).fetchone()
        columns = [d[0] for d in db.execute("select * from jobs limit 0").description]
        old_row = dict(zip(columns, old, strict=True)) if old else None
        stored = {
            k: (json_dumps(v) if k in _JSON_COLUMNS and v is not None else v)
            for k, v in fields.items()
        }
        seen = json.loads(old_row["statuses_seen"]) if old_row else []
        if fields["status"] not in seen:
            seen.append(fields["status"])
        stored["statuses_seen"] = json_dumps(seen)
        stored["raw"] = json.dumps(obj, ensure_ascii=False, default=str)
        stored["profile"] = profile
        stored["updated_at"] = stamp
        for key in ("dataset_name", "estimated_tokens", "estimated_cost_usd"):
            if local.get(key) is not None:
                stored[key] = local[key]
        if old_row is None:
            stored.update(base_url=base_url, first_seen_at=stamp)
            names = ", ".join(f"[{k}]" for k in stored)
            marks = ", ".join("?" for _ in stored)
            db.execute(f"insert into jobs ({names}) values ({marks})", list(stored.values()))
            changed = True
        else:
            changed = any(old_row[k] != stored[k] for k in _WATCHED)
            stored.pop("id")
            assignments = ", ".join(f"[{k}] = ?" for k in stored)
            db.execute(
                f"update jobs set {assignments} where base_url = ? and id = ?",
                [*stored.values(), base_url, job_id],
            )
    return get_job(db, base_url, job_id), changed


def get_job(db: sqlite_utils.Database, base_url: str, job_id: str) -> Job:
    rows = list(db.query("select * from jobs where base_url = ? and id = ?", [base_url, job_id]))
    if not rows:
        raise KeyError(f"no stored job {job_id} for {base_url}")
    return _job(rows[0])


def find_job(db: sqlite_utils.Database, job_id: str, base_url: str | None = None) -> Job | None:
    """A stored job by id, preferring the given provider."""
    rows = list(
        db.query(
            "select * from jobs where id = ? order by (base_url = ?) desc, updated_at desc limit 1",
            [job_id, base_url or ""],
        )
    )
    return _job(rows[0]) if rows else None


def list_jobs(
    db: sqlite_utils.Database,
    *,
    profile: str | None = None,
    base_url: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Job]:
    """Stored jobs, newest first; filtered by profile and/or provider."""
    clauses, params = [], []
    if profile is not None:
        clauses.append("profile = ?")
        params.append(profile)
    if base_url is not None:
        clauses.append("base_url = ?")
        params.append(base_url)
    where = (" where " + " and ".join(clauses)) if clauses else ""
    sql = f"select * from jobs{where} order by coalesce(created_at, 0) desc, id desc"
    if limit is not None:
        sql += " limit ? offset ?"
        params += [limit, offset]
    return [_job(r) for r in db.query(sql, params)]


def statuses_seen(db: sqlite_utils.Database, base_url: str, job_id: str) -> set[str]:
    row = db.execute(
        "select statuses_seen from jobs where base_url = ? and id = ?", [base_url, job_id]
    ).fetchone()
    return set(json.loads(row[0])) if row else set()


def set_results_csv(db: sqlite_utils.Database, base_url: str, job_id: str, text: str) -> None:
    with db.atomic():
        db.execute(
            "update jobs set results_csv = ? where base_url = ? and id = ?",
            [text, base_url, job_id],
        )


def results_csv(db: sqlite_utils.Database, base_url: str, job_id: str) -> str | None:
    row = db.execute(
        "select results_csv from jobs where base_url = ? and id = ?", [base_url, job_id]
    ).fetchone()
    return row[0] if row else None


# --- events -----------------------------------------------------------------------------------


def _event(row: dict[str, Any]) -> JobEvent:
    return JobEvent(
        id=row["id"],
        job_id=row["job_id"],
        created_at=row["created_at"],
        level=row["level"],
        message=row["message"],
        type=row["type"],
        data=json.loads(row["data"]) if row["data"] else None,
    )


def add_events(
    db: sqlite_utils.Database, base_url: str, job_id: str, events: Iterable[dict[str, Any]]
) -> list[JobEvent]:
    """Store API event objects, given in the API's order (newest first); returns the ones not seen
    before, oldest first. Inserted oldest first, so rowid breaks ties between same-second events."""
    new: list[JobEvent] = []
    with db.atomic():
        for obj in reversed(list(events)):
            event = event_from_api(obj, job_id)
            cursor = db.execute(
                """insert or ignore into job_events
                   (base_url, job_id, id, created_at, level, message, type, data)
                   values (?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    base_url,
                    job_id,
                    event.id,
                    event.created_at,
                    event.level,
                    event.message,
                    event.type,
                    json_dumps(event.data) if event.data is not None else None,
                ],
            )
            if cursor.rowcount:
                new.append(event)
    return new


def list_events(
    db: sqlite_utils.Database,
    base_url: str,
    job_id: str,
    *,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = True,
) -> list[JobEvent]:
    order = "desc" if newest_first else "asc"
    sql = (
        "select * from job_events where base_url = ? and job_id = ? "
        f"order by created_at {order}, rowid {order}"
    )
    params: list[Any] = [base_url, job_id]
    if limit is not None:
        sql += " limit ? offset ?"
        params += [limit, offset]
    return [_event(r) for r in db.query(sql, params)]


def has_event(db: sqlite_utils.Database, base_url: str, event_id: str) -> bool:
    return bool(
        db.execute(
            "select 1 from job_events where base_url = ? and id = ?", [base_url, event_id]
        ).fetchone()
    )


def count_events(db: sqlite_utils.Database, base_url: str, job_id: str) -> int:
    return db.execute(
        "select count(*) from job_events where base_url = ? and job_id = ?", [base_url, job_id]
    ).fetchone()[0]


def metric_events(db: sqlite_utils.Database, base_url: str, job_id: str) -> list[JobEvent]:
    """The events that carry step metrics (for the chart), oldest first."""
    return [
        _event(r)
        for r in db.query(
            """select * from job_events where base_url = ? and job_id = ?
               and (type = 'metrics' or json_extract(data, '$.step') is not null)
               order by created_at, rowid""",
            [base_url, job_id],
        )
    ]


def metric_events_since(
    db: sqlite_utils.Database, base_url: str, job_id: str, after: int = 0
) -> tuple[list[JobEvent], int]:
    """Metrics events stored after the row marker `after` (0: all), in the order they were stored,
    and the new marker: lets a live chart read only what is new."""
    rows = list(
        db.query(
            """select rowid as _row, * from job_events where base_url = ? and job_id = ?
               and rowid > ? and (type = 'metrics' or json_extract(data, '$.step') is not null)
               order by rowid""",
            [base_url, job_id, after],
        )
    )
    marker = rows[-1]["_row"] if rows else after
    return [_event(r) for r in rows], marker


def progress_events(db: sqlite_utils.Database, base_url: str, job_id: str) -> list[JobEvent]:
    """The first and the newest metrics events: all a progress line and its step rate need."""
    where = """from job_events where base_url = ? and job_id = ?
               and (type = 'metrics' or json_extract(data, '$.step') is not null)"""
    rows = list(
        db.query(
            f"""select * from (select * {where} order by created_at, rowid limit 1)
                union all
                select * from (select * {where} order by created_at desc, rowid desc limit 1)""",
            [base_url, job_id, base_url, job_id],
        )
    )
    return [_event(r) for r in rows]


# --- checkpoints ------------------------------------------------------------------------------


def add_checkpoints(
    db: sqlite_utils.Database, base_url: str, job_id: str, checkpoints: Iterable[dict[str, Any]]
) -> int:
    """Store API checkpoint objects (new ones inserted, known ones refreshed); returns how many new."""
    added = 0
    with db.atomic():
        for obj in checkpoints:
            ckpt = checkpoint_from_api(obj, job_id)
            cursor = db.execute(
                """insert into job_checkpoints
                   (base_url, job_id, id, created_at, step_number, fine_tuned_model_checkpoint, metrics)
                   values (?, ?, ?, ?, ?, ?, ?)
                   on conflict (base_url, id) do nothing""",
                [
                    base_url,
                    job_id,
                    ckpt.id,
                    ckpt.created_at,
                    ckpt.step_number,
                    ckpt.fine_tuned_model_checkpoint,
                    json_dumps(ckpt.metrics),
                ],
            )
            added += cursor.rowcount or 0
    return added


def list_checkpoints(db: sqlite_utils.Database, base_url: str, job_id: str) -> list[JobCheckpoint]:
    return [
        JobCheckpoint(
            id=r["id"],
            job_id=r["job_id"],
            created_at=r["created_at"],
            step_number=r["step_number"],
            fine_tuned_model_checkpoint=r["fine_tuned_model_checkpoint"],
            metrics=json.loads(r["metrics"]),
        )
        for r in db.query(
            "select * from job_checkpoints where base_url = ? and job_id = ? "
            "order by coalesce(step_number, 0) desc, created_at desc",
            [base_url, job_id],
        )
    ]


# --- one poll ---------------------------------------------------------------------------------


@dataclass
class PollOutcome:
    job: Job
    changed: bool  # the job's state moved, or new events/checkpoints arrived
    new_events: list[JobEvent]
    new_checkpoints: int = 0


@dataclass(frozen=True)
class PollState:
    """What the next poll needs to know from the store (so the provider fetches only what's new)."""

    previous_status: str | None
    checkpoints_stored: int
    results_stored: bool


def needs_fetch(db: sqlite_utils.Database, job: Job) -> bool:
    """Whether a listed job must be polled: it is unfinished, or it finished before we ever
    fetched its story (no events, no checkpoints stored), which one poll then brings in."""
    if not job.terminal:
        return True
    row = db.execute(
        """select exists(select 1 from job_events where base_url = ? and job_id = ?)
               or exists(select 1 from job_checkpoints where base_url = ? and job_id = ?)""",
        [job.base_url, job.id, job.base_url, job.id],
    ).fetchone()
    return not row[0]


def poll_state(db: sqlite_utils.Database, base_url: str, job_id: str) -> PollState:
    row = db.execute(
        "select status, results_csv is not null from jobs where base_url = ? and id = ?",
        [base_url, job_id],
    ).fetchone()
    count = db.execute(
        "select count(*) from job_checkpoints where base_url = ? and job_id = ?", [base_url, job_id]
    ).fetchone()[0]
    if row is None:
        return PollState(None, count, False)
    return PollState(row[0], count, bool(row[1]))


def record_snapshot(
    db: sqlite_utils.Database, profile: str, base_url: str, snapshot: JobSnapshot
) -> PollOutcome:
    """Write one poll's results in one transaction; the store stays the truth the UI is rebuilt
    from, so a reader never sees a job's new status without the events that led to it (a
    "succeeded" job whose last steps are not stored yet would draw a chart with a gap)."""
    with db.atomic():
        job, changed = upsert_job(db, profile, base_url, snapshot.job)
        new_events = add_events(db, base_url, job.id, snapshot.events)
        added = 0
        if snapshot.checkpoints is not None:
            added = add_checkpoints(db, base_url, job.id, snapshot.checkpoints)
        if snapshot.results_csv is not None:
            set_results_csv(db, base_url, job.id, snapshot.results_csv)
    return PollOutcome(job, changed or bool(new_events) or bool(added), new_events, added)
