"""The job lifecycle through the project's provider code against each simulator flavour, over HTTP
with the real SDK: upload, wait until processed, create (Azure: trainingType), watch to success,
deploy (Azure: the sim's stand-in for ARM), chat with the result."""

from __future__ import annotations

import shlex
import sys
import uuid

import pytest

from tests.sim.conftest import sft_lines, wait_for, write_jsonl
from workbench.config import Profile
from workbench.core.jobs import STATUS_ALIASES
from workbench.providers import azure
from workbench.providers import fine_tuning as ft
from workbench.providers.capabilities import capabilities_for
from workbench.providers.chat import ChatFailed, Delta, make_chat_client, stream_chat
from workbench.providers.files import upload_file
from workbench.providers.openai_api import explain_error, make_client

MODEL = "gpt-4.1-mini-2025-04-14"
METHOD = {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 1}}}


def question(tag: str) -> list[dict]:
    return [
        {"role": "system", "content": "Answer with the number only."},
        {"role": "user", "content": f"[{tag}] What is 4 plus 4?"},
    ]


def watch(client, job_id: str) -> dict:
    seen: list[str] = []

    def done():
        job = ft.retrieve_job(client, job_id)
        seen.append(STATUS_ALIASES.get(job["status"], job["status"]))
        return job if job["status"] in ("succeeded", "failed", "cancelled") else None

    job = wait_for(done, timeout=60, interval=0.05)
    assert "pending" not in seen  # shown as queued
    return job


@pytest.fixture
def azure_sim(sim_factory):
    return sim_factory(flavor="azure", strict=True, speed=200, file_processing_seconds=200)


def azure_profile(server, monkeypatch, **extra) -> Profile:
    monkeypatch.setenv("AZ_SIM_KEY", server.api_key)
    return Profile(
        name="az",
        kind="azure",
        base_url=server.azure_base_url,
        api_key_env="AZ_SIM_KEY",
        extra={
            "training_type": "GlobalStandard",
            "resource_group": "rg",
            "resource": "res",
            **extra,
        },
    )


async def test_azure_from_upload_to_a_deployed_fine_tune(azure_sim, monkeypatch, tmp_path):
    tag = "azl" + uuid.uuid4().hex[:4]
    profile = azure_profile(azure_sim, monkeypatch)
    client = make_client(profile, timeout=30)
    path = write_jsonl(tmp_path / "train.jsonl", sft_lines(10, tag))
    uploaded = upload_file(client, path)
    assert client.files.retrieve(uploaded.id).status == "pending"

    # the explicit path reports the import's progress; the plain SDK call waits the same way
    statuses: list[str] = []
    job = azure.create_job(
        client,
        profile,
        {"model": MODEL, "training_file": uploaded.id, "method": METHOD},
        progress=lambda status, waited: statuses.append(status),
        poll_interval=0.05,
    )
    assert statuses[0] in ("pending", "running") and statuses[-1] == "processed"
    assert job.model_extra["trainingType"] == "GlobalStandard"
    done = watch(client, job.id)
    assert done["status"] == "succeeded"
    model = done["fine_tuned_model"]
    assert ".ft-" in model

    # not deployed yet: the prompt path says how, without a request
    chat = make_chat_client(profile)
    with pytest.raises(ChatFailed) as failed:
        async for _ in stream_chat(chat, model=model, messages=question(tag), profile=profile):
            pass
    assert failed.value.problem.kind == "not_deployed"
    assert "az cognitiveservices account deployment create -g rg -n res" in str(
        failed.value.problem.message
    )

    azure_sim.deploy("support-ft", model)
    deployed = azure_profile(azure_sim, monkeypatch, deployments={model: "support-ft"})
    chat = make_chat_client(deployed)
    text = ""
    async for piece in stream_chat(chat, model=model, messages=question(tag), profile=deployed):
        if isinstance(piece, Delta):
            text += piece.text
    assert text == "8"
    sync = make_client(deployed).chat.completions.create(model=model, messages=question(tag))
    assert sync.choices[0].message.content == "8"


def test_azure_job_through_the_jobs_code_waits_for_the_import(azure_sim, monkeypatch, tmp_path):
    """D's providers/fine_tuning.create_job is the SDK call: the Azure client adds the rules."""
    profile = azure_profile(azure_sim, monkeypatch)
    client = make_client(profile, timeout=30)
    path = write_jsonl(tmp_path / "t.jsonl", sft_lines(10, "azj"))
    file_id = upload_file(client, path).id
    job = ft.create_job(client, {"model": MODEL, "training_file": file_id, "method": METHOD})
    assert job["trainingType"] == "GlobalStandard"
    assert watch(client, job["id"])["status"] == "succeeded"


def test_azure_refusal_shows_the_raw_error(azure_sim, monkeypatch, tmp_path):
    profile = azure_profile(azure_sim, monkeypatch, training_type="developerTier")
    client = make_client(profile, timeout=30)
    file_id = upload_file(client, write_jsonl(tmp_path / "t.jsonl", sft_lines(10, "azr"))).id
    with pytest.raises(Exception) as refused:
        ft.create_job(client, {"model": MODEL, "training_file": file_id})
    problem = explain_error(refused.value, profile)
    assert "developerTier" in problem.message and "Azure said:" in problem.message
    no_type = Profile(**{**profile.__dict__, "extra": {}})
    with pytest.raises(Exception) as missing:
        make_client(no_type).fine_tuning.jobs.create(model=MODEL, training_file=file_id)
    problem = explain_error(missing.value, no_type)
    assert "no training_type is set" in problem.message
    assert "does not support fine-tuning" in problem.message  # the raw words too


def test_azure_entra_token_from_a_command(sim_factory, monkeypatch):
    server = sim_factory(flavor="azure", api_key="entra-token-1")
    command = f"{shlex.quote(sys.executable)} -c \"print('entra-token-1')\""
    profile = Profile(
        name="az",
        kind="azure",
        base_url=server.azure_base_url,
        api_key_env="UNSET_AZ",
        extra={"token_command": command},
    )
    monkeypatch.delenv("UNSET_AZ", raising=False)
    assert any(m["id"] == MODEL for m in ft.list_models(make_client(profile)))
    wrong = Profile(**{**profile.__dict__, "extra": {"token_command": command.replace("1", "2")}})
    with pytest.raises(Exception) as rejected:
        make_client(wrong, max_retries=0).models.list()
    assert "token_command" in explain_error(rejected.value, wrong).message


def test_generic_host_lifecycle_and_what_it_lacks(sim_factory, monkeypatch, tmp_path):
    server = sim_factory(flavor="openai-compatible")
    monkeypatch.setenv("GENERIC_KEY", server.api_key)
    profile = Profile(
        name="gen", kind="openai-compatible", base_url=server.base_url, api_key_env="GENERIC_KEY"
    )
    caps = capabilities_for(profile)
    assert not caps.has("pause_resume") and not caps.has("checkpoints") and not caps.has("dpo")
    client = make_client(profile, timeout=30)
    file_id = upload_file(client, write_jsonl(tmp_path / "g.jsonl", sft_lines(10, "gen"))).id
    job = ft.create_job(client, {"model": MODEL, "training_file": file_id, "method": METHOD})
    with pytest.raises(Exception) as paused:
        ft.pause_job(client, job["id"])
    assert explain_error(paused.value, profile).kind == "not_found"
    done = watch(client, job["id"])
    assert done["status"] == "succeeded"
    reply = client.chat.completions.create(model=done["fine_tuned_model"], messages=question("gen"))
    assert reply.choices[0].message.content == "8"


def test_watching_on_a_host_without_checkpoints(sim_factory, monkeypatch, tmp_path):
    """The Jobs code's poll (which asks for checkpoints) keeps going on a 404."""
    server = sim_factory(flavor="openai-compatible")
    monkeypatch.setenv("GENERIC_KEY", server.api_key)
    profile = Profile(
        name="gen", kind="openai-compatible", base_url=server.base_url, api_key_env="GENERIC_KEY"
    )
    client = make_client(profile, timeout=30)
    file_id = upload_file(client, write_jsonl(tmp_path / "w.jsonl", sft_lines(10, "gw"))).id
    job = ft.create_job(client, {"model": MODEL, "training_file": file_id, "method": METHOD})
    previous = None

    def poll():
        nonlocal previous
        snap = ft.poll_job(client, job["id"], previous_status=previous)
        previous = snap.job["status"]
        return snap if previous in ("succeeded", "failed") else None

    snap = wait_for(poll, timeout=60)
    assert snap.job["status"] == "succeeded" and snap.checkpoints is None


async def test_a_host_without_streaming_gets_one_whole_answer(sim, monkeypatch):
    from workbench.providers.chat import Usage

    monkeypatch.setenv("GENERIC_KEY", sim.api_key)
    messages = [{"role": "user", "content": "Tell me about the weather in three sentences."}]

    async def answer(capabilities):
        profile = Profile(
            name="gen",
            kind="openai-compatible",
            base_url=sim.base_url,
            api_key_env="GENERIC_KEY",
            extra={"capabilities": capabilities},
        )
        events = [
            e
            async for e in stream_chat(
                make_chat_client(profile), model="gpt-4.1-mini", messages=messages, profile=profile
            )
        ]
        return [e.text for e in events if isinstance(e, Delta)], events[-1]

    streamed, _ = await answer({})
    whole, usage = await answer({"streaming": False})
    assert len(streamed) > 1 and whole == ["".join(streamed)]
    assert isinstance(usage, Usage) and usage.output_tokens > 0
