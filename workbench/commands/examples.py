"""`workbench examples import|list`: the few-shot library (the Examples pane) from a terminal.

Import reads chat JSONL rows (`{"messages": [...]}`), flat `{"input", "output"}` (or prompt /
completion) JSONL, or CSV with input/output columns. Every line is accounted for: the ones that
cannot be examples are listed with their line number and why. `--split test` keeps them held out:
they are evaluated on and never sent in a prompt or a training file.
"""

from __future__ import annotations

import argparse

from workbench.commands.common import (
    EXIT_CODES_EPILOG,
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    add_json,
    err,
    one_line,
    print_json,
    print_listing,
    run_with_context,
)

HELP = "import examples into the few-shot library, or list them"
SPLITS = ("few-shot", "train", "validation", "test")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXIT_CODES_EPILOG
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser(
        "import",
        help="import a JSONL or CSV file",
        description=__doc__,
        epilog="Exit codes: 0 imported (skipped lines are listed on stderr), 1 nothing imported, "
        "2 usage or unreadable file.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument(
        "--split",
        choices=SPLITS,
        default="few-shot",
        help="few-shot (default: may go into prompts), train, validation or test (held out)",
    )
    p.add_argument("--tag", action="append", default=[], metavar="T", help="tag every row")
    add_json(p)
    p = sub.add_parser("list", help="the library's examples, oldest first")
    p.add_argument("--split", choices=SPLITS, help="only this split")
    p.add_argument("--tag", metavar="T", help="only examples with this tag")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    body = _import if args.action == "import" else _list
    return run_with_context("examples", args, lambda ctx: body(ctx, args))


def _import(ctx, args: argparse.Namespace) -> int:
    from pathlib import Path

    from workbench.store.library_import import import_library_file

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    report = import_library_file(ctx.db, path, split=args.split, tags=args.tag)
    if report.error:
        raise UsageError(report.error)
    if args.json:
        print_json(
            {
                "file": str(path),
                "split": args.split,
                "added": report.added,
                "skipped": [{"line": n, "reason": why} for n, why in report.skipped],
            }
        )
    else:
        print(f"imported {report.added} examples as {args.split} from {path.name}")
        for line, why in report.skipped:
            err("examples", f"{path.name} line {line}: skipped: {why}")
    return EXIT_OK if report.added else EXIT_FAILED


def example_row(example) -> dict:
    from workbench.core.fewshot import pair_from_messages

    text_in, text_out = pair_from_messages(example.messages)
    return {
        "id": example.id,
        "split": example.split,
        "tags": example.tags,
        "input": text_in,
        "output": text_out,
        "note": example.note,
        "created_at": example.created_at,
    }


def _list(ctx, args: argparse.Namespace) -> int:
    from workbench.store.examples import list_examples

    rows = [
        example_row(e)
        for e in list_examples(ctx.db, dataset_id=None, split=args.split, tag=args.tag)
        if e.data is not None
    ]
    return print_listing(
        "examples",
        rows,
        as_json=args.json,
        empty="no examples" + (" matching the filters" if args.split or args.tag else ""),
        header=f"{'ID':>5}  {'SPLIT':<10} {'TAGS':<16} {'INPUT':<40} OUTPUT",
        line=lambda r: (
            f"{r['id']:>5}  {r['split']:<10} {one_line(','.join(r['tags']) or '—', 16):<16} "
            f"{one_line(r['input'], 40):<40} {one_line(r['output'], 40)}"
        ),
    )
    if not rows:
        err("examples", "no examples" + (" matching the filters" if args.split or args.tag else ""))
        return EXIT_OK
    print(f"{'ID':>5}  {'SPLIT':<10} {'TAGS':<16} {'INPUT':<40} OUTPUT")
    for r in rows:
        print(
            f"{r['id']:>5}  {r['split']:<10} {one_line(','.join(r['tags']) or '—', 16):<16} "
            f"{one_line(r['input'], 40):<40} {one_line(r['output'], 40)}"
        )
    return EXIT_OK
