"""Which few-shot examples go into a prompt, and what they add to it.

A selection is either a manual pick (ids in the order the user picked them, which is the order they
appear in the prompt), the k most recent few-shot examples, or the k most recent with a tag. Only
live examples in the few-shot split are ever chosen: a train/validation/test row never reaches a
prompt, so a held-out test example cannot leak into the answer it is meant to judge.

"recent" and "tag" modes put the chosen examples oldest first, so the newest sits nearest the
user's question.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.core.tokens import Tokenizer
    from workbench.store.examples import Example

MODES = ("manual", "recent", "tag")
FEW_SHOT = "few-shot"
# Roles an example contributes to a prompt; the prompt's own system message stays the prompt's.
PAIR_ROLES = ("user", "assistant")


@dataclass(frozen=True)
class FewShotSelection:
    mode: str = "manual"  # "manual" | "recent" | "tag"
    ids: tuple[int, ...] = ()  # manual picks, in prompt order
    k: int = 3  # for recent / tag
    tag: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"selection mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.k < 0:
            raise ValueError("k must be 0 or more")

    def toggled(self, example_id: int) -> FewShotSelection:
        """The manual pick with `example_id` added at the end, or removed if it was picked."""
        if example_id in self.ids:
            ids = tuple(i for i in self.ids if i != example_id)
        else:
            ids = (*self.ids, example_id)
        return FewShotSelection("manual", ids, self.k, self.tag)


def is_candidate(example: Example) -> bool:
    """A live few-shot example with something to show the model."""
    return (
        example.split == FEW_SHOT
        and example.deleted_at is None
        and example.data is not None
        and bool(example_pair_messages(example))
    )


def _recency_key(example: Example) -> tuple[str, int]:
    return (example.created_at or "", example.id)


def select_examples(candidates: Sequence[Example], selection: FewShotSelection) -> list[Example]:
    """The examples `selection` puts into a prompt, in prompt order.

    Non-few-shot, deleted and empty examples are skipped whatever the mode; a manual id that is no
    longer a candidate is skipped too (its place in the pick is kept, should it come back).
    """
    live = [e for e in candidates if is_candidate(e)]
    if selection.mode == "manual":
        by_id = {e.id: e for e in live}
        return [by_id[i] for i in dict.fromkeys(selection.ids) if i in by_id]
    if selection.mode == "tag":
        if not selection.tag:
            return []
        live = [e for e in live if selection.tag in e.tags]
    newest = sorted(live, key=_recency_key, reverse=True)[: selection.k]
    return sorted(newest, key=_recency_key)


def example_pair_messages(example: Example) -> list[dict]:
    """The user/assistant messages an example adds to a prompt (role and content only)."""
    out: list[dict] = []
    for message in example.messages:
        if not isinstance(message, Mapping) or message.get("role") not in PAIR_ROLES:
            continue
        clean: dict[str, Any] = {"role": message["role"], "content": message.get("content") or ""}
        if message.get("name"):
            clean["name"] = message["name"]
        out.append(clean)
    return out


def example_tokens(example: Example, tokenizer: Tokenizer) -> int:
    """Tokens this example adds to a prompt (cookbook message formula, no reply priming)."""
    from workbench.core.tokens import count_message_tokens

    return count_message_tokens(example_pair_messages(example), tokenizer, reply_priming=False)


def few_shot_messages(examples: Iterable[Example]) -> list[dict]:
    """Every chosen example's messages, in order: what goes between system and user."""
    return [m for e in examples for m in example_pair_messages(e)]


def pair_from_messages(messages: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """(input, output) for showing an example: the last user message and the assistant reply after it."""
    last_user = None
    for i, message in enumerate(messages):
        if isinstance(message, Mapping) and message.get("role") == "user":
            last_user = i
    if last_user is None:
        return "", ""
    text_in = _text(messages[last_user].get("content"))
    text_out = ""
    for message in messages[last_user + 1 :]:
        if isinstance(message, Mapping) and message.get("role") == "assistant":
            text_out = _text(message.get("content"))
            break
    return text_in, text_out


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text", "")) for p in content if isinstance(p, Mapping) and "text" in p
        )
    return "" if content is None else str(content)
