"""`workbench eval`: run the held-out test examples through each approach, score, and give the
verdict, from a plain terminal.

The engine is the Costs pane's (core.evaluation.engine): the same items, the same prompt shape
(every approach sends the same rendered user turn; few-shot adds example turns rendered through
the template), the same prices, and every request recorded as a run (`workbench history --json`
shows what each approach was sent). Progress goes to stderr; stdout is the result.

Resumable: an evaluation stopped half-way (Ctrl-C, a killed process) is picked up by the next
identical `workbench eval`; answers already stored are not asked again (`--fresh` starts over).

The held-out set is every example marked test, in the library and in datasets; `--dataset NAME`
or `--library` narrows it.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from workbench.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PROVIDER,
    PROVIDER_DOWN,
    UsageError,
    err,
    print_json,
    printable,
    require_prompt,
    run_with_context,
)

HELP = "evaluate approaches on the held-out test examples and print the verdict"
APPROACHES = ("zero-shot", "few-shot", "few-shot-similar", "fine-tuned")
SCORERS = ("exact", "contains", "regex", "json", "json_schema", "numeric", "judge")
EPILOG = (
    "Exit codes: 0 evaluated, 1 an approach got no answer at all (its reason is printed), "
    "2 usage, unknown prompt or dataset, no test examples, or config, "
    "3 provider unreachable or key rejected."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("--prompt", metavar="NAME", required=True, help="a saved prompt")
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--dataset", metavar="NAME", help="only this dataset's test rows")
    scope.add_argument("--library", action="store_true", help="only the library's test examples")
    parser.add_argument(
        "--approaches",
        metavar="LIST",
        help=f"comma-separated, from {','.join(APPROACHES)} (default: every one the prompt can "
        "run: few-shot needs examples, fine-tuned a fine-tuned model)",
    )
    parser.add_argument(
        "--fine-tuned-model", metavar="ID", help="fine-tuned model (default: the prompt's)"
    )
    parser.add_argument("--scorer", choices=SCORERS, default="exact", help="default exact")
    parser.add_argument(
        "--scorer-arg",
        metavar="TEXT",
        default="",
        help="regex: the pattern; json_schema: the schema (JSON); numeric: the tolerance; "
        "judge: the judge model",
    )
    parser.add_argument(
        "--case-sensitive", action="store_true", help="exact/contains: compare case too"
    )
    parser.add_argument(
        "--similar-k",
        metavar="K",
        type=int,
        help="few-shot-similar: examples per request (default: the prompt's similar:K, or 3)",
    )
    parser.add_argument("--batch", action="store_true", help="through the Batch API (half price)")
    parser.add_argument(
        "--concurrency", metavar="N", type=int, default=8, help="requests in flight (default 8)"
    )
    parser.add_argument("--fresh", action="store_true", help="start over, do not resume")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def parse_approaches(text: str | None) -> list[str] | None:
    if text is None:
        return None
    chosen = [a.strip() for a in text.split(",") if a.strip()]
    unknown = [a for a in chosen if a not in APPROACHES]
    if unknown or not chosen:
        raise UsageError(
            f"--approaches {text!r}: expected a comma-separated list of {', '.join(APPROACHES)}"
        )
    return list(dict.fromkeys(chosen))


def make_scorer(kind: str, arg: str, case_sensitive: bool):
    """The Scorer the flags describe (core.evaluation.scoring.scorer_from, as the Costs pane);
    UsageError names the flag that is wrong."""
    from workbench.core.evaluation.scoring import ScorerError, scorer_from

    try:
        return scorer_from(kind, arg, case_sensitive=case_sensitive)
    except ScorerError as exc:
        raise UsageError(f"--scorer {kind} --scorer-arg: {exc}") from None


class Progress:
    """'answers 12/72' on stderr: rewritten in place on a terminal, every tenth otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            sys.stderr.write(f"\r\x1b[Kanswers {done}/{total}")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()
            return
        step = max(1, total // 10)
        if done >= total or done // step != self.last // step:
            print(f"answers {done}/{total}", file=sys.stderr, flush=True)
        self.last = done


def run(args: argparse.Namespace) -> int:
    return run_with_context("eval", args, lambda ctx: _eval(ctx, args))


def _eval(ctx, args: argparse.Namespace) -> int:
    from dataclasses import replace

    from workbench.core.evaluation.engine import run_evaluation
    from workbench.core.provider_pricing import terms_for
    from workbench.providers.evals import SdkBatches, sdk_chat
    from workbench.providers.openai_api import make_client
    from workbench.store import evals
    from workbench.store.eval_plan import plan_from_store

    require_prompt(ctx.db, args.prompt)
    if args.concurrency < 1:
        raise UsageError("--concurrency must be 1 or more")
    scorer = make_scorer(args.scorer, args.scorer_arg, args.case_sensitive)
    terms = terms_for(ctx.profile, ctx.config.prices or None)
    scope = "library" if args.library else args.dataset
    try:
        plan = plan_from_store(
            ctx.db,
            args.prompt,
            scorer=scorer,
            terms=terms,
            approaches=parse_approaches(args.approaches),
            scope=scope,
            ft_models=(args.fine_tuned_model,) if args.fine_tuned_model else (),
            default_model=ctx.profile.default_model,
            resume=not args.fresh,
            profile=ctx.profile.name,
        )
    except (KeyError, ValueError) as exc:
        raise UsageError(exc.args[0] if exc.args else str(exc)) from None
    if args.similar_k is not None:
        if args.similar_k < 1:
            raise UsageError("--similar-k must be 1 or more")
        plan = replace(plan, similar_k=args.similar_k)
    if plan.group_id is not None:
        err("eval", "resuming the unfinished evaluation (answers stored are not asked again)")
    try:
        client = make_client(ctx.profile, timeout=60)
    except Exception as exc:  # noqa: BLE001 - a missing key, explained
        err("eval", ctx.explain(exc).message)
        return EXIT_PROVIDER
    kinds: set[str] = set()
    first_problem: dict[str, str] = {}  # model -> the first failure's words
    inner = sdk_chat(client)

    def chat(model: str, messages: list[dict], params: dict[str, Any]):
        try:
            return inner(model, messages, params)
        except Exception as exc:
            problem = ctx.explain(exc.__cause__ or exc)
            kinds.add(problem.kind)
            first_problem.setdefault(model, problem.message)
            raise RuntimeError(problem.message) from exc

    cancel = threading.Event()
    err("eval", f"{len(plan.cases)} test items × {len(plan.approaches)} approaches ({plan.scope})")
    try:
        summary = run_evaluation(
            evals.EvalLedger(ctx.db),
            chat,
            plan,
            concurrency=args.concurrency,
            batch=SdkBatches(client) if args.batch else None,
            progress=Progress(),
            cancel=cancel,
            status=lambda text: err("eval", text),
        )
    except ValueError as exc:  # no test items, a variable without a value: nothing was sent
        raise UsageError(str(exc)) from None
    finally:
        client.close()
    result = result_json(ctx, args, plan, summary)
    if args.json:
        print_json(result)
    else:
        for line in report_lines(result):
            print(printable(line))
    failed = [a for a in result["approaches"] if not a["n"] or a["n"] == a.get("errors")]
    for a in failed:
        why = first_problem.get(a["model"], "every request failed")
        err("eval", f"{a['label']}: no answer: {why}")
    if failed and len(failed) == len(result["approaches"]) and kinds and kinds <= PROVIDER_DOWN:
        return EXIT_PROVIDER
    return EXIT_FAILED if failed else EXIT_OK


def result_json(ctx, args: argparse.Namespace, plan, summary) -> dict[str, Any]:
    """The documented JSON: approaches (in plan order) and the verdict, then extra keys."""

    approaches = []
    for label, r in summary.results.items():
        approaches.append(
            {
                "approach": r.approach,
                "model": r.model,
                "n": r.n,
                "score": r.score,
                "ci_low": r.ci[0] if r.n else None,
                "ci_high": r.ci[1] if r.n else None,
                "cost_per_request_usd": r.cost_per_request,
                "latency_p50_s": None if r.p50_ms is None else r.p50_ms / 1000,
                "label": label,
                "passes": r.passes,
                "errors": r.errors,
            }
        )
    verdict = verdict_of(ctx, plan)
    recommendation = verdict.recommendation if not verdict.thin else None
    return {
        "approaches": approaches,
        "verdict": {
            "recommendation": recommendation or "inconclusive",
            "reasons": list(verdict.reasons),
            "headline": verdict.headline,
            "thin": verdict.thin,
        },
        "prompt": args.prompt,
        "scope": plan.scope,
        "scorer": plan.scorer.to_json(),
        "group_id": summary.group_id,
        "mode": summary.mode,
        "asked": summary.asked,
        "cancelled": summary.cancelled,
    }


def verdict_of(ctx, plan):
    """The verdict on this evaluation: the estimate's costs with its measured quality, as
    `workbench estimate` and the Costs pane compute it (store.eval_estimate)."""
    from workbench.core.estimate import EstimateSettings
    from workbench.store import evals
    from workbench.store.eval_estimate import estimate_from_store, verdict_from_store

    settings = EstimateSettings(terms=plan.terms)
    group = evals.latest_group(ctx.db, plan.eval_name)
    est, data = estimate_from_store(
        ctx.db, plan.prompt, settings, overrides=ctx.config.prices or None, group=group
    )
    return verdict_from_store(ctx.db, plan.prompt, est, data, group, provider_kind=ctx.profile.kind)


def report_lines(result: dict[str, Any]) -> list[str]:
    from workbench.core.evaluation.formatting import fmt_usd

    lines = [
        f"prompt {result['prompt']!r} · {result['scope']} · scorer {result['scorer']['kind']}",
        "",
    ]
    rows = [("approach", "model", "n", "score", "95% interval", "per request", "p50 latency")]
    for a in result["approaches"]:
        score = "–" if a["score"] is None else f"{a['score']:.0%}"
        ci = "–" if a["ci_low"] is None else f"{a['ci_low']:.0%}–{a['ci_high']:.0%}"
        latency = "–" if a["latency_p50_s"] is None else f"{a['latency_p50_s']:.2f}s"
        rows.append(
            (
                a["label"],
                a["model"],
                str(a["n"]),
                score,
                ci,
                fmt_usd(a["cost_per_request_usd"]),
                latency,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        lines.append(
            "  ".join(
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    lines.append("")
    lines.append(result["verdict"]["headline"])
    lines.extend(f"  - {reason}" for reason in result["verdict"]["reasons"])
    return lines
