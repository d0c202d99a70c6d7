"""The job steps the Jobs pane and `workbench jobs` share: a poll, a watch, an upload, a launch.

Each step is a provider call and what it means for the store, said once so the TUI's workers and
the CLI cannot drift apart: what a poll fetches and stores, which failures end a watch, when a
dataset version is sent again, what a launch creates and keeps. The callers only differ in how
they show it (the pane posts messages, the CLI prints) and how they wait (a cancellable worker,
`time.sleep`). They open the client and the database connection; errors other than a watch's
polls are raised for them to explain (`openai_api.explain_error`).

This is the providers module that writes to the store: store never imports providers
(pyproject.toml's contracts), so the arrow goes this way only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.core import jobs as cj
from workbench.providers.fine_tuning import create_job, poll_job
from workbench.providers.openai_api import ProviderProblem, explain_error
from workbench.store import dataset_versions as versions
from workbench.store import jobs as store

if TYPE_CHECKING:
    import sqlite_utils
    from openai import OpenAI

    from workbench.config import Profile
    from workbench.providers.files import Progress
    from workbench.store.dataset_versions import DatasetVersion
    from workbench.store.jobs import PollOutcome

# Poll failures no retry cures: the key is missing or refused, or the job is not there.
STOP_WATCHING_KINDS = frozenset({"auth", "missing_key", "forbidden", "not_found"})


def stops_watching(problem: ProviderProblem) -> bool:
    """Whether a failed poll ends the watch (anything else is retried after a back-off)."""
    return problem.kind in STOP_WATCHING_KINDS


# --- polling --------------------------------------------------------------------------------


def poll_once(
    client: OpenAI, db: sqlite_utils.Database, profile: Profile, job_id: str
) -> PollOutcome:
    """One poll of one job: fetch only what the store does not hold yet, store it, say what
    changed. SDK and database errors propagate."""
    base_url = profile.base_url
    state = store.poll_state(db, base_url, job_id)
    snapshot = poll_job(
        client,
        job_id,
        previous_status=state.previous_status,
        checkpoints_stored=state.checkpoints_stored,
        results_stored=state.results_stored,
        is_known=lambda event_id: store.has_event(db, base_url, event_id),
    )
    return store.record_snapshot(db, profile.name, base_url, snapshot)


@dataclass(frozen=True)
class WatchStep:
    """One poll of a watch: what it stored, or why it failed; and how long to wait for the next."""

    outcome: PollOutcome | None = None  # None: the poll failed
    problem: ProviderProblem | None = None
    delay: float = 0.0  # seconds until the next poll (0 after the last one)

    @property
    def last(self) -> bool:
        """The watch ends here: the job finished, or the provider refused us for good."""
        if self.problem is not None:
            return stops_watching(self.problem)
        return self.outcome is not None and self.outcome.job.terminal


def watch_job(
    client: OpenAI,
    db: sqlite_utils.Database,
    profile: Profile,
    job_id: str,
    schedule: cj.PollSchedule,
) -> Iterator[WatchStep]:
    """Poll until the job ends, one step per poll; the last step is the job's end or a failure
    that `stops_watching`. The caller waits `step.delay` before asking for the next step (nothing
    is fetched until it does), and may stop at any step. Every failure is explained, none raised:
    polling backs off after errors (honouring a 429's Retry-After) and when nothing changes."""
    while True:
        try:
            outcome = poll_once(client, db, profile, job_id)
        except Exception as exc:  # noqa: BLE001 - explained; the caller shows it and goes on
            problem = explain_error(exc, profile)
            if stops_watching(problem):
                yield WatchStep(problem=problem)
                return
            yield WatchStep(problem=problem, delay=schedule.after_error(problem.retry_after))
            continue
        if outcome.job.terminal:
            yield WatchStep(outcome)
            return
        yield WatchStep(outcome, delay=schedule.after_poll(outcome.changed))


# --- uploading and launching ----------------------------------------------------------------


@dataclass(frozen=True)
class VersionUpload:
    """The provider file that holds one dataset version (`workbench jobs create --json` prints
    these fields)."""

    split: str
    file_id: str
    uploaded: bool  # False: this exact content was already at this provider


def upload_version_once(
    connect: Callable[[], OpenAI],
    db: sqlite_utils.Database,
    profile: Profile,
    version: DatasetVersion,
    path: str | Path,
    *,
    progress: Progress | None = None,
) -> VersionUpload:
    """The version's file at this provider: the stored file id when this exact content was
    uploaded here before, otherwise uploaded now (in parts when large) and recorded.

    `connect()` gives the client, and is called only when an upload is needed: a version already
    there needs no key and no network, and a caller learns from the call that an upload begins."""
    from workbench.providers.files import upload_file

    existing = versions.uploaded_file_id(db, version.id, profile.base_url)
    if existing:
        return VersionUpload(version.split, existing, uploaded=False)
    uploaded = upload_file(connect(), path, progress=progress)
    versions.record_upload(db, version.id, profile.name, profile.base_url, uploaded.id)
    return VersionUpload(version.split, uploaded.id, uploaded=True)


@dataclass(frozen=True)
class Launch:
    job: cj.Job
    uploads: list[VersionUpload]


def launch_job(
    client: OpenAI,
    db: sqlite_utils.Database,
    profile: Profile,
    request: cj.JobRequest,
    paths: tuple[tuple[DatasetVersion, Path], tuple[DatasetVersion, Path] | None],
    *,
    estimated_tokens: int | None = None,
    estimated_cost_usd: float | None = None,
) -> Launch:
    """A job from a passed pre-flight: each exported file uploaded once, the job created, stored
    (with the dataset's name and the pre-flight's estimates). `paths` are the exports the
    pre-flight made (`store.dataset_export.check_job`). SDK errors propagate: nothing was
    created then, though a file already uploaded stays recorded (the next launch reuses it)."""
    train, valid = paths
    uploads = [upload_version_once(lambda: client, db, profile, *train)]
    if valid is not None:
        uploads.append(upload_version_once(lambda: client, db, profile, *valid))
    validation_file = uploads[1].file_id if valid is not None else None
    obj = create_job(client, request.create_arguments(uploads[0].file_id, validation_file))
    job, _ = store.upsert_job(
        db,
        profile.name,
        profile.base_url,
        obj,
        dataset_name=request.dataset_name,
        estimated_tokens=estimated_tokens,
        estimated_cost_usd=estimated_cost_usd,
    )
    return Launch(job, uploads)
