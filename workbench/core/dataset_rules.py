"""The rules one training example must follow (its cost in tokens: `dataset_tokens`).

Plain functions over one parsed JSONL object, so the file scanner, the Training data pane (as you
type) and the simulator all apply the same rules. Codes are stable: tests, `--json` consumers and
stored problems depend on them.

Supervised (chat) examples: `{"messages": [...], "tools"?, "parallel_tool_calls"?, "functions"?}`.
DPO examples: `{"input": {"messages": [...], "tools"?}, "preferred_output": [assistant],
"non_preferred_output": [assistant]}`, single turn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ERROR = "error"
WARNING = "warning"

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
# Roles other chat formats use, and what OpenAI calls them.
ROLE_ALIASES = {
    "human": "user",
    "gpt": "assistant",
    "bot": "assistant",
    "ai": "assistant",
    "model": "assistant",
    "chatbot": "assistant",
}
MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "weight", "tool_calls", "tool_call_id", "function_call", "refusal"}
)
SUPERVISED_KEYS = frozenset({"messages", "tools", "parallel_tool_calls", "functions"})
DPO_KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})
DPO_INPUT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls"})
# `<|endoftext|>`, `<|fim_suffix|>`, `<|im_start|>`: OpenAI rejects the job ("invalid token").
SPECIAL_TOKEN = re.compile(r"<\|[^\s|<>]{1,64}\|>")


@dataclass(frozen=True)
class Problem:
    """One finding: where (1-based line, 0 = the whole file), a stable code, plain words."""

    line: int
    code: str
    message: str
    severity: str = ERROR

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "code": self.code, "message": self.message}


# --- structure -------------------------------------------------------------------------------


class _Findings:
    """Collects problems for one example; `error()` and `warn()` keep call sites short."""

    __slots__ = ("line", "items")

    def __init__(self, line: int) -> None:
        self.line = line
        self.items: list[Problem] = []

    def error(self, code: str, message: str) -> None:
        self.items.append(Problem(self.line, code, message, ERROR))

    def warn(self, code: str, message: str) -> None:
        self.items.append(Problem(self.line, code, message, WARNING))


def _kind(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def check_example(obj: Any, method: str, f: _Findings, *, scan_special: bool = True) -> None:
    """Structural rules for one example (no token limit: that needs the tokenizer)."""
    if not isinstance(obj, dict):
        f.error("not_an_object", f"each line must be a JSON object, found {_kind(obj)}")
        return
    if method == "dpo":
        _check_dpo(obj, f)
    else:
        _check_supervised(obj, f)
    if scan_special:
        _check_special_tokens(obj, f)


def _check_supervised(obj: dict, f: _Findings) -> None:
    messages = obj.get("messages")
    if "messages" not in obj:
        if "preferred_output" in obj or "input" in obj:
            hint = " (this looks like a DPO example: use the dpo method)"
        elif "prompt" in obj and "completion" in obj:
            hint = " (prompt/completion is the legacy format: chat models train on `messages`)"
        else:
            hint = ""
        f.error("missing_messages", f"no `messages` list{hint}")
        return
    if not isinstance(messages, list):
        f.error("missing_messages", f"`messages` must be a list, found {_kind(messages)}")
        return
    if not messages:
        f.error("empty_messages", "`messages` is empty")
        return
    for key in obj:
        if key not in SUPERVISED_KEYS:
            f.warn("unknown_key", f"unexpected top-level key `{key}`")
    has_tools = _check_tools(obj, f)
    _check_parallel(obj, f)
    trained = 0
    assistants = 0
    call_ids: set[str] = set()
    for i, message in enumerate(messages):
        role = _check_message(message, i, f, has_tools=has_tools)
        if role == "assistant":
            assistants += 1
            if message.get("weight", 1) != 0:
                trained += 1
            calls = message.get("tool_calls")
            if isinstance(calls, list):
                call_ids.update(
                    c["id"] for c in calls if isinstance(c, dict) and isinstance(c.get("id"), str)
                )
        elif role == "tool":
            call_id = message.get("tool_call_id")
            if isinstance(call_id, str) and call_id and call_id not in call_ids:
                f.warn(
                    "unknown_tool_call_id",
                    f"`messages[{i}].tool_call_id` {json.dumps(call_id)[:60]} answers no earlier "
                    "assistant tool call",
                )
    if assistants == 0:
        f.error("no_assistant_target", "no assistant message to train on")
    elif trained == 0:
        # OpenAI documents no such rule (and bills the whole example): a warning, not an error
        f.warn(
            "teaches_nothing", "every assistant message has weight 0: this example teaches nothing"
        )


def _check_parallel(obj: Mapping, f: _Findings, where: str = "") -> None:
    if "parallel_tool_calls" in obj and not isinstance(obj["parallel_tool_calls"], bool):
        f.error(
            "invalid_field",
            f"`{where}parallel_tool_calls` must be true or false, "
            f"found {_kind(obj['parallel_tool_calls'])}",
        )


def _check_tools(obj: Mapping, f: _Findings, where: str = "") -> bool:
    """Checks `tools` / legacy `functions`; True when the example defines any."""
    defined = False
    if "tools" in obj:
        tools = obj["tools"]
        if not isinstance(tools, list):
            f.error("invalid_tools", f"`{where}tools` must be a list, found {_kind(tools)}")
        else:
            defined = bool(tools)
            for j, tool in enumerate(tools):
                if not isinstance(tool, dict) or tool.get("type") != "function":
                    f.error(
                        "invalid_tools",
                        f'`{where}tools[{j}]` must be {{"type": "function", "function": {{...}}}}',
                    )
                    continue
                _check_function_def(tool.get("function"), f"{where}tools[{j}].function", f)
    if "functions" in obj:
        functions = obj["functions"]
        if not isinstance(functions, list):
            f.error("invalid_tools", f"`{where}functions` must be a list, found {_kind(functions)}")
        else:
            defined = defined or bool(functions)
            for j, function in enumerate(functions):
                _check_function_def(function, f"{where}functions[{j}]", f)
    return defined


def _check_function_def(function: Any, where: str, f: _Findings) -> None:
    if not isinstance(function, dict):
        f.error("invalid_tools", f"`{where}` must be an object with a `name`")
        return
    if not isinstance(function.get("name"), str) or not function["name"]:
        f.error("invalid_tools", f"`{where}.name` must be a non-empty string")
    if "description" in function and not isinstance(function["description"], str):
        f.error("invalid_tools", f"`{where}.description` must be a string")
    if "parameters" in function and not isinstance(function["parameters"], dict):
        f.error("invalid_tools", f"`{where}.parameters` must be a JSON-schema object")


def _check_message(message: Any, i: int, f: _Findings, *, has_tools: bool, where: str = "") -> Any:
    """Rules for one message; returns its role (or None when it has no usable role)."""
    at = f"{where}messages[{i}]"
    if not isinstance(message, dict):
        f.error("invalid_message", f"`{at}` must be an object, found {_kind(message)}")
        return None
    role = message.get("role")
    if "role" not in message:
        f.error("missing_role", f"`{at}` has no `role`")
        return None
    if role not in ROLES:
        shown = json.dumps(role, ensure_ascii=False)[:40]
        alias = ROLE_ALIASES.get(str(role).strip().lower())
        if alias:
            f.error("unknown_role", f'`{at}.role` is {shown}: did you mean "{alias}"?')
            return None
        f.error(
            "unknown_role",
            f"`{at}.role` is {shown}; expected one of {', '.join(ROLES)}",
        )
        return None
    for key in message:
        if key not in MESSAGE_KEYS:
            f.warn("unknown_key", f"unexpected key `{key}` in `{at}` ({role})")
    if "name" in message and not isinstance(message["name"], str):
        f.error("invalid_field", f"`{at}.name` must be a string, found {_kind(message['name'])}")
    calls = "tool_calls" in message or "function_call" in message
    _check_content(message, role, at, f, allow_null=(role == "assistant" and calls))
    if "weight" in message:
        weight = message["weight"]
        if role != "assistant":
            f.error(
                "weight_not_on_assistant",
                f"`{at}` is a {role} message: only assistant messages take a `weight`",
            )
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight not in (0, 1):
            shown = json.dumps(weight, ensure_ascii=False)[:40]
            f.error("invalid_weight", f"`{at}.weight` is {shown}; it must be 0 or 1")
    if "tool_calls" in message:
        if role != "assistant":
            f.error(
                "invalid_tool_call",
                f"`{at}` is a {role} message: only assistant messages make `tool_calls`",
            )
        _check_tool_calls(message["tool_calls"], at, f)
        if not has_tools:
            f.error(
                "tool_calls_without_tools",
                f"`{at}` has `tool_calls` but the example defines no `tools`",
            )
    if "function_call" in message:
        if role != "assistant":
            f.error(
                "invalid_tool_call",
                f"`{at}` is a {role} message: only assistant messages make a `function_call`",
            )
        _check_call_function(message["function_call"], f"{at}.function_call", f)
        if not has_tools:
            f.error(
                "tool_calls_without_tools",
                f"`{at}` has a `function_call` but the example defines no `functions`",
            )
    if role == "function" and not isinstance(message.get("name"), str):
        f.error("invalid_field", f"`{at}` is a function message without the function's `name`")
    if role == "tool":
        call_id = message.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            f.error("missing_tool_call_id", f"`{at}` is a tool message without a `tool_call_id`")
    elif "tool_call_id" in message:
        f.warn(
            "unknown_key", f"`{at}` is a {role} message: `tool_call_id` belongs on tool messages"
        )
    return role


def _check_content(message: dict, role: str, at: str, f: _Findings, *, allow_null: bool) -> None:
    if "content" not in message or message["content"] is None:
        if not allow_null:
            f.error("missing_content", f"`{at}` ({role}) has no `content`")
        return
    content = message["content"]
    if isinstance(content, str):
        if not content.strip() and not allow_null:
            if role == "assistant":
                f.error(
                    "empty_content", f"`{at}` (assistant) has empty `content`: nothing to train on"
                )
            else:
                f.warn("empty_content", f"`{at}` ({role}) has empty `content`")
        return
    if isinstance(content, list) and role in ("system", "developer", "user", "assistant", "tool"):
        allowed = ("text", "image_url") if role == "user" else ("text",)
        for k, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind not in allowed:
                f.error(
                    "invalid_content_type",
                    f"`{at}.content[{k}]` must be a part with type {' or '.join(allowed)}",
                )
            elif kind == "text" and not isinstance(part.get("text"), str):
                f.error("invalid_content_type", f"`{at}.content[{k}].text` must be a string")
            elif kind == "image_url" and not isinstance(part.get("image_url"), dict):
                f.error(
                    "invalid_content_type",
                    f"`{at}.content[{k}].image_url` must be an object with a `url`",
                )
        if not content:
            f.error("missing_content", f"`{at}` ({role}) has an empty `content` list")
        return
    f.error(
        "invalid_content_type",
        f"`{at}.content` ({role}) must be a string, found {_kind(content)}",
    )


def _check_tool_calls(calls: Any, at: str, f: _Findings) -> None:
    if not isinstance(calls, list) or not calls:
        f.error("invalid_tool_call", f"`{at}.tool_calls` must be a non-empty list")
        return
    for k, call in enumerate(calls):
        where = f"{at}.tool_calls[{k}]"
        if not isinstance(call, dict):
            f.error("invalid_tool_call", f"`{where}` must be an object")
            continue
        if not isinstance(call.get("id"), str) or not call["id"]:
            f.error("invalid_tool_call", f"`{where}.id` must be a non-empty string")
        if call.get("type", "function") != "function":
            f.error("invalid_tool_call", f'`{where}.type` must be "function"')
        _check_call_function(call.get("function"), f"{where}.function", f)


def _check_call_function(function: Any, where: str, f: _Findings) -> None:
    if not isinstance(function, dict):
        f.error("invalid_tool_call", f"`{where}` must be an object with `name` and `arguments`")
        return
    if not isinstance(function.get("name"), str) or not function["name"]:
        f.error("invalid_tool_call", f"`{where}.name` must be a non-empty string")
    arguments = function.get("arguments")
    if not isinstance(arguments, str):
        f.error(
            "invalid_tool_arguments",
            f"`{where}.arguments` must be a string holding JSON, found {_kind(arguments)}",
        )
        return
    try:
        json.loads(arguments)
    except ValueError as exc:
        f.error("invalid_tool_arguments", f"`{where}.arguments` is not valid JSON: {exc.msg}")


def _check_dpo(obj: dict, f: _Findings) -> None:
    if "input" not in obj:
        hint = (
            " (this looks like a supervised example: use the supervised method)"
            if "messages" in obj
            else ""
        )
        f.error("missing_input", f"no `input` object with the prompt messages{hint}")
    else:
        _check_dpo_input(obj["input"], f)
    for key in ("preferred_output", "non_preferred_output"):
        _check_dpo_output(obj, key, f)
    for key in obj:
        if key not in DPO_KEYS and key not in ("preferred_completion", "non_preferred_completion"):
            f.warn("unknown_key", f"unexpected top-level key `{key}`")
    pref, non = obj.get("preferred_output"), obj.get("non_preferred_output")
    if isinstance(pref, list) and pref and pref == non:
        f.warn("identical_outputs", "`preferred_output` and `non_preferred_output` are the same")


def _check_dpo_input(value: Any, f: _Findings) -> None:
    if not isinstance(value, dict):
        f.error("missing_input", f"`input` must be an object with `messages`, found {_kind(value)}")
        return
    messages = value.get("messages")
    if not isinstance(messages, list):
        shown = "missing" if "messages" not in value else _kind(messages)
        f.error("missing_messages", f"`input.messages` must be a list ({shown})")
        return
    if not messages:
        f.error("empty_messages", "`input.messages` is empty")
        return
    for key in value:
        if key not in DPO_INPUT_KEYS:
            f.warn("unknown_key", f"unexpected key `{key}` in `input`")
    has_tools = _check_tools(value, f, "input.")
    _check_parallel(value, f, "input.")
    roles = [
        _check_message(m, i, f, has_tools=has_tools, where="input.") for i, m in enumerate(messages)
    ]
    if "assistant" in roles:
        f.error(
            "dpo_not_single_turn",
            "`input.messages` contains an assistant message: DPO trains on one turn only",
        )
    elif roles[-1] not in (None, "user"):
        f.error(
            "dpo_not_single_turn", "the last message of `input.messages` must be a user message"
        )


def _check_dpo_output(obj: dict, key: str, f: _Findings) -> None:
    if key not in obj:
        legacy = key.replace("_output", "_completion")
        if legacy in obj:
            f.error(f"missing_{key}", f"`{legacy}` is the old name: rename it to `{key}`")
        else:
            f.error(f"missing_{key}", f"no `{key}`")
        return
    value = obj[key]
    if not isinstance(value, list) or len(value) != 1:
        shown = f"{len(value)} items" if isinstance(value, list) else _kind(value)
        f.error(
            "invalid_dpo_output", f"`{key}` must be a list with one assistant message ({shown})"
        )
        return
    message = value[0]
    at = f"{key}[0]"
    if not isinstance(message, dict):
        f.error("invalid_dpo_output", f"`{at}` must be an object, found {_kind(message)}")
        return
    if message.get("role") != "assistant":
        f.error("invalid_dpo_output", f'`{at}.role` must be "assistant"')
    content = message.get("content")
    if not isinstance(content, str):
        f.error("invalid_content_type", f"`{at}.content` must be a string, found {_kind(content)}")
    elif not content.strip():
        f.error("empty_content", f"`{at}.content` is empty")
    for k in message:
        if k not in ("role", "content"):
            f.warn("unknown_key", f"unexpected key `{k}` in `{at}` (DPO outputs are text only)")


def _strings(value: Any, path: str):
    """Every string in an example with where it is, for the special-token scan."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


def _check_special_tokens(obj: dict, f: _Findings) -> None:
    for path, text in _strings(obj, ""):
        if "<|" in text:
            match = SPECIAL_TOKEN.search(text)
            if match:
                f.error(
                    "special_token",
                    f"`{path}` contains the special token {match.group()}: OpenAI rejects it",
                )
