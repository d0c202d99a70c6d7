"""Deterministic chat replies: what a simulated model "says".

The rule, in order (the first that applies wins):
1. A fine-tuned model (or one of its checkpoints) asked a prompt it was trained on - the last user
   message equals a training example's last user message, ignoring case and spacing - answers with
   that example's assistant reply (for DPO: the preferred output). Models trained from another
   fine-tuned model also know their parent's examples.
2. Any model given few-shot examples in the prompt (user/assistant pairs before the last user
   message) answers with the assistant reply of the most similar few-shot user message, when the word
   overlap (Jaccard of lower-cased word sets) is >= 0.5.
3. A fine-tuned model answers with the reply of the most similar trained prompt at Jaccard >= 0.5.
4. Otherwise a generic reply, the same for the same model and messages:
   "Simulated reply (<model>): <a short echo of the question>".
With `response_format={"type": "json_object"}` a reply that is not already a JSON object is wrapped
as {"answer": reply}.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from workbench.core.messages import content_text

SIMILARITY_THRESHOLD = 0.5
_WORD = re.compile(r"\w+", re.UNICODE)


def normalize(text: str) -> str:
    return " ".join(text.lower().split())


def words(text: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(text))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def few_shot_pairs(messages: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(user, assistant) pairs that come before the last user message."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    pairs = []
    for i in range(last_user - 1):
        if messages[i].get("role") == "user" and messages[i + 1].get("role") == "assistant":
            pairs.append(
                (
                    content_text(messages[i].get("content")),
                    content_text(messages[i + 1].get("content")),
                )
            )
    return pairs


def trained_pair(example: Mapping[str, Any]) -> tuple[str, str] | None:
    """The (prompt, answer) a training example teaches: SFT or DPO line."""
    if "messages" in example and isinstance(example["messages"], list):
        msgs = example["messages"]
        answer_idx = max(
            (
                i
                for i, m in enumerate(msgs)
                if isinstance(m, Mapping) and m.get("role") == "assistant"
            ),
            default=-1,
        )
        if answer_idx < 0:
            return None
        prompt = last_user_text(msgs[:answer_idx])
        return prompt, content_text(msgs[answer_idx].get("content"))
    if isinstance(example.get("input"), Mapping) and example.get("preferred_output"):
        msgs = example["input"].get("messages") or []
        preferred = example["preferred_output"]
        if isinstance(preferred, list) and preferred and isinstance(preferred[-1], Mapping):
            return last_user_text(msgs), content_text(preferred[-1].get("content"))
    return None


def read_trained_pairs(lines: Iterable[str]) -> list[tuple[str, str]]:
    pairs = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, Mapping):
            pair = trained_pair(obj)
            if pair and pair[0]:
                pairs.append(pair)
    return pairs


def most_similar(question: str, pairs: Sequence[tuple[str, str]]) -> str | None:
    q = words(question)
    best, best_score = None, -1.0
    for prompt, answer in pairs:
        score = jaccard(q, words(prompt))
        if score > best_score:
            best, best_score = answer, score
    return best if best is not None and best_score >= SIMILARITY_THRESHOLD else None


def generic_reply(model: str, messages: Sequence[Mapping[str, Any]]) -> str:
    question = normalize(last_user_text(messages))
    echo = " ".join(question.split()[:12])
    if len(question.split()) > 12:
        echo += " ..."
    digest = hashlib.sha256(
        json.dumps([model, list(messages)], sort_keys=True, default=str).encode()
    ).hexdigest()
    openers = (
        "Here is a simulated answer",
        "A simulated model would say",
        "Simulated response",
        "This simulator replies",
    )
    opener = openers[int(digest[:2], 16) % len(openers)]
    return f"{opener} ({model}): {echo or 'no question given'}"


def choose_reply(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    trained: Sequence[tuple[str, str]] = (),
    json_object: bool = False,
) -> str:
    question = last_user_text(messages)
    reply = None
    if trained:
        key = normalize(question)
        for prompt, answer in trained:
            if normalize(prompt) == key:
                reply = answer
                break
    if reply is None:
        reply = most_similar(question, few_shot_pairs(messages))
    if reply is None and trained:
        reply = most_similar(question, trained)
    if reply is None:
        reply = generic_reply(model, messages)
    if json_object:
        try:
            parsed = json.loads(reply)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            reply = json.dumps({"answer": reply}, ensure_ascii=False)
    return reply
