"""The Training pane's reports as text: a row's problems, a whole-dataset validation and an import
summary.

Plain functions from the store's results to Rich text (no widgets); the pane shows them in a
ReportScreen. The messages are data, so they are appended as text, never parsed as markup.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from workbench.core.dataset import Problem

REPORT_PROBLEMS = 500


def problems_text(problems: list[Problem] | list[dict[str, Any]]) -> Text:
    """Problems as plain lines, errors red and warnings yellow (the messages are data, not markup)."""
    text = Text()
    for i, problem in enumerate(problems):
        severity = problem.severity if isinstance(problem, Problem) else problem.get("severity")
        message = problem.message if isinstance(problem, Problem) else problem.get("message", "")
        if i:
            text.append("\n")
        text.append(
            ("⚠ " if severity == "error" else "! ") + message,
            style="red" if severity == "error" else "yellow",
        )
    return text


def validation_report_text(
    report: Any, findings: dict[int, list[Any]], rows: list[tuple[int, int | None]]
) -> Text:
    text = Text()
    ok = not report.errors
    text.append(
        "✓ ready to upload\n" if ok else "⚠ problems to fix before uploading\n",
        style="bold green" if ok else "bold red",
    )
    text.append(f"\nexamples        {report.examples:,} ({report.valid_examples:,} valid)")
    if report.validation_examples:
        text.append(f", validation {report.validation_examples:,}")
    tokens = report.tokens
    text.append(f"\ntokens          {tokens.total:,} total, {tokens.assistant:,} assistant")
    text.append(
        f"\nper example     min {tokens.min:,} · median {tokens.median:,} · "
        f"p95 {tokens.p95:,} · max {tokens.max:,}"
    )
    text.append(f"\nbilled / epoch  {tokens.billed_per_epoch:,}")
    text.append(f"\nepochs          {report.epochs} (OpenAI's default rule)")
    text.append(f"\ntraining tokens {report.estimated_training_tokens:,}")
    cost = report.estimated_cost_usd
    text.append("\nestimated cost  ")
    text.append(f"${cost:,.2f}" if cost is not None else "no price known", style="bold")
    text.append(f" for {report.model}")
    if not report.tokenizer_exact:
        text.append(f"\n{report.tokenizer_note}", style="yellow")

    def add(label: str, problem: Any) -> None:
        error = problem.severity == "error"
        text.append(f"{label}  " if label else "", style="dim")
        text.append(f"{problem.code}: ", style="red" if error else "yellow")
        text.append(problem.message + "\n")

    whole = findings.get(0, [])
    if whole:
        text.append("\n\nWhole dataset\n", style="bold")
        for problem in whole:
            add("", problem)
    shown = 0
    per_row = sum(len(v) for k, v in findings.items() if k)
    if per_row:
        text.append(f"\n\nProblems by line ({per_row:,})\n", style="bold")
    for example_id, source_line in rows:
        for problem in findings.get(example_id, []):
            if shown < REPORT_PROBLEMS:
                add(f"line {source_line}" if source_line else f"row #{example_id}", problem)
            shown += 1
    if shown > REPORT_PROBLEMS:
        text.append(f"… {shown - REPORT_PROBLEMS:,} more: tick “problems only” to see them\n")
    return text


def import_report_text(summary: Any) -> Text:
    """What an import did (`store.dataset_export.ImportSummary`), with its problems by line."""
    body = Text()
    body.append(summary.describe() + "\n", style="bold")
    if summary.problem_lines:
        body.append("\nProblems by line (the rows are kept: filter with f, fix with enter)\n")
        for line, code, message in summary.problem_lines:
            body.append(f"line {line}  ", style="dim")
            body.append(f"{code}: ", style="red")
            body.append(message + "\n")
        if summary.with_problems > len(summary.problem_lines):
            body.append("… and more: tick “problems only” to see them all\n", style="dim")
    return body
