"""The Uploads API (files over the 512 MB Files limit, up to 8 GB, in parts of up to 64 MB):
create -> add parts -> complete (a File appears) or cancel. Uploads expire an hour after creation."""

from __future__ import annotations

import hashlib
import time

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from workbench.sim.files import UPLOAD_PURPOSES, file_object
from workbench.sim.openai_errors import APIError, bad_request, not_found
from workbench.sim.state import new_id
from workbench.sim.wire import Handlers, json_body

MAX_UPLOAD_BYTES = 8 * 1024**3
MAX_PART_BYTES = 64 * 1024**2
EXPIRES_SECONDS = 3600


def upload_object(upload: dict, file_object: dict | None = None) -> dict:
    return {
        "id": upload["id"],
        "object": "upload",
        "bytes": upload["bytes"],
        "created_at": upload["created_at"],
        "filename": upload["filename"],
        "purpose": upload["purpose"],
        "status": upload["status"],
        "expires_at": upload["expires_at"],
        "file": file_object,
    }


class Uploads(Handlers):
    """Handlers for /v1/uploads."""

    def _get(self, upload_id: str) -> dict:
        upload = self.sim.store.get_upload(upload_id)
        if upload is None:
            raise not_found(f"Upload {upload_id} not found.", "upload_id")
        if upload["status"] == "pending" and time.time() > upload["expires_at"]:
            upload["status"] = "expired"
            self.sim.store.save_upload(upload)
        return upload

    def _pending(self, upload_id: str) -> dict:
        upload = self._get(upload_id)
        if upload["status"] != "pending":
            raise bad_request(f"Upload {upload_id} is {upload['status']}, not pending.")
        return upload

    async def create(self, request: Request) -> Response:
        body = await json_body(request)
        size, filename, purpose = body.get("bytes"), body.get("filename"), body.get("purpose")
        if not isinstance(size, int) or not 0 < size <= MAX_UPLOAD_BYTES:
            raise bad_request("bytes must be between 1 and 8 GB.", "bytes")
        if not isinstance(filename, str) or not filename:
            raise bad_request("Missing required parameter: 'filename'.", "filename")
        if purpose not in UPLOAD_PURPOSES:
            raise bad_request(f"'{purpose}' is not a valid purpose.", "purpose")
        if not isinstance(body.get("mime_type"), str):
            raise bad_request("Missing required parameter: 'mime_type'.", "mime_type")
        now = int(time.time())
        upload = {
            "id": new_id("upload_"),
            "bytes": size,
            "created_at": now,
            "expires_at": now + EXPIRES_SECONDS,
            "filename": filename,
            "purpose": purpose,
            "status": "pending",
            "parts": {},
            "file_id": None,
        }
        self.sim.store.save_upload(upload)
        return JSONResponse(upload_object(upload))

    async def add_part(self, request: Request) -> Response:
        upload = self._pending(request.path_params["upload_id"])
        async with request.form(max_files=1, max_fields=2) as form:
            data = form.get("data")
            if data is None or isinstance(data, str):
                raise bad_request("Missing required parameter: 'data'.", "data")
            part_id = new_id("part_")
            target = self.sim.store.files_dir / f"{upload['id']}.{part_id}"

            def copy() -> int:
                data.file.seek(0)
                written = 0
                with target.open("wb") as out:
                    while chunk := data.file.read(1024 * 1024):
                        written += len(chunk)
                        if written > self.sim.options.max_part_bytes:
                            break
                        out.write(chunk)
                return written

            size = await anyio.to_thread.run_sync(copy)
        if size > self.sim.options.max_part_bytes:
            target.unlink(missing_ok=True)
            raise APIError(
                413,
                "Each part may be at most 64 MB.",
                "invalid_request_error",
                "data",
                "part_too_large",
            )
        upload = self._pending(upload["id"])  # re-read: parts may arrive in parallel
        upload["parts"][part_id] = size
        self.sim.store.save_upload(upload)
        return JSONResponse(
            {
                "id": part_id,
                "object": "upload.part",
                "created_at": int(time.time()),
                "upload_id": upload["id"],
            }
        )

    async def complete(self, request: Request) -> Response:
        upload = self._pending(request.path_params["upload_id"])
        body = await json_body(request)
        part_ids = body.get("part_ids")
        if not isinstance(part_ids, list) or not part_ids:
            raise bad_request("Missing required parameter: 'part_ids'.", "part_ids")
        unknown = [p for p in part_ids if p not in upload["parts"]]
        if unknown:
            raise bad_request(f"Unknown part ids: {', '.join(map(str, unknown))}", "part_ids")
        total = sum(upload["parts"][p] for p in part_ids)
        if total != upload["bytes"]:
            raise bad_request(
                f"The parts add up to {total} bytes, but the upload declared {upload['bytes']}.",
                "part_ids",
            )
        file_id = new_id("file-", 22)
        target = self.sim.store.file_path(file_id)
        md5 = hashlib.md5()

        def join() -> None:
            with target.open("wb") as out:
                for part_id in part_ids:
                    part = self.sim.store.files_dir / f"{upload['id']}.{part_id}"
                    with part.open("rb") as fh:
                        while chunk := fh.read(1024 * 1024):
                            md5.update(chunk)
                            out.write(chunk)
            for part_id in upload["parts"]:
                (self.sim.store.files_dir / f"{upload['id']}.{part_id}").unlink(missing_ok=True)

        await anyio.to_thread.run_sync(join)
        expected = body.get("md5")
        if isinstance(expected, str) and expected and expected != md5.hexdigest():
            target.unlink(missing_ok=True)
            raise bad_request("The md5 of the parts does not match the md5 given.", "md5")
        row = self.sim.store.add_file(file_id, total, upload["filename"], upload["purpose"])
        upload.update(status="completed", file_id=file_id)
        self.sim.store.save_upload(upload)
        return JSONResponse(upload_object(upload, file_object(row)))

    async def cancel(self, request: Request) -> Response:
        upload = self._pending(request.path_params["upload_id"])
        for part_id in upload["parts"]:
            (self.sim.store.files_dir / f"{upload['id']}.{part_id}").unlink(missing_ok=True)
        upload["status"] = "cancelled"
        self.sim.store.save_upload(upload)
        return JSONResponse(upload_object(upload))
