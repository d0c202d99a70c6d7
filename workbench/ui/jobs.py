"""The Jobs pane: every fine-tuning job of the active profile, one watched live.

The store is the truth: the list and the job view are drawn from SQLite at once when the pane
opens (so a new SSH session sees the whole story before any network call), then one thread worker
per unfinished job polls the provider (a retrieve plus one events page), writes what it finds to
SQLite and posts `JobPolled`. Redraws are coalesced: at most one every REDRAW_SECONDS whatever the
number of jobs and events. Polling backs off when nothing changes and after errors, honours a 429's
Retry-After and stops when the job ends.

"Try it in the Prompt pane" sets `app.pending_fine_tuned_model` (a plain attribute) to the model
id and switches to the Prompt pane, which reads and clears it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from rich.text import Text
from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from workbench.core import jobs as cj
from workbench.ui.jobs_list import JobList, JobRow
from workbench.ui.jobs_view import EVENT_LOG_LIMIT, JobDetail, JobView
from workbench.ui.pane import PaneScreen


class JobPolled(Message):
    """A watcher stored a poll (or failed one: `problem` set). Only the newest per job matters."""

    def __init__(self, job_id: str, problem: str = "", finished: bool = False) -> None:
        super().__init__()
        self.job_id = job_id
        self.problem = problem
        self.finished = finished

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, JobPolled) and message.job_id == self.job_id


class JobsScreen(PaneScreen):
    PANE = "jobs"
    # Poll intervals (seconds): the shortest, and the longest a quiet job backs off to.
    POLL_MINIMUM = 2.0
    POLL_MAXIMUM = 60.0
    # How often the provider's job list is fetched (jobs created elsewhere appear on their own).
    REMOTE_REFRESH_SECONDS = 60.0
    # At most one redraw per this many seconds.
    REDRAW_SECONDS = 0.3
    LIST_LIMIT = 500

    BINDINGS = [
        Binding("n", "new_job", "New job", id="jobs-new"),
        Binding("c", "job_action('cancel')", "Cancel", id="jobs-cancel"),
        Binding("p", "job_action('pause')", "Pause", id="jobs-pause"),
        Binding("r", "job_action('resume')", "Resume", id="jobs-resume"),
        Binding("a", "toggle_accuracy", "Accuracy", id="jobs-accuracy"),
        Binding("t", "try_model", "Try model", id="jobs-try"),
        Binding("e", "more_events", "More events", id="jobs-more-events", show=False),
        Binding("g", "refresh", "Refresh", id="jobs-refresh", show=False),
        Binding("s", "save_results", "Save results CSV", id="jobs-save-results", show=False),
        Binding("l", "toggle_list", "List", id="jobs-toggle-list", show=False),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.selected: str | None = None
        self.watch_notes: dict[str, str] = {}
        self._watchers: dict[str, Worker] = {}
        self._dirty: set[str | None] = set()
        # (base_url, job id) -> (row marker, points by step): the chart grows without re-reading
        self._metrics: dict[tuple[str, str], tuple[int, dict[int, cj.MetricPoint]]] = {}
        self._redraw_pending = False
        self.remote_problem = ""

    # --- layout --------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="jobs-split"):
            with Vertical(id="jobs-left"):
                yield Static("", id="jobs-note")
                yield JobList(id="jobs-list")
            yield JobView(id="job-view")

    @property
    def profile(self):
        return self.app.config.profile  # type: ignore[attr-defined]

    @property
    def db(self):
        return self.app.db  # type: ignore[attr-defined]

    def _off_reason(self, capability: str) -> str | None:
        """Why the active profile cannot do this (providers/capabilities.py), or None."""
        from workbench.providers.capabilities import capabilities_for

        profile = self.app.config.profile  # type: ignore[attr-defined]
        caps = capabilities_for(profile)
        return None if caps.has(capability) else caps.why_not(capability, profile.name)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Pause/resume show dimmed (and do nothing) where the provider has no such call."""
        if action == "job_action" and parameters and parameters[0] in ("pause", "resume"):
            return None if self._off_reason("pause_resume") else True
        return True

    def on_mount(self) -> None:
        # from SQLite first, before any network: the whole story at once
        self.redraw(all_rows=True)
        for job in self._stored_jobs():
            if not job.terminal:
                self.watch_job(job.id)
        # finished jobs never fetched are fetched once the provider's list answers
        # (_refresh_remote): offline or without a key they are not marked as failing to watch
        self.refresh_remote()
        self.set_interval(self.REMOTE_REFRESH_SECONDS, self.refresh_remote)
        self.set_interval(5.0, self._tick)

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand(
            "New fine-tuning job", "Create a job from a dataset", self.action_new_job
        )
        yield SystemCommand(
            "Cancel the selected job", "Stop it for good", lambda: self.action_job_action("cancel")
        )
        off = self._off_reason("pause_resume")
        yield SystemCommand(
            "Pause the selected job",
            off or "Keep a snapshot",
            lambda: self.action_job_action("pause"),
        )
        yield SystemCommand(
            "Resume the selected job",
            off or "Continue a paused job",
            lambda: self.action_job_action("resume"),
        )
        yield SystemCommand(
            "Try the fine-tuned model", "Open it in the Prompt pane", self.action_try_model
        )
        if self.app.config.profile.kind == "azure":  # type: ignore[attr-defined]
            yield SystemCommand(
                "Copy the Azure deploy command",
                "az cognitiveservices account deployment create ... for the selected job's model",
                self.action_copy_deploy,
            )
        yield SystemCommand("Toggle loss / accuracy chart", "", self.action_toggle_accuracy)
        yield SystemCommand(
            "Save the job's results CSV",
            "The decoded metrics file, beside the database",
            self.action_save_results,
        )
        yield SystemCommand(
            "Show / hide the jobs list", "More room for the job", self.action_toggle_list
        )

    # --- reading the store ---------------------------------------------------------------------

    def _stored_jobs(self) -> list[cj.Job]:
        from workbench.store import jobs as store

        return store.list_jobs(
            self.db,
            profile=self.profile.name,
            base_url=self.profile.base_url,
            limit=self.LIST_LIMIT,
        )

    def _terms(self):
        """The profile's price terms (core.pricing reads them; Azure's tier, [prices] overrides)."""
        from workbench.core.provider_pricing import terms_for

        return terms_for(self.profile, getattr(self.app.config, "prices", None))

    def _row(self, job: cj.Job, now: float) -> JobRow:
        from workbench.store import jobs as store

        points = cj.metric_series(store.progress_events(self.db, job.base_url, job.id))
        done = cj.progress(job, points, now)
        progress = ("" if job.status != "succeeded" else "done") if job.terminal else done.short()
        return JobRow(
            id=job.id,
            status=cj.status_label(job.status),
            model=job.model,
            created=cj.format_timestamp(job.created_at),
            elapsed=cj.format_duration(cj.elapsed_seconds(job, now)),
            progress=progress,
            cost=cj.cost_so_far(job, self._terms(), done).describe(),
            warning=bool(self.watch_notes.get(job.id)),
        )

    def _points(self, base_url: str, job_id: str) -> list[cj.MetricPoint]:
        """The job's chart points, reading only the metrics events stored since the last call."""
        from workbench.store import jobs as store

        marker, by_step = self._metrics.get((base_url, job_id), (0, {}))
        new, marker = store.metric_events_since(self.db, base_url, job_id, marker)
        for event in new:
            point = cj.metric_point(event)
            if point is not None:
                by_step[point.step] = point
        self._metrics[(base_url, job_id)] = (marker, by_step)
        return [by_step[step] for step in sorted(by_step)]

    def load_detail(self, job_id: str) -> JobDetail | None:
        from workbench.store import jobs as store

        base_url = self.profile.base_url
        try:
            job = store.get_job(self.db, base_url, job_id)
        except KeyError:
            return None
        csv_text = store.results_csv(self.db, base_url, job_id)
        return JobDetail(
            job=job,
            statuses_seen=store.statuses_seen(self.db, base_url, job_id),
            points=self._points(base_url, job_id),
            checkpoints=store.list_checkpoints(self.db, base_url, job_id),
            events=store.list_events(
                self.db, base_url, job_id, limit=self.query_one(JobView).event_limit
            ),
            event_count=store.count_events(self.db, base_url, job_id),
            results=cj.decode_results_csv(csv_text) if csv_text else [],
            cost=cj.cost_so_far(
                job, self._terms(), cj.progress(job, self._points(base_url, job_id), time.time())
            ),
            watch_note=self.watch_notes.get(job_id, ""),
        )

    # --- drawing -------------------------------------------------------------------------------

    def redraw(self, all_rows: bool = True) -> None:
        now = time.time()
        jobs = self._stored_jobs()
        if self.selected not in {j.id for j in jobs}:
            self.selected = jobs[0].id if jobs else None
        note = Text()
        if not jobs:
            note.append(
                f"No fine-tuning jobs for profile {self.profile.name!r} yet. "
                "Press n to create one from a dataset."
            )
        else:
            watching = sum(1 for w in self._watchers.values() if w.is_running)
            noun = "job" if len(jobs) == 1 else "jobs"
            note.append(f"{len(jobs)} {noun} · watching {watching}")
        if self.remote_problem:
            note.append(f"\nprovider's job list unavailable: {self.remote_problem}", style="yellow")
        self.query_one("#jobs-note", Static).update(note)
        if all_rows:
            self.query_one(JobList).show([self._row(j, now) for j in jobs], self.selected)
        self.query_one(JobView).show(self.load_detail(self.selected) if self.selected else None)

    def schedule_redraw(self, job_id: str | None) -> None:
        """Coalesce: many polls and messages, one redraw per REDRAW_SECONDS."""
        self._dirty.add(job_id)
        if not self._redraw_pending:
            self._redraw_pending = True
            self.set_timer(self.REDRAW_SECONDS, self._flush_redraw)

    def _flush_redraw(self) -> None:
        self._redraw_pending = False
        self._dirty.clear()
        self.redraw(all_rows=True)

    def _tick(self) -> None:
        """Elapsed times and ETAs move even when nothing arrives."""
        if any(w.is_running for w in self._watchers.values()):
            self.schedule_redraw(None)

    @on(JobList.Selected)
    def _selected(self, event: JobList.Selected) -> None:
        if event.job_id != self.selected:
            self.selected = event.job_id
            self.query_one(JobView).show(self.load_detail(event.job_id))

    @on(JobPolled)
    def _polled(self, event: JobPolled) -> None:
        if event.problem:
            self.watch_notes[event.job_id] = event.problem
        else:
            self.watch_notes.pop(event.job_id, None)
        self.schedule_redraw(event.job_id)

    # --- watching ------------------------------------------------------------------------------

    def watch_job(self, job_id: str) -> None:
        """Start a watcher for the job unless one is running."""
        worker = self._watchers.get(job_id)
        if worker is not None and worker.state in (WorkerState.PENDING, WorkerState.RUNNING):
            return
        self._watchers[job_id] = self.run_worker(
            lambda: self._watch(job_id),
            thread=True,
            group="job-watch",
            name=f"watch {job_id}",
            description=f"watching {job_id}",
            exit_on_error=False,
        )

    def _watch(self, job_id: str) -> None:
        """Thread: poll until the job ends, the worker is cancelled, or the provider refuses us."""
        from workbench.providers.fine_tuning import poll_job
        from workbench.providers.openai_api import explain_error, make_client
        from workbench.store import jobs as store
        from workbench.store.db import open_db

        worker = get_current_worker()
        profile = self.profile
        try:
            client = make_client(profile, timeout=30, max_retries=0)
        except Exception as exc:  # noqa: BLE001
            self.post_message(
                JobPolled(job_id, f"not watching: {explain_error(exc, profile).message}")
            )
            return
        db = open_db(self.app.db_path)  # type: ignore[attr-defined]
        schedule = cj.PollSchedule(self.POLL_MINIMUM, self.POLL_MAXIMUM)
        try:
            while not worker.is_cancelled:
                try:
                    state = store.poll_state(db, profile.base_url, job_id)
                    snapshot = poll_job(
                        client,
                        job_id,
                        previous_status=state.previous_status,
                        checkpoints_stored=state.checkpoints_stored,
                        results_stored=state.results_stored,
                        is_known=lambda eid: store.has_event(db, profile.base_url, eid),
                    )
                    outcome = store.record_snapshot(db, profile.name, profile.base_url, snapshot)
                except Exception as exc:  # noqa: BLE001 - explained and shown, polling goes on
                    problem = explain_error(exc, profile)
                    if problem.kind in ("auth", "missing_key", "forbidden", "not_found"):
                        self.post_message(JobPolled(job_id, f"stopped watching: {problem.message}"))
                        return
                    delay = schedule.after_error(problem.retry_after)
                    self.post_message(
                        JobPolled(
                            job_id,
                            f"{problem.message}; trying again in {cj.format_duration(delay)}",
                        )
                    )
                else:
                    self.post_message(JobPolled(job_id, finished=outcome.job.terminal))
                    if outcome.job.terminal:
                        return
                    delay = schedule.after_poll(outcome.changed)
                deadline = time.monotonic() + delay
                while not worker.is_cancelled and time.monotonic() < deadline:
                    time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        finally:
            db.close()
            client.close()

    def refresh_remote(self) -> None:
        self.run_worker(
            self._refresh_remote,
            thread=True,
            group="jobs-remote",
            exclusive=True,
            description="listing the provider's jobs",
            exit_on_error=False,
        )

    def _refresh_remote(self) -> None:
        """Thread: the provider's newest jobs into the store; unfinished ones get a watcher, and so
        does a job that finished before we fetched anything of it (one poll brings its story)."""
        from workbench.providers.fine_tuning import list_jobs
        from workbench.providers.openai_api import explain_error, make_client
        from workbench.store import jobs as store
        from workbench.store.db import open_db

        profile = self.profile
        try:
            client = make_client(profile, timeout=30, max_retries=1)
            try:
                remote = list_jobs(client)
            finally:
                client.close()
        except Exception as exc:  # noqa: BLE001
            message = explain_error(exc, profile).message
            self.app.call_from_thread(self._remote_failed, message)
            return
        db = open_db(self.app.db_path)  # type: ignore[attr-defined]
        try:
            unfinished = []
            for obj in remote:
                job, _ = store.upsert_job(db, profile.name, profile.base_url, obj)
                if store.needs_fetch(db, job):
                    unfinished.append(job.id)
        finally:
            db.close()
        self.app.call_from_thread(self._remote_done, unfinished)

    def _remote_failed(self, message: str) -> None:
        self.remote_problem = message
        self.schedule_redraw(None)

    def _remote_done(self, unfinished: list[str]) -> None:
        self.remote_problem = ""
        for job_id in unfinished:
            self.watch_job(job_id)
        self.schedule_redraw(None)

    # --- actions -------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.refresh_remote()
        if self.selected:
            self.watch_job(self.selected)

    def action_more_events(self) -> None:
        self.query_one(JobView).event_limit += EVENT_LOG_LIMIT
        self.schedule_redraw(self.selected)

    def action_toggle_list(self) -> None:
        """Hide the list to give a narrow terminal's width to the job view (and back)."""
        left = self.query_one("#jobs-left")
        left.display = not left.display

    def action_toggle_accuracy(self) -> None:
        self.query_one(JobView).toggle_accuracy()

    def action_new_job(self) -> None:
        from workbench.store import examples as ex
        from workbench.ui.jobs_create import CreateJobModal

        datasets = []
        for d in ex.list_datasets(self.db):
            validation = ex.count_examples(self.db, dataset_id=d.id, split="validation")
            datasets.append((d.name, d.id, d.method, validation))

        def created(job_id: str | None) -> None:
            if job_id:
                self.selected = job_id
                self.notify(f"created {job_id}; watching it")
                self.watch_job(job_id)
                self.redraw(all_rows=True)

        self.app.push_screen(CreateJobModal(datasets), created)

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
        allowed = {
            "cancel": not job.terminal,
            "pause": job.status == "running",
            "resume": job.status == "paused",
        }
        if not allowed[action]:
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
        db = open_db(self.app.db_path)  # type: ignore[attr-defined]
        try:
            job, _ = store.upsert_job(db, profile.name, profile.base_url, obj)
        finally:
            db.close()
        self.app.call_from_thread(self._acted, job)

    def _acted(self, job: cj.Job) -> None:
        self.notify(f"{job.id} is {cj.status_label(job.status)}", markup=False)
        self.watch_job(job.id)
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
        target = Path(self.app.db_path).parent / "exports" / f"{self.selected}-results.csv"  # type: ignore[attr-defined]
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
        command = azure.deploy_command(self.app.config.profile, model)  # type: ignore[attr-defined]
        self.app.copy_to_clipboard(command)
        self.notify(f"copied: {command}", markup=False, timeout=10)

    def action_try_model(self) -> None:
        detail = self.load_detail(self.selected) if self.selected else None
        model = detail.job.fine_tuned_model if detail else None
        if not model:
            self.notify("the selected job has no fine-tuned model yet", severity="warning")
            return
        self.app.pending_fine_tuned_model = model  # type: ignore[attr-defined]
        self.app.switch_mode("prompt")
