"""Keep the host machine out of every test: temp config and data dirs, no real key, no network.

Fixtures shared by all test folders live here or in plugins listed in `pytest_plugins`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_TIKTOKEN = Path(__file__).resolve().parents[1].parent / "shared" / "tiktoken"

# The simulator fixture (`sim`) lives in its own module, registered here as a plugin.
pytest_plugins = ["tests.sim_fixture"]


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker a core, plus one. The UI and simulator tests spend about a third of
    their time waiting (debounces, poll intervals, a simulated job clock, a subprocess), so a
    third worker on 2 cores keeps them busy (three pane files: 111 s -> 92 s, same CPU time).
    PYTEST_XDIST_AUTO_NUM_WORKERS still overrides this."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    return (os.cpu_count() or 1) + 1


# Why tiktoken's BPE files cannot be loaded (tests marked requires_bpe skip), or None.
BPE_MISSING: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    global BPE_MISSING
    config.addinivalue_line(
        "markers",
        "requires_bpe: needs tiktoken's BPE files (exact token counts); skipped without them",
    )
    # The BPE files come from ../shared/tiktoken when the caller has not set a cache dir.
    if "TIKTOKEN_CACHE_DIR" not in os.environ and SHARED_TIKTOKEN.is_dir():
        os.environ["TIKTOKEN_CACHE_DIR"] = str(SHARED_TIKTOKEN)
    # Elsewhere, let tiktoken fetch and cache them once now: the tests themselves run with the
    # network blocked (see isolated_environment).
    try:
        import tiktoken

        for name in ("o200k_base", "cl100k_base"):
            tiktoken.get_encoding(name)
    except Exception as exc:  # offline with no cache: exact-count tests skip and say why
        BPE_MISSING = (
            f"tiktoken's BPE files are not available ({type(exc).__name__}); set "
            "TIKTOKEN_CACHE_DIR to a folder holding them, or run once with network"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if BPE_MISSING is None:
        return
    skip = pytest.mark.skip(reason=BPE_MISSING)
    for item in items:
        if item.get_closest_marker("requires_bpe"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own config file, data dir and database; no key from the host."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("WORKBENCH_CONFIG", str(home / ".config" / "workbench" / "config.toml"))
    monkeypatch.setenv("WORKBENCH_DB", str(tmp_path / "workbench.db"))
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "WORKBENCH_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    # any accidental request to a real host fails at once instead of hanging
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return tmp_path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "workbench.db"


@pytest.fixture
def db(db_path: Path):
    from workbench.store.db import open_db

    database = open_db(db_path)
    yield database
    database.close()
