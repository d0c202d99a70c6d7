"""Templates, placeholders, the messages per approach, token counts and version diffs."""

from __future__ import annotations

import pytest
import tiktoken

from workbench.core.prompts import (
    MissingVariables,
    assemble_messages,
    diff_versions,
    missing_variables,
    placeholder_spans,
    placeholders,
    prompt_size,
    render,
)
from workbench.core.tokens import get_tokenizer
from workbench.store.examples import Example


def test_placeholders_in_order_of_first_use_each_once():
    assert placeholders("{{b}} and {{ a }} then {{b}}", "{{c.d}}") == ["b", "a", "c.d"]
    assert placeholders("no {vars} here {{ }} {{1x}}") == []


def test_placeholder_spans_are_character_offsets():
    assert placeholder_spans("é {{name}}!") == [(2, 10, "name")]


def test_render_is_literal_and_strict():
    text = render("Say {{a}} to {{b}}", {"a": "{{b}} [/INST]", "b": "you"})
    assert text == "Say {{b}} [/INST] to you"
    with pytest.raises(MissingVariables) as info:
        render("{{x}} {{y}} {{z}}", {"y": "ok", "z": ""})
    assert info.value.names == ["x", "z"]
    assert "{{x}}" in str(info.value) and "{{z}}" in str(info.value)
    assert render("{{x}} {{y}}", {"y": "1"}, strict=False) == "{{x}} 1"
    assert missing_variables("{{x}} {{y}}", {"x": 0}) == ["y"]


def _example(i: int, q: str, a: str) -> Example:
    return Example(
        id=i,
        split="few-shot",
        data={
            "messages": [
                {"role": "system", "content": "ignored"},
                {"role": "user", "content": q},
                {"role": "assistant", "content": a},
            ]
        },
    )


def test_assemble_messages_per_approach():
    args = ("Be brief.", "Q: {{q}}", {"q": "2+2?"})
    examples = [
        _example(1, "1+1?", "2"),
        [{"role": "user", "content": "3+3?"}, {"role": "assistant", "content": "6"}],
    ]
    assert assemble_messages("zero-shot", *args, examples) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Q: 2+2?"},
    ]
    assert assemble_messages("few-shot", *args, examples) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "1+1?"},
        {"role": "assistant", "content": "2"},
        {"role": "user", "content": "3+3?"},
        {"role": "assistant", "content": "6"},
        {"role": "user", "content": "Q: 2+2?"},
    ]
    assert assemble_messages("fine-tuned", *args, examples, ft_system="Math.") == [
        {"role": "system", "content": "Math."},
        {"role": "user", "content": "Q: 2+2?"},
    ]
    # None: the full system prompt; "": no system message at all
    assert assemble_messages("fine-tuned", *args)[0]["content"] == "Be brief."
    assert assemble_messages("fine-tuned", *args, ft_system="") == [
        {"role": "user", "content": "Q: 2+2?"}
    ]
    assert assemble_messages("zero-shot", "  ", "hi", {}) == [{"role": "user", "content": "hi"}]
    with pytest.raises(ValueError, match="approach"):
        assemble_messages("two-shot", *args)
    with pytest.raises(MissingVariables):
        assemble_messages("zero-shot", "s", "{{missing}}", {})


@pytest.mark.requires_bpe
def test_prompt_size_matches_tiktoken_by_hand():
    enc = tiktoken.get_encoding("o200k_base")
    messages = [
        {"role": "system", "content": "You sort mail. [/INST]"},
        {"role": "user", "content": "Where does this go?"},
    ]
    size = prompt_size(messages, get_tokenizer("gpt-4.1-mini-2025-04-14"))
    expected = [3 + len(enc.encode(m["role"])) + len(enc.encode(m["content"])) for m in messages]
    assert [c.tokens for c in size.messages] == expected
    assert size.total == sum(expected) + 3
    assert size.exact
    assert prompt_size([], get_tokenizer("gpt-4.1-mini")).total == 0


def test_diff_versions_names_the_part_that_changed():
    old = {"system": "a", "template": "Hi {{n}}", "params": {"temperature": 1}}
    new = {"system": "a", "template": "Hello {{n}}", "params": {"temperature": 0.2}}
    lines = diff_versions(old, new, "v1", "v2")
    assert lines[0] == "--- v1" and lines[1] == "+++ v2"
    assert "-Hi {{n}}" in lines and "+Hello {{n}}" in lines
    assert "-temperature = 1" in lines and "+temperature = 0.2" in lines
    assert diff_versions(old, old) == []
