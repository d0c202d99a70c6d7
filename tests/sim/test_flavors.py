"""The simulator's flavours through the real SDK over HTTP: Azure's path and quirks, and a generic
OpenAI-wire host's reduced set."""

from __future__ import annotations

import json
import re
import urllib.request

import openai
import pytest

from tests.sim.conftest import sft_lines, wait_for, wait_for_status, write_jsonl
from tests.sim_fixture import http_json

MODEL = "gpt-4.1-mini-2025-04-14"


@pytest.fixture
def azure(sim_factory):
    return sim_factory(flavor="azure", strict=True, file_processing_seconds=300, speed=100)


def test_azure_path_and_api_key_header(sim_factory):
    server = sim_factory(flavor="azure")
    client = server.client(base_url=server.azure_base_url)
    assert any(m.id == MODEL for m in client.models.list())
    # Azure's own header works as the key
    status, body = http_json("GET", f"{server.root_url}/_sim/health")
    assert status == 200 and body["flavor"] == "azure"
    request = urllib.request.Request(f"{server.azure_base_url}/models/{MODEL}")
    request.add_header("api-key", server.api_key)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=5) as response:
        assert json.loads(response.read())["id"] == MODEL


def test_azure_file_import_then_job_with_training_type(azure, tmp_path):
    client = azure.client(base_url=azure.azure_base_url)
    path = write_jsonl(tmp_path / "train.jsonl", sft_lines(10, "az"))
    uploaded = client.files.create(file=path.open("rb"), purpose="fine-tune")
    assert uploaded.status == "pending"
    with pytest.raises(openai.BadRequestError) as refused:
        client.fine_tuning.jobs.create(
            model=MODEL, training_file=uploaded.id, extra_body={"trainingType": "GlobalStandard"}
        )
    assert refused.value.code == "invalidPayload"
    assert "must point to a completed file import" in str(refused.value)
    seen = {client.files.retrieve(uploaded.id).status}
    wait_for(
        lambda: seen.add(client.files.retrieve(uploaded.id).status) or "processed" in seen,
        timeout=30,
        interval=0.02,
    )
    assert "running" in seen
    # no trainingType: Azure's misleading message
    with pytest.raises(openai.BadRequestError) as missing:
        client.fine_tuning.jobs.create(model=MODEL, training_file=uploaded.id)
    assert "does not support fine-tuning" in str(missing.value)
    with pytest.raises(openai.BadRequestError) as wrong:
        client.fine_tuning.jobs.create(
            model=MODEL, training_file=uploaded.id, extra_body={"trainingType": "developerTier"}
        )
    assert "developerTier" in str(wrong.value) and "GlobalStandard" in str(wrong.value)
    job = client.fine_tuning.jobs.create(
        model=MODEL,
        training_file=uploaded.id,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 1}}},
        extra_body={"trainingType": "globalstandard"},  # case-insensitive
    )
    statuses = set()
    done = wait_for(
        lambda: (
            (j := client.fine_tuning.jobs.retrieve(job.id))
            and statuses.add(j.status)
            or (j if j.status in ("succeeded", "failed") else None)
        ),
        timeout=60,
        interval=0.02,
    )
    assert done.status == "succeeded", done.error
    assert "pending" in statuses and "queued" not in statuses
    assert re.fullmatch(rf"{MODEL}\.ft-[0-9a-f]{{32}}", done.fine_tuned_model)
    assert done.model_extra["trainingType"] == "globalstandard"

    # an undeployed fine-tune does not answer
    question = [
        {"role": "system", "content": "Answer with the number only."},
        {"role": "user", "content": "[az] What is 3 plus 3?"},
    ]
    with pytest.raises(openai.NotFoundError) as undeployed:
        client.chat.completions.create(model=done.fine_tuned_model, messages=question)
    assert undeployed.value.code == "DeploymentNotFound"
    azure.deploy("my-ft", done.fine_tuned_model)
    reply = client.chat.completions.create(model="my-ft", messages=question)
    assert reply.choices[0].message.content == "6"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="not-deployed", messages=question)


def test_azure_training_types_option(sim_factory, tmp_path):
    server = sim_factory(flavor="azure", strict=True, training_types="developerTier")
    client = server.client()
    path = write_jsonl(tmp_path / "t.jsonl", sft_lines(10, "tt"))
    file_id = client.files.create(file=path.open("rb"), purpose="fine-tune").id
    wait_for(lambda: client.files.retrieve(file_id).status == "processed")
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.create(
            model=MODEL, training_file=file_id, extra_body={"trainingType": "Developer"}
        )
    job = client.fine_tuning.jobs.create(
        model=MODEL, training_file=file_id, extra_body={"trainingType": "DEVELOPERTIER"}
    )
    assert job.status in ("validating_files", "pending")


def test_deploying_an_unknown_model_is_refused(sim_factory):
    server = sim_factory(flavor="azure")
    with pytest.raises(RuntimeError, match="404"):
        server.deploy("x", "gpt-4.1-mini-2025-04-14.ft-00000000000000000000000000000000")


def test_generic_host_reduced_set(sim_factory, tmp_path):
    server = sim_factory(flavor="openai-compatible")
    client = server.client()
    path = write_jsonl(tmp_path / "g.jsonl", sft_lines(10, "gen"))
    file_id = client.files.create(file=path.open("rb"), purpose="fine-tune").id
    with pytest.raises(openai.BadRequestError) as dpo:
        client.fine_tuning.jobs.create(
            model=MODEL, training_file=file_id, method={"type": "dpo", "dpo": {}}
        )
    assert "dpo" in str(dpo.value)
    job = client.fine_tuning.jobs.create(
        model=MODEL,
        training_file=file_id,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 1}}},
    )
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.pause(job.id)
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.resume(job.id)
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.checkpoints.list(job.id)
    with pytest.raises(openai.NotFoundError):
        client.batches.list()
    done = wait_for_status(client, job.id)
    assert done.status == "succeeded" and done.fine_tuned_model.startswith("ft:")
