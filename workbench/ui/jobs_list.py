"""The jobs list: one row per job of the active profile, newest first."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

STATUS_STYLES = {
    "succeeded": "green",
    "failed": "bold red",
    "cancelled": "dim",
    "running": "cyan",
    "paused": "yellow",
    "queued": "",
    "validating_files": "",
}


@dataclass(frozen=True)
class JobRow:
    """What one list row shows (already in words)."""

    id: str
    status: str
    model: str
    created: str
    elapsed: str
    progress: str
    cost: str
    warning: bool = False  # the last poll of this job failed


def short_model(model: str) -> str:
    """A base model without its date snapshot ("gpt-4.1-mini-2025-04-14" -> "gpt-4.1-mini"):
    the job view beside the list names it in full."""
    return re.sub(r"-\d{4}-\d{2}-\d{2}$", "", model)


class JobList(DataTable):
    """Rows are keyed by job id; highlighting a row posts `JobList.Selected`."""

    # what tells jobs apart first: a narrow list shows these, the rest scrolls into view
    COLUMNS = ("status", "job", "model", "cost", "progress", "elapsed", "created")

    class Selected(Message):
        def __init__(self, job_id: str) -> None:
            super().__init__()
            self.job_id = job_id

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._ids: list[str] = []
        self._shown: dict[str, JobRow] = {}

    def on_mount(self) -> None:
        for name in self.COLUMNS:
            self.add_column(name, key=name)

    def show(self, rows: list[JobRow], selected: str | None) -> None:
        """Replace the rows, keeping the cursor on the selected job."""
        ids = [r.id for r in rows]
        if ids == self._ids:
            for r in rows:
                if self._shown.get(r.id) == r:
                    continue
                for column, value in zip(self.COLUMNS, self._cells(r), strict=True):
                    self.update_cell(r.id, column, value)
        else:
            self.clear()
            for r in rows:
                self.add_row(*self._cells(r), key=r.id)
            self._ids = ids
        self._shown = {r.id: r for r in rows}
        if selected in ids:
            index = ids.index(selected)
            if self.cursor_row != index:
                self.move_cursor(row=index, animate=False)

    @staticmethod
    def _cells(r: JobRow) -> tuple[Text, ...]:
        status = Text(r.status, style=STATUS_STYLES.get(r.status, "yellow"))
        if r.warning:
            status.append(" ⚠", style="bold yellow")
        short_id = r.id if len(r.id) <= 12 else "…" + r.id[-11:]
        return (
            status,
            Text(short_id),
            Text(short_model(r.model), overflow="ellipsis"),
            Text(r.cost),
            Text(r.progress),
            Text(r.elapsed),
            Text(r.created),
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key is not None and event.row_key.value:
            self.post_message(self.Selected(str(event.row_key.value)))
