"""Uploading training files through the real SDK to the simulator, with progress."""

from __future__ import annotations

import hashlib

import openai
import pytest

from workbench.providers.files import upload_file


def _jsonl(path, n: int) -> bytes:
    data = b"".join(
        b'{"messages":[{"role":"user","content":"q%d"},{"role":"assistant","content":"a%d"}]}\n'
        % (i, i)
        for i in range(n)
    )
    path.write_bytes(data)
    return data


def test_small_file_goes_through_files_create_with_progress(sim, tmp_path):
    path = tmp_path / "train.jsonl"
    data = _jsonl(path, 50)
    seen: list[tuple[int, int]] = []
    uploaded = upload_file(
        sim.client(), path, progress=lambda done, total: seen.append((done, total))
    )
    assert not uploaded.chunked and uploaded.id
    assert seen[-1] == (len(data), len(data))
    assert all(total == len(data) for _, total in seen)
    remote = sim.client().files.retrieve(uploaded.id)
    assert remote.purpose == "fine-tune" and remote.filename == "train.jsonl"
    assert sim.client().files.content(uploaded.id).read() == data


def test_large_file_goes_through_the_uploads_api_in_parts(sim, tmp_path):
    path = tmp_path / "big.jsonl"
    data = _jsonl(path, 200)
    seen: list[int] = []
    try:
        uploaded = upload_file(
            sim.client(max_retries=0),
            path,
            large_file_bytes=1000,
            part_bytes=4096,
            progress=lambda done, total: seen.append(done),
        )
    except openai.NotFoundError:
        pytest.skip("this simulator has no Uploads API (/v1/uploads) yet")
    assert uploaded.chunked
    assert seen == sorted(seen) and seen[-1] == len(data) and len(seen) == -(-len(data) // 4096)
    content = sim.client().files.content(uploaded.id).read()
    assert hashlib.sha256(content).hexdigest() == hashlib.sha256(data).hexdigest()


def test_provider_errors_reach_the_caller(sim, tmp_path):
    path = tmp_path / "train.jsonl"
    _jsonl(path, 3)
    sim.fault("500", count=1, path="/v1/files")
    try:
        with pytest.raises(openai.InternalServerError):
            upload_file(sim.client(max_retries=0), path)
    finally:
        sim.clear_faults()
