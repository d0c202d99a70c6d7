"""Import, split, export, validate and upload for the Training pane, in thread workers.

The rules are the store's (`store.dataset_export`, `store.dataset_checks`), file formats
`core.dataset_io`'s, uploads `providers.files`'; here they are asked for, run off the UI thread and
shown: a progress row while they run, a notification or a report when they end.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import getters, work
from textual.widgets import ProgressBar, Static
from textual.worker import Worker

from workbench.app import WorkbenchApp
from workbench.core.display import plural
from workbench.store import dataset_checks as checks
from workbench.store import dataset_export as exports
from workbench.store import examples as store
from workbench.ui.training_modals import (
    ExportDialog,
    ExportRequest,
    ImportDialog,
    ImportRequest,
    ReportScreen,
    SplitDialog,
    SplitRequest,
)
from workbench.ui.training_report import import_report_text, validation_report_text
from workbench.ui.widgets.confirm import ConfirmDialog

if TYPE_CHECKING:
    from workbench.store.dataset_versions import DatasetVersion


class DatasetFileActions:
    """The Training pane's long work: import, split, export, validate and upload, with progress.

    Mixed into TrainingScreen (the widgets and bindings stay the screen's): each action asks in a
    dialog, then runs in a thread worker with its own database connection and reports back through
    `call_from_thread`. Needs the screen's `db`, `model`, `dataset`, `dataset_id`, `table`,
    `refresh_datasets` and `_rows_changed`.
    """

    app = getters.app(WorkbenchApp)
    _busy: str | None = None

    # --- progress -----------------------------------------------------------------------------

    def _start(self, label: str, total: float | None = None) -> bool:
        if self._busy:
            self.notify(f"wait: {self._busy} is still running", severity="warning")
            return False
        self._busy = label
        self.query_one("#progress-row").display = True
        self.query_one("#progress-label", Static).update(Text(label))
        self.query_one("#progress", ProgressBar).update(total=total, progress=0)
        return True

    def _progress(self, done: float, total: float | None = None) -> None:
        bar = self.query_one("#progress", ProgressBar)
        if total is not None:
            bar.update(total=total, progress=done)
        else:
            bar.update(progress=done)

    def _finish(self) -> None:
        self._busy = None
        self.query_one("#progress-row").display = False

    def _thread_progress(self) -> Callable[[float, float], None]:
        """A progress callback for thread workers (throttled: one UI update per percent)."""
        last = [-1]

        def report(done: float, total: float) -> None:
            step = int(100 * done / total) if total else 0
            if step != last[0]:
                last[0] = step
                self.app.call_from_thread(self._progress, done, total)

        return report

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        """The app's worker router reports the failure; here the progress ends."""
        if str(worker.group).startswith("training-"):
            self._finish()

    # --- import -------------------------------------------------------------------------------

    def action_import_file(self) -> None:
        dataset = self.dataset

        def chosen(request: ImportRequest | None) -> None:
            if request and self._start(f"importing {request.path.name}"):
                self.import_worker(request)

        self.app.push_screen(ImportDialog(dataset.name if dataset else ""), chosen)

    @work(thread=True, exclusive=True, group="training-import", exit_on_error=False)
    def import_worker(self, request: ImportRequest) -> None:
        from workbench.core.dataset_io import (
            CSVColumnsMissing,
            read_csv,
            read_jsonl,
            sniff_method,
        )
        from workbench.core.jsonl import check_regular_file
        from workbench.core.tokens import get_tokenizer
        from workbench.store.db import open_db

        db = open_db(self.app.db_path)
        created = None  # a dataset this import made: removed again if the import fails
        try:
            check_regular_file(request.path)  # a FIFO or a device would block the worker
            dataset = store.find_dataset(db, request.dataset_name)
            if dataset is None:
                method = "supervised" if request.is_csv else sniff_method(request.path)
                dataset = created = store.create_dataset(db, request.dataset_name, method=method)
            total = _count_lines(request.path)
            progress = self._thread_progress()
            if request.is_csv:
                lines = read_csv(
                    request.path, request.prompt_column, request.completion_column, request.system
                )
            else:
                lines = read_jsonl(request.path, method=dataset.method)
            summary = exports.import_lines(
                db,
                dataset.id,
                lines,
                tokenizer=get_tokenizer(self.model),
                method=dataset.method,
                model=self.model,
                progress=lambda n: progress(n, max(total, n)),
            )
        except CSVColumnsMissing as exc:
            exports.drop_new_dataset(db, created)
            self.app.call_from_thread(self._import_failed, str(exc))
            return
        except (OSError, UnicodeDecodeError) as exc:
            exports.drop_new_dataset(db, created)
            self.app.call_from_thread(self._import_failed, f"could not read {request.path}: {exc}")
            return
        except BaseException:  # reported by _worker_failed; the half-made dataset goes
            exports.drop_new_dataset(db, created)
            raise
        finally:
            db.close()
        self.app.call_from_thread(self._imported, request, dataset.id, summary)

    def _import_failed(self, message: str) -> None:
        self._finish()
        self.notify(message, severity="error", timeout=10)

    def _imported(self, request: ImportRequest, dataset_id: int, summary: Any) -> None:
        self._finish()
        self.refresh_datasets(select=dataset_id)
        self.table.focus()
        body = import_report_text(summary)
        self.app.push_screen(ReportScreen(f"Imported {request.path.name}", body))

    # --- split --------------------------------------------------------------------------------

    def action_split(self) -> None:
        if self.dataset is None:
            self.notify("create or import a dataset first", severity="warning")
            return
        dataset_id = self.dataset_id

        def chosen(request: SplitRequest | None) -> None:
            if request is None or dataset_id is None:
                return
            train, validation = exports.apply_split(
                self.db, dataset_id, request.validation_fraction, request.seed
            )
            self._rows_changed(keep_id=self.table.current_id)
            self.notify(f"split: {train:,} train, {validation:,} validation (seed {request.seed})")

        self.app.push_screen(SplitDialog(), chosen)

    # --- export -------------------------------------------------------------------------------

    def _problem_rows(self, split: str) -> tuple[int, int]:
        """(rows an export would leave out, rows it would write) without loading them."""
        good, bad = exports.export_counts(self.db, self.dataset_id, split)
        return bad, good

    def _confirm_problems(self, split: str, verb: str, then: Callable[[bool], None]) -> None:
        bad, good = self._problem_rows(split)
        if not good:
            self.notify(f"no valid {split} rows to {verb}", severity="warning")
            return
        if not bad:
            then(False)
            return
        self.app.push_screen(
            ConfirmDialog(
                f"{bad:,} rows have problems",
                f"{bad:,} {split} rows still have problems and would be left out. "
                f"{verb.capitalize()} only the {good:,} valid rows? (Or cancel, press f to see "
                "them and fix them first.)",
                yes=f"{verb.capitalize()} {good:,} rows",
            ),
            lambda yes: then(True) if yes else None,
        )

    def action_export(self) -> None:
        if self.dataset is None:
            self.notify("create or import a dataset first", severity="warning")
            return
        _, validation = self._problem_rows("validation")

        def chosen(request: ExportRequest | None) -> None:
            if request is None:
                return
            self._confirm_problems(
                request.split,
                "export",
                lambda allow: (
                    self._start(f"exporting {request.split}") and self.export_worker(request, allow)
                ),
            )

        self.app.push_screen(ExportDialog(has_validation=validation > 0), chosen)

    @work(thread=True, exclusive=True, group="training-export", exit_on_error=False)
    def export_worker(self, request: ExportRequest, allow_problems: bool) -> None:
        from workbench.store.db import open_db

        db = open_db(self.app.db_path)
        try:
            version, path = exports.export_version(
                db, self.dataset_id, request.split, request.path, allow_problems=allow_problems
            )
        except (exports.ExportRefused, OSError) as exc:
            self.app.call_from_thread(self._import_failed, f"not exported: {exc}")
            return
        finally:
            db.close()
        self.app.call_from_thread(self._exported, version, path)

    def _exported(self, version: DatasetVersion, path: Path) -> None:
        self._finish()
        self.last_export = (version, path)
        self.notify(
            f"exported {plural(version.examples, 'row')} ({version.bytes:,} bytes) to {path} "
            f"· sha256 {version.sha256[:12]}",
            timeout=10,
        )

    # --- validate -----------------------------------------------------------------------------

    def action_validate(self) -> None:
        if self.dataset is None:
            self.notify("create or import a dataset first", severity="warning")
            return
        if self._start("validating"):
            self.validate_worker(self.dataset_id)

    @work(thread=True, exclusive=True, group="training-validate", exit_on_error=False)
    def validate_worker(self, dataset_id: int) -> None:
        from workbench.store.db import open_db

        db = open_db(self.app.db_path)
        try:
            name = store.get_dataset(db, dataset_id).name
            checked = checks.validate_dataset(
                db, dataset_id, model=self.model, progress=self._thread_progress()
            )
        except (OSError, ValueError) as exc:
            self.app.call_from_thread(self._import_failed, f"could not validate: {exc}")
            return
        finally:
            db.close()
        body = validation_report_text(checked.report, checked.findings, checked.rows)
        self.app.call_from_thread(self._validated, name, checked.report, body)

    def _validated(self, name: str, report: Any, body: Text) -> None:
        self._finish()
        self.last_report = report
        self._rows_changed(keep_id=self.table.current_id)
        self.table.invalidate()
        self.app.push_screen(ReportScreen(f"Validation of {name!r}", body))

    # --- upload -------------------------------------------------------------------------------

    def _upload_off(self) -> str | None:
        """Why the active provider takes no file uploads (providers/capabilities.py), or None."""
        from workbench.providers.capabilities import capabilities_for

        profile = self.app.config.profile
        caps = capabilities_for(profile)
        return None if caps.has("files") else caps.why_not("files", profile.name)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Upload shows dimmed where the provider has no Files API."""
        if action == "upload" and self._upload_off():
            return None
        return True

    def action_upload(self) -> None:
        off = self._upload_off()
        if off:
            self.notify(off, severity="warning", markup=False)
            return
        if self.dataset is None:
            self.notify("create or import a dataset first", severity="warning")
            return
        dataset_id = self.dataset_id
        _, validation = self._problem_rows("validation")
        splits = ["train"] + (["validation"] if validation else [])

        def go(allow: bool) -> None:
            if self._start("uploading"):
                self.upload_worker(dataset_id, splits, allow)

        self._confirm_problems("train", "upload", go)

    @work(thread=True, exclusive=True, group="training-upload", exit_on_error=False)
    def upload_worker(self, dataset_id: int, splits: list[str], allow_problems: bool) -> None:
        from workbench.providers.job_steps import upload_version_once
        from workbench.providers.openai_api import explain_error, make_client
        from workbench.store.db import open_db

        profile = self.app.config.profile
        db = open_db(self.app.db_path)
        lines: list[str] = []
        clients: list[Any] = []  # made at the first upload: already-uploaded splits need no key
        try:
            for split in splits:
                self.app.call_from_thread(self._label, f"exporting {split}")
                version, path = exports.export_version(
                    db, dataset_id, split, allow_problems=allow_problems
                )

                def connect(version=version, split=split) -> Any:
                    self.app.call_from_thread(
                        self._label, f"uploading {split} ({version.bytes:,} B)"
                    )
                    if not clients:
                        clients.append(make_client(profile))
                    return clients[0]

                upload = upload_version_once(
                    connect, db, profile, version, path, progress=self._thread_progress()
                )
                if upload.uploaded:
                    lines.append(
                        f"{split}: uploaded as {upload.file_id} ({plural(version.examples, 'row')})"
                    )
                else:
                    lines.append(f"{split}: already uploaded as {upload.file_id} (same content)")
        except exports.ExportRefused as exc:
            self.app.call_from_thread(self._import_failed, f"not uploaded: {exc}")
            return
        except Exception as exc:  # provider errors are explained in words, never a traceback
            problem = explain_error(exc, profile)
            self.app.call_from_thread(self._import_failed, f"upload failed: {problem.message}")
            return
        finally:
            db.close()
            for client in clients:
                client.close()
        self.app.call_from_thread(self._uploaded, lines)

    def _label(self, text: str) -> None:
        self.query_one("#progress-label", Static).update(Text(text))
        self.query_one("#progress", ProgressBar).update(total=None, progress=0)

    def _uploaded(self, lines: list[str]) -> None:
        self._finish()
        self.last_upload = lines
        self.notify("\n".join(lines), title="Upload", timeout=12)


def _count_lines(path: Path) -> int:
    count = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
    return count + 1
