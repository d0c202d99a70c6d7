"""The per-example rules: each one with its stable code, for supervised and DPO examples."""

from __future__ import annotations

import copy

import pytest

from workbench.core.dataset import Problem, validate_example

GOOD = {
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "The capital of France is Paris."},
    ]
}

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "City name."}},
            },
        },
    }
]

TOOL_EXAMPLE = {
    "tools": TOOLS,
    "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"},
        {"role": "assistant", "content": "It is 18C and sunny in Paris."},
    ],
}

DPO_GOOD = {
    "input": {"messages": [{"role": "user", "content": "Say hi"}]},
    "preferred_output": [{"role": "assistant", "content": "Hi!"}],
    "non_preferred_output": [{"role": "assistant", "content": "Go away."}],
}


def codes(problems: list[Problem], severity: str | None = None) -> list[str]:
    return [p.code for p in problems if severity is None or p.severity == severity]


def with_messages(*messages, **extra):
    return {"messages": list(messages), **extra}


def test_good_examples_have_no_problems():
    assert validate_example(GOOD) == []
    assert validate_example(TOOL_EXAMPLE) == []
    assert validate_example(DPO_GOOD, method="dpo") == []


def test_problems_carry_the_line_number_given():
    problems = validate_example([1, 2], line=42)
    assert problems == [Problem(42, "not_an_object", problems[0].message)]
    assert "found a list" in problems[0].message


USER = {"role": "user", "content": "hi"}
ASSISTANT = {"role": "assistant", "content": "hello"}


@pytest.mark.parametrize(
    ("example", "code", "words"),
    [
        ("just a string", "not_an_object", "found a string"),
        ({"prompt": "x", "completion": "y"}, "missing_messages", "legacy format"),
        ({"text": "x"}, "missing_messages", "no `messages`"),
        ({"messages": "hi"}, "missing_messages", "found a string"),
        ({"messages": []}, "empty_messages", "empty"),
        (with_messages("hi", ASSISTANT), "invalid_message", "messages[0]"),
        (with_messages({"content": "hi"}, ASSISTANT), "missing_role", "messages[0]"),
        (with_messages({"role": "bot", "content": "hi"}, ASSISTANT), "unknown_role", '"bot"'),
        (with_messages(USER, {"role": "assistant"}), "missing_content", "messages[1]"),
        (
            with_messages({"role": "user", "content": 5}, ASSISTANT),
            "invalid_content_type",
            "number",
        ),
        (
            with_messages({"role": "user", "content": [{"type": "audio"}]}, ASSISTANT),
            "invalid_content_type",
            "content[0]",
        ),
        (with_messages(USER, {"role": "assistant", "content": ""}), "empty_content", "nothing"),
        (
            with_messages({"role": "system", "content": "x"}, USER),
            "no_assistant_target",
            "no assistant",
        ),
        (with_messages(USER, {**ASSISTANT, "weight": 2}), "invalid_weight", "0 or 1"),
        (with_messages(USER, {**ASSISTANT, "weight": "1"}), "invalid_weight", '"1"'),
        (with_messages(USER, {**ASSISTANT, "weight": True}), "invalid_weight", "true"),
        (with_messages({**USER, "weight": 1}, ASSISTANT), "weight_not_on_assistant", "user"),
        (
            with_messages(
                USER,
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                ASSISTANT,
            ),
            "tool_calls_without_tools",
            "no `tools`",
        ),
        (
            with_messages(
                USER,
                {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}},
                ASSISTANT,
            ),
            "tool_calls_without_tools",
            "no `functions`",
        ),
        (
            with_messages(USER, {"role": "tool", "content": "18C"}, ASSISTANT, tools=TOOLS),
            "missing_tool_call_id",
            "messages[1]",
        ),
        (
            with_messages(USER, {"role": "user", "content": "a <|endoftext|> b"}, ASSISTANT),
            "special_token",
            "<|endoftext|>",
        ),
        (
            with_messages(USER, {"role": "assistant", "content": "<|fim_suffix|>"}),
            "special_token",
            "messages[1].content",
        ),
        (with_messages(USER, ASSISTANT, tools={"a": 1}), "invalid_tools", "must be a list"),
        (with_messages(USER, ASSISTANT, tools=[{"type": "web"}]), "invalid_tools", "tools[0]"),
        (
            with_messages(USER, ASSISTANT, parallel_tool_calls="yes"),
            "invalid_field",
            "parallel_tool_calls",
        ),
        (with_messages({**USER, "name": 7}, ASSISTANT), "invalid_field", "name"),
    ],
)
def test_each_supervised_rule(example, code, words):
    problems = validate_example(example, line=7)
    errors = [p for p in problems if p.code == code]
    assert errors, f"expected {code}, got {problems}"
    assert all(p.line == 7 for p in problems)
    assert any(words in p.message for p in errors), errors
    assert errors[0].severity == "error"


def tool_example_with(arguments):
    example = copy.deepcopy(TOOL_EXAMPLE)
    example["messages"][1]["tool_calls"][0]["function"]["arguments"] = arguments
    return example


def test_a_tool_reply_must_answer_an_earlier_call():
    example = copy.deepcopy(TOOL_EXAMPLE)
    example["messages"][2]["tool_call_id"] = "call_9"
    problems = validate_example(example)
    assert [(p.code, p.severity) for p in problems] == [("unknown_tool_call_id", "warning")]
    assert '"call_9"' in problems[0].message


def test_a_function_message_names_its_function():
    example = with_messages(
        USER,
        {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}},
        {"role": "function", "content": "42"},
        ASSISTANT,
        functions=[{"name": "f"}],
    )
    problems = validate_example(example)
    assert codes(problems) == ["invalid_field"]
    assert "messages[2]" in problems[0].message


def test_tool_arguments_must_be_a_json_string():
    as_object = validate_example(tool_example_with({"city": "Paris"}))
    assert codes(as_object) == ["invalid_tool_arguments"]
    assert "found an object" in as_object[0].message
    broken = validate_example(tool_example_with("{city: Paris"))
    assert codes(broken) == ["invalid_tool_arguments"]
    assert "not valid JSON" in broken[0].message


def test_tool_call_structure():
    example = copy.deepcopy(TOOL_EXAMPLE)
    example["messages"][1]["tool_calls"] = [{"type": "function"}]
    problems = validate_example(example)
    assert codes(problems, "error") == ["invalid_tool_call", "invalid_tool_call"]
    assert "tool_calls[0].id" in problems[0].message
    assert "tool_calls[0].function" in problems[1].message
    # and the tool reply now answers no call
    assert codes(problems, "warning") == ["unknown_tool_call_id"]
    example["messages"][1]["tool_calls"] = []
    assert codes(validate_example(example), "error") == ["invalid_tool_call"]


def test_content_none_is_allowed_only_with_tool_calls():
    assert validate_example(TOOL_EXAMPLE) == []
    no_calls = with_messages(USER, {"role": "assistant", "content": None})
    assert codes(validate_example(no_calls)) == ["missing_content"]


def test_every_role_including_developer_and_legacy_function():
    example = with_messages(
        {"role": "developer", "content": "Be brief."},
        {"role": "system", "content": "You help."},
        USER,
        {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}},
        {"role": "function", "name": "f", "content": "42"},
        ASSISTANT,
        functions=[{"name": "f", "parameters": {"type": "object", "properties": {}}}],
    )
    assert validate_example(example) == []


def test_numeric_weights_are_fine():
    example = with_messages(USER, {**ASSISTANT, "weight": 0}, USER, {**ASSISTANT, "weight": 1})
    assert validate_example(example) == []
    example = with_messages(USER, {**ASSISTANT, "weight": 1.0})
    assert validate_example(example) == []


def test_weight_0_on_every_assistant_message_is_a_warning_and_still_billed():
    """OpenAI names no rule against it and bills the whole example: warn, do not refuse."""
    from workbench.core.dataset import example_token_counts
    from workbench.core.tokens import get_tokenizer

    o200k = get_tokenizer("gpt-4.1-mini")
    example = with_messages(USER, {**ASSISTANT, "weight": 0}, USER, {**ASSISTANT, "weight": 0})
    problems = validate_example(example)
    assert [(p.code, p.severity) for p in problems] == [("teaches_nothing", "warning")]
    assert "teaches nothing" in problems[0].message
    total, assistant = example_token_counts(example, o200k)
    trained = with_messages(USER, ASSISTANT, USER, ASSISTANT)
    assert total == example_token_counts(trained, o200k)[0] and assistant == 0
    # with no assistant message at all there is nothing to bill against: still an error
    no_assistant = validate_example(with_messages(USER))
    assert [(p.code, p.severity) for p in no_assistant] == [("no_assistant_target", "error")]


def test_unknown_keys_are_warnings():
    example = with_messages({**USER, "metadata": {}}, ASSISTANT, id="x1")
    problems = validate_example(example)
    assert codes(problems, "warning") == ["unknown_key", "unknown_key"]
    assert codes(problems, "error") == []


def test_empty_user_content_is_a_warning():
    problems = validate_example(with_messages({"role": "user", "content": "  "}, ASSISTANT))
    assert [(p.code, p.severity) for p in problems] == [("empty_content", "warning")]


def test_content_parts_are_accepted():
    example = with_messages(
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            ],
        },
        {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]},
    )
    assert validate_example(example) == []


def test_special_tokens_in_tool_definitions_and_escaped_json():
    example = copy.deepcopy(TOOL_EXAMPLE)
    example["tools"][0]["function"]["description"] = "Use <|im_start|> here"
    problems = validate_example(example)
    assert codes(problems) == ["special_token"]
    assert "tools[0].function.description" in problems[0].message
    # an ordinary `<` or `|` is fine
    assert validate_example(with_messages({**USER, "content": "a < b | c > d <|"}, ASSISTANT)) == []


def test_a_dpo_looking_line_gets_a_hint_in_supervised_mode():
    problems = validate_example(DPO_GOOD)
    assert codes(problems)[0] == "missing_messages"
    assert "dpo method" in problems[0].message


def test_too_many_tokens_needs_a_model():
    long = with_messages(USER, {"role": "assistant", "content": "word " * 17_000})
    assert validate_example(long) == []
    problems = validate_example(long, model="gpt-3.5-turbo-0125", line=3)
    assert [(p.line, p.code, p.severity) for p in problems] == [(3, "too_many_tokens", "warning")]
    assert "16,385" in problems[0].message
    assert validate_example(long, model="gpt-4o-mini-2024-07-18") == []


# --- DPO --------------------------------------------------------------------------------------


def dpo(**changes):
    example = copy.deepcopy(DPO_GOOD)
    for key, value in changes.items():
        if value is None:
            example.pop(key, None)
        else:
            example[key] = value
    return example


@pytest.mark.parametrize(
    ("example", "code", "words"),
    [
        (dpo(input=None), "missing_input", "no `input`"),
        (GOOD, "missing_input", "supervised method"),
        (dpo(input={"messages": []}), "empty_messages", "input.messages"),
        (dpo(input={"prompt": "x"}), "missing_messages", "input.messages"),
        (dpo(preferred_output=None), "missing_preferred_output", "no `preferred_output`"),
        (dpo(non_preferred_output=None), "missing_non_preferred_output", "non_preferred_output"),
        (
            dpo(preferred_output=[{"role": "assistant", "content": "a"}] * 2),
            "invalid_dpo_output",
            "2 items",
        ),
        (
            dpo(preferred_output={"role": "assistant", "content": "a"}),
            "invalid_dpo_output",
            "an object",
        ),
        (
            dpo(non_preferred_output=[{"role": "user", "content": "a"}]),
            "invalid_dpo_output",
            "assistant",
        ),
        (
            dpo(preferred_output=[{"role": "assistant", "content": ""}]),
            "empty_content",
            "preferred_output[0]",
        ),
        (
            dpo(
                input={
                    "messages": [
                        {"role": "user", "content": "a"},
                        {"role": "assistant", "content": "b"},
                        {"role": "user", "content": "c"},
                    ]
                }
            ),
            "dpo_not_single_turn",
            "one turn",
        ),
        (
            dpo(
                input={
                    "messages": [{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}]
                }
            ),
            "unknown_role",
            "input.messages[1]",
        ),
        (
            dpo(input={"messages": [{"role": "user", "content": "say <|endoftext|>"}]}),
            "special_token",
            "input.messages[0].content",
        ),
    ],
)
def test_each_dpo_rule(example, code, words):
    problems = validate_example(example, method="dpo", line=2)
    errors = [p for p in problems if p.code == code]
    assert errors, f"expected {code}, got {problems}"
    assert any(words in p.message for p in errors), errors
    assert all(p.line == 2 for p in problems)


def test_dpo_legacy_field_names_are_named():
    example = dpo(preferred_output=None)
    example["preferred_completion"] = [{"role": "assistant", "content": "Hi!"}]
    problems = validate_example(example, method="dpo")
    assert codes(problems) == ["missing_preferred_output"]
    assert "rename it to `preferred_output`" in problems[0].message


def test_dpo_identical_outputs_is_a_warning():
    same = [{"role": "assistant", "content": "Hi!"}]
    problems = validate_example(dpo(non_preferred_output=same), method="dpo")
    assert [(p.code, p.severity) for p in problems] == [("identical_outputs", "warning")]
