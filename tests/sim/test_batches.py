"""The Batch API through the SDK: input JSONL in, output/error JSONL out, keyed by custom_id."""

from __future__ import annotations

import io
import json

import openai
import pytest

from tests.sim.conftest import wait_for

MODEL = "gpt-4.1-mini-2025-04-14"


def request_line(custom_id: str, content: str, model: str = MODEL) -> dict:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": model, "messages": [{"role": "user", "content": content}]},
    }


def upload_lines(client, lines: list) -> str:
    data = "".join(json.dumps(x) + "\n" for x in lines).encode()
    return client.files.create(file=("batch.jsonl", io.BytesIO(data)), purpose="batch").id


def wait_done(client, batch_id):
    def check():
        b = client.batches.retrieve(batch_id)
        return b if b.status in ("completed", "failed", "cancelled", "expired") else None

    return wait_for(check, timeout=30)


def test_batch_answers_like_chat_and_reports_failures(sim):
    client = sim.client()
    lines = [request_line(f"item-{i}", f"batch question {i}") for i in range(5)]
    lines.append(request_line("item-bad", "hello", model="gpt-nope"))
    batch = client.batches.create(
        input_file_id=upload_lines(client, lines),
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"t": "batch"},
    )
    assert batch.status == "validating"
    done = wait_done(client, batch.id)
    assert done.status == "completed"
    assert (done.request_counts.total, done.request_counts.completed) == (6, 5)
    assert done.request_counts.failed == 1
    assert done.in_progress_at and done.finalizing_at and done.completed_at
    out = [json.loads(x) for x in client.files.content(done.output_file_id).text.splitlines()]
    assert sorted(o["custom_id"] for o in out) == [f"item-{i}" for i in range(5)]
    first = next(o for o in out if o["custom_id"] == "item-2")
    direct = client.chat.completions.create(**lines[2]["body"])
    assert first["response"]["status_code"] == 200
    assert first["response"]["body"]["choices"][0]["message"]["content"] == (
        direct.choices[0].message.content
    )
    assert first["response"]["body"]["usage"]["prompt_tokens"] == direct.usage.prompt_tokens
    errors = [json.loads(x) for x in client.files.content(done.error_file_id).text.splitlines()]
    assert errors[0]["custom_id"] == "item-bad"
    assert errors[0]["response"]["status_code"] == 404
    assert errors[0]["response"]["body"]["error"]["code"] == "model_not_found"
    assert batch.id in [b.id for b in client.batches.list(limit=100)]


def test_bad_input_lines_fail_the_batch(sim):
    client = sim.client()
    lines = [request_line("a", "x"), request_line("a", "y")]  # duplicate custom_id
    batch = client.batches.create(
        input_file_id=upload_lines(client, lines),
        endpoint="/v1/chat/completions",
        completion_window="24h",
    )
    done = wait_done(client, batch.id)
    assert done.status == "failed"
    assert done.errors.data[0].line == 2
    assert done.errors.data[0].code == "duplicate_custom_id"


def test_batch_needs_a_batch_file(sim, tmp_path):
    client = sim.client(max_retries=0)
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(request_line("a", "x")) + "\n")
    file_id = client.files.create(file=path.open("rb"), purpose="fine-tune").id
    with pytest.raises(openai.BadRequestError) as info:
        client.batches.create(
            input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
        )
    assert info.value.param == "input_file_id"


def test_cancel_a_batch(sim_factory):
    server = sim_factory(speed=20)
    client = server.client()
    lines = [request_line(f"c{i}", f"question {i}") for i in range(50)]
    batch = client.batches.create(
        input_file_id=upload_lines(client, lines),
        endpoint="/v1/chat/completions",
        completion_window="24h",
    )
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling"
    done = wait_done(client, batch.id)
    assert done.status == "cancelled" and done.cancelled_at
