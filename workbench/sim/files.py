"""`/v1/files`: multipart upload (streamed to disk, never whole in memory), list, retrieve, delete,
content; uploads over the limit (OpenAI's 512 MB, or --max-file-bytes in tests) get a 413."""

from __future__ import annotations

import time

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from workbench.sim.openai_errors import APIError, bad_request, not_found
from workbench.sim.state import new_id
from workbench.sim.wire import Handlers, int_param, list_page

MAX_FILE_BYTES = 512 * 1024 * 1024  # OpenAI's Files API limit; --max-file-bytes lowers it for tests
UPLOAD_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")


def file_object(row: dict) -> dict:
    obj = {
        "id": row["id"],
        "object": "file",
        "bytes": row["bytes"],
        "created_at": row["created_at"],
        "filename": row["filename"],
        "purpose": row["purpose"],
        "status": row["status"],
    }
    if row.get("expires_at"):
        obj["expires_at"] = row["expires_at"]
    return obj


class Files(Handlers):
    """The Files API."""

    # ---- files --------------------------------------------------------------------------------
    def too_large(self) -> APIError:
        limit = self.sim.options.max_file_bytes
        shown = f"{limit / 1024 / 1024:g} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
        return APIError(
            413,
            f"File is too large. The maximum file size is {shown}; use the Uploads API for larger "
            "files.",
            "invalid_request_error",
            "file",
            "file_too_large",
        )

    async def upload_file(self, request: Request) -> Response:
        length = request.headers.get("content-length")
        # a multipart body carries a little framing beyond the file itself
        if length and length.isdigit() and int(length) > self.sim.options.max_file_bytes + 65536:
            # read (and drop) the body first: answering mid-upload would reset the connection
            # and the client would see a broken pipe instead of OpenAI's error
            async for _ in request.stream():
                pass
            raise self.too_large()
        async with request.form(max_files=1, max_fields=10) as form:
            purpose = form.get("purpose")
            upload = form.get("file")
            if not isinstance(purpose, str) or not purpose:
                raise bad_request("Missing required parameter: 'purpose'.", "purpose")
            if purpose not in UPLOAD_PURPOSES:
                raise bad_request(
                    f"'{purpose}' is not one of {list(UPLOAD_PURPOSES)} - 'purpose'", "purpose"
                )
            if upload is None or isinstance(upload, str):
                raise bad_request("Missing required parameter: 'file'.", "file")
            filename = upload.filename or "upload"
            if purpose == "fine-tune" and not filename.endswith(".jsonl"):
                raise bad_request(
                    "Invalid file format for Fine-Tuning API. Must be .jsonl",
                    "file",
                    "invalid_file_format",
                )
            size = upload.size
            if size is None:
                upload.file.seek(0, 2)
                size = upload.file.tell()
            if size > self.sim.options.max_file_bytes:
                raise self.too_large()
            file_id = new_id("file-", 22)
            target = self.sim.store.file_path(file_id)

            def copy() -> None:
                upload.file.seek(0)
                with target.open("wb") as out:
                    while chunk := upload.file.read(1024 * 1024):
                        out.write(chunk)

            await anyio.to_thread.run_sync(copy)
            expires_at = None
            seconds = form.get("expires_after[seconds]")
            if isinstance(seconds, str) and seconds.isdigit():
                expires_at = int(time.time()) + int(seconds)
            row = self.sim.store.add_file(file_id, size, filename, purpose, expires_at)
        if purpose == "fine-tune":
            self.sim.file_processing.started(file_id)
        return JSONResponse(self.file_json(row))

    def file_json(self, row: dict) -> dict:
        """The file object with its import status (Azure imports fine-tune files for a while)."""
        row = {**row, "status": self.sim.file_processing.status(row["id"], row["status"])}
        return file_object(row)

    def get_file_row(self, file_id: str) -> dict:
        row = self.sim.store.get_file(file_id)
        if row is None:
            raise not_found(f"No such File object: {file_id}", "id")
        return row

    async def list_files(self, request: Request) -> Response:
        limit = int_param(request, "limit", 10000, 1, 10000)
        order = request.query_params.get("order", "desc")
        rows = self.sim.store.list_files(
            request.query_params.get("purpose"), order, request.query_params.get("after"), limit
        )
        data = [self.file_json(r) for r in rows[:limit]]
        return JSONResponse(list_page(data, len(rows) > limit))

    async def get_file(self, request: Request) -> Response:
        return JSONResponse(self.file_json(self.get_file_row(request.path_params["file_id"])))

    async def delete_file(self, request: Request) -> Response:
        row = self.get_file_row(request.path_params["file_id"])
        self.sim.store.delete_file(row["id"])
        return JSONResponse({"id": row["id"], "object": "file", "deleted": True})

    async def file_content(self, request: Request) -> Response:
        row = self.get_file_row(request.path_params["file_id"])
        path = self.sim.store.file_path(row["id"])

        async def stream():
            with path.open("rb") as fh:
                while chunk := fh.read(1024 * 1024):
                    yield chunk

        return StreamingResponse(
            stream(),
            media_type="application/octet-stream",
            headers={"content-length": str(path.stat().st_size)},
        )
