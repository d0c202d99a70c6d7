"""Streaming a JSONL file through the rules: blocks of raw lines, optionally on every core.

The file is read in blocks of whole lines (about 1 MB); each block is checked by a `LineChecker`
(in this process for small files, in a pool of worker processes for big ones) and comes back as a
small `BlockResult`: token totals of the valid examples, problems, hashes. Only a histogram of token
totals is kept, so memory stays flat in the file size while min/median/p95/max remain exact.
Token counts of repeated strings (a shared system prompt, role names) are cached per process.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from workbench.core import dataset as ds
from workbench.core.dataset_rules import (
    ERROR,
    WARNING,
    Problem,
    _Findings,
    check_example,
    token_counts,
    tool_constants,
)
from workbench.core.tokens import get_tokenizer

BOM = b"\xef\xbb\xbf"
BLOCK_BYTES = 1 << 20
# Below this a worker pool costs more to start than it saves.
POOL_MIN_BYTES = 4 << 20
# Cached token counts per process (the shared system prompt, role names, tool definitions).
COUNT_CACHE_SIZE = 4096


@dataclass
class BlockResult:
    """What one block of lines produced; small, so it crosses process boundaries cheaply."""

    lines: int = 0
    examples: int = 0
    totals: array = field(default_factory=lambda: array("q"))
    assistant: int = 0
    problems: list[Problem] = field(default_factory=list)
    hash_lines: array = field(default_factory=lambda: array("q"))
    hashes: array = field(default_factory=lambda: array("Q"))


class LineChecker:
    """Checks raw JSONL lines for one model and method; one per process."""

    def __init__(self, model: str, method: str, want_hashes: bool) -> None:
        self.tokenizer = get_tokenizer(model)
        self.model = model
        self.method = method
        self.limit = ds.token_limit(model)
        self.want_hashes = want_hashes
        self.constants = tool_constants(self.tokenizer.encoding_name)
        raw_count = self.tokenizer.count
        self.count = functools.lru_cache(maxsize=COUNT_CACHE_SIZE)(
            lambda text: raw_count(text if isinstance(text, str) else str(text))
        )

    def check_block(self, first_line: int, blob: bytes) -> BlockResult:
        result = BlockResult()
        lines = blob.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        result.lines = len(lines)
        line_no = first_line
        totals = result.totals
        for raw in lines:
            if line_no == 1 and raw.startswith(BOM):
                raw = raw[3:]
            self._check_line(raw, line_no, result, totals)
            line_no += 1
        return result

    def _check_line(self, raw: bytes, line_no: int, result: BlockResult, totals: array) -> None:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if not raw.strip():
            result.problems.append(
                Problem(line_no, "blank_line", "blank line (skipped; not an example)", WARNING)
            )
            return
        result.examples += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            result.problems.append(
                Problem(
                    line_no,
                    "invalid_encoding",
                    f"not valid UTF-8 at byte {exc.start + 1} of the line "
                    f"(0x{raw[exc.start]:02x}): save the file as UTF-8",
                )
            )
            return
        try:
            obj = json.loads(text)
        except ValueError as exc:
            msg = getattr(exc, "msg", str(exc))
            col = getattr(exc, "colno", None)
            where = f" at column {col}" if col else ""
            result.problems.append(
                Problem(line_no, "invalid_json", f"not valid JSON{where}: {msg}")
            )
            return
        findings = _Findings(line_no)
        # the special-token scan walks every string: skip it when the raw line cannot hold one
        check_example(obj, self.method, findings, scan_special="<|" in text or "\\u" in text)
        if findings.items:
            result.problems.extend(findings.items)
            if any(p.severity == ERROR for p in findings.items):
                return
        total, assistant = token_counts(obj, self.method, self.count, self.constants)
        if total > self.limit:
            result.problems.append(
                Problem(
                    line_no,
                    "too_many_tokens",
                    ds.over_limit_message(total, self.limit, self.model),
                    WARNING,
                )
            )
        totals.append(total)
        result.assistant += assistant
        if self.want_hashes:
            result.hash_lines.append(line_no)
            result.hashes.append(example_hash(obj))


def example_hash(obj: object) -> int:
    """Same example, same hash: key order and whitespace do not matter."""
    canonical = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return int.from_bytes(hashlib.blake2b(canonical.encode(), digest_size=8).digest(), "big")


def read_blocks(path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[tuple[int, bytes, int]]:
    """(first line number, whole lines, bytes read so far), streaming."""
    line_no = 1
    done = 0
    with open(path, "rb") as fh:
        carry = b""
        while True:
            chunk = fh.read(block_bytes)
            if not chunk:
                break
            done += len(chunk)
            data = carry + chunk if carry else chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            blob, carry = data[: cut + 1], data[cut + 1 :]
            yield line_no, blob, done
            line_no += blob.count(b"\n")
        if carry:
            yield line_no, carry, done


# --- worker processes -----------------------------------------------------------------------

_worker_checker: LineChecker | None = None


def _worker_init(model: str, method: str, want_hashes: bool) -> None:
    global _worker_checker
    _worker_checker = LineChecker(model, method, want_hashes)


def _worker_block(first_line: int, blob: bytes) -> BlockResult:
    assert _worker_checker is not None
    return _worker_checker.check_block(first_line, blob)


def _pool(workers: int, model: str, method: str, want_hashes: bool):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork shares the loaded tokenizer for free, but is unsafe with other threads running
    # (the TUI); spawn starts clean and loads it once per worker.
    method_name = "fork" if threading.active_count() == 1 else "spawn"
    context = multiprocessing.get_context(method_name)
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_worker_init,
        initargs=(model, method, want_hashes),
    )


def _results(
    path: Path, checker: LineChecker, workers: int, progress: Callable[[int], None] | None
) -> Iterator[BlockResult]:
    """Block results in file order; a bounded number in flight keeps memory flat."""
    if workers <= 1:
        for first_line, blob, done in read_blocks(path):
            yield checker.check_block(first_line, blob)
            if progress:
                progress(done)
        return
    with _pool(workers, checker.model, checker.method, checker.want_hashes) as pool:
        pending: deque = deque()
        for first_line, blob, done in read_blocks(path):
            pending.append((pool.submit(_worker_block, first_line, blob), done))
            while len(pending) > workers * 2:
                future, at = pending.popleft()
                yield future.result()
                if progress:
                    progress(at)
        while pending:
            future, at = pending.popleft()
            yield future.result()
            if progress:
                progress(at)


def auto_workers(size: int) -> int:
    if size < POOL_MIN_BYTES:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


# --- the whole file ----------------------------------------------------------------------------


def _check_readable(path: Path) -> int:
    """The file's size; OSError when it cannot be read as a file."""
    if path.is_dir():
        raise IsADirectoryError(21, "is a directory", str(path))
    size = path.stat().st_size
    with open(path, "rb"):
        pass
    return size


def scan(
    path: Path,
    *,
    model: str,
    method: str,
    validation_path: Path | None,
    progress: Callable[[int, int], None] | None,
    workers: int | None,
) -> ds.ValidationReport:
    size = _check_readable(path)
    val_size = _check_readable(validation_path) if validation_path is not None else 0
    report = ds.ValidationReport(file=str(path), model=model, method=method, bytes=size)
    tokenizer = get_tokenizer(model)
    report.tokenizer_exact = tokenizer.exact
    report.tokenizer_note = tokenizer.note
    problems: list[Problem] = []

    too_big = size > ds.MAX_FILE_BYTES
    if too_big:
        problems.append(
            Problem(
                0,
                "file_too_large",
                f"{size / 2**20:,.0f} MB is over the 512 MB limit of the Files API "
                "(not read; split it or upload through the Uploads API)",
            )
        )

    # The validation file first: its hashes (usually few) are what training lines are matched to.
    seen: dict[int, int] = {}
    if validation_path is not None:
        report.validation_file = str(validation_path)
        if val_size > ds.MAX_FILE_BYTES:
            problems.append(
                Problem(
                    0,
                    "file_too_large",
                    f"validation file: {val_size / 2**20:,.0f} MB is over the 512 MB limit (not read)",
                )
            )
        else:
            val_checker = LineChecker(model, method, want_hashes=True)
            for block in _results(validation_path, val_checker, 1, None):
                report.validation_examples += block.examples
                for p in block.problems:
                    problems.append(
                        Problem(p.line, p.code, f"validation file: {p.message}", p.severity)
                    )
                for line_no, h in zip(block.hash_lines, block.hashes, strict=True):
                    seen.setdefault(h, line_no)

    histogram: Counter[int] = Counter()
    if not too_big:
        checker = LineChecker(model, method, want_hashes=bool(seen))
        n_workers = workers if workers is not None else auto_workers(size)
        tick = (lambda done: progress(done, size)) if progress else None
        for block in _results(path, checker, n_workers, tick):
            report.lines += block.lines
            report.examples += block.examples
            report.tokens.assistant += block.assistant
            histogram.update(block.totals)
            problems.extend(block.problems)
            for line_no, h in zip(block.hash_lines, block.hashes, strict=True):
                if h in seen:
                    problems.append(
                        Problem(
                            line_no,
                            "duplicate_in_validation",
                            f"the same example is in the validation file at line {seen[h]}",
                            WARNING,
                        )
                    )

    _fill_stats(report, histogram, ds.token_limit(model))
    if not too_big and report.examples < ds.MIN_EXAMPLES:
        problems.append(
            Problem(
                0,
                "too_few_examples",
                f"{report.examples} example{'s' if report.examples != 1 else ''}: "
                f"fine-tuning needs at least {ds.MIN_EXAMPLES}",
            )
        )
    if method == "dpo" and report.valid_examples:
        problems.append(Problem(0, "dpo_billing_estimate", ds.DPO_BILLING_NOTE, WARNING))
    if not tokenizer.exact:
        problems.append(Problem(0, "token_estimate", tokenizer.note, WARNING))
    problems.sort(key=lambda p: p.line)
    report.errors = [p for p in problems if p.severity == ERROR]
    report.warnings = [p for p in problems if p.severity != ERROR]
    return report


def _fill_stats(report: ds.ValidationReport, histogram: Counter[int], limit: int) -> None:
    stats = report.tokens
    n = sum(histogram.values())
    report.valid_examples = n
    if n:
        values = sorted(histogram)
        stats.total = sum(v * c for v, c in histogram.items())
        stats.billed_per_epoch = sum(min(limit, v) * c for v, c in histogram.items())
        stats.over_limit = sum(c for v, c in histogram.items() if v > limit)
        stats.min, stats.max = values[0], values[-1]
        stats.median = _rank(values, histogram, (n + 1) // 2)
        stats.p95 = _rank(values, histogram, -(-95 * n // 100))
    report.epochs = ds.default_epochs(n) if n else 0
    report.estimated_training_tokens = stats.billed_per_epoch * report.epochs
    price = ds.training_price_per_million(report.model)
    if price is not None and n:
        report.estimated_cost_usd = round(report.estimated_training_tokens * price / 1e6, 4)


def _rank(values: list[int], histogram: Counter[int], rank: int) -> int:
    """The value at 1-based `rank` in sorted order (nearest-rank percentile)."""
    seen = 0
    for v in values:
        seen += histogram[v]
        if seen >= rank:
            return v
    return values[-1]
