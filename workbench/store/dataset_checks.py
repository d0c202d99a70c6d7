"""Keeping a dataset's cached checks true: each row's problems and tokens match its data.

A row caches its token count and its problems (`examples.tokens`, `examples.problems`) so the table
can filter and count them without validating 100k rows again. Every write that changes a row's data
goes through here (`save_example`, `add_checked_example`), and a whole-dataset validation
(`validate_dataset`) brings every row's cache in line with the full report. `dataset_summary` counts
what the Training pane's summary line shows.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.core.dataset import Problem, in_validation_file, without_file_prefix
from workbench.core.dataset_io import RowCheck, check_example, dumps_line, problems_to_dicts
from workbench.store import examples as store

if TYPE_CHECKING:
    import sqlite_utils

# (example id, its line in the imported file), in the order the validator reads the rows
RowRef = tuple[int, int | None]


@dataclass(frozen=True)
class DatasetSummary:
    """A dataset's live rows, counted: what the Training pane's summary line says."""

    rows: int = 0
    with_problems: int = 0
    tokens: int = 0
    train: int = 0
    validation: int = 0
    test: int = 0


def dataset_summary(db: sqlite_utils.Database, dataset_id: int) -> DatasetSummary:
    """Rows, rows with problems, tokens and rows per split of a dataset (deleted rows left out)."""
    row = db.execute(
        """select count(*), sum(problems != '[]'), coalesce(sum(tokens), 0),
                  sum(split = 'train'), sum(split = 'validation'), sum(split = 'test')
           from examples where dataset_id = ? and deleted_at is null""",
        [dataset_id],
    ).fetchone()
    return DatasetSummary(*(v or 0 for v in row))


def has_errors(example: store.Example) -> bool:
    """A row that cannot be trained on: not JSON, or an error (warnings do not count)."""
    return example.data is None or any(
        p.get("severity", "error") == "error" for p in example.problems
    )


# --- one row ------------------------------------------------------------------------------------


def save_example(
    db: sqlite_utils.Database,
    example_id: int,
    data: Any,
    *,
    raw: str | None = None,
    problems: list[Problem] | None = None,
    tokenizer: Any = None,
    method: str = "supervised",
    model: str | None = None,
    line: int = 0,
) -> RowCheck:
    """Write a row's new content with its problems and tokens, so the cache matches the data.

    With `data` the row is checked here (`core.dataset_io.check_example`); with `data=None` the row
    is kept as its `raw` text and `problems` are the parser's (a line that is not JSON yet)."""
    if data is None:
        check = RowCheck(None, list(problems or []))
        store.update_example(
            db, example_id, data=None, raw=raw, tokens=None, problems=check.problem_dicts()
        )
        return check
    check = check_example(data, tokenizer, method=method, model=model, line=line)
    store.update_example(
        db, example_id, data=data, tokens=check.tokens, problems=check.problem_dicts()
    )
    return check


def add_checked_example(
    db: sqlite_utils.Database, dataset_id: int, data: dict[str, Any], method: str = "supervised"
) -> store.Example:
    """Add a row to a dataset with its problems checked (a blank row has some until filled in)."""
    check = check_example(data, method=method)
    return store.add_example(db, data, dataset_id=dataset_id, problems=check.problem_dicts())


def blank_example(method: str, system: str | None = None) -> dict[str, Any]:
    """The row `a` adds: empty turns to fill in (a chat row starts with `system` when given)."""
    if method == "dpo":
        return {
            "input": {"messages": [{"role": "user", "content": ""}]},
            "preferred_output": [{"role": "assistant", "content": ""}],
            "non_preferred_output": [{"role": "assistant", "content": ""}],
        }
    messages: list[dict[str, Any]] = []
    if system is not None:
        messages.append({"role": "system", "content": system})
    messages += [{"role": "user", "content": ""}, {"role": "assistant", "content": ""}]
    return {"messages": messages}


# --- the whole dataset --------------------------------------------------------------------------


@dataclass
class DatasetValidation:
    """A whole-dataset validation: the report, and its problems by row (key 0: the whole file)."""

    report: Any  # core.dataset.ValidationReport
    findings: dict[int, list[Problem]] = field(default_factory=dict)
    rows: list[RowRef] = field(default_factory=list)  # train rows, then validation rows


def write_split_rows(
    db: sqlite_utils.Database, dataset_id: int, split: str, path: Path
) -> list[RowRef]:
    """Write a split's rows (broken ones as their raw text) for the validator; returns
    [(example id, source line)] in file order, so the report's line N is row N-1."""
    rows: list[RowRef] = []
    with open(path, "wb") as fh:
        for example in store.iter_examples(db, dataset_id, split):
            text = dumps_line(example.data) if example.data is not None else (example.raw or "")
            fh.write(text.replace("\r", " ").replace("\n", " ").encode("utf-8") + b"\n")
            rows.append((example.id, example.source_line))
    return rows


def map_findings(
    report: Any, train_rows: list[RowRef], val_rows: list[RowRef]
) -> dict[int, list[Problem]]:
    """{example id: [Problem]} from the report; key 0 holds the whole-file findings."""
    findings: dict[int, list[Problem]] = {}
    for problem in [*report.errors, *report.warnings]:
        rows = val_rows if in_validation_file(problem) else train_rows
        if problem.line < 1 or problem.line > len(rows):
            findings.setdefault(0, []).append(problem)
            continue
        findings.setdefault(rows[problem.line - 1][0], []).append(problem)
    return findings


def store_findings(
    db: sqlite_utils.Database, findings: dict[int, list[Problem]], rows: list[RowRef]
) -> int:
    """Bring each row's cached problems in line with a full validation; returns rows changed."""
    changed = 0
    with db.atomic():
        for example_id, _line in rows:
            cleaned = [without_file_prefix(p) for p in findings.get(example_id, [])]
            dumped = dumps_line(problems_to_dicts(cleaned))
            cursor = db.execute(
                "update examples set problems = ? where id = ? and problems != ?",
                [dumped, example_id, dumped],
            )
            changed += cursor.rowcount
    return changed


def validate_dataset(
    db: sqlite_utils.Database,
    dataset_id: int,
    *,
    model: str,
    progress: Callable[[int, int], None] | None = None,
) -> DatasetValidation:
    """Validate a dataset's train and validation rows as the files an export would write, and
    write each row's problems to its cache. Raises OSError or ValueError when it cannot run."""
    from workbench.core.dataset import validate_file

    dataset = store.get_dataset(db, dataset_id)
    with tempfile.TemporaryDirectory(prefix="workbench-validate-") as tmp:
        train_path, val_path = Path(tmp) / "train.jsonl", Path(tmp) / "validation.jsonl"
        train_rows = write_split_rows(db, dataset_id, "train", train_path)
        val_rows = write_split_rows(db, dataset_id, "validation", val_path)
        report = validate_file(
            train_path,
            model=model,
            method=dataset.method,
            validation_path=val_path if val_rows else None,
            progress=progress,
        )
    findings = map_findings(report, train_rows, val_rows)
    rows = train_rows + val_rows
    store_findings(db, findings, rows)
    return DatasetValidation(report, findings, rows)
