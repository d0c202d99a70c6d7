"""Every fault the simulator can inject, and the API-key check, as the SDK sees them."""

from __future__ import annotations

import contextlib

import openai
import pytest

from tests.sim_fixture import http_json

MODEL = "gpt-4.1-mini-2025-04-14"
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def server(sim_factory):
    # a private server: armed faults must not leak into tests sharing the session server
    return sim_factory()


def test_429_has_retry_after_and_rate_limit_body(server):
    server.fault("429", count=1, path="/v1/chat/completions", retry_after=7)
    client = server.client(max_retries=0)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=MODEL, messages=HELLO)
    assert info.value.response.headers["retry-after"] == "7"
    assert info.value.code == "rate_limit_exceeded"
    # the count is used up: the next call goes through
    assert client.chat.completions.create(model=MODEL, messages=HELLO).choices


def test_sdk_retries_through_a_429(server):
    server.fault("429", count=2, retry_after=0)
    reply = server.client(max_retries=2).chat.completions.create(model=MODEL, messages=HELLO)
    assert reply.choices[0].message.content


def test_500_server_error(server):
    server.fault("500", path="/v1/models")
    with pytest.raises(openai.InternalServerError) as info:
        server.client(max_retries=0).models.list()
    assert info.value.body["type"] == "server_error"


def test_path_filter_leaves_other_paths_alone(server):
    server.fault("500", path="/v1/fine_tuning")
    client = server.client(max_retries=0)
    assert client.models.list().data
    server.clear_faults()
    assert client.fine_tuning.jobs.list().data == []


def test_stall_past_the_client_timeout(server):
    server.fault("stall", seconds=5)
    with pytest.raises(openai.APITimeoutError):
        server.client(max_retries=0, timeout=0.5).models.list()


def test_drop_closes_the_connection(server):
    server.fault("drop")
    with pytest.raises(openai.APIConnectionError):
        server.client(max_retries=0).chat.completions.create(model=MODEL, messages=HELLO)


def test_drop_mid_stream_after_some_chunks(server):
    server.fault("drop", after_chunks=2)
    stream = server.client(max_retries=0).chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "a question with several words"}],
        stream=True,
    )
    received = []
    with pytest.raises(Exception):  # noqa: B017 - httpx's RemoteProtocolError, not wrapped
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 2


def test_header_fault_for_one_call(server):
    client = server.client(max_retries=0)
    with pytest.raises(openai.InternalServerError):
        client.models.list(extra_headers={"X-Sim-Fault": "500"})
    assert client.models.list().data


def test_training_not_available_on_job_creation(server, train_file):
    client = server.client(max_retries=0)
    uploaded = client.files.create(file=train_file.open("rb"), purpose="fine-tune")
    server.fault("training_not_available")
    assert client.models.list().data  # only job creation is refused
    with pytest.raises(openai.PermissionDeniedError) as info:
        client.fine_tuning.jobs.create(model=MODEL, training_file=uploaded.id)
    assert info.value.status_code == 403
    assert info.value.code == "training_not_available"
    assert info.value.body["type"] == "invalid_request_error"
    assert info.value.body["message"].startswith(
        "OpenAI is winding down the fine-tuning platform and your organization is no longer able"
    )


def test_any_key_accepted_by_default_but_not_none(server):
    assert server.client(api_key="anything").models.list().data
    # the SDK refuses to send no key at all, so ask without one over plain HTTP
    status, body = http_json("GET", f"{server.base_url}/models")
    assert status == 401
    assert body["error"]["code"] == "invalid_api_key"
    assert body["error"]["type"] == "invalid_request_error"


def test_api_key_option_rejects_other_keys(sim_factory):
    server = sim_factory(api_key="sk-right")
    assert server.client().models.list().data
    with pytest.raises(openai.AuthenticationError) as info:
        server.client(api_key="sk-wrong-key", max_retries=0).models.list()
    assert info.value.status_code == 401
    assert info.value.code == "invalid_api_key"
    assert "sk-wrong-key" not in info.value.message  # the key is masked


def test_stop_does_not_wait_for_a_stalled_request(server):
    import threading
    import time

    server.fault("stall", seconds=60)
    client = server.client(max_retries=0, timeout=30)
    thread = threading.Thread(target=lambda: _swallow(client.models.list), daemon=True)
    thread.start()
    time.sleep(0.3)  # let the request reach the server and stall
    process = server.process
    server.process.terminate()
    assert process.wait(timeout=8) == 0  # well before the 60 s stall ends


def _swallow(call):
    with contextlib.suppress(Exception):
        call()
