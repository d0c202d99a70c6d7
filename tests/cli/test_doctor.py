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


def _azure_config(server, **extra):
    profile = {
        "kind": "azure",
        "base_url": server.azure_base_url,
        "api_key_env": "AZ_DOCTOR_KEY",
        "resource_group": "rg",
        "resource": "res",
        **extra,
    }
    write_config({"active_profile": "az", "profiles": {"az": profile}})


def test_azure_profile_with_a_token_command_and_a_deployment(sim_factory, tmp_path):
    server = sim_factory(flavor="azure", api_key="entra-ok")
    server.deploy("base-dep", "gpt-4.1-mini-2025-04-14")
    command = f"{sys.executable} -c \"print('entra-ok')\""
    _azure_config(
        server,
        token_command=command,
        training_type="Developer",
        deployments={"gpt-4.1-mini-2025-04-14": "base-dep"},
    )
    out = doctor({}, "--json", "--probe-chat")
    report = json.loads(out.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert out.returncode == 0, out.stdout + out.stderr
    assert checks["token command"]["ok"] and checks["trainingType"]["ok"]
    assert checks["deployment base-dep"]["ok"]
    assert report["key_source"] == "token_command (Entra ID)"
    assert any("24 hours" in n for n in report["notes"])
    models = {m["id"]: m for m in report["fine_tunable_models"]}
    assert "Azure trains until 2027-04-14" in models["gpt-4.1-mini-2025-04-14"]["note"]
    assert "entra-ok" not in out.stdout


def test_azure_without_training_type_or_with_a_broken_token_command(sim_factory):
    server = sim_factory(flavor="azure")
    _azure_config(server)
    out = doctor({"AZ_DOCTOR_KEY": server.api_key})
    assert out.returncode == 1
    assert "ERR trainingType: not set" in out.stdout
    assert "does not support fine-tuning" in out.stdout
    assert "deployments: none mapped" in out.stdout

    _azure_config(server, token_command=f'{sys.executable} -c "import sys; sys.exit(4)"')
    out = doctor({}, "--json")
    checks = {c["name"]: c for c in json.loads(out.stdout)["checks"]}
    assert out.returncode == 1
    assert checks["token command"]["ok"] is False and "exit 4" in checks["token command"]["detail"]


def test_a_capability_the_host_lacks_is_named(sim_factory):
    """A generic profile that claims batch against a host without it: ERR with the fix."""
    server = sim_factory(flavor="openai-compatible")
    write_config(
        {
            "active_profile": "generic",
            "profiles": {
                "generic": {
                    "kind": "openai-compatible",
                    "base_url": server.base_url,
                    "api_key_env": "GENERIC_KEY",
                    "capabilities": {"batch": True},
                }
            },
        }
    )
    out = doctor({"GENERIC_KEY": server.api_key}, "--json")
    assert out.returncode == 1
    checks = {c["name"]: c for c in json.loads(out.stdout)["checks"]}
    assert checks["the Batch API"]["ok"] is False
    assert "does not offer the Batch API (404)" in checks["the Batch API"]["detail"]
    assert "capabilities = { batch = false }" in checks["the Batch API"]["detail"]
    assert checks["fine-tuning jobs"]["ok"] is True
