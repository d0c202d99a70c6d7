"""`workbench jobs create|list|show|watch|cancel|pause|resume`: fine-tuning jobs from a plain terminal.

Everything fetched is stored in the same database as the app's, so a job watched here shows its
whole history in the Jobs pane too. `watch` exits by the job's final status: 0 succeeded,
1 failed or cancelled, 2 usage (bad arguments, unknown job), 3 provider unreachable or key rejected.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from workbench.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PROVIDER,
    EXIT_USAGE,
    PROVIDER_DOWN,
)

HELP = "create, list, show, watch, cancel, pause or resume fine-tuning jobs (no TUI)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    from workbench.commands import jobs_create

    jobs_create.add_parser(sub)
    p = sub.add_parser("list", help="stored and remote jobs of the active profile")
    p.add_argument("--json", action="store_true", help="one JSON array on stdout")
    p.add_argument("--offline", action="store_true", help="stored jobs only, no network")
    p = sub.add_parser("show", help="one job: status, progress, checkpoints, recent events")
    p.add_argument("job_id", metavar="JOB_ID")
    p.add_argument("--json", action="store_true")
    p.add_argument("--offline", action="store_true", help="what is stored, no network")
    p = sub.add_parser(
        "watch",
        help="print events and progress until the job ends",
        description="Print the job's events (its whole stored history first) and a progress line "
        "until it ends; everything is stored in the database too.",
        epilog="Exit codes: 0 succeeded, 1 failed or cancelled, 2 usage or unknown job, "
        "3 provider unreachable or key rejected.",
    )
    p.add_argument("job_id", metavar="JOB_ID")
    p.add_argument("--json", action="store_true", help="events as JSON lines, then the job")
    p.add_argument(
        "--interval", type=float, default=2.0, help="seconds between polls at first (default 2)"
    )
    p.add_argument(
        "--max-interval", type=float, default=60.0, help="longest wait between polls (default 60)"
    )
    p.add_argument(
        "--give-up-after",
        type=int,
        default=20,
        metavar="N",
        help="stop (exit 3) after N failed polls in a row (default 20)",
    )
    for action in ("cancel", "pause", "resume"):
        p = sub.add_parser(action, help=f"{action} a job")
        p.add_argument("job_id", metavar="JOB_ID")
        p.add_argument("--json", action="store_true")


def _err(message: str) -> None:
    from workbench.core.display import printable

    print(f"workbench jobs: {printable(message)}", file=sys.stderr)


def _out(line: str, **kwargs: Any) -> None:
    """A text-mode line of job data (ids, models, events, server errors), controls made visible."""
    from workbench.core.display import printable

    print(printable(line), **kwargs)


def _job_json(job: Any, **extra: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return {**asdict(job), **extra}


class _Context:
    """The database, profile and (lazily) the SDK client a subcommand works with."""

    def __init__(self, args: argparse.Namespace, *, max_retries: int | None = None) -> None:
        from workbench.commands.common import open_config, open_database

        self.config = open_config("jobs", args.profile)
        self.profile = self.config.profile
        self.db = open_database("jobs", getattr(args, "db", None))
        self._max_retries = max_retries
        self._client = None

    @property
    def client(self):
        if self._client is None:
            from workbench.providers.openai_api import make_client

            self._client = make_client(self.profile, timeout=30, max_retries=self._max_retries)
        return self._client

    def explain(self, exc: BaseException):
        from workbench.providers.openai_api import explain_error

        return explain_error(exc, self.profile)

    @property
    def terms(self):
        """The profile's price terms: core.pricing prices with them (tier, [prices] overrides)."""
        from workbench.core.provider_pricing import terms_for

        return terms_for(self.profile, self.config.prices)

    def poll(self, job_id: str):
        from workbench.providers.job_steps import poll_once

        return poll_once(self.client, self.db, self.profile, job_id)


def _db_path(args: argparse.Namespace):
    from workbench.config import db_path

    return db_path(getattr(args, "db", None))


def run(args: argparse.Namespace) -> int:
    ctx = _Context(args, max_retries=0 if args.action == "watch" else None)
    try:
        if args.action == "create":
            from workbench.commands import jobs_create

            return jobs_create.create(ctx, args)
        if args.action == "list":
            return _list(ctx, args)
        if args.action == "show":
            return _show(ctx, args)
        if args.action == "watch":
            return _watch(ctx, args)
        return _act(ctx, args)
    finally:
        ctx.db.close()


def _row(ctx: _Context, job: Any, now: float) -> dict[str, Any]:
    from workbench.core import jobs as cj
    from workbench.store import jobs as store

    points = cj.metric_series(store.progress_events(ctx.db, job.base_url, job.id))
    prog = cj.progress(job, points, now)
    cost = cj.cost_so_far(job, ctx.terms, prog)
    return {
        "id": job.id,
        "status": job.status,
        "model": job.model,
        "fine_tuned_model": job.fine_tuned_model,
        "created": cj.format_timestamp(job.created_at),
        "elapsed": cj.format_duration(cj.elapsed_seconds(job, now)),
        "progress": prog.describe(),
        "cost": cost.describe(),
        "cost_usd": cost.usd,
        "cost_is_estimate": cost.estimated,
        "dataset": job.dataset_name or job.metadata.get("workbench_dataset"),
        "error": job.error_text,
    }


def _list(ctx: _Context, args: argparse.Namespace) -> int:
    from workbench.store import jobs as store

    remote_ok = True
    if not args.offline:
        try:
            from workbench.providers.fine_tuning import list_jobs

            for obj in list_jobs(ctx.client):
                store.upsert_job(ctx.db, ctx.profile.name, ctx.profile.base_url, obj)
        except Exception as exc:  # noqa: BLE001 - explained, and the stored jobs still listed
            remote_ok = False
            _err(f"showing stored jobs only: {ctx.explain(exc).message}")
    jobs = store.list_jobs(ctx.db, profile=ctx.profile.name, base_url=ctx.profile.base_url)
    now = time.time()
    rows = [_row(ctx, job, now) for job in jobs]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        _err(f"no jobs for profile {ctx.profile.name!r}" + ("" if remote_ok else " stored"))
    else:
        widths = (30, 16, 34, 16, 9)
        _out(
            f"{'JOB':<{widths[0]}} {'STATUS':<{widths[1]}} {'MODEL':<{widths[2]}} "
            f"{'CREATED':<{widths[3]}} {'ELAPSED':<{widths[4]}} PROGRESS / COST"
        )
        for r in rows:
            _out(
                f"{r['id']:<{widths[0]}} {r['status']:<{widths[1]}} {r['model']:<{widths[2]}} "
                f"{r['created']:<{widths[3]}} {r['elapsed']:<{widths[4]}} "
                f"{r['progress'] or '—'}  {r['cost']}"
            )
    # stored jobs only: the same exit code as `jobs watch` when the provider cannot be asked
    return EXIT_OK if remote_ok else EXIT_PROVIDER


def _show(ctx: _Context, args: argparse.Namespace) -> int:
    from workbench.store import jobs as store

    if not args.offline:
        try:
            ctx.poll(args.job_id)
        except Exception as exc:  # noqa: BLE001
            problem = ctx.explain(exc)
            if store.find_job(ctx.db, args.job_id, ctx.profile.base_url) is None:
                _err(problem.message)
                return EXIT_USAGE if problem.kind == "not_found" else EXIT_PROVIDER
            _err(f"showing what is stored: {problem.message}")
    job = store.find_job(ctx.db, args.job_id, ctx.profile.base_url)
    if job is None:
        _err(f"no stored job {args.job_id}")
        return EXIT_USAGE
    now = time.time()
    row = _row(ctx, job, now)
    checkpoints = store.list_checkpoints(ctx.db, job.base_url, job.id)
    events = store.list_events(ctx.db, job.base_url, job.id, limit=20)
    if args.json:
        out = _job_json(
            job,
            summary=row,
            checkpoints=[c.__dict__ for c in checkpoints],
            events=[e.__dict__ for e in events],
            event_count=store.count_events(ctx.db, job.base_url, job.id),
            results_csv=store.results_csv(ctx.db, job.base_url, job.id),
        )
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return EXIT_OK
    _out(f"{job.id}  {job.status}  {job.model}")
    for key in ("created", "elapsed", "progress", "cost", "dataset", "fine_tuned_model", "error"):
        if row.get(key):
            _out(f"  {key:<17}{row[key]}")
    if checkpoints:
        _out("  checkpoints")
        for c in checkpoints:
            metrics = ", ".join(f"{k}={v:.4g}" for k, v in c.metrics.items() if k != "step")
            _out(f"    step {c.step_number}: {c.fine_tuned_model_checkpoint}  {metrics}")
    if events:
        _out("  recent events (newest first)")
        for e in events:
            _out(f"    {_event_line(e)}")
    return EXIT_OK


def _event_line(event: Any) -> str:
    from workbench.core.jobs import format_timestamp

    return f"{format_timestamp(event.created_at)}  {event.level:<5}  {event.message}"


def _watch(ctx: _Context, args: argparse.Namespace) -> int:
    from workbench.core import jobs as cj
    from workbench.core.display import printable
    from workbench.providers.job_steps import stops_watching, watch_job
    from workbench.store import jobs as store

    if args.interval <= 0 or args.max_interval < args.interval:
        _err("--interval must be above 0 and at most --max-interval")
        return EXIT_USAGE
    tty = sys.stdout.isatty() and not args.json
    schedule = cj.PollSchedule(minimum=args.interval, maximum=args.max_interval)
    failures = 0
    last_line = ""
    printed_history = False
    try:
        client = ctx.client
    except Exception as exc:  # noqa: BLE001 - no key, or Azure's token command failed
        _err(ctx.explain(exc).message)
        return EXIT_PROVIDER
    for step in watch_job(client, ctx.db, ctx.profile, args.job_id, schedule):
        if step.problem is not None:  # every error is explained, none is a traceback
            problem = step.problem
            failures += 1
            if stops_watching(problem):
                _err(problem.message)
                return EXIT_USAGE if problem.kind == "not_found" else EXIT_PROVIDER
            if failures >= args.give_up_after:
                _err(f"giving up after {failures} failed polls: {problem.message}")
                return EXIT_PROVIDER
            if tty and last_line:
                sys.stdout.write("\r\x1b[K")
                last_line = ""
            _err(f"{problem.message}; trying again in {cj.format_duration(step.delay)}")
            time.sleep(step.delay)
            continue
        outcome = step.outcome
        assert outcome is not None
        failures = 0
        job = outcome.job
        if not printed_history:
            # the first poll: print everything stored so far, oldest first (the whole story)
            new = store.list_events(ctx.db, job.base_url, job.id, newest_first=False)
            printed_history = True
        else:
            new = outcome.new_events
        if new and tty and last_line:
            sys.stdout.write("\r\x1b[K")
            last_line = ""
        for event in new:
            if args.json:
                print(json.dumps(event.__dict__, ensure_ascii=False), flush=True)
            else:
                _out(_event_line(event), flush=True)
        points = cj.metric_series(store.progress_events(ctx.db, job.base_url, job.id))
        line = f"[{job.status}] " + (cj.progress(job, points, time.time()).describe() or "")
        if not args.json and line != last_line:
            if tty:
                sys.stdout.write("\r\x1b[K" + printable(line))
                sys.stdout.flush()
            else:
                _out(line, flush=True)
            last_line = line
        if job.terminal:
            if tty:
                sys.stdout.write("\n")
            if args.json:
                print(json.dumps(_job_json(job), ensure_ascii=False, default=str), flush=True)
            elif job.error_text:
                _err(f"{job.id} {job.status}: {job.error_text}")
            elif job.fine_tuned_model:
                _out(f"fine-tuned model: {job.fine_tuned_model}", flush=True)
            return EXIT_OK if job.status == "succeeded" else EXIT_FAILED
        time.sleep(step.delay)
    raise AssertionError("not reached: watch_job's last step returned above")


def _act(ctx: _Context, args: argparse.Namespace) -> int:
    from workbench.providers.fine_tuning import ACTIONS
    from workbench.store import jobs as store

    try:
        obj = ACTIONS[args.action](ctx.client, args.job_id)
    except Exception as exc:  # noqa: BLE001
        problem = ctx.explain(exc)
        _err(f"could not {args.action} {args.job_id}: {problem.message}")
        if problem.kind in PROVIDER_DOWN:
            return EXIT_PROVIDER
        return EXIT_USAGE if problem.kind == "not_found" else EXIT_FAILED
    job, _ = store.upsert_job(ctx.db, ctx.profile.name, ctx.profile.base_url, obj)
    if args.json:
        print(json.dumps(_job_json(job), ensure_ascii=False, default=str))
    else:
        _out(f"{job.id}: {job.status}")
    return EXIT_OK
