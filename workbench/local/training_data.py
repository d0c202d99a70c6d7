"""Chat JSONL rows -> token ids and loss labels for LoRA training, with OpenAI's per-message weights.

TRL's SFTTrainer only knows "assistant_only_loss" (and that needs `{% generation %}` tags most chat
templates, SmolLM2's included, lack); OpenAI also lets an assistant turn carry `weight: 0` to keep
it out of the loss. So the labels are built here and handed to SFTTrainer as a pre-tokenized
dataset (`input_ids` + `labels`, -100 where no loss), which it uses as is.

The trained span of an assistant turn is its content plus the end-of-turn token (the template's
eos, `<|im_end|>` for SmolLM2): what the model must produce to answer and stop. The turn header
(`<|im_start|>assistant\\n`), the newline after the end-of-turn token, system, user and tool turns,
and assistant turns with weight 0 are masked (-100).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

IGNORE_INDEX = -100
DEFAULT_MAX_LENGTH = 2048  # tokens per example; longer examples are cut (as OpenAI truncates)


class ExampleError(ValueError):
    """One example cannot be turned into tokens; the message names the line."""


def _text_of(content: Any) -> str:
    """OpenAI content (a string, null, or a list of text parts) as the plain text templates take."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "") if isinstance(part, dict) else str(part) for part in content
        )
    return str(content)


def template_messages(messages: list[dict]) -> list[dict]:
    """Messages reduced to what chat templates read: role and text content (no weight)."""
    return [{"role": m["role"], "content": _text_of(m.get("content"))} for m in messages]


def _render(tokenizer: Any, messages: list[dict], generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=generation_prompt
    )


def trained_char_spans(tokenizer: Any, messages: list[dict]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the [start, end) character spans that carry loss."""
    plain = template_messages(messages)
    text = _render(tokenizer, plain, False)
    eos = tokenizer.eos_token or ""
    spans = []
    for index, message in enumerate(messages):
        if message.get("role") != "assistant" or message.get("weight", 1) == 0:
            continue
        before = _render(tokenizer, plain[:index], True) if index else ""
        upto = _render(tokenizer, plain[: index + 1], False)
        if not text.startswith(upto) or not upto.startswith(before):
            raise ExampleError(
                "the model's chat template does not render this conversation as a growing "
                "prefix, so the assistant turns cannot be located"
            )
        start, end = len(before), len(upto)
        stop = text.find(eos, start, end) if eos else -1
        if stop >= 0:
            end = stop + len(eos)
        spans.append((start, end))
    return text, spans


def build_labels(tokenizer: Any, messages: list[dict]) -> tuple[list[int], list[int]]:
    """(input_ids, labels) for one conversation: labels copy input_ids on the trained spans, -100
    elsewhere. A token is trained when it starts inside a span (needs a fast tokenizer)."""
    text, spans = trained_char_spans(tokenizer, messages)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    input_ids = list(encoded["input_ids"])
    labels = []
    for token, (start, end) in zip(input_ids, encoded["offset_mapping"], strict=True):
        inside = any(s <= start < e for s, e in spans) and end > start
        labels.append(token if inside else IGNORE_INDEX)
    return input_ids, labels


def read_examples(path: str | Path) -> list[tuple[int, dict]]:
    """(line number, example) for each non-blank line; the validator has already checked them."""
    rows = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                rows.append((number, json.loads(line)))
    return rows


def tokenize_file(
    tokenizer: Any, path: str | Path, max_length: int = DEFAULT_MAX_LENGTH
) -> tuple[list[dict], list[int]]:
    """(every example as {"input_ids", "labels"} cut to max_length, lines left out).

    An example whose trained tokens all lie past max_length is left out (its line is returned for
    a warning); ExampleError names the line of an example that cannot be tokenized at all."""
    rows, left_out = [], []
    for number, example in read_examples(path):
        try:
            input_ids, labels = build_labels(tokenizer, example["messages"])
        except ExampleError as exc:
            raise ExampleError(f"line {number}: {exc}") from None
        except Exception as exc:  # a template that raises on this conversation
            raise ExampleError(f"line {number}: the chat template failed: {exc}") from None
        input_ids, labels = input_ids[:max_length], labels[:max_length]
        if all(label == IGNORE_INDEX for label in labels):
            left_out.append(number)
            continue
        rows.append({"input_ids": input_ids, "labels": labels})
    return rows, left_out
