"""Named prompts: drafts saved as you type, frozen versions, restore without losing anything."""

from __future__ import annotations

import pytest

from workbench.core.fewshot import FewShotSelection
from workbench.store import prompts as store
from workbench.store.db import open_db
from workbench.store.runs import list_runs, record_run
from workbench.store.selection import get_selection, set_selection


def test_edits_go_into_one_draft_until_saved(db):
    store.create_prompt(db, "mail", system="sort", template="{{x}}")
    store.save_draft(db, "mail", template="{{x}}!")
    store.save_draft(db, "mail", variables={"x": "hi"})
    versions = store.list_versions(db, "mail")
    assert len(versions) == 1 and versions[0].draft
    assert versions[0].template == "{{x}}!" and versions[0].variables == {"x": "hi"}

    saved = store.save_version(db, "mail", "  first try ")
    assert not saved.draft and saved.note == "first try" and saved.number == 1
    # no change since the frozen version: no new draft
    assert store.save_draft(db, "mail", template="{{x}}!").id == saved.id
    draft = store.save_draft(db, "mail", system="sort mail")
    assert draft.number == 2 and draft.draft
    assert store.latest_version(db, "mail").id == draft.id
    assert store.latest_frozen(db, "mail").id == saved.id
    with pytest.raises(ValueError, match="colour"):
        store.save_draft(db, "mail", colour="red")


def test_restore_makes_a_new_version_and_keeps_the_draft(db):
    store.create_prompt(db, "p", system="one")
    v1 = store.save_version(db, "p", "v1")
    store.save_draft(db, "p", system="two")  # unsaved draft
    restored = store.restore_version(db, v1.id)
    assert restored.system == "one" and restored.note == "restored from v1"
    notes = [(v.number, v.system, v.note, v.draft) for v in store.list_versions(db, "p")]
    assert notes == [
        (3, "one", "restored from v1", False),
        (2, "two", "saved before restoring v1", False),
        (1, "one", "v1", False),
    ]


def test_version_for_run_freezes_prompt_changes_but_not_new_inputs(db):
    store.create_prompt(db, "p", template="{{q}}")
    first = store.version_for_run(db, "p")
    assert not first.draft and first.note == "auto-saved for a run"
    store.save_draft(db, "p", variables={"q": "another input"})
    assert store.version_for_run(db, "p").id == first.id
    store.save_draft(db, "p", template="Q: {{q}}")
    second = store.version_for_run(db, "p")
    assert second.number == first.number + 1 and second.template == "Q: {{q}}"


def test_named_prompts_rename_carries_runs_and_selection(db):
    store.create_prompt(db, "a", system="x")
    store.create_prompt(db, "b", copy_from="a")
    assert store.latest_version(db, "b").system == "x"
    with pytest.raises(ValueError, match="already"):
        store.create_prompt(db, "a")
    record_run(db, prompt_name="a", approach="zero-shot", model="m", messages=[])
    set_selection(db, "a", FewShotSelection(ids=(4, 5)))
    store.rename_prompt(db, "a", "alpha")
    assert [p.name for p in store.list_prompts(db)] == ["alpha", "b"]
    assert list_runs(db, prompt="alpha")[0].prompt_name == "alpha"
    assert get_selection(db, "alpha").ids == (4, 5)
    assert store.latest_version(db, "a") is None
    assert store.most_recent_prompt(db) == "alpha"


def test_versions_survive_reopening(db_path):
    first = open_db(db_path)
    store.ensure_prompt(first, "keep", template="t")
    store.save_version(first, "keep", "kept")
    first.close()
    again = open_db(db_path)
    assert [v.note for v in store.list_versions(again, "keep")] == ["kept"]
    again.close()


def test_a_note_typed_after_a_run_froze_the_version_is_kept(db):
    """ctrl+s after a run had frozen the draft said "no changes since v1" and dropped the note."""
    store.create_prompt(db, "p", template="{{q}}")
    frozen = store.version_for_run(db, "p")
    saved = store.save_version(db, "p", "  works for refunds ")
    assert saved.id == frozen.id and saved.note == "works for refunds"
    again = store.save_version(db, "p", "and for invoices")
    assert again.id == frozen.id and again.note == "works for refunds · and for invoices"
    assert store.save_version(db, "p", "").note == again.note
