"""The pre-flight of a fine-tuning job: validation, billed tokens, epochs, cost, time, dates.

One computation for the Jobs pane's form and `workbench jobs create`: both export the dataset
(store), validate the file (core.dataset.validate_file) and hand the report here. The result is
plain data: lines with a level (ok, error, warning, info, note) that the pane styles and the CLI
prints, and the numbers the job is stored with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.core.dataset import ValidationReport
    from workbench.core.jobs import JobRequest

LEVELS = ("ok", "error", "warning", "info", "note")
SHOWN_PROBLEMS = 4


@dataclass(frozen=True)
class PreflightLine:
    """One line: `head` in the line's level (the pane colours it), then `rest` plain and `note`
    dimmed; `text` is the whole line (what the CLI prints)."""

    head: str
    level: str = "info"  # one of LEVELS
    rest: str = ""
    note: str = ""

    @property
    def text(self) -> str:
        return self.head + self.rest + self.note


@dataclass(frozen=True)
class Preflight:
    """What the pre-flight found; `ok` False means the job must not be launched."""

    ok: bool
    lines: tuple[PreflightLine, ...]
    examples: int = 0
    validation_examples: int = 0
    errors: int = 0
    warnings: int = 0
    epochs: int | None = None
    billed_tokens_per_epoch: int | None = None
    estimated_tokens: int | None = None
    rate_per_million: float | None = None
    estimated_cost_usd: float | None = None
    estimated_seconds: float | None = None
    left_out: int = 0  # rows with problems the export left out (train + validation)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["lines"] = [{"text": line.text, "level": line.level} for line in self.lines]
        return data


def refused(problem_rows: int, message: str) -> Preflight:
    """The dataset could not be exported: rows with problems, or nothing valid to send."""
    if problem_rows:
        # the export's own advice ("export only the valid rows") does not apply: the job is built
        # from the dataset, so exporting elsewhere changes nothing
        rows = "1 row" if problem_rows == 1 else f"{problem_rows:,} rows"
        text = (
            f"✗ {rows} of the dataset still {'has' if problem_rows == 1 else 'have'} problems: "
            "fix or delete them in Training data (F3, f lists them), then check again"
        )
    else:
        text = f"✗ {message}"
    return Preflight(False, (PreflightLine(text, "error"),))


def preflight(
    report: ValidationReport,
    request: JobRequest,
    *,
    rate_per_million: float | None,
    today: date,
    provider: str = "openai",
    validation_examples: int | None = None,
    azure_training_type: str | None = None,
    azure_warnings: Sequence[str] = (),
    left_out: int = 0,
    source_lines: Sequence[int | None] | None = None,
) -> Preflight:
    """The pre-flight of `request` from the validator's report of its exported training file.

    `rate_per_million` is the profile's training price (core.provider_pricing.training_rate:
    overrides and Azure's terms included); None is "no price", never $0. `left_out` rows with
    problems were not exported (one rule with the Training pane's export and upload: the valid
    rows go); `source_lines` maps each export line to the row's line in its imported file.
    """
    from workbench.core import jobs as cj

    lines: list[PreflightLine] = []
    if left_out:
        rows = "1 row" if left_out == 1 else f"{left_out:,} rows"
        lines.append(
            PreflightLine(
                f"⚠ {rows} with problems left out",
                "warning",
                f": the job trains on the {report.examples:,} valid rows "
                "(fix them in Training data, F3, f lists them)",
            )
        )
    ok = not report.errors
    head = f"{'✓' if ok else '✗'} validation: {report.examples} examples"
    rest = (
        f" + {validation_examples} validation examples" if validation_examples is not None else ""
    )
    rest += f", {len(report.errors)} errors, {len(report.warnings)} warnings"
    lines.append(PreflightLine(head, "ok" if ok else "error", rest))
    for problem in [*report.errors, *report.warnings][:SHOWN_PROBLEMS]:
        where = where_in_source(problem, source_lines)
        level = "error" if problem in report.errors else "warning"
        lines.append(PreflightLine(f"  {where}{problem.message}", level))
    chosen = request.hyperparameters.get("n_epochs")
    epochs = chosen if isinstance(chosen, int) else report.epochs
    per_epoch = report.tokens.billed_per_epoch
    tokens = per_epoch * epochs
    billed = f"billed tokens: {per_epoch:,} per epoch × {epochs} epochs = {tokens:,}"
    auto = ""
    if not isinstance(chosen, int):
        auto = f"  (auto picks {report.epochs} epochs for {report.examples} examples)"
    lines.append(PreflightLine(billed, note=auto))
    cost = tokens * rate_per_million / 1_000_000 if rate_per_million is not None else None
    if provider == "local" and not rate_per_million:
        lines.append(PreflightLine("estimated cost: $0 plus your hardware (set hourly_cost)"))
    elif cost is not None:
        price = f"estimated cost: ${cost:,.2f} (${rate_per_million:g} per 1M training tokens)"
        lines.append(PreflightLine(price))
    else:
        lines.append(PreflightLine("estimated cost: no training price known for this model"))
    seconds = cj.estimate_duration_seconds(tokens)
    lines.append(
        PreflightLine(f"estimated time: roughly {cj.format_duration(seconds)} (queueing varies)")
    )
    model = cj.BaseModel(
        request.model,
        cj.KNOWN_FINE_TUNABLE.get(request.model),
        "azure" if provider == "azure" else "openai",
    )
    lines.append(PreflightLine(f"base model: {model.describe(today)}"))
    if provider == "azure":
        from workbench.core.model_lifecycle import EXISTING_CUSTOMERS_NOTE

        tier = azure_training_type or "not set (Azure may refuse the job)"
        lines.append(PreflightLine(f"Azure trainingType: {tier}"))
        lines.append(PreflightLine(EXISTING_CUSTOMERS_NOTE, "note"))
        lines.extend(PreflightLine(w, "warning") for w in azure_warnings)
    elif provider == "local":
        lines.append(PreflightLine("trains a LoRA adapter on the machine running workbench local"))
    else:
        lines.append(PreflightLine(cj.creation_deadline_note(today), "warning"))
    if not report.tokenizer_exact:
        lines.append(PreflightLine(report.tokenizer_note, "note"))
    return Preflight(
        ok,
        tuple(lines),
        examples=report.examples,
        validation_examples=validation_examples or 0,
        errors=len(report.errors),
        warnings=len(report.warnings),
        epochs=epochs,
        billed_tokens_per_epoch=per_epoch,
        estimated_tokens=tokens,
        rate_per_million=rate_per_million,
        estimated_cost_usd=cost,
        estimated_seconds=seconds,
        left_out=left_out,
    )


def where_in_source(problem: Any, source_lines: Sequence[int | None] | None) -> str:
    """Where a problem is, as the Training table and the editor say it: the row's line in its
    imported file (the validator counts lines of the export, which may leave rows out)."""
    from workbench.core.dataset import in_validation_file

    if not problem.line:
        return ""
    if source_lines is None:
        return f"line {problem.line}: "
    if in_validation_file(problem):  # its lines are the validation export's
        return f"export line {problem.line}: "
    if problem.line > len(source_lines):
        return ""
    source = source_lines[problem.line - 1]
    return f"line {source}: " if source is not None else "a row added by hand: "
