"""A second process holding the write lock: writes wait, then fail without losing anything."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from workbench.store import prompts
from workbench.store.db import is_busy, open_db


@pytest.fixture
def short_busy(monkeypatch):
    monkeypatch.setenv("WORKBENCH_BUSY_TIMEOUT", "0.3")


def hold_lock(path) -> sqlite3.Connection:
    other = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_save_draft_waits_for_the_lock_instead_of_failing_at_once(db_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_BUSY_TIMEOUT", "5")
    db = open_db(db_path)
    prompts.ensure_prompt(db, "p", system="one")
    prompts.latest_version(db, "p")  # a read first: a deferred transaction could not upgrade
    other = hold_lock(db_path)
    threading.Timer(0.5, other.rollback).start()
    saved = prompts.save_draft(db, "p", system="two")
    assert saved.system == "two"


def test_save_draft_after_the_timeout_raises_busy_and_changes_nothing(db_path, short_busy):
    db = open_db(db_path)
    prompts.ensure_prompt(db, "p", system="one")
    other = hold_lock(db_path)
    try:
        with pytest.raises(sqlite3.OperationalError) as info:
            prompts.save_draft(db, "p", system="two")
        assert is_busy(info.value)
    finally:
        other.rollback()
    assert prompts.latest_version(db, "p").system == "one"
    assert prompts.save_draft(db, "p", system="two").system == "two"


def test_a_draft_changed_by_another_handle_is_a_conflict_not_an_overwrite(db_path):
    mine, theirs = open_db(db_path), open_db(db_path)
    loaded = prompts.ensure_prompt(mine, "p", system="base")
    prompts.save_draft(theirs, "p", system="theirs")
    with pytest.raises(prompts.DraftConflict):
        prompts.save_draft(mine, "p", base=loaded, system="mine")
    assert prompts.latest_version(mine, "p").system == "theirs"


def test_a_run_freezes_what_it_sent_even_if_another_window_saved_meanwhile(db_path):
    mine, theirs = open_db(db_path), open_db(db_path)
    loaded = prompts.ensure_prompt(mine, "p", system="sent", template="q")
    prompts.save_draft(theirs, "p", system="other window")
    version = prompts.version_for_run(mine, "p", sent=loaded.content())
    assert version.system == "sent" and not version.draft
