"""Fine-tuning calls through the SDK: create, retrieve, events, checkpoints, cancel/pause/
resume, the results file, and the models a job can start from.

Every function takes a synchronous client (thread workers and the CLI share them) and returns the
API's objects as plain dicts (`model_dump`, which keeps fields the SDK type lacks, such as
`shutdown_date` or `user_provided_suffix`), so nothing above this layer depends on SDK types.
Errors are not caught here: callers pass them to `openai_api.explain_error`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workbench.core.jobs import JobSnapshot, decode_results_csv, is_terminal, wants_checkpoints

if TYPE_CHECKING:
    from openai import OpenAI

EVENTS_PAGE = 100
# After a long absence, at most this many pages of older events per poll (the rest next time).
MAX_EVENT_PAGES = 20


def as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    return obj.model_dump(mode="json")


def create_job(client: OpenAI, arguments: dict[str, Any]) -> dict[str, Any]:
    return as_dict(client.fine_tuning.jobs.create(**arguments))


def retrieve_job(client: OpenAI, job_id: str) -> dict[str, Any]:
    return as_dict(client.fine_tuning.jobs.retrieve(job_id))


def list_jobs(client: OpenAI, limit: int = 50) -> list[dict[str, Any]]:
    """The newest page of the provider's jobs (one request)."""
    page = client.fine_tuning.jobs.list(limit=limit)
    return [as_dict(j) for j in page.data]


def events_page(client: OpenAI, job_id: str, limit: int = EVENTS_PAGE) -> list[dict[str, Any]]:
    """The newest `limit` events (the API lists newest first and has no "since" cursor)."""
    page = client.fine_tuning.jobs.list_events(job_id, limit=limit)
    return [as_dict(e) for e in page.data]


def new_events(
    client: OpenAI,
    job_id: str,
    is_known: Callable[[str], bool] | None = None,
    limit: int = EVENTS_PAGE,
    max_pages: int = MAX_EVENT_PAGES,
) -> list[dict[str, Any]]:
    """The newest events page; older pages only while a whole page is new (after a restart, or
    when more than a page happened between two polls), so no event is ever skipped."""
    page = client.fine_tuning.jobs.list_events(job_id, limit=limit)
    events = [as_dict(e) for e in page.data]
    pages = 1
    while (
        is_known is not None
        and events
        and getattr(page, "has_more", False)
        and pages < max_pages
        and not any(is_known(str(e["id"])) for e in events[-len(page.data) :])
    ):
        page = client.fine_tuning.jobs.list_events(job_id, limit=limit, after=str(events[-1]["id"]))
        if not page.data:
            break
        events.extend(as_dict(e) for e in page.data)
        pages += 1
    return events


def checkpoints(client: OpenAI, job_id: str) -> list[dict[str, Any]]:
    page = client.fine_tuning.jobs.checkpoints.list(job_id, limit=100)
    return [as_dict(c) for c in page.data]


def cancel_job(client: OpenAI, job_id: str) -> dict[str, Any]:
    return as_dict(client.fine_tuning.jobs.cancel(job_id))


def pause_job(client: OpenAI, job_id: str) -> dict[str, Any]:
    return as_dict(client.fine_tuning.jobs.pause(job_id))


def resume_job(client: OpenAI, job_id: str) -> dict[str, Any]:
    return as_dict(client.fine_tuning.jobs.resume(job_id))


ACTIONS = {"cancel": cancel_job, "pause": pause_job, "resume": resume_job}


def results_csv(client: OpenAI, file_id: str) -> str:
    """The metrics CSV of a finished job, decoded (OpenAI sends it base64-encoded)."""
    content = client.files.content(file_id).read()
    rows = decode_results_csv(content)
    if not rows:
        return ""
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0].keys()), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:g}" if isinstance(v, float) else v) for k, v in row.items()})
    return out.getvalue()


def list_models(client: OpenAI) -> list[dict[str, Any]]:
    """The provider's /v1/models (with `shutdown_date` where it says one)."""
    return [as_dict(m) for m in client.models.list().data]


def poll_job(
    client: OpenAI,
    job_id: str,
    *,
    previous_status: str | None = None,
    checkpoints_stored: int = 0,
    results_stored: bool = False,
    is_known: Callable[[str], bool] | None = None,
) -> JobSnapshot:
    """One poll: a retrieve and one events page (more only while every event is new, see
    `new_events`); checkpoints and the results file only when the job's state says they are new."""
    job = retrieve_job(client, job_id)
    events = new_events(client, job_id, is_known)
    snapshot = JobSnapshot(job=job, events=events)
    status = str(job.get("status") or "")
    if wants_checkpoints(status, previous_status, events, checkpoints_stored):
        try:
            snapshot.checkpoints = checkpoints(client, job_id)
        except Exception as exc:  # a host without checkpoints (404) must not stop the watch
            if getattr(exc, "status_code", None) != 404:
                raise
    if is_terminal(status) and not results_stored and job.get("result_files"):
        try:
            snapshot.results_csv = results_csv(client, job["result_files"][0])
        except Exception:  # noqa: BLE001 - a missing results file must not hide the job's state
            snapshot.results_csv = None
    return snapshot


def preflight_terms(profile, model: str, overrides: dict | None, today: Any) -> dict[str, Any]:
    """What core.preflight needs to know about the profile: its training rate (overrides and
    Azure's terms included), its kind, and Azure's trainingType and tier warnings."""
    from workbench.core.pricing import training_rate
    from workbench.core.provider_pricing import terms_for

    kind = getattr(profile, "kind", "openai")
    terms: dict[str, Any] = {
        "rate_per_million": training_rate(terms_for(profile, overrides), model),
        "today": today,
        "provider": kind,
    }
    if kind == "azure":
        from workbench.providers.azure import tier_warnings, training_type

        terms["azure_training_type"] = training_type(profile)
        terms["azure_warnings"] = tier_warnings(profile)
    return terms
