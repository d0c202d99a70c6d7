"""The Jobs pane's thread workers that keep the store current: one watcher per unfinished job,
and the provider's job list fetched now and then (jobs created elsewhere appear on their own).

A watcher runs the poll loop `workbench jobs watch` runs too (providers.job_steps.watch_job) and
posts `JobPolled` after each poll; the pane redraws from SQLite, coalesced. Polling backs off when
nothing changes and after errors, honours a 429's Retry-After and stops when the job ends or the
provider refuses us for good.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import getters
from textual.message import Message
from textual.worker import Worker, WorkerState, get_current_worker

from workbench.app import WorkbenchApp
from workbench.core import jobs as cj

if TYPE_CHECKING:
    from workbench.config import Profile
    from workbench.providers.job_steps import WatchStep


class JobPolled(Message):
    """A watcher stored a poll (or failed one: `problem` set). Only the newest per job matters."""

    def __init__(self, job_id: str, problem: str = "", finished: bool = False) -> None:
        super().__init__()
        self.job_id = job_id
        self.problem = problem
        self.finished = finished

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, JobPolled) and message.job_id == self.job_id

    @classmethod
    def after(cls, job_id: str, step: WatchStep) -> JobPolled:
        """What one poll of a watch tells the pane."""
        if step.problem is None:
            return cls(job_id, finished=step.last)
        if step.last:
            return cls(job_id, f"stopped watching: {step.problem.message}")
        return cls(
            job_id, f"{step.problem.message}; trying again in {cj.format_duration(step.delay)}"
        )


class JobWatchers:
    """Mixed into JobsScreen: starts and runs the watchers and the remote-list refresh.

    Needs the screen's `profile`, `app`, `schedule_redraw` and `remote_problem`; tells the screen
    through `JobPolled` (watchers) and `call_from_thread` (the list)."""

    # Poll intervals (seconds): the shortest, and the longest a quiet job backs off to.
    POLL_MINIMUM = 2.0
    POLL_MAXIMUM = 60.0
    # How often the provider's job list is fetched.
    REMOTE_REFRESH_SECONDS = 60.0

    app = getters.app(WorkbenchApp)
    _watchers: dict[str, Worker]
    remote_problem: str
    profile: Profile

    def start_watching(self, job_id: str) -> None:
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

    def watching(self) -> int:
        return sum(1 for w in self._watchers.values() if w.is_running)

    def _watch(self, job_id: str) -> None:
        """Thread: poll until the job ends, the worker is cancelled, or the provider refuses us."""
        from workbench.providers.job_steps import watch_job
        from workbench.providers.openai_api import explain_error, make_client
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
        db = open_db(self.app.db_path)
        schedule = cj.PollSchedule(self.POLL_MINIMUM, self.POLL_MAXIMUM)
        try:
            if worker.is_cancelled:
                return
            for step in watch_job(client, db, profile, job_id, schedule):
                self.post_message(JobPolled.after(job_id, step))
                if step.last:
                    return
                deadline = time.monotonic() + step.delay
                while not worker.is_cancelled and time.monotonic() < deadline:
                    time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
                if worker.is_cancelled:
                    return
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
        db = open_db(self.app.db_path)
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
            self.start_watching(job_id)
        self.schedule_redraw(None)
