"""Which few-shot examples go into a prompt, and what they add to it.

A selection is either a manual pick (ids in the order the user picked them, which is the order they
appear in the prompt), the k most recent few-shot examples, the k most recent with a tag, or the k
most similar to each input ("similar": BM25 over the examples' inputs, chosen per request; the
index is built once per example set and cached). Only
live examples in the few-shot split are ever chosen: a train/validation/test row never reaches a
prompt, so a held-out test example cannot leak into the answer it is meant to judge.

"recent" and "tag" modes put the chosen examples oldest first, so the newest sits nearest the
user's question.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.core.messages import content_text

if TYPE_CHECKING:
    from workbench.core.tokens import Tokenizer
    from workbench.store.examples import Example

MODES = ("manual", "recent", "tag", "similar")
MODE_LABELS = {
    "manual": "manual pick",
    "recent": "k most recent",
    "tag": "k most recent with a tag",
    "similar": "k most similar to each input (BM25)",
}
FEW_SHOT = "few-shot"
# Roles an example contributes to a prompt; the prompt's own system message stays the prompt's.
PAIR_ROLES = ("user", "assistant")


@dataclass(frozen=True)
class FewShotSelection:
    mode: str = "manual"  # "manual" | "recent" | "tag" | "similar"
    ids: tuple[int, ...] = ()  # manual picks, in prompt order
    k: int = 3  # for recent / tag / similar
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
    "similar" depends on the input: without one (`select_similar` is per request) it shows the k
    most recent, as a stand-in of the right size.
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


def example_input(example: Example) -> str:
    """The text an example answers: its last user turn."""
    return pair_from_messages(example.messages)[0]


class SimilarIndex:
    """BM25 (bm25s) over the inputs of one set of few-shot candidates."""

    def __init__(self, examples: Sequence[Example]) -> None:
        self.examples = [e for e in examples if is_candidate(e)]
        self._retriever = None
        if self.examples:
            import bm25s

            corpus = [example_input(e) or " " for e in self.examples]
            tokens = bm25s.tokenize(corpus, stopwords=None, show_progress=False)
            self._retriever = bm25s.BM25()
            self._retriever.index(tokens, show_progress=False)

    def most_similar(self, text: str, k: int) -> list[Example]:
        """The k examples whose inputs are closest to `text`, least similar first (so the closest
        sits nearest the question). Ties keep the set's order."""
        n = min(k, len(self.examples))
        if n <= 0 or self._retriever is None:
            return []
        import bm25s

        query = bm25s.tokenize([text or " "], stopwords=None, show_progress=False)
        docs, scores = self._retriever.retrieve(query, k=n, show_progress=False)
        ranked = sorted(
            zip(docs[0].tolist(), scores[0].tolist(), strict=True), key=lambda ds: (-ds[1], ds[0])
        )
        return [self.examples[i] for i, _score in reversed(ranked)]


_INDEXES: dict[tuple, SimilarIndex] = {}
_MAX_INDEXES = 8


def similar_index(examples: Sequence[Example]) -> SimilarIndex:
    """The BM25 index of this example set, built once per content (ids and last edits)."""
    key = tuple((e.id, e.updated_at) for e in examples if is_candidate(e))
    index = _INDEXES.get(key)
    if index is None:
        if len(_INDEXES) >= _MAX_INDEXES:
            _INDEXES.pop(next(iter(_INDEXES)))
        index = _INDEXES[key] = SimilarIndex(examples)
    return index


def select_similar(candidates: Sequence[Example], text: str, k: int) -> list[Example]:
    """The k live few-shot candidates most similar to `text` (never a train/validation/test row)."""
    return similar_index(candidates).most_similar(text, k)


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
    text_in = content_text(messages[last_user].get("content"))
    text_out = ""
    for message in messages[last_user + 1 :]:
        if isinstance(message, Mapping) and message.get("role") == "assistant":
            text_out = content_text(message.get("content"))
            break
    return text_in, text_out


# --- import: JSONL and CSV rows -> few-shot examples -------------------------------------------

CSV_COLUMN_PAIRS = (("input", "output"), ("prompt", "completion"))
CSV_TAGS_COLUMN = "tags"


@dataclass(frozen=True)
class ImportRow:
    """One line (record) of an imported file: a few-shot example, or why it was skipped."""

    line: int
    data: dict | None
    tags: tuple[str, ...] = ()
    error: str = ""


@dataclass
class ImportReport:
    """What an import did, for the user: how many were added and which lines were skipped, why."""

    path: str
    added: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    error: str = ""  # the whole file could not be read (missing column, unreadable...)

    def summary(self) -> str:
        if self.error:
            return f"Import failed: {self.error}"
        text = f"Imported {self.added} example{'s' if self.added != 1 else ''} from {self.path}"
        if self.skipped:
            shown = "; ".join(f"line {n}: {why}" for n, why in self.skipped[:5])
            more = f" (+{len(self.skipped) - 5} more)" if len(self.skipped) > 5 else ""
            text += f"; skipped {len(self.skipped)}: {shown}{more}"
        return text


def example_from_row(obj: Any) -> tuple[dict | None, str]:
    """A parsed JSONL object as few-shot data, or (None, why not).

    Chat rows keep their messages (multi-turn included) and must have a user message followed by an
    assistant reply; the last user message is the input and that reply the output. Flat rows with
    input/output or prompt/completion become a user/assistant pair.
    """
    if not isinstance(obj, Mapping):
        return None, "not a JSON object"
    if "messages" in obj:
        messages = obj["messages"]
        if not isinstance(messages, list) or not all(isinstance(m, Mapping) for m in messages):
            return None, "messages must be a list of objects"
        for i, message in enumerate(messages, start=1):
            if not isinstance(message.get("content", ""), str | list | None):
                return None, f"message {i}: content must be text"
        text_in, text_out = pair_from_messages(messages)
        if not any(m.get("role") == "user" for m in messages):
            return None, "no user message"
        if not text_out:
            return None, "no assistant reply after the last user message"
        return {"messages": [dict(m) for m in messages]}, ""
    for col_in, col_out in CSV_COLUMN_PAIRS:
        if col_in in obj or col_out in obj:
            text_in, text_out = obj.get(col_in), obj.get(col_out)
            if not isinstance(text_in, str) or not text_in.strip():
                return None, f"{col_in!r} is missing or empty"
            if not isinstance(text_out, str) or not text_out.strip():
                return None, f"{col_out!r} is missing or empty"
            return pair_data(text_in, text_out), ""
    return None, "no 'messages', 'input'/'output' or 'prompt'/'completion' fields"


def pair_data(text_in: str, text_out: str) -> dict:
    """The data of a single-turn example."""
    return {
        "messages": [
            {"role": "user", "content": text_in},
            {"role": "assistant", "content": text_out},
        ]
    }


def parse_tags(value: Any) -> tuple[str, ...]:
    """Tags from a cell or field: a list, or text split on commas/semicolons; blanks dropped."""
    if isinstance(value, list):
        items = [str(v) for v in value]
    elif isinstance(value, str):
        items = value.replace(";", ",").split(",")
    else:
        return ()
    return tuple(dict.fromkeys(t.strip() for t in items if t.strip()))


def read_import_rows(path: str | Path) -> Iterator[ImportRow]:
    """The rows of a JSONL or CSV file (by extension; .csv is CSV, anything else JSONL).

    Raises ValueError naming the problem when the whole file is unusable (e.g. no input column).
    """
    if Path(path).suffix.lower() == ".csv":
        yield from _read_csv_rows(Path(path))
    else:
        yield from _read_jsonl_rows(Path(path))


def _read_jsonl_rows(path: Path) -> Iterator[ImportRow]:
    from workbench.core.dataset_io import read_jsonl

    for item in read_jsonl(path):
        if item.data is None:  # did not parse: the reader says why, with the column
            why = "; ".join(p.message for p in item.problems) or "not a JSON object"
            yield ImportRow(item.line, None, error=why)
            continue
        data, why = example_from_row(item.data)
        yield ImportRow(item.line, data, parse_tags(item.data.get("tags")), why)


def _csv_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [c.strip() for c in next(csv.reader(fh), [])]


def _read_csv_rows(path: Path) -> Iterator[ImportRow]:
    from workbench.core.dataset_io import read_csv

    header = _csv_header(path)
    lowered = [c.lower() for c in header]
    pair = next(((a, b) for a, b in CSV_COLUMN_PAIRS if a in lowered and b in lowered), None)
    if pair is None:
        found = ", ".join(repr(c) for c in header) or "no columns"
        raise ValueError(
            f"{path.name} line 1: needs input/output or prompt/completion columns; found {found}"
        )
    col_in, col_out = header[lowered.index(pair[0])], header[lowered.index(pair[1])]
    col_tags = header[lowered.index(CSV_TAGS_COLUMN)] if CSV_TAGS_COLUMN in lowered else None
    for item in read_csv(path, prompt_column=col_in, completion_column=col_out):
        if item.data is None:
            why = "; ".join(p.message for p in item.problems) or "unreadable row"
            yield ImportRow(item.line, None, error=why)
            continue
        text_in, text_out = pair_from_messages(item.data["messages"])
        if not text_in.strip():
            yield ImportRow(item.line, None, error=f"{col_in!r} is empty")
        elif not text_out.strip():
            yield ImportRow(item.line, None, error=f"{col_out!r} is empty")
        else:
            cells = json.loads(item.raw) if col_tags else {}
            yield ImportRow(
                item.line, pair_data(text_in, text_out), parse_tags(cells.get(col_tags))
            )


# --- token costs -------------------------------------------------------------------------------


class TokenCosts:
    """Per-example token costs, counted once per (example, last edit, encoding)."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self._costs: dict[tuple[int, str, str], int] = {}
        self._max = max_entries

    def cost(self, example: Example, tokenizer: Tokenizer) -> int:
        key = (example.id, example.updated_at, tokenizer.encoding_name)
        value = self._costs.get(key)
        if value is None:
            if len(self._costs) >= self._max:
                self._costs.clear()
            value = self._costs[key] = example_tokens(example, tokenizer)
        return value

    def total(self, examples: Iterable[Example], tokenizer: Tokenizer) -> int:
        return sum(self.cost(e, tokenizer) for e in examples)
