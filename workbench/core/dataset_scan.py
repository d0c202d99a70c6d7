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
import signal
import threading
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from workbench.core import dataset as ds
from workbench.core.dataset_rules import (
    ERROR,
    WARNING,
    Problem,
    _Findings,
    check_example,
)
from workbench.core.dataset_tokens import token_counts, tool_constants
from workbench.core.jsonl import check_regular_file, parse_jsonl_line
from workbench.core.model_lifecycle import openai_shut_down_message
from workbench.core.tokens import Tokenizer, encoding_name_for_model, get_tokenizer

BOM = b"\xef\xbb\xbf"
BLOCK_BYTES = 1 << 20
MIN_POOL_BLOCK_BYTES = 64 << 10
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

    def __init__(
        self, model: str, method: str, want_hashes: bool, tokenizer: Tokenizer | None = None
    ) -> None:
        self.tokenizer = tokenizer or get_tokenizer(model)
        self.model = model
        self.method = method
        self.limit = ds.token_limit(model)
        self.want_hashes = want_hashes
        self.constants = tool_constants(self.tokenizer.encoding_name)
        self.count = functools.lru_cache(maxsize=COUNT_CACHE_SIZE)(self.tokenizer.count)

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
                raw = raw[3:]  # so a lone BOM on line 1 reads as a blank line
            self._check_line(raw, line_no, result, totals)
            line_no += 1
        return result

    def _check_line(self, raw: bytes, line_no: int, result: BlockResult, totals: array) -> None:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if not raw or raw.isspace():
            result.problems.append(
                Problem(line_no, "blank_line", "blank line (skipped; not an example)", WARNING)
            )
            return
        result.examples += 1
        parsed = parse_jsonl_line(raw, line_no)
        if parsed.problem is not None:
            result.problems.append(parsed.problem)
            return
        obj, text = parsed.value, parsed.text
        findings = _Findings(line_no)
        try:
            # the special-token scan walks every string: skip it when the line cannot hold one
            check_example(obj, self.method, findings, scan_special=_may_hold_special(text))
            if findings.items:
                result.problems.extend(findings.items)
                if any(p.severity == ERROR for p in findings.items):
                    return
            total, assistant = token_counts(obj, self.method, self.count, self.constants)
        except RecursionError:
            result.problems.append(Problem(line_no, "invalid_json", "JSON nested too deeply"))
            return
        except Exception as exc:  # a gap in our rules must not end the scan or pass the line
            result.problems.append(
                Problem(line_no, "unchecked", f"could not check this line ({type(exc).__name__})")
            )
            return
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


def _may_hold_special(text: str) -> bool:
    """False when no `<|` can appear in any string of this JSON text, even escaped."""
    if "<|" in text:
        return True
    if "\\u00" not in text:
        return False
    return any(esc in text for esc in ("\\u003c", "\\u003C", "\\u007c", "\\u007C"))


def example_hash(obj: object) -> int:
    """Same example, same hash: key order and whitespace do not matter."""
    canonical = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return int.from_bytes(hashlib.blake2b(canonical.encode(), digest_size=8).digest(), "big")


def read_blocks(path: Path, block_bytes: int | None = None) -> Iterator[tuple[int, bytes, int]]:
    """(first line number, whole lines, bytes read so far), streaming."""
    block_bytes = block_bytes or BLOCK_BYTES
    line_no = 1
    done = 0
    with open(path, "rb") as fh:
        pending: list[bytes] = []  # a line longer than a block, piece by piece
        while True:
            chunk = fh.read(block_bytes)
            if not chunk:
                break
            done += len(chunk)
            cut = chunk.rfind(b"\n")
            if cut < 0:
                pending.append(chunk)
                continue
            head, tail = chunk[: cut + 1], chunk[cut + 1 :]
            blob = b"".join([*pending, head]) if pending else head
            pending = [tail] if tail else []
            yield line_no, blob, done
            line_no += blob.count(b"\n")
        if pending:
            yield line_no, b"".join(pending), done


# --- worker processes -----------------------------------------------------------------------

_worker_checker: LineChecker | None = None


def _worker_init(model: str, method: str, want_hashes: bool, exact: bool, note: str) -> None:
    global _worker_checker
    # Ctrl-C is the parent's to handle: it cancels the pool; workers must not print tracebacks
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if exact:
        tokenizer = get_tokenizer(model)
    else:  # the parent could not load it: count the same estimate, do not try again
        tokenizer = Tokenizer(encoding_name_for_model(model), exact=False, note=note)
    _worker_checker = LineChecker(model, method, want_hashes, tokenizer)


def _worker_block(first_line: int, blob: bytes) -> BlockResult:
    assert _worker_checker is not None
    return _worker_checker.check_block(first_line, blob)


def _pool(workers: int, checker: LineChecker):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork shares the loaded tokenizer for free, but is unsafe with other threads running
    # (the TUI); spawn starts clean and loads it once per worker.
    method_name = "fork" if threading.active_count() == 1 else "spawn"
    context = multiprocessing.get_context(method_name)
    tok = checker.tokenizer
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_worker_init,
        initargs=(checker.model, checker.method, checker.want_hashes, tok.exact, tok.note),
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
    # enough blocks to keep every worker busy on mid-sized files, big ones for big files
    size = path.stat().st_size
    block_bytes = min(BLOCK_BYTES, max(MIN_POOL_BLOCK_BYTES, size // (workers * 8)))
    pool = _pool(workers, checker)
    try:
        pending: deque = deque()
        for first_line, blob, done in read_blocks(path, block_bytes):
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
    except BaseException:  # Ctrl-C, a closed generator: drop the queued blocks, do not wait
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def auto_workers(size: int) -> int:
    if size < POOL_MIN_BYTES:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


# --- the whole file ----------------------------------------------------------------------------


def _check_readable(path: Path) -> tuple[int, bytes]:
    """The file's size and first bytes; OSError when it cannot be read as a file."""
    size = check_regular_file(path).st_size
    with open(path, "rb") as fh:
        head = fh.read(4)
    return size, head


_UTF16_32_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


def _not_readable_whole(size: int, head: bytes, what: str) -> Problem | None:
    """A file-level problem that makes reading the lines pointless, if any."""
    if size > ds.MAX_FILE_BYTES:
        return Problem(
            0,
            "file_too_large",
            f"the {what} is {size / 2**20:,.0f} MB, over the 512 MB limit of the Files API "
            "(not read; split it, or upload it through the Uploads API)",
        )
    for bom, name in _UTF16_32_BOMS.items():
        if head.startswith(bom):
            return Problem(
                0, "invalid_encoding", f"the {what} is {name}: save it as UTF-8 (not read)"
            )
    return None


def scan(
    path: Path,
    *,
    model: str,
    method: str,
    validation_path: Path | None,
    progress: Callable[[int, int], None] | None,
    workers: int | None,
) -> ds.ValidationReport:
    size, head = _check_readable(path)
    val_size, val_head = (
        _check_readable(validation_path) if validation_path is not None else (0, b"")
    )
    report = ds.ValidationReport(file=str(path), model=model, method=method, bytes=size)
    tokenizer = get_tokenizer(model)
    report.tokenizer_exact = tokenizer.exact
    report.tokenizer_note = tokenizer.note
    problems: list[Problem] = []  # the training file's, then the validation file's
    val_problems: list[Problem] = []
    total_bytes = size + val_size

    def ticker(offset: int) -> Callable[[int], None] | None:
        return (lambda done: progress(offset + done, total_bytes)) if progress else None

    def pool_size(nbytes: int) -> int:
        return workers if workers is not None else auto_workers(nbytes)

    # The validation file first: its hashes (usually few) are what training lines are matched to.
    seen: dict[int, int] = {}
    if validation_path is not None:
        report.validation_file = str(validation_path)
        whole = _not_readable_whole(val_size, val_head, "validation file")
        if whole is not None:
            val_problems.append(whole)
        else:
            checker = LineChecker(model, method, want_hashes=True, tokenizer=tokenizer)
            for block in _results(validation_path, checker, pool_size(val_size), ticker(0)):
                report.validation_examples += block.examples
                for p in block.problems:
                    message = f"{ds.VALIDATION_PREFIX}{p.message}"
                    val_problems.append(Problem(p.line, p.code, message, p.severity))
                for line_no, h in zip(block.hash_lines, block.hashes, strict=True):
                    seen.setdefault(h, line_no)

    histogram: Counter[int] = Counter()
    whole = _not_readable_whole(size, head, "file")
    if whole is not None:
        problems.append(whole)
    else:
        checker = LineChecker(model, method, want_hashes=bool(seen), tokenizer=tokenizer)
        for block in _results(path, checker, pool_size(size), ticker(val_size)):
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
        if report.examples < ds.MIN_EXAMPLES:
            problems.append(
                Problem(
                    0,
                    "too_few_examples",
                    f"{report.examples} example{'' if report.examples == 1 else 's'}: "
                    f"fine-tuning needs at least {ds.MIN_EXAMPLES}",
                )
            )

    priced = _fill_stats(report, histogram, ds.token_limit(model))
    if report.valid_examples and not priced:
        problems.append(
            Problem(
                0,
                "no_training_price",
                f"the price table has no training price for {model}: no cost estimate "
                "(is it a fine-tunable snapshot?)",
                WARNING,
            )
        )
    shut_down = openai_shut_down_message(model, date.today())
    if shut_down is not None:
        problems.append(Problem(0, "model_shut_down", shut_down))
    if method == "dpo" and report.valid_examples:
        problems.append(Problem(0, "dpo_billing_estimate", ds.DPO_BILLING_NOTE, WARNING))
    if not tokenizer.exact:
        problems.append(Problem(0, "token_estimate", tokenizer.note, WARNING))
    problems.sort(key=lambda p: p.line)  # stable: a line's problems keep their order
    val_problems.sort(key=lambda p: p.line)
    everything = problems + val_problems
    report.errors = [p for p in everything if p.severity == ERROR]
    report.warnings = [p for p in everything if p.severity != ERROR]
    return report


def _fill_stats(report: ds.ValidationReport, histogram: Counter[int], limit: int) -> bool:
    """Token figures, epochs and cost; False when the model has no training price."""
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
        report.estimated_cost_usd = round(report.estimated_training_tokens * price / 1e6, 6)
    return price is not None


def _rank(values: list[int], histogram: Counter[int], rank: int) -> int:
    """The value at 1-based `rank` in sorted order (nearest-rank percentile)."""
    seen = 0
    for v in values:
        seen += histogram[v]
        if seen >= rank:
            return v
    return values[-1]
