"""`workbench doctor` against the simulator: a good profile, a wrong key, an unreachable host, a
capability the host lacks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from workbench.config import write_config


def doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workbench", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def test_a_working_profile(sim):
    out = doctor({"OPENAI_BASE_URL": sim.base_url, "OPENAI_API_KEY": sim.api_key}, "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["reachable"]["ok"] and checks["key accepted"]["ok"]
    assert checks["fine-tuning jobs"]["ok"] and checks["file uploads"]["ok"]
    ids = {m["id"]: m for m in report["fine_tunable_models"]}
    assert ids["gpt-4.1-mini-2025-04-14"]["usable"]
    assert "2027-01-14" in ids["gpt-4.1-mini-2025-04-14"]["note"]
    assert sim.api_key not in out.stdout


def test_a_wrong_key_is_named(sim_factory):
    server = sim_factory(api_key="sk-right")
    out = doctor({"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-wrong"})
    assert out.returncode == 1
    assert "ERR key accepted" in out.stdout
    assert "$OPENAI_API_KEY" in out.stdout
    assert "sk-wrong" not in out.stdout


def test_an_unreachable_host(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once we leave: nothing listens there
    out = doctor(
        {"OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1", "OPENAI_API_KEY": "sk-x"}, "--json"
    )
    assert out.returncode == 1
    checks = {c["name"]: c for c in json.loads(out.stdout)["checks"]}
    assert checks["reachable"]["ok"] is False
    assert "could not reach" in checks["reachable"]["detail"]


def test_no_key_at_all():
    out = doctor({}, "--json")
    assert out.returncode == 1
    checks = json.loads(out.stdout)["checks"]
    assert checks[0]["name"] == "api key" and checks[0]["ok"] is False
    assert "OPENAI_API_KEY" in checks[0]["detail"]


def test_a_capability_the_profile_switches_off_is_explained(sim, monkeypatch):
    write_config(
        {
            "active_profile": "generic",
            "profiles": {
                "generic": {
                    "kind": "openai-compatible",
                    "base_url": sim.base_url,
                    "api_key_env": "GENERIC_KEY",
                }
            },
        }
    )
    out = doctor({"GENERIC_KEY": sim.api_key}, "--json")
    report = json.loads(out.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["the Batch API"]["ok"] is None
    assert "generic OpenAI-compatible hosts often lack it" in checks["the Batch API"]["detail"]
    assert report["kind"] == "openai-compatible"
