"""`workbench jobs create`: the Jobs pane's form from a terminal (part of the `jobs` command).

The pre-flight first, the same one the form runs (store.dataset_export.check_job ->
core.preflight): export, validation, billed tokens, cost, time, dates. Then, after a yes (a
question on a terminal, `--yes` in scripts), the training file is uploaded unless this exact
version already was (to this provider), and the job is created and stored.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from workbench.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PROVIDER,
    EXIT_USAGE,
    PROVIDER_DOWN,
    err,
    print_json,
)

EPILOG = (
    "Exit codes: 0 created, 1 the pre-flight found problems, the launch was declined or the "
    "provider refused (403 training_not_available included), 2 usage or unknown dataset (or no "
    "--yes without a terminal), 3 provider unreachable or key rejected."
)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "create",
        help="pre-flight, then launch a fine-tuning job on a dataset",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dataset", metavar="NAME", required=True)
    p.add_argument("--model", metavar="M", required=True, help="base model to fine-tune")
    p.add_argument("--epochs", metavar="N", type=int, help="training epochs (default: auto)")
    p.add_argument("--suffix", metavar="S", default="", help="up to 64 characters in the model id")
    p.add_argument("--seed", metavar="N", type=int, help="training seed")
    p.add_argument(
        "--no-validation",
        action="store_true",
        help="do not send the dataset's validation split (sent when it has one)",
    )
    p.add_argument("--yes", "-y", action="store_true", help="launch without asking")
    p.add_argument("--json", action="store_true", help="print the pre-flight and the job as JSON")


def _say(message: str) -> None:
    err("jobs create", message)


def create(ctx: Any, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from workbench.core import jobs as cj
    from workbench.providers.fine_tuning import preflight_terms
    from workbench.store.dataset_export import check_job
    from workbench.store.examples import count_examples, find_dataset, list_datasets

    dataset = find_dataset(ctx.db, args.dataset)
    if dataset is None:
        names = ", ".join(repr(d.name) for d in list_datasets(ctx.db)) or "none yet"
        _say(f"no dataset named {args.dataset!r} (datasets: {names})")
        return EXIT_USAGE
    if args.epochs is not None and args.epochs < 1:
        _say("--epochs must be 1 or more")
        return EXIT_USAGE
    has_validation = count_examples(ctx.db, dataset_id=dataset.id, split="validation") > 0
    request = cj.JobRequest(
        dataset_name=dataset.name,
        model=args.model,
        method=dataset.method,
        hyperparameters={"n_epochs": args.epochs} if args.epochs else {},
        suffix=args.suffix,
        seed=args.seed,
        use_validation=has_validation and not args.no_validation,
    )
    today = datetime.now(UTC).date()
    problems = request.problems(cj.fine_tunable_models(None, ctx.profile.kind), today)
    if problems:
        for problem in problems:
            _say(problem)
        return EXIT_USAGE
    terms = preflight_terms(ctx.profile, request.model, ctx.config.prices or None, today)
    result, paths = check_job(ctx.db, request, dataset.id, **terms)
    out = sys.stderr if args.json else sys.stdout
    print(f"pre-flight: {dataset.name} on {request.model}", file=out)
    for line in result.lines:
        print(line.text, file=out)
    report: dict[str, Any] = {"dataset": dataset.name, "preflight": result.to_json(), "job": None}
    if not result.ok or paths is None:
        _say("not launched: fix the problems the pre-flight found")
        return _finish(args, report, EXIT_FAILED)
    if not args.yes:
        if not sys.stdin.isatty():
            _say("not launched: stdin is not a terminal, pass --yes to launch without asking")
            return _finish(args, report, EXIT_USAGE)
        answer = input("launch this job? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            _say("not launched")
            return _finish(args, report, EXIT_FAILED)
    return _launch(ctx, args, request, result, paths, report)


def _finish(args: argparse.Namespace, report: dict[str, Any], code: int) -> int:
    if args.json:
        print_json(report)
    return code


def _launch(ctx, args, request, result, paths, report: dict[str, Any]) -> int:
    """Upload each file unless this version is already at this provider, create, store."""
    from dataclasses import asdict

    from workbench.providers.job_steps import launch_job
    from workbench.providers.openai_api import make_client

    try:
        client = make_client(ctx.profile, timeout=120)
        try:
            launched = launch_job(
                client,
                ctx.db,
                ctx.profile,
                request,
                paths,
                estimated_tokens=result.estimated_tokens,
                estimated_cost_usd=result.estimated_cost_usd,
            )
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - explained, never a traceback
        problem = ctx.explain(exc)
        _say(f"not launched: {problem.message}")
        report["error"] = {"kind": problem.kind, "message": problem.message}
        return _finish(args, report, EXIT_PROVIDER if problem.kind in PROVIDER_DOWN else 1)
    job = launched.job
    for upload in launched.uploads:
        state = "uploaded as" if upload.uploaded else "already uploaded as"
        _say(f"{upload.split} file {state} {upload.file_id}")
    report["uploads"] = [asdict(upload) for upload in launched.uploads]
    report["job"] = asdict(job)
    if args.json:
        print_json(report)
    else:
        print(f"created {job.id} ({job.status}); follow it: workbench jobs watch {job.id}")
    return EXIT_OK
