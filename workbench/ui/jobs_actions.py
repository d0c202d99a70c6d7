"""What can be done to the selected job: cancel, pause, resume (each confirmed first), try its model
in the Prompt pane, save its results CSV, copy Azure's deploy command; and which of these the job's
state and the provider allow (`check_action`: the others show dimmed in the footer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual import getters
from textual.app import SystemCommand

from workbench.app import WorkbenchApp
from workbench.core import jobs as cj

if TYPE_CHECKING:
    from workbench.config import Profile
    from workbench.ui.jobs_view import JobDetail

# What the selected job's state must be for each action.
ALLOWED: dict[str, Callable[[cj.Job], bool]] = {
    "cancel": lambda job: not job.terminal,
    "pause": lambda job: job.status == "running",
    "resume": lambda job: job.status == "paused",
}


class SelectedJobActions:
    """Mixed into JobsScreen (which declares the bindings and the `selected_job` reactive they
    follow). Needs the screen's `selected`, `selected_job`, `profile`, `db`, `load_detail`,
    `start_watching` and `schedule_redraw`."""

    app = getters.app(WorkbenchApp)
    selected: str | None
    selected_job: cj.Job | None
    profile: Profile
    load_detail: Callable[[str], JobDetail | None]

    def _off_reason(self, capability: str) -> str | None:
        """Why the active profile cannot do this (providers/capabilities.py), or None."""
        from workbench.providers.capabilities import capabilities_for

        caps = capabilities_for(self.profile)
        return None if caps.has(capability) else caps.why_not(capability, self.profile.name)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Cancel, pause, resume and try show dimmed (and do nothing) unless the selected job's
        state allows them; pause and resume too where the provider has no such call."""
        job = self.selected_job
        if action == "job_action" and parameters and parameters[0] in ALLOWED:
            if parameters[0] in ("pause", "resume") and self._off_reason("pause_resume"):
                return None
            return True if job is not None and ALLOWED[str(parameters[0])](job) else None
        if action == "try_model":
            return True if job is not None and job.fine_tuned_model else None
        return True

    def palette_extras(self) -> Iterable[SystemCommand]:
        """Beside the keys' commands: why pause and resume are off (their keys stay dimmed), and
        on Azure the deploy command, which no key reaches."""
        prefix = self.palette_prefix()
        off = self._off_reason("pause_resume")
        if off:
            for action in ("pause", "resume"):
                yield SystemCommand(
                    f"{prefix}: {action.capitalize()} (off for this provider)",
                    off,
                    lambda action=action: self.action_job_action(action),
                )
        if self.profile.kind == "azure":
            yield SystemCommand(
                f"{prefix}: Copy the Azure deploy command",
                "az cognitiveservices account deployment create ... for the selected job's model",
                self.action_copy_deploy,
            )

    def action_job_action(self, action: str) -> None:
        from workbench.ui.widgets.confirm import ConfirmDialog

        off = self._off_reason("pause_resume") if action in ("pause", "resume") else None
        if off:
            self.notify(off, severity="warning", markup=False)
            return
        detail = self.load_detail(self.selected) if self.selected else None
        if detail is None:
            self.notify("no job selected", severity="warning")
            return
        job = detail.job
        if not ALLOWED[action](job):
            self.notify(
                f"cannot {action} a job that is {cj.status_label(job.status)}", severity="warning"
            )
            return
        details = {
            "cancel": "Cancelling cannot be undone; tokens trained so far may still be billed.",
            "pause": "Pausing keeps a checkpoint; resume continues from it.",
            "resume": "The job goes back to the queue and continues from its last checkpoint.",
        }

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(
                    lambda: self._act(action, job.id),
                    thread=True,
                    group="job-action",
                    description=f"{action} {job.id}",
                    exit_on_error=False,
                )

        self.app.push_screen(
            ConfirmDialog(
                f"{action.capitalize()} {job.id}?",
                details[action],
                f"{action.capitalize()} job",
                "Keep it" if action == "cancel" else "Cancel",
                destructive=action == "cancel",
            ),
            answered,
        )

    def _act(self, action: str, job_id: str) -> None:
        """Thread: cancel/pause/resume, store the job it returns, resume watching."""
        from workbench.providers.fine_tuning import ACTIONS
        from workbench.providers.openai_api import explain_error, make_client
        from workbench.store import jobs as store
        from workbench.store.db import open_db

        profile = self.profile
        try:
            client = make_client(profile, timeout=30)
            try:
                obj = ACTIONS[action](client, job_id)
            finally:
                client.close()
        except Exception as exc:  # noqa: BLE001
            message = f"could not {action} {job_id}: {explain_error(exc, profile).message}"
            self.app.call_from_thread(self.notify, message, severity="error", markup=False)
            return
        db = open_db(self.app.db_path)
        try:
            job, _ = store.upsert_job(db, profile.name, profile.base_url, obj)
        finally:
            db.close()
        self.app.call_from_thread(self._acted, job)

    def _acted(self, job: cj.Job) -> None:
        self.notify(f"{job.id} is {cj.status_label(job.status)}", markup=False)
        self.start_watching(job.id)
        self.schedule_redraw(job.id)

    def action_save_results(self) -> None:
        """Write the decoded metrics CSV beside the database (exports/), for a spreadsheet."""
        from pathlib import Path

        from workbench.store import jobs as store

        if not self.selected:
            return
        text = store.results_csv(self.db, self.profile.base_url, self.selected)
        if not text:
            self.notify("no results file yet (it comes when the job succeeds)", severity="warning")
            return
        target = Path(self.app.db_path).parent / "exports" / f"{self.selected}-results.csv"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.notify(f"could not write {target}: {exc}", severity="error", markup=False)
            return
        self.notify(f"saved {target}", markup=False)

    def action_copy_deploy(self) -> None:
        """Azure: the `az` command that deploys the selected job's model, to the clipboard."""
        from workbench.providers import azure

        detail = self.load_detail(self.selected) if self.selected else None
        model = detail.job.fine_tuned_model if detail else None
        if not model:
            self.notify("the selected job has no fine-tuned model yet", severity="warning")
            return
        command = azure.deploy_command(self.profile, model)
        self.app.copy_to_clipboard(command)
        self.notify(f"copied: {command}", markup=False, timeout=10)

    def action_try_model(self) -> None:
        detail = self.load_detail(self.selected) if self.selected else None
        model = detail.job.fine_tuned_model if detail else None
        if not model:
            self.notify("the selected job has no fine-tuned model yet", severity="warning")
            return
        self.app.try_fine_tuned_model(model)
