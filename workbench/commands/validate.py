"""`workbench validate FILE`: check a fine-tuning JSONL file before uploading it.

Every problem with its line number, token statistics, default epochs and the training cost.
Exit 0 when the file is valid, 1 when it has any error, 2 when it cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict

HELP = "check a fine-tuning JSONL file (every problem by line, tokens, epochs, cost)"

# How many lines of each problem kind the readable report shows (--json lists all).
SHOWN_PER_CODE = 5
# Show a progress bar on stderr for files bigger than this (and only on a terminal).
PROGRESS_MIN_BYTES = 8 << 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from workbench.core.dataset import DEFAULT_MODEL, METHODS

    parser.epilog = (
        "Exit status: 0 valid (warnings allowed), 1 any error, 2 a file cannot be read. "
        "Token figures and cost cover the valid examples."
    )
    parser.add_argument("file", metavar="FILE", help="the training file (JSONL)")
    parser.add_argument(
        "--validation-file",
        metavar="F",
        help="the validation file: checked too, and matched against FILE for duplicates",
    )
    parser.add_argument(
        "--model",
        metavar="M",
        default=DEFAULT_MODEL,
        help=f"base model to fine-tune: sets the encoding, token limit and price (default: {DEFAULT_MODEL})",
    )
    parser.add_argument(
        "--method",
        choices=METHODS,
        default="supervised",
        help="fine-tuning method (default: supervised)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run(args: argparse.Namespace) -> int:
    from workbench.core.dataset import validate_file

    progress = _Progress(args.file) if sys.stderr.isatty() else None
    try:
        report = validate_file(
            args.file,
            model=args.model,
            method=args.method,
            validation_path=args.validation_file,
            progress=progress,
        )
    except OSError as exc:
        if progress:
            progress.clear()
        where = exc.filename or args.file
        print(f"workbench validate: cannot read {where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if progress:
        progress.clear()
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        sys.stdout.write(render(report))
    return 0 if report.ok else 1


class _Progress:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if total < PROGRESS_MIN_BYTES or now - self.last < 0.1:
            return
        self.last = now
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(
            f"\rvalidating {self.name} [{bar}] {100 * done / total:3.0f}% "
            f"{done / 2**20:,.0f}/{total / 2**20:,.0f} MB"
        )
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _where(problem, validation_prefix: str) -> str:
    """`line 12`, `validation file line 3`, or `file` for whole-file findings."""
    prefix = "validation file " if problem.message.startswith(validation_prefix) else ""
    if problem.line:
        return f"{prefix}line {problem.line}"
    return prefix.strip() or "file"


def render(report) -> str:
    """The readable report: a verdict line, problems grouped by kind with line numbers, figures."""
    from workbench.core.dataset import VALIDATION_PREFIX
    from workbench.core.display import plural, printable

    out: list[str] = []
    verdict = "valid" if report.ok else "NOT valid"
    # the token estimate is said once, as the closing note, not as a warning of its own
    warnings = [p for p in report.warnings if p.code != "token_estimate"]
    out.append(
        f"{report.file}: {verdict} — {plural(report.examples, 'example')}, "
        f"{report.valid_examples:,} valid; {plural(len(report.errors), 'error')}, "
        f"{plural(len(warnings), 'warning')}"
    )
    out.append(f"model {report.model} · method {report.method}")
    if report.validation_file:
        out.append(
            f"validation file {report.validation_file}: "
            f"{plural(report.validation_examples, 'example')}"
        )
    for title, problems in (("Errors", report.errors), ("Warnings", warnings)):
        if not problems:
            continue
        out.append("")
        out.append(f"{title} ({len(problems):,})")
        groups: dict[str, list] = defaultdict(list)
        for p in problems:
            groups[p.code].append(p)
        for code, items in groups.items():
            out.append(f"  {code} ({len(items):,})")
            for p in items[:SHOWN_PER_CODE]:
                where = _where(p, VALIDATION_PREFIX)
                out.append(f"    {where}: {p.message.removeprefix(VALIDATION_PREFIX)}")
            if len(items) > SHOWN_PER_CODE:
                rest = items[SHOWN_PER_CODE:]
                lines = ", ".join(str(p.line) for p in rest[:10])
                more = f", … (+{len(rest) - 10:,})" if len(rest) > 10 else ""
                out.append(
                    f"    ... and {len(rest):,} more (lines {lines}{more}); --json lists all"
                )
    t = report.tokens
    out.append("")
    if report.valid_examples:
        # every token figure is an estimate when the BPE files could not be loaded
        approx = "" if report.tokenizer_exact else "≈ "
        out.append(f"Tokens ({plural(report.valid_examples, 'valid example')})")
        out.append(f"  total {approx}{t.total:,} · assistant {approx}{t.assistant:,}")
        out.append(
            f"  per example: min {approx}{t.min:,} · median {approx}{t.median:,} · "
            f"p95 {approx}{t.p95:,} · max {approx}{t.max:,}"
        )
        if t.over_limit:
            out.append(f"  {plural(t.over_limit, 'example')} over the limit (truncated)")
        out.append(f"  billed per epoch {approx}{t.billed_per_epoch:,}")
        cost = (
            f"≈ ${report.estimated_cost_usd:,.2f}"
            if report.estimated_cost_usd is not None
            else "no training price for this model"
        )
        out.append(
            f"Training: {plural(report.epochs, 'epoch')} (auto) × {approx}{t.billed_per_epoch:,} = "
            f"{approx}{report.estimated_training_tokens:,} tokens → {cost}"
        )
    else:
        out.append("No valid examples: no token figures.")
    if not report.tokenizer_exact:
        out.append(f"Note: {report.tokenizer_note}")
    # file names, key names and roles come from the user's files: no control character gets out
    return printable("\n".join(out)) + "\n"
