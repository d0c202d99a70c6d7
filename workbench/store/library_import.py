"""Reading a JSONL or CSV file into the few-shot library, in batches, keeping every skipped line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from workbench.store.examples import SPLITS, add_examples

if TYPE_CHECKING:
    import sqlite_utils


def import_library_file(
    db: sqlite_utils.Database,
    path: Any,
    split: str = "few-shot",
    tags: Iterable[str] = (),
    batch_size: int = 1000,
) -> Any:
    """Import a JSONL (chat rows or input/output) or CSV file into the examples library.

    Returns a core.fewshot.ImportReport: rows added, and each skipped line with why. A file that
    cannot be read at all sets `report.error` instead of raising.
    """
    from pathlib import Path

    from workbench.core.fewshot import ImportReport, read_import_rows

    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    extra = tuple(tags)
    report = ImportReport(path=Path(path).name)
    batch: list[dict[str, Any]] = []
    try:
        for row in read_import_rows(path):
            if row.data is None:
                report.skipped.append((row.line, row.error))
                continue
            row_tags = tuple(dict.fromkeys((*row.tags, *extra)))
            batch.append({"data": row.data, "tags": row_tags, "source_line": row.line})
            if len(batch) >= batch_size:
                report.added += add_examples(db, batch, None, split=split)
                batch = []
        if batch:
            report.added += add_examples(db, batch, None, split=split)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        report.error = str(exc)
    return report
