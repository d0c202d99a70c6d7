"""Row actions of the Training pane: add, edit, delete, promote to few-shot, and undo.

Mixed into TrainingScreen; the table posts what the user asked for (`ExampleTable.EditRequested`,
`DeleteRequested`, `PromoteRequested`) and these handlers write it to the store, keeping the
undo stack of the session.
"""

from __future__ import annotations

from workbench.store import dataset_checks as checks
from workbench.store import examples as store
from workbench.ui.training_editor import ExampleEditor
from workbench.ui.training_table import ExampleTable


class RowActions:
    """Add, edit, delete, promote and undo rows. Needs the screen's `db`, `model`, `dataset`,
    `table`, `undo_stack`, `refresh_datasets`, `reload_rows` and `_rows_changed`; the screen
    routes the table's messages here (a plain mixin's `@on` handlers would not be registered)."""

    # --- editing ------------------------------------------------------------------------------

    def _tokenizer(self):
        from workbench.core.tokens import get_tokenizer

        return get_tokenizer(self.model)

    def open_editor(self, example_id: int, new: bool = False) -> None:
        dataset = self.dataset
        editor = ExampleEditor(
            self.db,
            example_id,
            method=dataset.method if dataset else "supervised",
            model=self.model,
            tokenizer=self._tokenizer(),
            new=new,
        )

        def closed(edited: bool | None) -> None:
            if new and not edited:
                store.delete_example(self.db, example_id)  # an untouched blank row is not kept
            self._rows_changed(keep_id=example_id)
            self.table.focus()

        self.app.push_screen(editor, closed)

    def _edit(self, event: ExampleTable.EditRequested) -> None:
        self.open_editor(event.example_id)

    def action_add_example(self) -> None:
        dataset = self.dataset
        if dataset is None:
            self.notify("create a dataset first: press n", severity="warning")
            return
        data = checks.blank_example(dataset.method, self._common_system_prompt())
        example = checks.add_checked_example(self.db, dataset.id, data, method=dataset.method)
        self.open_editor(example.id, new=True)

    def _common_system_prompt(self) -> str | None:
        """A new row starts with the system prompt of the row under the cursor, as most rows share one."""
        example = self.table.highlighted
        messages = example.messages if example else []
        if messages and messages[0].get("role") == "system":
            content = messages[0].get("content")
            return content if isinstance(content, str) else None
        return None

    def _delete_row(self, event: ExampleTable.DeleteRequested) -> None:
        example = store.get_example(self.db, event.example_id)
        store.delete_example(self.db, example.id)
        self.undo_stack.append(
            ("delete", example.id, example.dataset_id, example.split, example.position)
        )
        self._after_row_left(f"row {self._where(example)} deleted — ctrl+z to undo")

    def action_promote(self, event: ExampleTable.PromoteRequested | None = None) -> None:
        example_id = event.example_id if event else self.table.current_id
        if example_id is None:
            return
        example = store.get_example(self.db, example_id)
        if checks.has_errors(example):
            self.notify(
                "fix this row's problems before using it as a few-shot example",
                severity="warning",
            )
            return
        store.promote_to_few_shot(self.db, example.id)
        self.undo_stack.append(
            ("promote", example.id, example.dataset_id, example.split, example.position)
        )
        self._after_row_left(
            f"row {self._where(example)} moved to the few-shot library (Examples pane) — "
            "ctrl+z to undo"
        )

    @staticmethod
    def _where(example: store.Example) -> str:
        return f"at line {example.source_line}" if example.source_line else f"#{example.id}"

    def _after_row_left(self, message: str) -> None:
        cursor = self.table.cursor
        self.refresh_datasets(keep_rows=True)
        self.table.cursor = min(cursor, max(0, self.table.row_count - 1))
        self.notify(message)

    def action_undo(self) -> None:
        if not self.undo_stack:
            self.notify("nothing to undo")
            return
        kind, example_id, dataset_id, split, position = self.undo_stack.pop()
        if kind == "delete":
            store.restore_example(self.db, example_id)
        else:
            store.update_example(
                self.db, example_id, dataset_id=dataset_id, split=split, position=position
            )
        self.refresh_datasets(select=dataset_id, keep_rows=True)
        self.reload_rows(keep_id=example_id)
        self.notify("restored the row" if kind == "delete" else "moved the row back")
