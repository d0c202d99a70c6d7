"""Moving a dataset between files and the store: import (every line kept), export (versioned), split.

Export writes only valid rows, byte-exact (`core.dataset_io.write_jsonl`), and records the content as a
dataset version (`store.dataset_versions.record_version`): the same bytes are the same version, so an upload
can be skipped when that version already has a file id at the same provider.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.core.dataset_io import (
    ImportedLine,
    RepeatCountingTokenizer,
    check_example,
    problems_to_dicts,
    split_train_validation,
    write_jsonl,
)
from workbench.core.display import plural
from workbench.store import dataset_versions as versions
from workbench.store import examples as store
from workbench.store.dataset_checks import has_errors as _has_errors
from workbench.store.examples import Example

if TYPE_CHECKING:
    import sqlite_utils

IMPORT_BATCH = 1000
# How many problem lines an import summary lists (all of them are in the store either way).
SUMMARY_PROBLEM_LINES = 200


class ExportRefused(Exception):
    """Nothing to export, or rows still have problems and the caller did not accept leaving them out."""

    def __init__(self, message: str, problem_rows: int = 0, valid_rows: int = 0) -> None:
        super().__init__(message)
        self.problem_rows = problem_rows
        self.valid_rows = valid_rows


@dataclass
class ImportSummary:
    """What an import did, for the summary the user sees."""

    lines: int = 0  # rows stored
    valid: int = 0
    with_problems: int = 0  # rows with errors (kept, left out of exports until fixed)
    with_warnings: int = 0  # valid rows that have warnings
    problem_lines: list[tuple[int, str, str]] = field(default_factory=list)  # (line, code, message)

    def describe(self) -> str:
        if not self.lines:
            return "nothing imported: the file has no examples"
        text = f"imported {plural(self.lines, 'row')}: {self.valid:,} valid"
        if self.with_warnings:
            text += f" ({self.with_warnings:,} with warnings)"
        if self.with_problems:
            text += (
                f", {self.with_problems:,} with problems (kept, marked ⚠, fix them in the editor)"
            )
        return text


def _db_dir(db: sqlite_utils.Database) -> Path:
    for row in db.execute("pragma database_list").fetchall():
        if row[1] == "main" and row[2]:
            return Path(row[2]).parent
    return Path(tempfile.gettempdir())


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "dataset"


def import_lines(
    db: sqlite_utils.Database,
    dataset_id: int,
    lines: Iterable[ImportedLine],
    *,
    tokenizer: Any = None,
    method: str = "supervised",
    model: str | None = None,
    split: str = "train",
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Store every imported line: valid ones as examples, broken ones as `raw` text with their line
    number and problems, so nothing is lost. Token counts are cached per row (with `model`, rows over
    its token limit get a warning). Batched transactions.

    Give it lines read without a model: the token count is done here, once per row."""
    summary = ImportSummary()
    batch: list[dict[str, Any]] = []
    # rows of this import get ids above this: a failure half-way removes them again
    before = db.execute("select coalesce(max(id), 0) from examples").fetchone()[0]

    def flush() -> None:
        if batch:
            store.add_examples(db, batch, dataset_id, split=split)
            batch.clear()
            if progress:
                progress(summary.lines)

    try:
        _import_rows(lines, summary, batch, flush, tokenizer, method, model)
    except BaseException:
        with db.atomic():
            db.execute("delete from examples where dataset_id = ? and id > ?", [dataset_id, before])
        raise
    return summary


def drop_new_dataset(db: sqlite_utils.Database, dataset: store.Dataset | None) -> None:
    """Remove a dataset an import created before failing: no empty dataset is left behind."""
    if dataset is not None:
        store.delete_dataset(db, dataset.id)


def _import_rows(
    lines: Iterable[ImportedLine],
    summary: ImportSummary,
    batch: list[dict[str, Any]],
    flush: Callable[[], None],
    tokenizer: Any,
    method: str,
    model: str | None,
) -> None:
    counter = RepeatCountingTokenizer(tokenizer) if tokenizer is not None else None
    for item in lines:
        problems = list(item.problems)
        tokens = None
        if item.data is not None and counter is not None:
            check = check_example(
                item.data, counter, method=method, model=model, line=item.line, problems=problems
            )
            tokens, problems = check.tokens, check.problems
        row: dict[str, Any] = {
            "source_line": item.line,
            "tokens": tokens,
            "problems": problems_to_dicts(problems),
        }
        if item.data is not None:
            row["data"] = item.data
        else:
            row["raw"] = item.raw
        batch.append(row)
        summary.lines += 1
        if any(p.severity == "error" for p in problems) or item.data is None:
            summary.with_problems += 1
        else:
            summary.valid += 1
            summary.with_warnings += bool(problems)
        for problem in problems:
            if len(summary.problem_lines) < SUMMARY_PROBLEM_LINES:
                summary.problem_lines.append((item.line, problem.code, problem.message))
        if len(batch) >= IMPORT_BATCH:
            flush()
    flush()


def export_rows(
    db: sqlite_utils.Database, dataset_id: int, split: str | None = "train"
) -> tuple[list[int], int]:
    """(ids of the rows an export writes, number of rows left out for problems)."""
    ids: list[int] = []
    left_out = 0
    for example in store.iter_examples(db, dataset_id, split):
        if example.split not in ("train", "validation"):
            continue
        if _has_errors(example):
            left_out += 1
        else:
            ids.append(example.id)
    return ids, left_out


def export_counts(db: sqlite_utils.Database, dataset_id: int, split: str) -> tuple[int, int]:
    """(rows an export of the split writes, rows it leaves out for problems), counted in SQL.

    The one rule for "uploadable" and "launchable": an export, an upload and a job's pre-flight
    all take the valid rows (the same `_has_errors` rule as `export_rows`) and say how many rows
    with problems were left out; none of them refuses a dataset that still has valid rows."""
    row = db.execute(
        """select sum(data is null or exists (
                      select 1 from json_each(examples.problems)
                      where coalesce(json_extract(value, '$.severity'), 'error') = 'error')),
                  count(*)
           from examples where dataset_id = ? and split = ? and deleted_at is null""",
        [dataset_id, split],
    ).fetchone()
    bad, total = row[0] or 0, row[1] or 0
    return total - bad, bad


def export_source_lines(
    db: sqlite_utils.Database, dataset_id: int, split: str = "train"
) -> list[int | None]:
    """For each line of the split's export, the row's line in its imported file (None for a row
    added by hand): a validator's "line 21" of the export becomes the line the user sees."""
    ids, _ = export_rows(db, dataset_id, split)
    return [e.source_line for e in examples_by_id(db, ids)]


def export_version(
    db: sqlite_utils.Database,
    dataset_id: int,
    split: str = "train",
    path: str | os.PathLike | None = None,
    *,
    allow_problems: bool = False,
) -> tuple[versions.DatasetVersion, Path]:
    """Write the split's valid rows as JSONL and record the version (once per content).

    Refuses (ExportRefused) when no row is valid, or when rows have problems unless `allow_problems`,
    in which case those rows are left out. Without `path` the file goes to `exports/` beside the
    database, named after the dataset, split and content hash.
    """
    if split not in ("train", "validation"):
        raise ValueError("export the train or the validation split")
    dataset = store.get_dataset(db, dataset_id)
    ids, left_out = export_rows(db, dataset_id, split)
    if left_out and not allow_problems:
        raise ExportRefused(
            f"{plural(left_out, split + ' row')} of {dataset.name!r} still "
            f"{'has' if left_out == 1 else 'have'} problems; fix them or export "
            f"only the {plural(len(ids), 'valid row')}",
            left_out,
            len(ids),
        )
    if not ids:
        raise ExportRefused(f"{dataset.name!r} has no valid {split} rows to export", left_out, 0)

    target_dir = Path(path).parent if path else _db_dir(db) / "exports"
    target_dir.mkdir(parents=True, exist_ok=True)
    wanted = set(ids)
    rows = (
        e.data
        for e in store.iter_examples(db, dataset_id, split)
        if e.id in wanted and e.data is not None
    )
    fd, tmp_name = tempfile.mkstemp(prefix=".export-", suffix=".jsonl", dir=target_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            count, sha256, size = write_jsonl(rows, fh)
        final = (
            Path(path)
            if path
            else target_dir / f"{_slug(dataset.name)}-{split}-{sha256[:12]}.jsonl"
        )
        os.replace(tmp_name, final)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    version = versions.record_version(db, dataset_id, split, sha256, count, size, str(final))
    return version, final


def apply_split(
    db: sqlite_utils.Database, dataset_id: int, validation_fraction: float, seed: int
) -> tuple[int, int]:
    """Re-split a dataset's train and validation rows (seeded); returns (train, validation) counts.

    Rows marked `test` stay held out and are not touched.
    """
    ids = [e.id for e in store.iter_examples(db, dataset_id) if e.split in ("train", "validation")]
    train, validation = split_train_validation(ids, validation_fraction, seed)
    stamp = store.now()
    with db.atomic():
        for split, chosen in (("train", train), ("validation", validation)):
            for start in range(0, len(chosen), 500):
                chunk = chosen[start : start + 500]
                marks = ",".join("?" * len(chunk))
                db.execute(
                    f"update examples set split = ?, updated_at = ? where id in ({marks}) "
                    "and split != ?",
                    [split, stamp, *chunk, split],
                )
    return len(train), len(validation)


# --- browsing: the table pages rows by id, so a 100k-row dataset never loads whole ---------------

_ID_ORDERS = {
    "position": "position, id",
    "line": "source_line is null, source_line, position, id",
    "tokens": "tokens is null, tokens, id",
    "-tokens": "tokens is null, tokens desc, id",
}


def example_ids(
    db: sqlite_utils.Database,
    dataset_id: int,
    *,
    split: str | None = None,
    search: str | None = None,
    with_problems: bool | None = None,
    order: str = "position",
) -> list[int]:
    """The ids of a dataset's live rows, filtered and sorted (ints only: cheap even for 100k)."""
    where, params = store._where(dataset_id, split, None, search or None, with_problems)
    sql = f"select id from examples{where} order by {_ID_ORDERS[order]}"
    return [row[0] for row in db.execute(sql, params).fetchall()]


def examples_by_id(db: sqlite_utils.Database, ids: Sequence[int]) -> list[Example]:
    """The rows with these ids, in the order given (one page of the table)."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = {
        r["id"]: r for r in db.query(f"select * from examples where id in ({marks})", list(ids))
    }
    return [store._example(rows[i]) for i in ids if i in rows]


def dataset_counts(db: sqlite_utils.Database) -> dict[int, tuple[int, int]]:
    """{dataset id: (live rows, rows with problems)} for the dataset list."""
    rows = db.execute(
        "select dataset_id, count(*), sum(problems != '[]') from examples "
        "where deleted_at is null and dataset_id is not null group by dataset_id"
    ).fetchall()
    return {r[0]: (r[1], r[2] or 0) for r in rows}


def hold_out_test(
    db: sqlite_utils.Database, dataset_id: int, test_fraction: float, seed: int
) -> int:
    """Mark rows `test` (seeded) until `test_fraction` of the dataset's rows are held out.

    Rows already marked test stay test (an evaluation may have scored them); new ones are drawn
    from train/validation with the same seeded split as `apply_split`. Returns the test count.
    """
    pool = [e.id for e in store.iter_examples(db, dataset_id) if e.split in ("train", "validation")]
    held = store.count_examples(db, dataset_id=dataset_id, split="test")
    wanted = round((len(pool) + held) * test_fraction) - held
    if wanted <= 0 or not pool:
        return held
    wanted = min(wanted, len(pool) - 1) if len(pool) > 1 else len(pool)
    _rest, chosen = split_train_validation(pool, wanted / len(pool), seed)
    stamp = store.now()
    with db.atomic():
        for start in range(0, len(chosen), 500):
            chunk = chosen[start : start + 500]
            marks = ",".join("?" * len(chunk))
            db.execute(
                f"update examples set split = 'test', updated_at = ? where id in ({marks})",
                [stamp, *chunk],
            )
    return held + len(chosen)


def check_job(
    db: sqlite_utils.Database,
    request: Any,
    dataset_id: int,
    **terms: Any,
) -> tuple[Any, Any]:
    """The pre-flight of a job on this dataset: export (a version per content), validate, price.

    `terms` go to core.preflight.preflight (rate_per_million, today, provider, Azure's notes).
    Returns (Preflight, ((train version, path), (validation version, path) or None)); the paths
    are None when the export was refused.
    """
    from workbench.core.dataset import validate_file
    from workbench.core.preflight import preflight, refused

    splits = ["train", "validation"] if request.use_validation else ["train"]
    # one rule with the Training pane's export and upload: the valid rows go, the rest is counted
    left_out = sum(export_counts(db, dataset_id, split)[1] for split in splits)
    try:
        train = export_version(db, dataset_id, "train", allow_problems=True)
        valid = (
            export_version(db, dataset_id, "validation", allow_problems=True)
            if request.use_validation
            else None
        )
    except ExportRefused as exc:
        return refused(exc.problem_rows, str(exc)), None
    report = validate_file(
        train[1],
        model=request.model,
        method=request.method,
        validation_path=valid[1] if valid else None,
    )
    result = preflight(
        report,
        request,
        validation_examples=valid[0].examples if valid else None,
        left_out=left_out,
        source_lines=export_source_lines(db, dataset_id, "train"),
        **terms,
    )
    return result, (train, valid)
