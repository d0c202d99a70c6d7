"""Prompt templates with `{{variable}}` placeholders, and the ONE renderer of what an approach sends.

`build_messages` is the only place a prompt becomes chat messages: the Prompt pane's preview and
runs, every evaluation item, `workbench run` and the estimate all call it, so each approach is
judged on the shape production sends. For the same input:

- zero-shot: the system prompt, then the rendered user turn;
- few-shot (and few-shot-similar, whose examples are picked per input): the system prompt, each
  example as a user turn rendered through the SAME template plus its assistant reply, then the
  rendered user turn;
- fine-tuned: the short system prompt a fine-tuned model needs (`ft_system`), then the same user turn.

How an input (an example's, an evaluation item's, `--input`) fills the template: it takes the
place of `{{input}}` when the template has it, else of the first variable; the other variables keep
their live values. An empty template sends the input as is; a template without variables is an
instruction the input follows after a blank line.

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
# what an evaluation can compare: few-shot-similar picks its examples per input (BM25)
EVAL_APPROACHES = ("zero-shot", "few-shot", "few-shot-similar", "fine-tuned")
EXAMPLE_APPROACHES = ("few-shot", "few-shot-similar")
APPROACH_LABELS = {
    "zero-shot": "Zero-shot",
    "few-shot": "Few-shot",
    "few-shot-similar": "Few-shot (similar)",
    "fine-tuned": "Fine-tuned",
}
INPUT_VARIABLE = "input"

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


def input_variable(template: str) -> str | None:
    """The variable an input fills: `input` if the template has it, else its first variable."""
    names = placeholders(template)
    if INPUT_VARIABLE in names:
        return INPUT_VARIABLE
    return names[0] if names else None


def render_user_turn(
    template: str,
    variables: Mapping[str, Any],
    input_text: str | None = None,
    *,
    strict: bool = True,
) -> str:
    """The user turn for the live variables, or for `input_text` filling the input variable."""
    if input_text is None:
        return render(template, variables, strict=strict)
    if not (template or "").strip():
        return input_text
    name = input_variable(template)
    if name is None:
        return f"{template.rstrip()}\n\n{input_text}"
    return render(template, {**variables, name: input_text}, strict=strict)


def _example_messages(
    example: Any, template: str, variables: Mapping[str, Any], strict: bool
) -> list[dict]:
    """One example's turns with its input (the last user turn) rendered through the template."""
    if isinstance(example, Sequence) and not isinstance(example, str | bytes):
        messages = [dict(m) for m in example]
    else:
        from workbench.core.fewshot import example_pair_messages

        messages = example_pair_messages(example)
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=None)
    if last_user is not None:
        content = messages[last_user].get("content")
        text = content if isinstance(content, str) else _countable_text(content)
        messages[last_user] = {
            **messages[last_user],
            "content": render_user_turn(template, variables, text, strict=strict),
        }
    return messages


def build_messages(
    approach: str,
    prompt: Any,
    *,
    input_text: str | None = None,
    variables: Mapping[str, Any] | None = None,
    examples: Iterable[Any] = (),
    history: Sequence[Mapping[str, Any]] = (),
    strict: bool = True,
) -> list[dict]:
    """Exactly the chat messages `approach` sends for one input.

    `prompt` is anything with `system`, `template`, `variables` and `ft_system` (a PromptVersion,
    store.eval_estimate.PromptSetup, PromptShape). `variables` replace the prompt's saved ones; `input_text`
    fills the input variable (see the module docstring), else the live variables render the turn.
    `examples` (Examples or lists of message dicts) are used by the few-shot approaches only.
    `history`: earlier turns of a multi-turn input, sent as they are before the user turn.
    `ft_system=None`: the fine-tuned approach uses the full system prompt; "" sends none.
    """
    if approach not in EVAL_APPROACHES:
        raise ValueError(f"approach must be one of {', '.join(EVAL_APPROACHES)}, not {approach!r}")
    template = getattr(prompt, "template", "") or ""
    live = dict(getattr(prompt, "variables", None) or {})
    if variables is not None:
        live.update(variables)
    system = getattr(prompt, "system", "") or ""
    ft_system = getattr(prompt, "ft_system", None)
    sys_text = system if approach != "fine-tuned" or ft_system is None else ft_system
    messages: list[dict] = []
    if sys_text and sys_text.strip():
        messages.append({"role": "system", "content": sys_text})
    if approach in EXAMPLE_APPROACHES:
        for example in examples:
            messages.extend(_example_messages(example, template, live, strict))
    messages.extend(dict(m) for m in history)
    user = render_user_turn(template, live, input_text, strict=strict)
    messages.append({"role": "user", "content": user})
    return messages


@dataclass(frozen=True)
class PromptShape:
    """A prompt as the renderer needs it (for callers without a stored version)."""

    system: str = ""
    template: str = ""
    variables: Mapping[str, Any] | None = None
    ft_system: str | None = None


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
    """build_messages with the prompt given in parts (the live variables fill the user turn)."""
    if approach not in APPROACHES:
        raise ValueError(f"approach must be one of {', '.join(APPROACHES)}, not {approach!r}")
    shape = PromptShape(system, template, dict(variables), ft_system)
    return build_messages(approach, shape, examples=examples, strict=strict)


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
            _countable_text(m.get("content")),
            count_message_tokens([m], tokenizer, reply_priming=False),
        )
        for m in messages
    )
    total = sum(c.tokens for c in counts) + (REPLY_PRIMING if counts else 0)
    return PromptSize(counts, total, tokenizer.exact)


def _countable_text(content: Any) -> str:
    """What the token estimate counts for a message's content: structured content (parts, tool
    calls) is counted as the JSON the API receives, not as `messages.content_text`'s text only."""
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
