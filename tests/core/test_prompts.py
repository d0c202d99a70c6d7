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
        {"role": "user", "content": "Q: 1+1?"},
        {"role": "assistant", "content": "2"},
        {"role": "user", "content": "Q: 3+3?"},
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


# --- the one renderer: the same user turn for every approach ----------------------------------


def test_every_approach_sends_the_same_user_turn_and_examples_go_through_the_template():
    from workbench.core.prompts import PromptShape, build_messages

    prompt = PromptShape("Label tickets.", "Ticket: {{input}}", {"input": "live"}, ft_system="FT.")
    shots = [[{"role": "user", "content": "printer jam"}, {"role": "assistant", "content": "hw"}]]
    sent = {
        a: build_messages(a, prompt, input_text="VPN down", examples=shots)
        for a in ("zero-shot", "few-shot", "few-shot-similar", "fine-tuned")
    }
    turns = {a: m[-1] for a, m in sent.items()}
    assert set(map(str, turns.values())) == {str({"role": "user", "content": "Ticket: VPN down"})}
    assert sent["few-shot"][1:3] == [
        {"role": "user", "content": "Ticket: printer jam"},
        {"role": "assistant", "content": "hw"},
    ]
    assert sent["zero-shot"][0]["content"] == "Label tickets."
    assert sent["fine-tuned"][0] == {"role": "system", "content": "FT."}
    assert len(sent["zero-shot"]) == len(sent["fine-tuned"]) == 2  # examples: few-shot only
    # without an input, the live variables fill the turn (the Prompt pane, `workbench run`)
    assert build_messages("zero-shot", prompt)[-1]["content"] == "Ticket: live"


def test_a_template_with_several_variables_maps_the_input_to_input_or_the_first_one():
    from workbench.core.prompts import PromptShape, build_messages, input_variable

    both = PromptShape("", "[{{lang}}] {{input}}", {"lang": "fr", "input": "x"})
    assert input_variable(both.template) == "input"
    few = build_messages(
        "few-shot",
        both,
        input_text="bonjour",
        examples=[
            [{"role": "user", "content": "merci"}, {"role": "assistant", "content": "thanks"}]
        ],
    )
    # the example's input takes {{input}}; {{lang}} keeps its live value, in the example too
    assert [m["content"] for m in few] == ["[fr] merci", "thanks", "[fr] bonjour"]
    first = PromptShape("", "Q ({{topic}}) for {{audience}}", {"topic": "t", "audience": "kids"})
    assert input_variable(first.template) == "topic"
    assert build_messages("zero-shot", first, input_text="stars")[-1]["content"] == (
        "Q (stars) for kids"
    )
    # no variables: the template is an instruction the input follows; empty: the input as is
    plain = PromptShape("", "Answer in one word.")
    assert build_messages("zero-shot", plain, input_text="2+2?")[-1]["content"] == (
        "Answer in one word.\n\n2+2?"
    )
    assert build_messages("zero-shot", PromptShape(), input_text="hi")[-1]["content"] == "hi"
    # a variable with no value is named before anything is sent
    with pytest.raises(MissingVariables):
        build_messages("zero-shot", PromptShape("", "{{input}} {{tone}}"), input_text="x")
