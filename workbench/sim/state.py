"""The simulator's own SQLite file (sqlite-utils): files, jobs, events, checkpoints, batches.

Uploaded file bytes live beside the database in `<db>.files/`, not in SQLite: training files can be
hundreds of MB. All access happens on the server's event-loop thread, so one connection suffices.
"""

from __future__ import annotations

import json
import secrets
import string
import time
from pathlib import Path
from typing import Any

from workbench.lean_imports import sqlite_utils as _sqlite_utils

sqlite_utils = _sqlite_utils()

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def job_event(
    job: dict,
    at: int,
    message: str,
    level: str = "info",
    type_: str = "message",
    data: dict | None = None,
) -> dict:
    """One `fine_tuning.job.event` document (the sim's clock and local's trainer both write them)."""
    return {
        "id": new_id("ftevent-"),
        "job_id": job["id"],
        "created_at": at,
        "level": level,
        "message": message,
        "type": type_,
        "data": data,
    }


SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY, bytes INTEGER, created_at INTEGER, filename TEXT, purpose TEXT,
    status TEXT, expires_at INTEGER, deleted INTEGER DEFAULT 0, seq INTEGER
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, seq INTEGER, state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, job_id TEXT, created_at INTEGER,
    level TEXT, message TEXT, type TEXT, data TEXT
);
CREATE INDEX IF NOT EXISTS events_job ON events(job_id, seq);
CREATE TABLE IF NOT EXISTS checkpoints (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, job_id TEXT, created_at INTEGER,
    step_number INTEGER, model TEXT, metrics TEXT
);
CREATE TABLE IF NOT EXISTS ft_models (
    id TEXT PRIMARY KEY, created INTEGER, job_id TEXT, base TEXT
);
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY, state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY, seq INTEGER, state TEXT NOT NULL
);
"""


class NotASimulatorFile(Exception):
    """The path holds the workbench's own database (or another SQLite file), not simulator state."""


def check_state_file(path: str | Path) -> None:
    """Refuse the app's database: `workbench --db app.db sim` must not write into it."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return
    db = sqlite_utils.Database(path, execute_plugins=False)
    try:
        tables = set(db.table_names())
    finally:
        db.close()
    if tables and "meta" not in tables and "_migrations" in tables:
        raise NotASimulatorFile(
            f"{path} is the workbench's own database, not a simulator state file; "
            "give `workbench sim --db` a separate file (e.g. sim.db)"
        )


class SimStore:
    """Thin typed access to the state file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        check_state_file(self.path)
        self.files_dir = self.path.with_name(self.path.name + ".files")
        self.files_dir.mkdir(exist_ok=True)
        self.db = sqlite_utils.Database(self.path, execute_plugins=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # meta
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )
        self.db.conn.commit()

    def _next_seq(self, table: str) -> int:
        row = self.db.execute(f"SELECT COALESCE(MAX(seq), 0) + 1 FROM {table}").fetchone()
        return int(row[0])

    def _save_document(self, table: str, doc: dict) -> None:
        """Jobs and batches are one JSON document each, in creation order (`seq`)."""
        existing = self.db.execute(f"SELECT seq FROM {table} WHERE id = ?", [doc["id"]]).fetchone()
        seq = existing[0] if existing else self._next_seq(table)
        self.db.execute(
            f"INSERT INTO {table}(id, seq, state) VALUES (?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET state = excluded.state",
            [doc["id"], seq, json.dumps(doc)],
        )
        self.db.conn.commit()

    def _get_document(self, table: str, doc_id: str) -> dict | None:
        row = self.db.execute(f"SELECT state FROM {table} WHERE id = ?", [doc_id]).fetchone()
        return json.loads(row[0]) if row else None

    # files
    def file_path(self, file_id: str) -> Path:
        return self.files_dir / file_id

    def add_file(
        self, file_id: str, size: int, filename: str, purpose: str, expires_at: int | None = None
    ) -> dict:
        row = {
            "id": file_id,
            "bytes": size,
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
            "expires_at": expires_at,
            "deleted": 0,
            "seq": self._next_seq("files"),
        }
        self.db["files"].insert(row)
        self.db.conn.commit()
        return row

    def get_file(self, file_id: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM files WHERE id = ? AND deleted = 0", [file_id]))
        return rows[0] if rows else None

    def list_files(self, purpose: str | None, order: str, after: str | None, limit: int) -> list:
        sql = "SELECT * FROM files WHERE deleted = 0"
        params: list[Any] = []
        if purpose:
            sql += " AND purpose = ?"
            params.append(purpose)
        desc = order != "asc"
        if after:
            anchor = self.db.execute("SELECT seq FROM files WHERE id = ?", [after]).fetchone()
            if anchor:
                sql += " AND seq < ?" if desc else " AND seq > ?"
                params.append(anchor[0])
        sql += " ORDER BY seq " + ("DESC" if desc else "ASC") + " LIMIT ?"
        params.append(limit + 1)
        return list(self.db.query(sql, params))

    def delete_file(self, file_id: str) -> None:
        self.db.execute("UPDATE files SET deleted = 1 WHERE id = ?", [file_id])
        self.db.conn.commit()
        self.file_path(file_id).unlink(missing_ok=True)

    # jobs (the whole job state is one JSON document: the lifecycle code owns its shape)
    def save_job(self, job: dict) -> None:
        self._save_document("jobs", job)

    def get_job(self, job_id: str) -> dict | None:
        return self._get_document("jobs", job_id)

    def all_jobs(self) -> list[dict]:
        return [json.loads(r[0]) for r in self.db.execute("SELECT state FROM jobs ORDER BY seq")]

    def job_seq(self, job_id: str) -> int | None:
        row = self.db.execute("SELECT seq FROM jobs WHERE id = ?", [job_id]).fetchone()
        return row[0] if row else None

    def jobs_page(self, before_seq: int | None) -> list[dict]:
        """Jobs newest first, older than `before_seq` (callers filter and cut the page)."""
        sql = "SELECT state FROM jobs"
        params: list[Any] = []
        if before_seq is not None:
            sql += " WHERE seq < ?"
            params.append(before_seq)
        sql += " ORDER BY seq DESC"
        return [json.loads(r[0]) for r in self.db.execute(sql, params)]

    # events
    def add_events(self, events: list[dict]) -> None:
        if not events:
            return
        self.db.conn.executemany(
            "INSERT INTO events(id, job_id, created_at, level, message, type, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    e["id"],
                    e["job_id"],
                    e["created_at"],
                    e["level"],
                    e["message"],
                    e["type"],
                    json.dumps(e["data"]) if e.get("data") is not None else None,
                )
                for e in events
            ],
        )

    def _newest_first_page(
        self, table: str, job_id: str, after: str | None, limit: int
    ) -> list[dict]:
        """A page of a job's rows, newest first, older than `after`; one extra row says has_more."""
        sql = f"SELECT * FROM {table} WHERE job_id = ?"
        params: list[Any] = [job_id]
        if after:
            anchor = self.db.execute(f"SELECT seq FROM {table} WHERE id = ?", [after]).fetchone()
            if anchor:
                sql += " AND seq < ?"
                params.append(anchor[0])
        sql += " ORDER BY seq DESC LIMIT ?"
        params.append(limit + 1)
        return list(self.db.query(sql, params))

    def events_page(self, job_id: str, after: str | None, limit: int) -> list[dict]:
        return self._newest_first_page("events", job_id, after, limit)

    # checkpoints
    def add_checkpoint(self, ckpt: dict) -> None:
        self.db.execute(
            "INSERT INTO checkpoints(id, job_id, created_at, step_number, model, metrics) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                ckpt["id"],
                ckpt["job_id"],
                ckpt["created_at"],
                ckpt["step_number"],
                ckpt["model"],
                json.dumps(ckpt["metrics"]),
            ],
        )

    def checkpoints_page(self, job_id: str, after: str | None, limit: int) -> list[dict]:
        return self._newest_first_page("checkpoints", job_id, after, limit)

    def checkpoint_models(self) -> dict[str, str]:
        """checkpoint model id -> job id."""
        return {r[0]: r[1] for r in self.db.execute("SELECT model, job_id FROM checkpoints")}

    # fine-tuned models
    def add_ft_model(self, model_id: str, created: int, job_id: str, base: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO ft_models(id, created, job_id, base) VALUES (?, ?, ?, ?)",
            [model_id, created, job_id, base],
        )

    def ft_models(self) -> list[dict]:
        return list(self.db.query("SELECT * FROM ft_models ORDER BY created, id"))

    def get_ft_model(self, model_id: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM ft_models WHERE id = ?", [model_id]))
        return rows[0] if rows else None

    # uploads (the Uploads API: parts on disk beside the files, the upload as one JSON document)
    def save_upload(self, upload: dict) -> None:
        self.db.execute(
            "INSERT INTO uploads(id, state) VALUES (?, ?) "
            "ON CONFLICT(id) DO UPDATE SET state = excluded.state",
            [upload["id"], json.dumps(upload)],
        )
        self.db.conn.commit()

    def get_upload(self, upload_id: str) -> dict | None:
        row = self.db.execute("SELECT state FROM uploads WHERE id = ?", [upload_id]).fetchone()
        return json.loads(row[0]) if row else None

    # batches
    def save_batch(self, batch: dict) -> None:
        self._save_document("batches", batch)

    def get_batch(self, batch_id: str) -> dict | None:
        return self._get_document("batches", batch_id)

    def batches_page(self, after: str | None) -> list[dict]:
        sql = "SELECT state FROM batches"
        params: list[Any] = []
        if after:
            anchor = self.db.execute("SELECT seq FROM batches WHERE id = ?", [after]).fetchone()
            if anchor:
                sql += " WHERE seq < ?"
                params.append(anchor[0])
        sql += " ORDER BY seq DESC"
        return [json.loads(r[0]) for r in self.db.execute(sql, params)]

    def commit(self) -> None:
        self.db.conn.commit()


def active_job_ids(store: SimStore) -> list[str]:
    """Jobs whose clock may still move them (validating, queued, running)."""
    rows = store.db.execute(
        "SELECT id FROM jobs WHERE json_extract(state, '$.status') IN "
        "('validating_files', 'queued', 'running') ORDER BY seq"
    )
    return [r[0] for r in rows]


def active_batch_ids(store: SimStore) -> list[str]:
    rows = store.db.execute(
        "SELECT id FROM batches WHERE json_extract(state, '$.status') IN "
        "('validating', 'in_progress', 'finalizing', 'cancelling') ORDER BY seq"
    )
    return [r[0] for r in rows]
