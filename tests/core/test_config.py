"""Config: environment only, profiles from TOML, the key never stored, 0600 files."""

from __future__ import annotations

import os
import stat

import pytest

from workbench.config import (
    ConfigError,
    config_path,
    db_path,
    load_config,
    save_setting,
    write_config,
)


def test_environment_alone_is_enough(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8089/v1")
    config = load_config()
    assert not config.path.exists()
    profile = config.profile
    assert profile.name == "default"
    assert profile.base_url == "http://127.0.0.1:8089/v1"
    assert profile.api_key() == "sk-env"
    assert profile.api_key_source() == "$OPENAI_API_KEY"
    assert "sk-env" not in repr(profile) and "sk-env" not in repr(config)


def test_no_key_anywhere_is_reported_as_missing():
    profile = load_config().profile
    assert profile.api_key() is None
    assert profile.api_key_source() == "missing"
    assert profile.base_url == "https://api.openai.com/v1"


def test_profiles_from_the_file(monkeypatch):
    path = config_path()
    write_config(
        {
            "active_profile": "sim",
            "profiles": {
                "sim": {
                    "base_url": "http://127.0.0.1:8089/v1",
                    "api_key_env": "SIM_KEY",
                    "default_model": "gpt-4o-mini-2024-07-18",
                    "organization": "org-1",
                    "project": "proj-1",
                },
                "azure": {
                    "kind": "azure",
                    "base_url": "https://res.openai.azure.com/openai/v1/",
                    "api_key_env": "AZURE_OPENAI_API_KEY",
                    "trainingType": "GlobalStandard",
                },
            },
        },
        path,
    )
    monkeypatch.setenv("SIM_KEY", "sk-sim")
    config = load_config()
    assert config.active_profile == "sim"
    sim = config.profile
    assert (sim.base_url, sim.default_model, sim.organization, sim.project) == (
        "http://127.0.0.1:8089/v1",
        "gpt-4o-mini-2024-07-18",
        "org-1",
        "proj-1",
    )
    assert sim.api_key() == "sk-sim"
    azure = load_config(profile="azure").profile
    assert azure.kind == "azure"
    assert azure.extra == {"trainingType": "GlobalStandard"}
    assert azure.api_key() is None
    monkeypatch.setenv("WORKBENCH_PROFILE", "azure")
    assert load_config().active_profile == "azure"


def test_unknown_profile_and_bad_toml_name_the_problem():
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text("[profiles.a]\nbase_url = 'x'\n")
    with pytest.raises(ConfigError, match="profile 'nope' is not defined"):
        load_config(profile="nope")
    path.write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config()
    path.write_text("[profiles.a]\nkind = 'banana'\nbase_url = 'x'\n")
    with pytest.raises(ConfigError, match=r"profiles\.a\.kind"):
        load_config()


def test_written_config_is_0600_and_a_wider_file_with_a_key_warns():
    path = config_path()
    write_config({"profiles": {"default": {"api_key": "sk-in-file"}}}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = load_config()
    assert config.profile.api_key() == "sk-in-file"
    assert config.profile.api_key_source() == "config file"
    assert config.warnings == ()

    os.chmod(path, 0o644)
    config = load_config()
    assert len(config.warnings) == 1
    assert "chmod 600" in config.warnings[0] and "sk-in-file" not in config.warnings[0]


def test_save_setting_keeps_the_rest(monkeypatch):
    path = config_path()
    write_config({"profiles": {"p": {"base_url": "http://h/v1"}}}, path)
    save_setting("theme", "nord")
    config = load_config()
    assert config.theme == "nord"
    assert "p" in config.profiles
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_database_path_overrides(monkeypatch, tmp_path):
    assert db_path("/x/y.db").as_posix() == "/x/y.db"
    monkeypatch.setenv("WORKBENCH_DB", str(tmp_path / "env.db"))
    assert db_path() == tmp_path / "env.db"
    monkeypatch.delenv("WORKBENCH_DB")
    assert db_path() == tmp_path / "home" / ".local" / "share" / "workbench" / "workbench.db"
