"""Chat completions and files through the real SDK against the simulator."""

from __future__ import annotations

import json

import openai
import pytest

from workbench.core.tokens import count_message_tokens, get_tokenizer

MODEL = "gpt-4.1-mini-2025-04-14"


def shutdown_date(model):
    """A typed field in newer SDKs, an extra in older ones."""
    return getattr(model, "shutdown_date", None) or (model.model_extra or {}).get("shutdown_date")


def test_models_list_base_models_with_shutdown_dates(sim):
    client = sim.client()
    models = {m.id: m for m in client.models.list()}
    assert shutdown_date(models["gpt-4o-mini-2024-07-18"]) == "2027-01-14"
    assert shutdown_date(models["gpt-4.1-nano-2025-04-14"]) == "2026-10-23"
    assert models["gpt-5-mini"].owned_by == "workbench-simulator"
    one = client.models.retrieve("gpt-4.1-2025-04-14")
    assert one.id == "gpt-4.1-2025-04-14"


def test_chat_usage_counts_real_tokens(sim):
    client = sim.client()
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi [/INST]"},
    ]
    reply = client.chat.completions.create(model=MODEL, messages=messages)
    tok = get_tokenizer(MODEL)
    text = reply.choices[0].message.content
    assert reply.usage.prompt_tokens == count_message_tokens(messages, tok)
    assert reply.usage.completion_tokens == tok.count(text)
    assert reply.choices[0].finish_reason == "stop"
    again = client.chat.completions.create(model=MODEL, messages=messages)
    assert again.choices[0].message.content == text  # deterministic


def test_chat_stream_with_usage(sim):
    client = sim.client()
    messages = [{"role": "user", "content": "Tell me about streaming replies please"}]
    plain = client.chat.completions.create(model=MODEL, messages=messages)
    stream = client.chat.completions.create(
        model=MODEL, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert len([c for c in chunks if c.choices]) > 3
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == plain.usage.total_tokens
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"


def test_max_tokens_cuts_with_length(sim):
    client = sim.client()
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "a long question with many words in it"}],
        max_completion_tokens=3,
    )
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == 3


def test_json_object_reply(sim):
    reply = sim.client().chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Give JSON"}],
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(reply.choices[0].message.content), dict)


def test_few_shot_answer_from_most_similar_example(sim):
    messages = [
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris"},
        {"role": "user", "content": "What is the capital of Peru?"},
        {"role": "assistant", "content": "Lima"},
        {"role": "user", "content": "what is the capital of peru"},
    ]
    reply = sim.client().chat.completions.create(model=MODEL, messages=messages)
    assert reply.choices[0].message.content == "Lima"
    far = messages[:-1] + [{"role": "user", "content": "Write a poem about autumn leaves"}]
    other = sim.client().chat.completions.create(model=MODEL, messages=far)
    assert other.choices[0].message.content not in ("Lima", "Paris")


def test_unknown_and_shut_down_models_are_404(sim):
    client = sim.client(max_retries=0)
    for model in ("gpt-nonexistent", "gpt-3.5-turbo-0125"):
        with pytest.raises(openai.NotFoundError) as info:
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}])
        assert info.value.code == "model_not_found"


def test_files_upload_list_content_delete(sim, tmp_path):
    client = sim.client()
    path = tmp_path / "data.jsonl"
    path.write_bytes(b'{"a": 1}\n')
    uploaded = client.files.create(file=path.open("rb"), purpose="fine-tune")
    assert uploaded.bytes == 9 and uploaded.purpose == "fine-tune"
    assert client.files.retrieve(uploaded.id).filename == "data.jsonl"
    assert uploaded.id in [f.id for f in client.files.list(purpose="fine-tune")]
    assert client.files.content(uploaded.id).read() == b'{"a": 1}\n'
    assert client.files.delete(uploaded.id).deleted
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(uploaded.id)


def test_fine_tune_upload_must_be_jsonl(sim, tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n")
    with pytest.raises(openai.BadRequestError) as info:
        sim.client().files.create(file=path.open("rb"), purpose="fine-tune")
    assert info.value.body["param"] == "file"


def test_files_over_the_limit_are_refused(sim_factory, tmp_path):
    server = sim_factory(max_file_bytes=1000)
    client = server.client(max_retries=0)
    small = tmp_path / "small.jsonl"
    small.write_bytes(b"x" * 900)
    assert client.files.create(file=small.open("rb"), purpose="batch").bytes == 900
    big = tmp_path / "big.jsonl"
    big.write_bytes(b"x" * 1500)
    with pytest.raises(openai.APIStatusError) as info:
        client.files.create(file=big.open("rb"), purpose="fine-tune")
    assert info.value.status_code == 413
    assert info.value.code == "file_too_large"
    # far over the limit: refused from the Content-Length, the body read and dropped
    huge = tmp_path / "huge.jsonl"
    huge.write_bytes(b"x" * 300_000)
    with pytest.raises(openai.APIStatusError) as info:
        client.files.create(file=huge.open("rb"), purpose="fine-tune")
    assert info.value.status_code == 413
