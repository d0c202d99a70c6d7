"""Prompt templates with `{{variable}}` placeholders, and the messages each approach sends.

Three approaches are compared on the same user input:

- zero-shot: the system prompt, then the rendered user template;
- few-shot: the system prompt, the chosen examples as user/assistant pairs, then the user message;
- fine-tuned: the short system prompt a fine-tuned model needs (`ft_system`), then the user message.

Values are put in literally: a value holding `{{x}}` or `[/INST]` is sent as written, never expanded.
A placeholder whose value is missing or empty is an error that names it, so a half-filled prompt is
never sent by accident.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.core.tokens import Tokenizer

APPROACHES = ("zero-shot", "few-shot", "fine-tuned")
APPROACH_LABELS = {"zero-shot": "Zero-shot", "few-shot": "Few-shot", "fine-tuned": "Fine-tuned"}

# `{{ name }}`: letters, digits, underscore, dash and dot; spaces inside the braces are allowed.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\}")


class MissingVariables(ValueError):
    """Some placeholders have no value; `names` lists them in template order."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        listed = ", ".join("{{" + n + "}}" for n in self.names)
        super().__init__(f"fill in {listed} before running (Variables tab)")


def placeholders(*texts: str) -> list[str]:
    """The variable names used in the texts, each once, in order of first use."""
    names: dict[str, None] = {}
    for text in texts:
        for match in PLACEHOLDER.finditer(text or ""):
            names.setdefault(match.group(1), None)
    return list(names)


def placeholder_spans(line: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of each placeholder in one line, in character offsets (for highlighting)."""
    return [(m.start(), m.end(), m.group(1)) for m in PLACEHOLDER.finditer(line)]


def missing_variables(template: str, variables: Mapping[str, Any]) -> list[str]:
    return [n for n in placeholders(template) if not _filled(variables.get(n))]


def _filled(value: Any) -> bool:
    return value is not None and str(value) != ""


def render(template: str, variables: Mapping[str, Any], *, strict: bool = True) -> str:
    """The template with each placeholder replaced by its value, literally.

    strict: a missing or empty value raises MissingVariables; otherwise the placeholder stays as is
    (what the preview shows while the user is still filling the form).
    """
    if strict:
        missing = missing_variables(template, variables)
        if missing:
            raise MissingVariables(missing)

    def substitute(match: re.Match[str]) -> str:
        value = variables.get(match.group(1))
        return str(value) if _filled(value) else match.group(0)

    return PLACEHOLDER.sub(substitute, template)


def _example_messages(example: Any) -> list[dict]:
    """One example's user/assistant messages: a list of messages as is, or a stored Example."""
    if isinstance(example, Sequence) and not isinstance(example, str | bytes):
        return [dict(m) for m in example]
    from workbench.core.fewshot import example_pair_messages

    return example_pair_messages(example)


def assemble_messages(
    approach: str,
    system: str,
    template: str,
    variables: Mapping[str, Any],
    examples: Iterable[Any] = (),
    ft_system: str | None = None,
    *,
    strict: bool = True,
) -> list[dict]:
    """Exactly the chat messages an approach sends.

    `examples` are Examples (their user/assistant messages are used, see core.fewshot) or lists of
    message dicts; only the few-shot approach uses them. `ft_system=None` means the fine-tuned
    approach uses the full system prompt; an empty string means it sends no system message. An
    empty system prompt is left out rather than sent as an empty message.
    """
    if approach not in APPROACHES:
        raise ValueError(f"approach must be one of {', '.join(APPROACHES)}, not {approach!r}")
    user = {"role": "user", "content": render(template, variables, strict=strict)}
    sys_text = system if approach != "fine-tuned" or ft_system is None else ft_system
    messages: list[dict] = []
    if sys_text and sys_text.strip():
        messages.append({"role": "system", "content": sys_text})
    if approach == "few-shot":
        for example in examples:
            messages.extend(_example_messages(example))
    messages.append(user)
    return messages


@dataclass(frozen=True)
class MessageCount:
    role: str
    content: str
    tokens: int  # this message's framing + content (cookbook formula, no reply priming)


@dataclass(frozen=True)
class PromptSize:
    """What the preview shows: each message's tokens, and the prompt total the API bills."""

    messages: tuple[MessageCount, ...]
    total: int  # sum of the messages + the reply priming
    exact: bool  # False when the tokenizer is the offline estimate


def prompt_size(messages: Sequence[Mapping[str, Any]], tokenizer: Tokenizer) -> PromptSize:
    from workbench.core.tokens import REPLY_PRIMING, count_message_tokens

    counts = tuple(
        MessageCount(
            str(m.get("role", "")),
            _content_text(m.get("content")),
            count_message_tokens([m], tokenizer, reply_priming=False),
        )
        for m in messages
    )
    total = sum(c.tokens for c in counts) + (REPLY_PRIMING if counts else 0)
    return PromptSize(counts, total, tokenizer.exact)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    return json.dumps(content, ensure_ascii=False)


# --- versions ---------------------------------------------------------------------------------

# The parts of a prompt version a diff compares, in the order shown.
VERSION_PARTS = (
    ("system", "system prompt"),
    ("template", "user template"),
    ("ft_system", "fine-tuned system prompt"),
    ("ft_model", "fine-tuned model"),
    ("model", "model"),
    ("params", "parameters"),
    ("variables", "variables"),
)


def version_document(version: Any) -> str:
    """A prompt version as one text with a header per part, so a diff shows what changed where."""
    lines: list[str] = []
    for attr, title in VERSION_PARTS:
        value = (
            getattr(version, attr, None) if not isinstance(version, Mapping) else version.get(attr)
        )
        if isinstance(value, Mapping):
            text = "\n".join(
                f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in sorted(value.items())
            )
        else:
            text = "" if value is None else str(value)
        lines.append(f"## {title}")
        lines.extend(text.splitlines() or [""])
        lines.append("")
    return "\n".join(lines)


def diff_versions(old: Any, new: Any, old_label: str = "old", new_label: str = "new") -> list[str]:
    """A unified diff (lines without trailing newlines) between two prompt versions."""
    return list(
        difflib.unified_diff(
            version_document(old).splitlines(),
            version_document(new).splitlines(),
            fromfile=old_label,
            tofile=new_label,
            lineterm="",
        )
    )
