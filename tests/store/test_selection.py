"""The few-shot selection saved per prompt name."""

from __future__ import annotations

from workbench.core.fewshot import FewShotSelection
from workbench.store import examples as store
from workbench.store.db import open_db
from workbench.store.selection import get_selection, selected_examples, set_selection


def pair(q, a):
    return {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}


def test_default_selection_is_empty_manual(db):
    assert get_selection(db, "nothing") == FewShotSelection()
    assert selected_examples(db, "nothing") == []


def test_selection_persists_per_prompt_name(db_path):
    db = open_db(db_path)
    set_selection(db, "support", FewShotSelection(ids=(3, 1)))
    set_selection(db, "sql", FewShotSelection(mode="tag", k=2, tag="joins"))
    set_selection(db, "support", FewShotSelection(ids=(1, 3)))
    db.close()
    db = open_db(db_path)
    assert get_selection(db, "support") == FewShotSelection(ids=(1, 3))
    assert get_selection(db, "sql") == FewShotSelection(mode="tag", k=2, tag="joins")
    db.close()


def test_selected_examples_manual_order_excludes_deleted_and_moved(db):
    a = store.add_example(db, pair("a", "A"), split="few-shot")
    b = store.add_example(db, pair("b", "B"), split="few-shot")
    c = store.add_example(db, pair("c", "C"), split="few-shot")
    d = store.add_example(db, pair("d", "D"), split="test")
    set_selection(db, "p", FewShotSelection(ids=(c.id, a.id, b.id, d.id)))
    assert [e.id for e in selected_examples(db, "p")] == [c.id, a.id, b.id]
    store.delete_example(db, a.id)
    ds = store.create_dataset(db, "train-set")
    store.promote_to_dataset(db, b.id, ds.id)
    assert [e.id for e in selected_examples(db, "p")] == [c.id]
    store.restore_example(db, a.id)
    assert [e.id for e in selected_examples(db, "p")] == [c.id, a.id]


def test_selected_examples_recent_and_tag(db):
    ids = [
        store.add_example(db, pair(f"q{i}", f"a{i}"), split="few-shot", tags=["t"] if i % 2 else [])
        for i in range(6)
    ]
    store.add_example(db, pair("held", "out"), split="test", tags=["t"])
    set_selection(db, "p", FewShotSelection(mode="recent", k=2))
    assert [e.id for e in selected_examples(db, "p")] == [ids[4].id, ids[5].id]
    set_selection(db, "p", FewShotSelection(mode="tag", k=2, tag="t"))
    assert [e.id for e in selected_examples(db, "p")] == [ids[3].id, ids[5].id]
    store.delete_example(db, ids[5].id)
    assert [e.id for e in selected_examples(db, "p")] == [ids[1].id, ids[3].id]
