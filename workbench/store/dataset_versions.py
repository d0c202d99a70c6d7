"""Dataset versions and their uploads: which exported bytes a dataset had, and where they went.

An export records a version (the same sha256 is the same version, so nothing is uploaded twice);
an upload records which provider file holds it (`providers.job_steps.upload_version_once`).
The tables are created with the examples' (`store.examples.m001_datasets_and_examples`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.store.columns import now

if TYPE_CHECKING:
    import sqlite_utils


@dataclass
class DatasetVersion:
    id: int
    dataset_id: int
    split: str
    sha256: str
    examples: int
    bytes: int
    path: str | None
    created_at: str


def record_version(
    db: sqlite_utils.Database,
    dataset_id: int,
    split: str,
    sha256: str,
    examples: int,
    size: int,
    path: str | None = None,
) -> DatasetVersion:
    """Remember an exported file; the same content (sha256) is the same version."""
    existing = list(
        db.query(
            "select * from dataset_versions where dataset_id = ? and split = ? and sha256 = ?",
            [dataset_id, split, sha256],
        )
    )
    if existing:
        return DatasetVersion(**existing[0])
    with db.atomic():
        cursor = db.execute(
            """insert into dataset_versions (dataset_id, split, sha256, examples, bytes, path, created_at)
               values (?, ?, ?, ?, ?, ?, ?)""",
            [dataset_id, split, sha256, examples, size, path, now()],
        )
    return DatasetVersion(
        **next(db.query("select * from dataset_versions where id = ?", [cursor.lastrowid]))
    )


def list_versions(db: sqlite_utils.Database, dataset_id: int) -> list[DatasetVersion]:
    return [
        DatasetVersion(**r)
        for r in db.query(
            "select * from dataset_versions where dataset_id = ? order by id desc", [dataset_id]
        )
    ]


def record_upload(
    db: sqlite_utils.Database, version_id: int, profile: str, base_url: str, file_id: str
) -> None:
    with db.atomic():
        db.execute(
            """insert into dataset_uploads (version_id, profile, base_url, file_id, created_at)
               values (?, ?, ?, ?, ?)""",
            [version_id, profile, base_url, file_id, now()],
        )


def uploaded_file_id(db: sqlite_utils.Database, version_id: int, base_url: str) -> str | None:
    """The provider file id this version was already uploaded as, so it is not uploaded twice."""
    row = db.execute(
        "select file_id from dataset_uploads where version_id = ? and base_url = ? order by id desc limit 1",
        [version_id, base_url],
    ).fetchone()
    return row[0] if row else None
