"""The Uploads API: a file in parts, joined in order, then usable like any uploaded file."""

from __future__ import annotations

import hashlib

import openai
import pytest

from tests.sim.conftest import sft_lines, wait_for_status, write_jsonl


def test_chunked_upload_makes_a_usable_file(sim, tmp_path):
    client = sim.client()
    path = write_jsonl(tmp_path / "big.jsonl", sft_lines(10, "upl"))
    data = path.read_bytes()
    upload = client.uploads.upload_file_chunked(
        file=path,
        mime_type="application/jsonl",
        purpose="fine-tune",
        part_size=300,
        md5=hashlib.md5(data).hexdigest(),
    )
    assert upload.status == "completed"
    assert upload.file.bytes == len(data) and upload.file.filename == "big.jsonl"
    assert client.files.content(upload.file.id).read() == data
    job = client.fine_tuning.jobs.create(
        model="gpt-4.1-mini-2025-04-14",
        training_file=upload.file.id,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 1}}},
    )
    assert wait_for_status(client, job.id).status == "succeeded"


def test_parts_must_add_up_and_cancel(sim):
    client = sim.client(max_retries=0)
    upload = client.uploads.create(
        bytes=10, filename="x.jsonl", mime_type="application/jsonl", purpose="fine-tune"
    )
    assert upload.status == "pending"
    part = client.uploads.parts.create(upload.id, data=b"12345")
    with pytest.raises(openai.BadRequestError) as info:
        client.uploads.complete(upload.id, part_ids=[part.id])
    assert "10" in info.value.message
    assert client.uploads.cancel(upload.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        client.uploads.parts.create(upload.id, data=b"12345")
