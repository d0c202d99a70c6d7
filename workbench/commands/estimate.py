"""`workbench estimate`: what each approach costs on your prompt and dataset, and the verdict.

The same figures as the Costs pane (both go through store.eval_estimate.estimate_from_store).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "cost per approach (zero-shot, few-shot, fine-tuned), break-even, and the verdict"


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        value = _suffixed(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number of 0 or more")
    return value


def _suffixed(text: str) -> int:
    """100k, 1M, 2.5m."""
    units = {"k": 1_000, "m": 1_000_000}
    t = text.strip().lower()
    if t and t[-1] in units:
        try:
            return int(float(t[:-1]) * units[t[-1]])
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"{text!r}: expected a number such as 5000, 100k or 1M")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prompt", metavar="NAME", default="default", help="saved prompt (default: default)"
    )
    parser.add_argument(
        "--dataset", metavar="NAME", help="dataset for the training cost (default: the first)"
    )
    parser.add_argument(
        "--volume",
        metavar="N",
        type=_positive_int,
        default=None,
        help="requests per month, e.g. 5000, 100k, 1M (default: 100k)",
    )
    parser.add_argument("--model", metavar="M", help="base model (default: the prompt's model)")
    parser.add_argument(
        "--ft-model", metavar="M", help="fine-tuned model id (default: the prompt's)"
    )
    parser.add_argument(
        "--output-tokens",
        metavar="N",
        type=_positive_int,
        default=None,
        help="expected output tokens per request (default: measured from runs or your data)",
    )
    parser.add_argument(
        "--epochs", metavar="N", type=int, default=None, help="training epochs (default: auto)"
    )
    parser.add_argument(
        "--cache", action="store_true", help="count prompt caching (prefixes of 1024+ tokens)"
    )
    parser.add_argument(
        "--batch", action="store_true", help="price requests at the Batch API's 50%% rates"
    )
    parser.add_argument(
        "--horizon",
        metavar="MONTHS",
        type=int,
        default=None,
        help="months the verdict compares total cost over (default: 6)",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--library",
        action="store_true",
        help="use the evaluation of the library's test examples (default: the prompt's newest)",
    )
    which.add_argument(
        "--eval-dataset",
        metavar="NAME",
        help="use the evaluation of this dataset's test rows (default: the prompt's newest)",
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument(
        "--markdown",
        metavar="PATH",
        nargs="?",
        const="-",
        help="print the verdict as Markdown (or write it to PATH)",
    )


def run(args: argparse.Namespace) -> int:
    from workbench.commands.common import open_config, open_database
    from workbench.core.display import printable
    from workbench.core.estimate import DEFAULT_VOLUME, EstimateSettings
    from workbench.core.evaluation.formatting import verdict_markdown
    from workbench.core.pricing import check_overrides
    from workbench.core.provider_pricing import terms_for
    from workbench.store import eval_estimate

    config = open_config("estimate", args.profile)
    for problem in check_overrides(config.prices):
        print(f"workbench estimate: {config.path}: {problem} (ignored)", file=sys.stderr)
    settings = EstimateSettings(
        volume=DEFAULT_VOLUME if args.volume is None else args.volume,
        output_tokens=args.output_tokens,
        caching=args.cache,
        batch=args.batch,
        terms=terms_for(config.profile, config.prices or None),  # Azure, overrides: the one price
    )
    db = open_database("estimate", args.db)
    try:
        setup = eval_estimate.load_prompt_setup(
            db,
            args.prompt,
            model=args.model,
            ft_model=args.ft_model,
            default_model=config.profile.default_model,
        )
        if not setup.found and args.prompt != "default":  # "default" may not exist yet: fine
            from workbench.store.prompts import list_prompts

            known = ", ".join(p.name for p in list_prompts(db)) or "none yet"
            print(
                f"workbench estimate: no prompt named {args.prompt!r} (known: {known})",
                file=sys.stderr,
            )
            return 2
        group = evaluation_for(db, setup.prompt_name, args)
        try:
            est, data = eval_estimate.estimate_from_store(
                db,
                setup,
                settings,
                dataset_name=args.dataset,
                overrides=config.prices,
                epochs=args.epochs,
                group=group,  # its answers give each measured approach's tokens (= `eval`'s cost)
            )
        except KeyError as exc:
            print(f"workbench estimate: {exc.args[0]}", file=sys.stderr)
            return 2
        verdict = eval_estimate.verdict_from_store(
            db,
            setup,
            est,
            data,
            group,
            horizon_months=args.horizon,
            provider_kind=config.profile.kind,
        )
    finally:
        db.close()

    if args.json:
        print(
            json.dumps(
                {
                    "prompt": setup.prompt_name,
                    "dataset": data.dataset,
                    "evaluation": None
                    if group is None
                    else {"group_id": group.group_id, "name": group.eval_name},
                    "estimate": est.to_json(),
                    "verdict": verdict.to_json(),
                }
            )
        )
        return 0
    if args.markdown is not None:
        text = verdict_markdown(
            verdict, title=f"Fine-tune or prompt-engineer? ({setup.prompt_name})"
        )
        if args.markdown == "-":
            sys.stdout.write(printable(text))
        else:
            path = Path(args.markdown)
            try:
                path.write_text(text, encoding="utf-8")
            except OSError as exc:
                print(f"workbench estimate: cannot write {path}: {exc.strerror}", file=sys.stderr)
                return 2
            print(f"wrote the verdict to {path.resolve()}", file=sys.stderr)
        return 0
    for line in report_lines(setup.prompt_name, data.dataset, est, verdict):
        print(printable(line))  # prompt and dataset names are the user's: no control characters
    return 0


def evaluation_for(db, prompt_name: str, args: argparse.Namespace):
    """The evaluation whose measured quality and costs the verdict uses: the one of the test set
    asked for (--library, --eval-dataset), else the prompt's newest evaluation."""
    from workbench.store import evals
    from workbench.store.eval_plan import LIBRARY, eval_name_for

    if args.library or args.eval_dataset:
        scope = LIBRARY if args.library else args.eval_dataset
        return evals.latest_group(db, eval_name_for(prompt_name, scope))
    groups = evals.list_groups(db, limit=200)
    return next((g for g in groups if g.runs and g.runs[0].prompt_name == prompt_name), None)


def report_lines(prompt: str, dataset: str | None, est, verdict) -> list[str]:
    """The estimate and verdict as aligned plain text."""
    from workbench.core.display import plural
    from workbench.core.evaluation.formatting import (
        fmt_count,
        fmt_latency,
        fmt_months,
        fmt_score,
        fmt_usd,
    )

    s = est.settings
    lines = [
        f"prompt {prompt!r} · dataset {dataset or '(none)'} · prices as of {est.prices_as_of}",
        f"volume {fmt_count(s.volume)} requests/month · caching {'on' if s.caching else 'off'} · "
        f"batch {'on' if s.batch else 'off'}",
        "",
    ]
    header = (
        "approach",
        "model",
        "input",
        "prefix",
        "cached",
        "output",
        "per request",
        f"per {fmt_count(s.volume)}",
        "one-off",
    )
    rows = [header]
    for a in est.approaches:
        rows.append(
            (
                a.approach,
                a.display_model,
                str(a.input_tokens),
                str(a.cacheable_prefix),
                str(a.cached_tokens),
                f"{a.output_tokens:.0f}",
                fmt_usd(a.per_request),
                fmt_usd(a.per_n(s.volume)),
                fmt_usd(a.one_off)
                if a.approach == "fine-tuned" and a.one_off is not None
                else ("unknown" if a.one_off is None else "–"),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        lines.append(
            "  ".join(
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    out_source = next((a.output_source for a in est.approaches if a.output_source), "")
    if out_source:
        lines.append(f"output tokens: {out_source}")
    t = est.training
    if t is not None:
        rate = "no price" if t.rate_per_million is None else f"${t.rate_per_million:.2f}/M"
        lines.append(
            f"training: {plural(t.examples, 'example')}, {t.billed_tokens_per_epoch:,} tokens × "
            f"{plural(t.epochs, 'epoch')} "
            f"= {t.trained_tokens:,} tokens at {rate} = {fmt_usd(t.cost)}"
        )
    if est.break_even is not None:
        months = est.break_even_months
        lines.append(
            f"break-even: fine-tuning is cheaper than few-shot after {fmt_count(est.break_even)} requests"
            + (f" ({fmt_months(months)} at your volume)" if months is not None else "")
        )
    else:
        lines.append("break-even: none (fine-tuning does not become cheaper than few-shot here)")
    lines.append("")
    lines.append(verdict.headline)
    for reason in verdict.reasons:
        lines.append(f"  - {reason}")
    if any(r.quality is not None for r in verdict.rows):
        lines.append("")
        for r in verdict.rows:
            lines.append(
                f"  {r.approach:<11} quality {fmt_score(r.quality):<28} latency {fmt_latency(r.quality)}"
            )
    for note in verdict.notes:
        lines.append(f"note: {note}")
    return lines
