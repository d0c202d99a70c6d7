"""core.preflight: the job pre-flight the Jobs form and `workbench jobs create` share."""

from __future__ import annotations

import json
from datetime import date

from workbench.core.dataset import validate_file
from workbench.core.jobs import JobRequest
from workbench.core.preflight import preflight, refused

MODEL = "gpt-4.1-mini-2025-04-14"
TODAY = date(2026, 12, 2)


def _report(tmp_path, n=12):
    path = tmp_path / "train.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(
                {
                    "messages": [
                        {"role": "user", "content": f"question {i}"},
                        {"role": "assistant", "content": f"answer {i}"},
                    ]
                }
            )
            for i in range(n)
        )
        + "\n",
        encoding="utf-8",
    )
    return validate_file(path, model=MODEL)


def test_cost_is_billed_tokens_times_epochs_at_the_rate_given(tmp_path):
    report = _report(tmp_path)
    request = JobRequest("d", MODEL, hyperparameters={"n_epochs": 2})
    result = preflight(report, request, rate_per_million=5.0, today=TODAY)
    assert result.ok and result.epochs == 2
    assert result.estimated_tokens == report.tokens.billed_per_epoch * 2
    assert result.estimated_cost_usd == result.estimated_tokens * 5.0 / 1_000_000
    assert "($5 per 1M training tokens)" in result.text
    assert "auto picks" not in result.text  # the user chose the epochs
    assert result.lines[0].level == "ok" and result.lines[0].head.startswith("✓ validation: 12")


def test_no_price_is_said_never_zero(tmp_path):
    result = preflight(
        _report(tmp_path), JobRequest("d", MODEL), rate_per_million=None, today=TODAY
    )
    assert result.estimated_cost_usd is None
    assert "no training price known" in result.text
    assert "auto picks" in result.text  # auto epochs: the rule is shown


def test_azure_lines_replace_openai_deadline(tmp_path):
    result = preflight(
        _report(tmp_path),
        JobRequest("d", MODEL),
        rate_per_million=1.0,
        today=TODAY,
        provider="azure",
        azure_training_type=None,
        azure_warnings=("Developer deployments are deleted after 24 hours",),
    )
    assert "Azure trainingType: not set" in result.text
    assert "OpenAI stops accepting" not in result.text
    assert ("Developer deployments are deleted after 24 hours", "warning") in [
        (line.text, line.level) for line in result.lines
    ]


def test_refused_export_points_to_training_data():
    result = refused(3, "3 rows have problems")
    assert not result.ok
    assert "3 rows of the dataset still have problems" in result.text
    assert result.to_json()["lines"] == [{"text": result.text, "level": "error"}]


def test_problems_are_placed_on_the_line_of_the_imported_file() -> None:
    """The validator counts lines of the export (rows with problems left out); the user sees the
    row's line in the file they imported, or that it was added by hand."""
    from types import SimpleNamespace

    from workbench.core.preflight import where_in_source

    sources = [3, None, 9]
    problem = SimpleNamespace(line=3, message="too long")
    assert where_in_source(problem, sources) == "line 9: "
    assert where_in_source(SimpleNamespace(line=2, message="x"), sources) == "a row added by hand: "
    assert where_in_source(SimpleNamespace(line=0, message="x"), sources) == ""
    validation = SimpleNamespace(line=2, message="validation file: bad role")
    assert where_in_source(validation, sources) == "export line 2: "
