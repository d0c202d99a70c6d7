"""The Jobs pane: every fine-tuning job of the active profile, one watched live.

The store is the truth: the list and the job view are drawn from SQLite at once when the pane
opens (so a new SSH session sees the whole story before any network call), then one thread worker
per unfinished job polls the provider and writes what it finds to SQLite (ui/jobs_watch.py, the
poll loop `workbench jobs watch` shares). Redraws are coalesced: at most one every REDRAW_SECONDS
whatever the number of jobs and events. Cancel, pause, resume and "Try model" follow the selected
job's state (`selected_job`, which refreshes the footer).

"Try model" hands the fine-tuned model id to the Prompt pane through
`app.try_fine_tuned_model(model)`, which switches to it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Static
from textual.worker import Worker

from workbench.core import jobs as cj
from workbench.ui.jobs_actions import SelectedJobActions
from workbench.ui.jobs_list import JobList, JobRow
from workbench.ui.jobs_view import EVENT_LOG_LIMIT, JobDetail, JobView
from workbench.ui.jobs_watch import JobPolled, JobWatchers
from workbench.ui.pane import PaneScreen

if TYPE_CHECKING:
    import sqlite_utils

    from workbench.config import Profile

__all__ = ["JobPolled", "JobsScreen"]


class JobsScreen(JobWatchers, SelectedJobActions, PaneScreen):
    PANE = "jobs"
    # At most one redraw per this many seconds.
    REDRAW_SECONDS = 0.3
    LIST_LIMIT = 500

    BINDINGS = [
        Binding(
            "n",
            "new_job",
            "New job",
            tooltip="Create a fine-tuning job from a dataset, pre-flight first",
            id="jobs-new",
        ),
        Binding(
            "c",
            "job_action('cancel')",
            "Cancel",
            tooltip="Cancel the selected job: it stops for good",
            id="jobs-cancel",
        ),
        Binding(
            "p",
            "job_action('pause')",
            "Pause",
            tooltip="Pause the selected running job, keeping a checkpoint",
            id="jobs-pause",
        ),
        Binding(
            "r",
            "job_action('resume')",
            "Resume",
            tooltip="Resume the selected paused job from its last checkpoint",
            id="jobs-resume",
        ),
        Binding(
            "a",
            "toggle_accuracy",
            "Accuracy",
            tooltip="Switch the chart between loss and accuracy",
            id="jobs-accuracy",
        ),
        Binding(
            "t",
            "try_model",
            "Try model",
            tooltip="Open the selected job's fine-tuned model in the Prompt pane",
            id="jobs-try",
        ),
        Binding(
            "e",
            "more_events",
            "More events",
            show=False,
            tooltip="Show older events of the selected job",
            id="jobs-more-events",
        ),
        Binding(
            "g",
            "refresh",
            "Refresh",
            show=False,
            tooltip="Fetch the provider's job list now and poll the selected job",
            id="jobs-refresh",
        ),
        Binding(
            "s",
            "save_results",
            "Save results CSV",
            show=False,
            tooltip="Save the selected job's decoded metrics file beside the database",
            id="jobs-save-results",
        ),
        Binding(
            "l",
            "toggle_list",
            "List",
            show=False,
            tooltip="Show or hide the jobs list, for more room for the job",
            id="jobs-toggle-list",
        ),
    ]

    # The selected job as last drawn: its state enables cancel, pause, resume and try (the
    # footer dims the others as it changes).
    selected_job: reactive[cj.Job | None] = reactive(None, bindings=True, init=False)

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
    def profile(self) -> Profile:
        return self.app.config.profile

    @property
    def db(self) -> sqlite_utils.Database:
        return self.app.db

    def on_mount(self) -> None:
        # from SQLite first, before any network: the whole story at once
        self.redraw(all_rows=True)
        for job in self._stored_jobs():
            if not job.terminal:
                self.start_watching(job.id)
        # finished jobs never fetched are fetched once the provider's list answers
        # (_refresh_remote): offline or without a key they are not marked as failing to watch
        self.refresh_remote()
        self.set_interval(self.REMOTE_REFRESH_SECONDS, self.refresh_remote)
        self.set_interval(5.0, self._tick)

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

        return terms_for(self.profile, self.app.config.prices)

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
            watching = self.watching()
            noun = "job" if len(jobs) == 1 else "jobs"
            note.append(f"{len(jobs)} {noun} · watching {watching}")
        if self.remote_problem:
            note.append(f"\nprovider's job list unavailable: {self.remote_problem}", style="yellow")
        self.query_one("#jobs-note", Static).update(note)
        if all_rows:
            self.query_one(JobList).show([self._row(j, now) for j in jobs], self.selected)
        self._show_selected()

    def _show_selected(self) -> None:
        """The selected job in the view, and its state for the keys that follow it."""
        detail = self.load_detail(self.selected) if self.selected else None
        self.query_one(JobView).show(detail)
        self.selected_job = detail.job if detail else None

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
            self._show_selected()

    @on(JobPolled)
    def _polled(self, event: JobPolled) -> None:
        if event.problem:
            self.watch_notes[event.job_id] = event.problem
        else:
            self.watch_notes.pop(event.job_id, None)
        self.schedule_redraw(event.job_id)

    # --- actions -------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.refresh_remote()
        if self.selected:
            self.start_watching(self.selected)

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
                self.start_watching(job_id)
                self.redraw(all_rows=True)

        self.app.push_screen(CreateJobModal(datasets), created)
