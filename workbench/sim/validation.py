"""Job-file checks through the project's own validator (workbench.core.dataset.validate_file), turned
into what OpenAI reports: a failed job whose `error` names the code, the line and the file param."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _first_error(report: Any) -> Any | None:
    errors = [p for p in report.errors if getattr(p, "severity", "error") == "error"]
    return errors[0] if errors else None


def _error(kind: str, problem: Any, count: int) -> dict:
    where = f"line {problem.line}" if problem.line else "the file"
    more = f" ({count - 1} more problem{'s' if count > 2 else ''} in the file)" if count > 1 else ""
    return {
        "code": f"invalid_{kind}_file",
        "message": (
            f"The job failed due to an invalid {kind} file. Invalid file format: {where}: "
            f"{problem.message} [{problem.code}]{more}"
        ),
        "param": f"{kind}_file",
    }


def check_job_files(
    training_path: Path, model: str, method: str, validation_path: Path | None = None
) -> dict:
    """{n_examples, billed_per_epoch, auto_epochs, error|None}; never raises for bad content."""
    from workbench.core.dataset import validate_file
    from workbench.core.tokens import base_model_of

    base = base_model_of(model)
    result: dict[str, Any] = {"n_examples": 0, "billed_per_epoch": 0, "auto_epochs": 1}
    try:
        report = validate_file(training_path, model=base, method=method, workers=1)
    except (OSError, ValueError) as exc:
        result["error"] = {
            "code": "invalid_training_file",
            "message": f"The job failed due to an invalid training file: {exc}",
            "param": "training_file",
        }
        return result
    result.update(
        n_examples=max(report.valid_examples, 1),
        billed_per_epoch=report.tokens.billed_per_epoch,
        auto_epochs=max(1, report.epochs),
        error=None,
    )
    problem = _first_error(report)
    if problem is not None:
        result["error"] = _error("training", problem, len(report.errors))
        return result
    if validation_path is not None:
        try:
            vreport = validate_file(validation_path, model=base, method=method, workers=1)
        except (OSError, ValueError) as exc:
            result["error"] = {
                "code": "invalid_validation_file",
                "message": f"The job failed due to an invalid validation file: {exc}",
                "param": "validation_file",
            }
            return result
        # too few examples is a training-file rule; a small validation file is fine
        verrors = [
            p for p in vreport.errors if "least" not in p.message and p.code != "too_few_examples"
        ]
        if verrors:
            result["error"] = _error("validation", verrors[0], len(verrors))
    return result
