"""Token counts (cookbook formula, tools, DPO), limits, the epochs rule and billed tokens.

Exact figures come from the cached BPE files (TIKTOKEN_CACHE_DIR, set by conftest).
"""

from __future__ import annotations

import copy

import pytest

from workbench.core.dataset import (
    billed_tokens,
    default_epochs,
    example_token_counts,
    token_limit,
)
from workbench.core.dataset_tokens import CL100K_TOOLS, O200K_TOOLS, tools_tokens
from workbench.core.tokens import Tokenizer, count_message_tokens, get_tokenizer

GOOD = {
    "messages": [
        {"role": "system", "content": "You are terse."},  # 3 + 1 + 4
        {"role": "user", "content": "What is the capital of France?"},  # 3 + 1 + 7
        {"role": "assistant", "content": "The capital of France is Paris."},  # 3 + 1 + 7
    ]
}  # + 3 reply priming = 33

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name."},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
        },
    },
}

pytestmark = pytest.mark.requires_bpe  # every test here compares exact counts


@pytest.fixture(scope="module")
def o200k() -> Tokenizer:
    tok = get_tokenizer("gpt-4.1-mini-2025-04-14")
    assert tok.exact, "needs the cached BPE files (TIKTOKEN_CACHE_DIR)"
    return tok


@pytest.fixture(scope="module")
def cl100k() -> Tokenizer:
    tok = get_tokenizer("gpt-3.5-turbo-0125")
    assert tok.exact
    return tok


def test_known_strings(o200k):
    # the figures the hand computations below rely on
    assert o200k.count("You are terse.") == 4
    assert o200k.count("What is the capital of France?") == 7
    assert o200k.count("The capital of France is Paris.") == 7
    assert o200k.count("get_weather:Get the weather for a city") == 8
    assert o200k.count("city:string:City name") == 5
    assert o200k.count("unit:string:") == 3
    assert o200k.count("celsius") == 2 and o200k.count("fahrenheit") == 2


def test_chat_formula_by_hand(o200k):
    assert example_token_counts(GOOD, o200k) == (33, 7)
    # the same as the project's shared formula
    assert count_message_tokens(GOOD["messages"], o200k) == 33


def test_name_costs_one_more(o200k):
    example = copy.deepcopy(GOOD)
    example["messages"][1]["name"] = "bob"  # 1 token + 1 for having a name
    assert example_token_counts(example, o200k) == (35, 7)


def test_numeric_weight_is_skipped_not_a_crash(o200k):
    example = copy.deepcopy(GOOD)
    example["messages"][2]["weight"] = 1
    assert example_token_counts(example, o200k) == (33, 7)
    example["messages"][2]["weight"] = 0
    # still billed (the whole example is), but not a trained assistant token
    assert example_token_counts(example, o200k) == (33, 0)


def test_tools_by_the_cookbook_formula(o200k, cl100k):
    # func_init 7 + "get_weather:Get the weather for a city" 8 (trailing "." dropped)
    # + prop_init 3
    # + city: prop_key 3 + "city:string:City name" 5
    # + unit: prop_key 3 + enum_init -3 + 2 x (enum_item 3 + 2) + "unit:string:" 3
    # + func_end 12
    expected = 7 + 8 + 3 + (3 + 5) + (3 - 3 + (3 + 2) + (3 + 2) + 3) + 12
    assert expected == 51
    assert tools_tokens([WEATHER_TOOL], o200k.count, O200K_TOOLS) == 51
    # gpt-3.5 / gpt-4: func_init 10
    assert tools_tokens([WEATHER_TOOL], cl100k.count, CL100K_TOOLS) == 54
    example = {**GOOD, "tools": [WEATHER_TOOL]}
    assert example_token_counts(example, o200k) == (33 + 51, 7)
    assert example_token_counts(example, cl100k)[0] == 33 + 54


def test_tool_calls_count_as_json_and_null_content_as_zero(o200k):
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
    }
    example = {
        "tools": [WEATHER_TOOL],
        "messages": [
            {"role": "user", "content": "What is the capital of France?"},  # 3 + 1 + 7
            {"role": "assistant", "content": None, "tool_calls": [call]},  # 3 + 1 + 0 + 29
            {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"},  # 3 + 1 + 3 + 4
            {"role": "assistant", "content": "It is 18C and sunny in Paris."},  # 3 + 1 + 10
        ],
    }
    assert (
        o200k.count(
            '[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]'
        )
        == 29
    )
    total, assistant = example_token_counts(example, o200k)
    assert total == 11 + 33 + 11 + 14 + 3 + 51
    assert assistant == 29 + 10


def test_dpo_counts_prompt_and_both_outputs(o200k):
    example = {
        "input": {"messages": [{"role": "user", "content": "What is the capital of France?"}]},
        "preferred_output": [{"role": "assistant", "content": "The capital of France is Paris."}],
        "non_preferred_output": [{"role": "assistant", "content": "You are terse."}],
    }
    # prompt 3+1+7 + priming 3, preferred 3+1+7, non-preferred 3+1+4
    assert example_token_counts(example, o200k, method="dpo") == (14 + 11 + 8, 7 + 4)


def test_the_estimate_counts_four_characters_a_token():
    estimate = Tokenizer("o200k_base", exact=False, note="offline")
    example = {
        "messages": [
            {"role": "user", "content": "x" * 40},
            {"role": "assistant", "content": "y" * 8},
        ]
    }
    # "user" and "assistant" round to 1 and 2
    assert example_token_counts(example, estimate) == (3 + 1 + 10 + 3 + 2 + 2 + 3, 2)


def test_counting_a_broken_example_does_not_raise(o200k):
    assert example_token_counts("nope", o200k) == (0, 0)
    assert example_token_counts({"messages": [None]}, o200k) == (0, 0)


@pytest.mark.parametrize(
    ("model", "limit"),
    [
        ("gpt-4o-2024-08-06", 65_536),
        ("gpt-4o-mini-2024-07-18", 65_536),
        ("gpt-4.1-2025-04-14", 65_536),
        ("gpt-4.1-mini-2025-04-14", 65_536),
        ("gpt-4.1-nano-2025-04-14", 32_768),
        ("gpt-3.5-turbo-0125", 16_385),
        ("gpt-3.5-turbo-0613", 4_096),
        ("ft:gpt-4.1-nano-2025-04-14:acme::x1", 32_768),
        ("ft:gpt-3.5-turbo-0125:acme::x1", 16_385),
        ("some-future-model", 65_536),
    ],
)
def test_token_limit(model, limit):
    assert token_limit(model) == limit


@pytest.mark.parametrize(
    ("examples", "epochs"),
    [
        (1, 25),  # 100 // 1 = 100, capped at 25
        (4, 25),
        (5, 20),  # 5 x 3 < 100: 100 // 5
        (10, 10),  # the guide's example job
        (20, 5),
        (33, 3),  # 99 < 100: 100 // 33 = 3
        (34, 3),  # 102 >= 100: the target
        (50, 3),
        (8_333, 3),  # 24,999 <= 25,000
        (8_334, 2),  # 25,002 > 25,000: 25,000 // 8,334
        (10_000, 2),
        (12_501, 1),
        (100_000, 1),  # never below 1
    ],
)
def test_default_epochs(examples, epochs):
    assert default_epochs(examples) == epochs


def test_billed_tokens_cap_each_example_at_the_limit():
    assert billed_tokens([10, 70_000, 5], 65_536) == 10 + 65_536 + 5
    assert billed_tokens([], 65_536) == 0
