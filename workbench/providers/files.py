"""Uploading a training file through the SDK, with progress.

Files up to `LARGE_FILE_BYTES` go through `files.create` in one request (the progress callback follows
the bytes the HTTP client reads). Larger ones go through the Uploads API in parts (`uploads.create`,
`uploads.parts.create`, `uploads.complete` — the steps of the SDK's `upload_file_chunked`, done here
so each finished part can report progress). OpenAI takes at most 512 MB through `/files` and 8 GB
through `/uploads`, parts of at most 64 MB.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openai import OpenAI

LARGE_FILE_BYTES = 100 * 1024 * 1024
PART_BYTES = 64 * 1024 * 1024
JSONL_MIME = "application/jsonl"

Progress = Callable[[int, int], None]  # (bytes sent, total bytes)


@dataclass(frozen=True)
class UploadedFile:
    """What the provider gave back for an uploaded file."""

    id: str
    bytes: int
    filename: str
    chunked: bool  # sent through the Uploads API in parts


class _ProgressFile(io.FileIO):
    """A file that reports how far the HTTP client has read it (it seeks back to 0 on a retry)."""

    def __init__(self, path: Path, total: int, progress: Progress | None) -> None:
        super().__init__(path, "rb")
        self._total = total
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        chunk = super().read(size)
        if self._progress is not None:
            self._progress(self.tell(), self._total)
        return chunk


def upload_file(
    client: OpenAI,
    path: str | os.PathLike,
    *,
    purpose: str = "fine-tune",
    progress: Progress | None = None,
    large_file_bytes: int = LARGE_FILE_BYTES,
    part_bytes: int = PART_BYTES,
) -> UploadedFile:
    """Upload one file and return its provider id. SDK errors propagate: callers explain them with
    `openai_api.explain_error`."""
    path = Path(path)
    total = path.stat().st_size
    if total > large_file_bytes:
        return _upload_in_parts(client, path, total, purpose, progress, part_bytes)
    with _ProgressFile(path, total, progress) as fh:
        created = client.files.create(file=(path.name, fh), purpose=purpose)  # type: ignore[arg-type]
    if progress is not None:
        progress(total, total)
    return UploadedFile(
        created.id, int(getattr(created, "bytes", total) or total), path.name, False
    )


def _upload_in_parts(
    client: OpenAI,
    path: Path,
    total: int,
    purpose: str,
    progress: Progress | None,
    part_bytes: int,
) -> UploadedFile:
    upload = client.uploads.create(
        bytes=total,
        filename=path.name,
        mime_type=JSONL_MIME,
        purpose=purpose,  # type: ignore[arg-type]
    )
    part_ids: list[str] = []
    md5 = hashlib.md5(usedforsecurity=False)
    sent = 0
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(part_bytes):
                md5.update(chunk)
                part = client.uploads.parts.create(upload_id=upload.id, data=chunk)
                part_ids.append(part.id)
                sent += len(chunk)
                if progress is not None:
                    progress(sent, total)
        done = client.uploads.complete(upload_id=upload.id, part_ids=part_ids, md5=md5.hexdigest())
    except BaseException:
        _cancel_quietly(client, upload.id)
        raise
    file: Any = done.file
    if file is None:
        raise RuntimeError(
            f"the upload {upload.id} completed without a file (status {done.status})"
        )
    return UploadedFile(file.id, int(getattr(file, "bytes", total) or total), path.name, True)


def _cancel_quietly(client: OpenAI, upload_id: str) -> None:
    """An abandoned upload would otherwise linger for an hour; failing to cancel is not news."""
    with contextlib.suppress(Exception):  # best effort: the original error is what matters
        client.uploads.cancel(upload_id)
