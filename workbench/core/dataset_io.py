"""Reading and writing training files: JSONL and CSV in, byte-exact JSONL out, a seeded split.

Reading never loses a line: a line that is not valid JSON (or not UTF-8) comes back with its text and
its 1-based line number so the user can fix it in place. The rules a parsed example must follow live in
`workbench.core.dataset` (the validator); this module only parses and writes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from workbench.core.dataset import (
    Problem,
    example_token_counts,
    over_limit_message,
    token_limit,
    validate_example,
)
from workbench.core.jsonl import check_regular_file, parse_jsonl_line

BOM = b"\xef\xbb\xbf"


@dataclass
class ImportedLine:
    """One line (JSONL) or record (CSV) of an imported file."""

    line: int  # 1-based line number in the source file
    data: dict[str, Any] | None  # the parsed example; None when it did not parse to an object
    raw: str  # the line's text as read (for CSV: the record as JSON)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.data is not None and not any(p.severity == "error" for p in self.problems)


def dumps_line(obj: Any) -> str:
    """One JSONL line exactly as we export it: compact separators, UTF-8 text, key order kept."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def write_jsonl(objs: Iterable[dict[str, Any]], fh: IO[bytes]) -> tuple[int, str, int]:
    """Write one object per line ("\\n" endings) to a binary file; returns (count, sha256, bytes)."""
    digest = hashlib.sha256()
    count = size = 0
    for obj in objs:
        chunk = dumps_line(obj).encode("utf-8") + b"\n"
        fh.write(chunk)
        digest.update(chunk)
        count += 1
        size += len(chunk)
    return count, digest.hexdigest(), size


def parse_line(
    raw_bytes: bytes, line: int, *, method: str = "supervised", model: str | None = None
) -> ImportedLine:
    """Parse one JSONL line (without its newline) and check it with the validator.

    Never raises on bad input: what does not parse, or parses to something no rule can check,
    comes back with `data` None (or its problems) and the text kept."""
    parsed = parse_jsonl_line(raw_bytes, line)
    if parsed.problem is not None:
        return ImportedLine(line, None, parsed.text, [parsed.problem])
    obj = parsed.value
    try:
        problems = list(validate_example(obj, method=method, line=line, model=model))
    except Exception as exc:  # a gap in our rules must not end an import or pass the line
        problems = [Problem(line, "unchecked", f"could not check this line ({type(exc).__name__})")]
    return ImportedLine(line, obj if isinstance(obj, dict) else None, parsed.text, problems)


def parse_text(
    text: str, line: int, *, method: str = "supervised", model: str | None = None
) -> ImportedLine:
    """What the raw-JSON editor typed, through the same parser as a file's line.

    Text that cannot be UTF-8 (a lone surrogate character) reaches the parser as an escape, so it
    is reported on the line instead of raising."""
    return parse_line(text.encode("utf-8", "backslashreplace"), line, method=method, model=model)


def read_jsonl(
    path: str | Path, *, method: str = "supervised", model: str | None = None
) -> Iterator[ImportedLine]:
    """Every non-blank line of a JSONL file, streamed, with its line number and problems.

    A UTF-8 BOM on line 1 and "\\r\\n" endings are accepted; blank lines carry nothing and are skipped.
    NotARegularFile (an OSError) for a pipe, a device or a directory.
    """
    check_regular_file(path)
    with open(path, "rb") as fh:
        for number, raw_bytes in enumerate(fh, start=1):
            raw_bytes = raw_bytes.rstrip(b"\n")
            if not raw_bytes.strip(b" \t\r\n" + (BOM if number == 1 else b"")):
                continue
            yield parse_line(raw_bytes, number, method=method, model=model)


def sniff_method(path: str | Path, lines: int = 50) -> str:
    """ "dpo" when the file's first parseable object is a preference pair, else "supervised"."""
    check_regular_file(path)
    with open(path, "rb") as fh:
        for number, raw_bytes in zip(range(1, lines + 1), fh, strict=False):
            obj = parse_jsonl_line(raw_bytes.rstrip(b"\n"), number).value
            if isinstance(obj, dict):
                return "dpo" if "preferred_output" in obj or "input" in obj else "supervised"
    return "supervised"


class CSVColumnsMissing(ValueError):
    """The CSV file lacks a column the mapping needs; the message names it and the columns found."""


def read_csv(
    path: str | Path,
    prompt_column: str = "prompt",
    completion_column: str = "completion",
    system: str | None = None,
    *,
    model: str | None = None,
) -> Iterator[ImportedLine]:
    """Prompt/completion rows as chat examples: (system,) user, assistant.

    `line` is the physical line the record starts on (the header is line 1), so quoted multi-line
    cells still point at the right place.
    """
    check_regular_file(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            return
        columns = [c.strip() for c in header]
        missing = [c for c in (prompt_column, completion_column) if c not in columns]
        if missing:
            raise CSVColumnsMissing(
                f"{path}: no column named {', '.join(repr(c) for c in missing)}; "
                f"the header has {', '.join(repr(c) for c in columns) or 'no columns'}"
            )
        p_index, c_index = columns.index(prompt_column), columns.index(completion_column)
        start = reader.line_num + 1
        for record in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            raw = dumps_line(dict(zip(columns, record, strict=False)))
            if len(record) <= max(p_index, c_index):
                problem = Problem(
                    line,
                    "missing_column",
                    f"this row has {len(record)} cells; column {max(p_index, c_index) + 1} "
                    f"({completion_column!r} or {prompt_column!r}) is missing",
                )
                yield ImportedLine(line, None, raw, [problem])
                continue
            messages = [{"role": "system", "content": system}] if system else []
            messages.append({"role": "user", "content": record[p_index]})
            messages.append({"role": "assistant", "content": record[c_index]})
            data = {"messages": messages}
            yield ImportedLine(
                line, data, raw, list(validate_example(data, line=line, model=model))
            )


@dataclass(frozen=True)
class RowCheck:
    """What a saved row caches: its token count and its problems."""

    tokens: int | None
    problems: list[Problem]

    def problem_dicts(self) -> list[dict[str, Any]]:
        return problems_to_dicts(self.problems)


def problems_to_dicts(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """The cached form in the store: {code, message, severity}; the line is the row's own."""
    return [{"code": p.code, "message": p.message, "severity": p.severity} for p in problems]


def problems_from_dicts(problems: Iterable[dict[str, Any]], line: int = 0) -> list[Problem]:
    """The cached form back as Problems, each at the row's `line`."""
    return [
        Problem(line, p.get("code", ""), p.get("message", ""), p.get("severity", "error"))
        for p in problems
    ]


class RepeatCountingTokenizer:
    """A tokenizer that remembers recent counts: real files repeat one system prompt on every line,
    so counting it once instead of 100k times is most of the saving on a big import."""

    MAX_ENTRIES = 4096

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._counts: dict[str, int] = {}
        self.encoding_name = tokenizer.encoding_name
        self.exact = getattr(tokenizer, "exact", True)

    def count(self, text: str) -> int:
        found = self._counts.get(text)
        if found is None:
            if len(self._counts) >= self.MAX_ENTRIES:
                self._counts.clear()
            found = self._counts[text] = self._tokenizer.count(text)
        return found


def check_example(
    data: Any,
    tokenizer: Any = None,
    *,
    method: str = "supervised",
    model: str | None = None,
    line: int = 0,
    problems: list[Problem] | None = None,
) -> RowCheck:
    """Validate one example and count its tokens once (with `model`, also its token limit).

    Pass `problems` when the structure was already checked (an import) to skip checking it again.
    """
    if problems is None:
        problems = list(validate_example(data, method=method, line=line))
    else:
        problems = list(problems)
    tokens = None
    if tokenizer is not None and isinstance(data, dict):
        tokens = example_token_counts(data, tokenizer, method=method)[0]
        if model and not any(p.severity == "error" for p in problems):
            limit = token_limit(model)
            if tokens > limit:
                problems.append(
                    Problem(
                        line, "too_many_tokens", over_limit_message(tokens, limit, model), "warning"
                    )
                )
    return RowCheck(tokens, problems)


def split_train_validation(
    ids: Sequence[int], validation_fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """A seeded, disjoint split; the same ids, fraction and seed always give the same split.

    Both halves keep the input order. With at least two ids and a fraction above 0, each side gets
    at least one id.
    """
    if not 0 <= validation_fraction < 1:
        raise ValueError(
            f"validation fraction must be at least 0 and below 1, not {validation_fraction}"
        )
    unique = list(dict.fromkeys(ids))
    n = len(unique)
    n_val = round(n * validation_fraction)
    if validation_fraction > 0 and n >= 2:
        n_val = min(max(n_val, 1), n - 1)
    shuffled = sorted(unique)
    random.Random(seed).shuffle(shuffled)
    chosen = set(shuffled[:n_val])
    train = [i for i in unique if i not in chosen]
    validation = [i for i in unique if i in chosen]
    return train, validation
