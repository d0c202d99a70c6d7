"""What one training example costs in tokens, as OpenAI counts it for fine-tuning.

The cookbook's formulas ("How to count tokens with tiktoken"): chat framing per message, the
tool-definition overheads per encoding, and the split of an example into the tokens it is billed
for and the tokens it is trained on. Kept apart from the rules (`dataset_rules`), which say whether
an example is accepted at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Chat framing (cookbook "How to count tokens with tiktoken"), same constants as core/tokens.py.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3


@dataclass(frozen=True)
class ToolTokenConstants:
    """The cookbook's tool-definition overheads (How_to_count_tokens_with_tiktoken.ipynb)."""

    func_init: int
    prop_init: int = 3
    prop_key: int = 3
    enum_init: int = -3
    enum_item: int = 3
    func_end: int = 12


O200K_TOOLS = ToolTokenConstants(func_init=7)  # gpt-4o / 4.1 / o-series
CL100K_TOOLS = ToolTokenConstants(func_init=10)  # gpt-3.5 / gpt-4


def tool_constants(encoding_name: str) -> ToolTokenConstants:
    return CL100K_TOOLS if encoding_name == "cl100k_base" else O200K_TOOLS


def _text(value: Any, key: str = "") -> str:
    """What the model reads for a message field: text parts of `content` (images are priced
    apart), compact JSON for tool calls and other structured values."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if key == "content" and isinstance(value, list):
        return "".join(
            str(p.get("text", ""))
            for p in value
            if isinstance(p, Mapping) and p.get("type") == "text"
        )
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def message_tokens(messages: list, count: Callable[[str], int]) -> tuple[int, int]:
    """(framing + every field except `weight`, tokens of trained assistant messages), no priming."""
    total = 0
    assistant = 0
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            if key == "weight":
                continue
            total += count(value) if value.__class__ is str else count(_text(value, key))
            if key == "name":
                total += TOKENS_PER_NAME
        if message.get("role") == "assistant" and message.get("weight", 1) != 0:
            for key in ("content", "tool_calls", "function_call"):
                value = message.get(key)
                if value is not None:
                    assistant += (
                        count(value) if value.__class__ is str else count(_text(value, key))
                    )
    return total, assistant


def tools_tokens(tools: list, count: Callable[[str], int], constants: ToolTokenConstants) -> int:
    """Tokens of the tool definitions, by the cookbook's formula (nested schemas not counted)."""
    if not tools:
        return 0
    c = constants
    total = 0
    for tool in tools:
        function = tool.get("function", tool) if isinstance(tool, dict) else {}
        if not isinstance(function, dict):
            continue
        total += c.func_init
        description = str(function.get("description") or "")
        if description.endswith("."):
            description = description[:-1]
        total += count(f"{function.get('name', '')}:{description}")
        parameters = function.get("parameters")
        properties = parameters.get("properties") if isinstance(parameters, dict) else None
        if isinstance(properties, dict) and properties:
            total += c.prop_init
            for key, prop in properties.items():
                total += c.prop_key
                prop = prop if isinstance(prop, dict) else {}
                enum = prop.get("enum")
                if isinstance(enum, list):
                    total += c.enum_init
                    for item in enum:
                        total += c.enum_item + count(item if isinstance(item, str) else _text(item))
                p_type = prop.get("type", "")
                p_type = p_type if isinstance(p_type, str) else _text(p_type)
                p_desc = str(prop.get("description") or "")
                if p_desc.endswith("."):
                    p_desc = p_desc[:-1]
                total += count(f"{key}:{p_type}:{p_desc}")
    total += c.func_end
    return total


def token_counts(
    obj: dict, method: str, count: Callable[[str], int], constants: ToolTokenConstants
) -> tuple[int, int]:
    """(total, assistant-only) tokens of a structurally valid example.

    Supervised: the cookbook's chat formula (+3 reply priming) plus tool definitions. DPO: the
    prompt (as supervised) plus both outputs' messages; how OpenAI bills DPO is undocumented.
    """
    if method == "dpo":
        source = obj.get("input") or {}
        total, _ = message_tokens(source.get("messages") or [], count)
        total += REPLY_PRIMING
        outputs = (obj.get("preferred_output") or []) + (obj.get("non_preferred_output") or [])
        out_total, assistant = message_tokens(outputs, count)
        total += out_total
    else:
        source = obj
        total, assistant = message_tokens(obj.get("messages") or [], count)
        total += REPLY_PRIMING
    tools = source.get("tools")
    if isinstance(tools, list) and tools:
        total += tools_tokens(tools, count, constants)
    functions = source.get("functions")
    if isinstance(functions, list) and functions:
        total += tools_tokens(functions, count, constants)
    return total, assistant
