"""Few-shot selection modes and what an example adds to a prompt."""

from __future__ import annotations

import pytest

from workbench.core.fewshot import (
    FewShotSelection,
    example_pair_messages,
    example_tokens,
    few_shot_messages,
    pair_from_messages,
    select_examples,
)
from workbench.core.tokens import get_tokenizer
from workbench.store.examples import Example


def ex(id_, text="q", *, split="few-shot", tags=(), created=None, deleted=None, messages=None):
    msgs = messages or [
        {"role": "user", "content": f"{text} {id_}"},
        {"role": "assistant", "content": f"answer {id_}"},
    ]
    return Example(
        id=id_,
        data={"messages": msgs},
        split=split,
        tags=list(tags),
        created_at=created or f"2026-11-25T10:00:{id_:02d}.000+00:00",
        deleted_at=deleted,
    )


def test_manual_keeps_pick_order_and_skips_unknown_ids():
    pool = [ex(1), ex(2), ex(3)]
    chosen = select_examples(pool, FewShotSelection(ids=(3, 1, 99)))
    assert [e.id for e in chosen] == [3, 1]


def test_manual_excludes_deleted_and_other_splits():
    pool = [
        ex(1),
        ex(2, split="test"),
        ex(3, split="train"),
        ex(4, deleted="2026-11-25T11:00:00"),
        ex(5, split="validation"),
    ]
    chosen = select_examples(pool, FewShotSelection(ids=(1, 2, 3, 4, 5)))
    assert [e.id for e in chosen] == [1]


def test_recent_k_takes_newest_and_puts_them_oldest_first():
    pool = [ex(i) for i in range(1, 7)] + [ex(7, split="test"), ex(8, deleted="x")]
    chosen = select_examples(pool, FewShotSelection(mode="recent", k=3))
    assert [e.id for e in chosen] == [4, 5, 6]


def test_tag_k_filters_by_tag():
    pool = [
        ex(1, tags=["billing"]),
        ex(2, tags=["billing", "tone"]),
        ex(3, tags=["tone"]),
        ex(4, tags=["billing"], split="train"),
        ex(5, tags=["billing"]),
    ]
    chosen = select_examples(pool, FewShotSelection(mode="tag", k=2, tag="billing"))
    assert [e.id for e in chosen] == [2, 5]
    assert select_examples(pool, FewShotSelection(mode="tag", k=2, tag=None)) == []


def test_bad_mode_is_refused():
    with pytest.raises(ValueError):
        FewShotSelection(mode="random")


def test_toggled_appends_then_removes():
    sel = FewShotSelection().toggled(5).toggled(2).toggled(5)
    assert sel.ids == (2,)
    assert sel.mode == "manual"


def test_pair_messages_drop_system_and_training_keys():
    e = ex(
        1,
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello", "weight": 1},
        ],
    )
    assert example_pair_messages(e) == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
    ]
    assert few_shot_messages([e, e]) == example_pair_messages(e) * 2


def test_example_without_pair_is_never_selected():
    empty = ex(1, messages=[{"role": "system", "content": "only system"}])
    assert select_examples([empty], FewShotSelection(ids=(1,))) == []


@pytest.mark.requires_bpe
def test_example_tokens_match_tiktoken():
    import tiktoken

    enc = tiktoken.get_encoding("o200k_base")
    e = ex(
        1,
        messages=[
            {"role": "user", "content": "[/INST] hi"},
            {"role": "assistant", "content": "ok"},
        ],
    )
    expected = sum(
        3 + len(enc.encode(t)) + len(enc.encode(r))
        for r, t in [("user", "[/INST] hi"), ("assistant", "ok")]
    )
    assert example_tokens(e, get_tokenizer("gpt-4.1-mini")) == expected


def test_pair_from_messages_takes_last_user_and_following_reply():
    msgs = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "one"},
        {"role": "user", "content": "second"},
        {"role": "assistant", "content": "two"},
    ]
    assert pair_from_messages(msgs) == ("second", "two")
    assert pair_from_messages([]) == ("", "")


# --- imports ---------------------------------------------------------------------------------

DATA = __import__("pathlib").Path(__file__).resolve().parents[1] / "data"


def test_example_from_row_shapes():
    from workbench.core.fewshot import example_from_row, pair_data

    chat = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    assert example_from_row(chat) == (chat, "")
    assert example_from_row({"prompt": "p", "completion": "c"}) == (pair_data("p", "c"), "")
    assert example_from_row({"input": "p", "output": ""}) == (None, "'output' is missing or empty")
    assert example_from_row([1]) == (None, "not a JSON object")
    assert example_from_row({"messages": [{"role": "assistant", "content": "a"}]})[1] == (
        "no user message"
    )
    assert example_from_row({"text": "x"})[0] is None


def test_read_jsonl_rows_keep_line_numbers():
    from workbench.core.fewshot import read_import_rows

    rows = list(read_import_rows(DATA / "examples_import.jsonl"))
    assert [(r.line, r.data is not None) for r in rows] == [
        (1, True),
        (2, True),
        (3, False),
        (4, False),
        (6, True),
    ]
    assert rows[0].tags == ("geo",)
    assert rows[3].error == "no assistant reply after the last user message"
    assert rows[4].tags == ("math", "quick")


def test_read_csv_rows_and_missing_columns(tmp_path):
    from workbench.core.fewshot import pair_data, read_import_rows

    rows = list(read_import_rows(DATA / "examples_import.csv"))
    assert [r.line for r in rows] == [2, 3, 5, 6]
    assert rows[0] == rows[0].__class__(
        2, pair_data("Translate 'chat' to English", "cat"), ("lang", "fr")
    )
    assert rows[2].error == "'output' is empty"
    other = tmp_path / "pc.csv"
    other.write_text("Prompt,Completion\nhi,there\n", encoding="utf-8")
    assert [r.data for r in read_import_rows(other)] == [pair_data("hi", "there")]
    bad = tmp_path / "bad.csv"
    bad.write_text("q,a\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1: needs input/output"):
        list(read_import_rows(bad))


def test_import_report_summary():
    from workbench.core.fewshot import ImportReport

    report = ImportReport("f.jsonl", added=1, skipped=[(i, "bad") for i in range(2, 9)])
    assert report.summary() == (
        "Imported 1 example from f.jsonl; skipped 7: line 2: bad; line 3: bad; line 4: bad; "
        "line 5: bad; line 6: bad (+2 more)"
    )
    assert ImportReport("f", error="nope").summary() == "Import failed: nope"


def test_token_costs_recount_after_an_edit():
    from dataclasses import replace

    from workbench.core.fewshot import TokenCosts

    tok = get_tokenizer("gpt-4.1-mini")
    costs = TokenCosts()
    e = ex(1, "short")
    first = costs.cost(e, tok)
    longer = replace(
        e,
        data={
            "messages": [
                {"role": "user", "content": "a much longer question " * 5},
                {"role": "assistant", "content": "ok"},
            ]
        },
        updated_at="later",
    )
    assert costs.cost(longer, tok) > first
    assert costs.total([e, longer], tok) == first + costs.cost(longer, tok)


def test_similar_k_picks_the_closest_inputs_per_request_and_never_a_test_row():
    from workbench.core.fewshot import select_similar, similar_index

    def ex(i, text, split="few-shot"):
        return Example(
            id=i,
            data={
                "messages": [
                    {"role": "user", "content": text},
                    {"role": "assistant", "content": "a"},
                ]
            },
            split=split,
            updated_at="t",
        )

    pool = [
        ex(1, "printer out of toner"),
        ex(2, "vpn will not connect from home"),
        ex(3, "refund for a double charge on my card"),
        ex(4, "vpn drops every hour", split="test"),  # held out: never in a prompt
        ex(5, "laptop screen flickers"),
    ]
    chosen = select_similar(pool, "my vpn keeps disconnecting", 2)
    assert 4 not in [e.id for e in chosen] and len(chosen) == 2
    assert chosen[-1].id == 2  # the closest sits nearest the question
    assert [e.id for e in select_similar(pool, "charged twice, refund please", 1)] == [3]
    assert select_similar(pool, "anything", 0) == []
    # the index is built once per example set
    assert similar_index(pool) is similar_index(list(pool))
