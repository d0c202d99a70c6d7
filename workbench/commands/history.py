"""`workbench history`: the recorded prompt runs, newest first, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "print recorded prompt runs, newest first (--json for everything, messages included)"

APPROACHES = ("zero-shot", "few-shot", "fine-tuned")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "With --profile, only the runs made through that profile (it must be in the config). "
        "Exit status: 0 done (also when no run matches), 2 bad arguments or an unknown profile."
    )
    parser.add_argument("--json", action="store_true", help="one JSON array on stdout")
    parser.add_argument(
        "--limit", type=int, default=20, metavar="N", help="at most N runs (default 20; 0 = all)"
    )
    parser.add_argument("--prompt", metavar="NAME", help="only runs of this named prompt")
    parser.add_argument("--approach", choices=APPROACHES, help="only runs of this approach")
    parser.add_argument("--model", metavar="MODEL", help="only runs against this model")
    parser.add_argument("--search", metavar="TEXT", help="only runs whose text contains TEXT")


def _cost(value: float | None) -> str:
    if value is None:
        return "no price"
    return f"${value:.6f}" if value < 0.01 else f"${value:.4f}"


def _one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def run(args: argparse.Namespace) -> int:
    from workbench.commands.common import open_config
    from workbench.config import db_path
    from workbench.core.display import plural, printable

    open_config("history", args.profile)  # a bad config or an unknown --profile is named
    if args.limit < 0:
        print("workbench history: --limit must be 0 or more", file=sys.stderr)
        return 2
    profile = getattr(args, "profile", None)
    path = db_path(args.db)
    if not path.exists():
        print(f"workbench history: no database at {path} (no runs yet)", file=sys.stderr)
        if args.json:
            print("[]")
        return 0
    from workbench.commands.common import open_database
    from workbench.store.runs import count_runs, list_runs

    db = open_database("history", str(path))
    try:
        filters = dict(
            prompt=args.prompt,
            model=args.model,
            approach=args.approach,
            search=args.search,
            profile=profile,
        )
        runs = list_runs(db, limit=args.limit or None, **filters)
        total = count_runs(db, **filters)
    finally:
        db.close()
    if args.json:
        print(json.dumps([r.to_json() for r in runs], ensure_ascii=False, indent=2))
        return 0
    if not runs:
        print(
            "no runs recorded" + (" matching the filters" if any(filters.values()) else ""),
            file=sys.stderr,
        )
        return 0
    header = (
        f"{'ID':>5}  {'WHEN':16}  {'PROMPT':14} {'VER':>4}  {'APPROACH':10}  {'MODEL':26}  "
        f"{'IN':>6} {'OUT':>6} {'MS':>7}  {'COST':>10}  ANSWER"
    )
    print(header)
    for r in runs:
        answer = r.answer if r.status == "ok" else f"[{r.error_kind or r.status}] {r.answer}"
        # prompt names, models and answers are data: their control characters are shown, not sent
        line = (
            f"{r.id:>5}  {r.created_at[:16].replace('T', ' '):16}  {_one_line(r.prompt_name, 14):14} "
            f"{r.version_label:>4}  {r.approach:10}  {_one_line(r.model, 26):26}  "
            f"{'-' if r.input_tokens is None else r.input_tokens:>6} "
            f"{'-' if r.output_tokens is None else r.output_tokens:>6} "
            f"{'-' if r.latency_ms is None else r.latency_ms:>7}  {_cost(r.cost_usd):>10}  "
            f"{_one_line(answer, 60)}"
        )
        print(printable(line))
    if total > len(runs):
        print(f"showing {len(runs)} of {plural(total, 'run')} (--limit 0 for all)", file=sys.stderr)
    return 0
