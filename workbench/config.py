"""Where things live and which provider to talk to.

Paths come from platformdirs (XDG on Linux) and can be overridden by environment variables, so tests
and scripts never touch the user's real files. Profiles live in a TOML file; the API key itself is
read from the environment (or, discouraged, the config file, which must then be mode 0600). The key
never leaves this module except to build a client.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "workbench"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_MODEL = "gpt-4.1-mini-2025-04-14"
PROFILE_KINDS = ("openai", "azure", "openai-compatible", "local")
# kind = "local": `workbench local` on this machine (real models; its defaults)
LOCAL_BASE_URL = "http://127.0.0.1:8090/v1"
LOCAL_DEFAULT_MODEL = "SmolLM2-135M-Instruct"
LOCAL_API_KEY = "sk-local"  # sent when a local profile names no key (the server takes any)


class ConfigError(Exception):
    """The config file cannot be used; the message names the file and the setting."""


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def config_path() -> Path:
    override = os.environ.get("WORKBENCH_CONFIG")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def db_path(cli_value: str | os.PathLike | None = None) -> Path:
    """The database file: `--db`, then `WORKBENCH_DB`, then the XDG data dir."""
    if cli_value:
        return Path(cli_value)
    override = os.environ.get("WORKBENCH_DB")
    if override:
        return Path(override)
    return data_dir() / "workbench.db"


@dataclass(frozen=True)
class Profile:
    """One provider account: where to send requests and where to find the key."""

    name: str = "default"
    kind: str = "openai"
    base_url: str = DEFAULT_BASE_URL
    api_key_env: str = DEFAULT_API_KEY_ENV
    organization: str | None = None
    project: str | None = None
    default_model: str = DEFAULT_MODEL
    # Anything else the profile says (capabilities, deployments, trainingType, ...): read by the
    # provider layer, passed through untouched here.
    extra: dict[str, Any] = field(default_factory=dict)
    # A key written in the config file (discouraged); kept out of repr so it never reaches a log.
    config_api_key: str | None = field(default=None, repr=False)

    def api_key(self) -> str | None:
        """The key: the profile's environment variable first, then the config file; a local
        server takes any key, so a `local` profile needs none."""
        key = os.environ.get(self.api_key_env) or self.config_api_key or None
        return key or (LOCAL_API_KEY if self.kind == "local" else None)

    def api_key_source(self) -> str:
        """Where the key comes from, in words, never the key itself."""
        if os.environ.get(self.api_key_env):
            return f"${self.api_key_env}"
        if self.config_api_key:
            return "config file"
        if self.kind == "local":
            return "workbench local's default (any key works)"
        return "missing"


@dataclass(frozen=True)
class Config:
    path: Path
    active_profile: str
    profiles: dict[str, Profile]
    theme: str | None = None
    prices: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def profile(self) -> Profile:
        return self.profiles[self.active_profile]


def _env_profile() -> Profile:
    """The profile a user gets with no config at all: OPENAI_API_KEY / OPENAI_BASE_URL."""
    return Profile(
        name="default",
        base_url=os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL,
        organization=os.environ.get("OPENAI_ORG_ID") or None,
        project=os.environ.get("OPENAI_PROJECT_ID") or None,
    )


_PROFILE_KEYS = {
    "kind",
    "base_url",
    "api_key_env",
    "organization",
    "project",
    "default_model",
    "api_key",
}


_TEXT_SETTINGS = ("kind", "base_url", "api_key_env", "organization", "project", "default_model")
_TEXT_SETTINGS += ("api_key", "token_command", "training_type", "deployment_sku")
_NUMBER_SETTINGS = {"timeout": "a number of seconds", "max_retries": "a whole number"}
_NUMBER_SETTINGS |= {"hosting_per_hour": "a number", "hosting_hours_per_month": "a number"}


def _check_types(name: str, table: dict[str, Any], path: Path) -> None:
    """Refuse at load time what would fail only at run time (`organization = 5`, `timeout = "x"`)."""
    for key in _TEXT_SETTINGS:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{path}: profiles.{name}.{key} = {value!r}; expected a string")
    for key, expected in _NUMBER_SETTINGS.items():
        value = table.get(key)
        if value is None:
            continue
        whole = expected == "a whole number"
        ok = isinstance(value, int) if whole else isinstance(value, int | float)
        if isinstance(value, bool) or not ok or value < 0:
            raise ConfigError(f"{path}: profiles.{name}.{key} = {value!r}; expected {expected}")


def _profile_from_table(name: str, table: dict[str, Any], path: Path) -> Profile:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [profiles.{name}] must be a table")
    _check_types(name, table, path)
    kind = table.get("kind", "openai")
    if kind not in PROFILE_KINDS:
        raise ConfigError(
            f"{path}: profiles.{name}.kind = {kind!r}; expected one of {', '.join(PROFILE_KINDS)}"
        )
    base_url = table.get("base_url")
    if base_url is None and kind == "local":
        base_url = LOCAL_BASE_URL
    if base_url is None:
        base_url = (
            os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL if kind == "openai" else None
        )
    if not base_url:
        raise ConfigError(f"{path}: profiles.{name}.base_url is required for kind {kind!r}")
    return Profile(
        name=name,
        kind=kind,
        base_url=str(base_url),
        api_key_env=str(table.get("api_key_env", DEFAULT_API_KEY_ENV)),
        organization=table.get("organization") or None,
        project=table.get("project") or None,
        default_model=str(
            table.get("default_model", LOCAL_DEFAULT_MODEL if kind == "local" else DEFAULT_MODEL)
        ),
        extra={k: v for k, v in table.items() if k not in _PROFILE_KEYS},
        config_api_key=table.get("api_key") or None,
    )


def _permission_warning(path: Path, raw: dict[str, Any]) -> str | None:
    tables = raw.get("profiles", {})
    if not isinstance(tables, dict):
        return None  # refused with its own message by load_config
    has_key = any(isinstance(p, dict) and p.get("api_key") for p in tables.values())
    if not has_key:
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return (
            f"{path} holds an API key and is readable by others (mode {mode:04o}); "
            f"run: chmod 600 {path}"
        )
    return None


def load_config(path: Path | None = None, profile: str | None = None) -> Config:
    """Read the config file if there is one; with none, the environment alone is enough."""
    path = path or config_path()
    raw: dict[str, Any] = {}
    warnings: list[str] = []
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not UTF-8 text") from exc
        except IsADirectoryError as exc:
            raise ConfigError(f"{path}: is a directory, not a config file") from exc
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read it: {exc.strerror or exc}") from exc
        warning = _permission_warning(path, raw)
        if warning:
            warnings.append(warning)

    profiles: dict[str, Profile] = {}
    tables = raw.get("profiles", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: 'profiles' must be a table of [profiles.NAME] tables")
    for name, table in tables.items():
        profiles[name] = _profile_from_table(name, table, path)
    if "default" not in profiles:
        profiles["default"] = _env_profile()

    active = (
        profile or os.environ.get("WORKBENCH_PROFILE") or raw.get("active_profile") or "default"
    )
    if active not in profiles:
        raise ConfigError(
            f"profile {active!r} is not defined in {path}; known: {', '.join(sorted(profiles))}"
        )
    prices = raw.get("prices", {})
    for key in ("active_profile", "theme"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise ConfigError(f"{path}: {key} = {raw[key]!r}; expected a string")
    return Config(
        path=path,
        active_profile=active,
        profiles=profiles,
        theme=raw.get("theme"),
        prices=prices if isinstance(prices, dict) else {},
        warnings=tuple(warnings),
        raw=raw,
    )


def save_setting(key: str, value: Any, path: Path | None = None) -> None:
    """Write one top-level setting (e.g. the theme), keeping the rest of the file, mode 0600."""
    path = path or config_path()
    raw: dict[str, Any] = {}
    if path.exists():
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    raw[key] = value
    write_config(raw, path)


def write_config(raw: dict[str, Any], path: Path | None = None) -> None:
    """Write the whole config file atomically; it is created 0600 since it may hold a key."""
    import tomli_w

    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        tomli_w.dump(raw, fh)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
