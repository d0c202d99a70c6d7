"""The README's example, run for real: upload, fine-tune, watch events, chat with the result."""

from __future__ import annotations

import json
import time


def test_upload_fine_tune_watch_and_chat(sim_factory, tmp_path):
    server = sim_factory(speed=400)
    train = tmp_path / "train.jsonl"
    with train.open("w") as fh:
        for city, country in [
            ("Paris", "France"),
            ("Lima", "Peru"),
            ("Oslo", "Norway"),
            ("Rome", "Italy"),
            ("Cairo", "Egypt"),
            ("Quito", "Ecuador"),
            ("Hanoi", "Vietnam"),
            ("Bern", "Switzerland"),
            ("Doha", "Qatar"),
            ("Accra", "Ghana"),
        ]:
            fh.write(
                json.dumps(
                    {
                        "messages": [
                            {"role": "user", "content": f"Capital of {country}?"},
                            {"role": "assistant", "content": city},
                        ]
                    }
                )
                + "\n"
            )

    # --- the example, as a user writes it -------------------------------------------------
    from openai import OpenAI

    client = OpenAI(base_url=server.base_url, api_key="sk-sim")
    f = client.files.create(file=train.open("rb"), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model="gpt-4.1-mini-2025-04-14", training_file=f.id, suffix="capitals"
    )
    seen: dict[str, str] = {}
    for _ in range(600):  # bounded: at --speed 400 this job takes about 3 s
        job = client.fine_tuning.jobs.retrieve(job.id)
        for event in reversed(client.fine_tuning.jobs.list_events(job.id, limit=50).data):
            seen.setdefault(event.id, event.message)
        if job.status in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.05)
    reply = client.chat.completions.create(
        model=job.fine_tuned_model, messages=[{"role": "user", "content": "capital of peru?"}]
    )
    # ---------------------------------------------------------------------------------------
    assert job.status == "succeeded"
    assert job.fine_tuned_model.startswith("ft:gpt-4.1-mini-2025-04-14:sim-org:capitals:")
    messages = list(seen.values())
    assert "Fine-tuning job started" in messages
    assert any(m.startswith("Step ") for m in messages)
    assert reply.choices[0].message.content == "Lima"


def test_azure_flavor_quirks(sim_factory, train_file):
    import base64

    from tests.sim.conftest import wait_for, wait_for_status

    server = sim_factory(speed=30, flavor="azure")
    client = server.client()
    job = client.fine_tuning.jobs.create(
        model="gpt-4.1-mini-2025-04-14",
        training_file=client.files.create(file=train_file.open("rb"), purpose="fine-tune").id,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 1}}},
    )
    wait_for(lambda: client.fine_tuning.jobs.retrieve(job.id).status in ("pending", "running"))
    assert client.fine_tuning.jobs.pause(job.id).status == "paused"
    assert client.fine_tuning.jobs.resume(job.id).status == "pending"  # Azure's "queued"
    done = wait_for_status(client, job.id)
    assert done.status == "succeeded"
    content = client.files.content(done.result_files[0]).read()
    assert content.startswith(b"step,train_loss")  # Azure's sample saves it as-is
    assert not content.startswith(base64.b64encode(b"step"))
