"""The simulator's JSON against the schemas of OpenAI's OpenAPI spec, and the SDK's own types.

The spec mixes OpenAPI 3.0's `nullable: true` into 3.1 schemas; we turn that into `anyOf [..., null]`
so Draft 2020-12 reads it as OpenAI means it. Parsed once per session (the file is 87k lines).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.sim.conftest import sft_lines, wait_for_status, write_jsonl

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "openai-openapi.yaml"
MODEL = "gpt-4.1-mini-2025-04-14"


def _nullable_to_anyof(node):
    if isinstance(node, dict):
        node = {k: _nullable_to_anyof(v) for k, v in node.items()}
        if node.pop("nullable", False) is True:
            return {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [_nullable_to_anyof(v) for v in node]
    return node


@pytest.fixture(scope="session")
def openapi():
    if not SPEC.exists():
        pytest.skip(f"the OpenAPI spec is not at {SPEC}")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC.open(encoding="utf-8") as fh:
        spec = _nullable_to_anyof(yaml.load(fh, Loader=loader))
    registry = Registry().with_resource(
        "urn:openai", Resource.from_contents(spec, default_specification=DRAFT202012)
    )

    def check(instance, schema_name: str) -> None:
        schema = {"$ref": f"urn:openai#/components/schemas/{schema_name}"}
        validator = jsonschema.Draft202012Validator(schema, registry=registry)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        assert not errors, f"{schema_name}: " + "; ".join(
            f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:5]
        )

    return check


def raw(call, *args, **kwargs):
    """(the JSON body, the SDK's parsed object) of one call made through `with_raw_response`."""
    response = call(*args, **kwargs)
    return response.http_response.json(), response.parse()


def test_the_checker_can_fail(openapi):
    with pytest.raises(AssertionError):
        openapi({"id": "x", "object": "model", "created": "yesterday"}, "Model")


def test_models(sim, openapi):
    client = sim.client()
    body, parsed = raw(client.models.with_raw_response.list)
    openapi(body, "ListModelsResponse")
    assert parsed.data
    body, parsed = raw(client.models.with_raw_response.retrieve, "gpt-4o-2024-08-06")
    openapi(body, "Model")
    assert parsed.id == "gpt-4o-2024-08-06"


def test_files(sim, openapi, tmp_path):
    client = sim.client()
    path = write_jsonl(tmp_path / "t.jsonl", sft_lines(10, "conf"))
    body, parsed = raw(
        client.files.with_raw_response.create, file=path.open("rb"), purpose="fine-tune"
    )
    openapi(body, "OpenAIFile")
    body, _ = raw(client.files.with_raw_response.retrieve, parsed.id)
    openapi(body, "OpenAIFile")
    body, _ = raw(client.files.with_raw_response.list)
    openapi(body, "ListFilesResponse")
    other = client.files.create(file=path.open("rb"), purpose="batch")
    body, deleted = raw(client.files.with_raw_response.delete, other.id)
    openapi(body, "DeleteFileResponse")
    assert deleted.deleted


def test_jobs_events_checkpoints(sim, openapi, tmp_path):
    client = sim.client()
    tag = uuid.uuid4().hex[:8]
    train = write_jsonl(tmp_path / "t.jsonl", sft_lines(10, tag))
    valid = write_jsonl(tmp_path / "v.jsonl", sft_lines(3, tag + "v"))
    train_id = client.files.create(file=train.open("rb"), purpose="fine-tune").id
    valid_id = client.files.create(file=valid.open("rb"), purpose="fine-tune").id
    body, job = raw(
        client.fine_tuning.jobs.with_raw_response.create,
        model=MODEL,
        training_file=train_id,
        validation_file=valid_id,
        suffix=tag,
        metadata={"conformance": tag},
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
    )
    openapi(body, "FineTuningJob")
    done = wait_for_status(client, job.id)
    body, parsed = raw(client.fine_tuning.jobs.with_raw_response.retrieve, job.id)
    openapi(body, "FineTuningJob")
    assert parsed.status == done.status == "succeeded"
    body, _ = raw(client.fine_tuning.jobs.with_raw_response.list, metadata={"conformance": tag})
    openapi(body, "ListPaginatedFineTuningJobsResponse")
    body, events = raw(client.fine_tuning.jobs.with_raw_response.list_events, job.id, limit=100)
    openapi(body, "ListFineTuningJobEventsResponse")
    assert {e.type for e in events.data} == {"message", "metrics"}
    body, ckpts = raw(client.fine_tuning.jobs.checkpoints.with_raw_response.list, job.id)
    openapi(body, "ListFineTuningJobCheckpointsResponse")
    assert len(ckpts.data) == 3
    body, cancelled = raw(
        client.fine_tuning.jobs.with_raw_response.cancel,
        client.fine_tuning.jobs.create(model=MODEL, training_file=train_id).id,
    )
    openapi(body, "FineTuningJob")
    failed = client.fine_tuning.jobs.create(
        model=MODEL,
        training_file=client.files.create(
            file=write_jsonl(tmp_path / "bad.jsonl", ["{"]).open("rb"), purpose="fine-tune"
        ).id,
    )
    wait_for_status(client, failed.id)
    body, parsed = raw(client.fine_tuning.jobs.with_raw_response.retrieve, failed.id)
    openapi(body, "FineTuningJob")
    assert parsed.error.code == "invalid_training_file"


def test_chat_completion_and_chunks(sim, openapi):
    client = sim.client()
    messages = [{"role": "user", "content": "conformance please"}]
    body, parsed = raw(
        client.chat.completions.with_raw_response.create, model=MODEL, messages=messages
    )
    openapi(body, "CreateChatCompletionResponse")
    assert parsed.choices[0].message.role == "assistant"
    response = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    lines = [line for line in response.http_response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    for chunk in chunks:
        openapi(chunk, "CreateChatCompletionStreamResponse")
    assert chunks[-1]["usage"]["total_tokens"] == parsed.usage.total_tokens


def test_error_body(sim, openapi):
    import openai

    with pytest.raises(openai.NotFoundError) as info:
        sim.client(max_retries=0).models.retrieve("gpt-nope")
    openapi(info.value.response.json(), "ErrorResponse")


def test_batch_objects(sim, openapi):
    import io

    client = sim.client()
    line = {
        "custom_id": "c1",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
    }
    file_id = client.files.create(
        file=("b.jsonl", io.BytesIO((json.dumps(line) + "\n").encode())), purpose="batch"
    ).id
    body, batch = raw(
        client.batches.with_raw_response.create,
        input_file_id=file_id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
    )
    openapi(body, "Batch")
    from tests.sim.conftest import wait_for

    wait_for(lambda: client.batches.retrieve(batch.id).status == "completed")
    body, done = raw(client.batches.with_raw_response.retrieve, batch.id)
    openapi(body, "Batch")
    assert done.output_file_id
    body, _ = raw(client.batches.with_raw_response.list, limit=5)
    openapi(body, "ListBatchesResponse")
    out = json.loads(client.files.content(done.output_file_id).text.splitlines()[0])
    openapi(out["response"]["body"], "CreateChatCompletionResponse")


def test_upload_objects(sim, openapi):
    client = sim.client()
    body, upload = raw(
        client.uploads.with_raw_response.create,
        bytes=4,
        filename="u.jsonl",
        mime_type="application/jsonl",
        purpose="fine-tune",
    )
    openapi(body, "Upload")
    body, part = raw(client.uploads.parts.with_raw_response.create, upload.id, data=b"{}\n\n")
    openapi(body, "UploadPart")
    body, done = raw(client.uploads.with_raw_response.complete, upload.id, part_ids=[part.id])
    openapi(body, "Upload")
    assert done.file.bytes == 4
