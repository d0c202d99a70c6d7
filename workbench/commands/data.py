"""`workbench data import|split|export|list`: training datasets (the Training data pane) from a
terminal.

Import keeps every line, as the pane does: rows with problems are stored, marked, and left out of
exports until fixed. Export writes only valid rows, byte-exact, and says how many it left out.
Split is seeded: the same rows, shares and seed always give the same split; rows marked test stay
held out (never trained on, never sent in a prompt).
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
    find_dataset,
    fraction,
    one_line,
    print_json,
    print_listing,
    run_with_context,
)

HELP = "import, split, export or list training datasets"
DEFAULT_SEED = 42


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXIT_CODES_EPILOG
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser(
        "import",
        help="import a JSONL or CSV file into a dataset (created if new)",
        epilog="Exit codes: 0 imported (rows with problems are kept and listed), 1 the file has "
        "no rows, 2 usage or unreadable file.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--dataset", metavar="NAME", required=True)
    p.add_argument("--model", metavar="M", help="check token limits for this model")
    p.add_argument("--prompt-column", default="prompt", help="CSV: the user column (prompt)")
    p.add_argument(
        "--completion-column", default="completion", help="CSV: the reply column (completion)"
    )
    p.add_argument("--system", metavar="TEXT", help="CSV: a system message for every row")
    add_json(p)
    p = sub.add_parser("split", help="seeded train / validation / test split")
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--validation",
        type=fraction,
        default=0.1,
        metavar="F",
        help="validation share of the rows not held out (default 0.1)",
    )
    p.add_argument(
        "--test",
        type=fraction,
        default=0.0,
        metavar="F",
        help="share of all rows held out as test (rows already test stay test; default 0)",
    )
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"default {DEFAULT_SEED}")
    add_json(p)
    p = sub.add_parser("export", help="write a split's valid rows as JSONL (byte-exact)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--split", choices=("train", "validation"), default="train")
    add_json(p)
    p = sub.add_parser("list", help="datasets with their rows per split")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    return run_with_context("data", args, lambda ctx: _ACTIONS[args.action](ctx, args))


def _import(ctx, args: argparse.Namespace) -> int:
    from pathlib import Path

    from workbench.core.dataset_io import CSVColumnsMissing, read_csv, read_jsonl, sniff_method
    from workbench.core.tokens import get_tokenizer
    from workbench.store import dataset_export as exports
    from workbench.store import examples as store

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    is_csv = path.suffix.lower() == ".csv"
    model = args.model or ctx.profile.default_model
    dataset = store.find_dataset(ctx.db, args.dataset)
    try:
        if dataset is None:
            method = "supervised" if is_csv else sniff_method(path)
            dataset = store.create_dataset(ctx.db, args.dataset, method=method)
        if is_csv:
            lines = read_csv(path, args.prompt_column, args.completion_column, args.system)
        else:
            lines = read_jsonl(path, method=dataset.method)
        summary = exports.import_lines(
            ctx.db,
            dataset.id,
            lines,
            tokenizer=get_tokenizer(model),
            method=dataset.method,
            model=model,
        )
    except CSVColumnsMissing as exc:
        raise UsageError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"could not read {path}: {exc}") from None
    if args.json:
        print_json(
            {
                "dataset": dataset.name,
                "method": dataset.method,
                "rows": summary.lines,
                "valid": summary.valid,
                "with_problems": summary.with_problems,
                "with_warnings": summary.with_warnings,
                "problems": [
                    {"line": line, "code": code, "message": message}
                    for line, code, message in summary.problem_lines
                ],
            }
        )
    else:
        print(f"{dataset.name}: {summary.describe()}")
        for line, code, message in summary.problem_lines:
            err("data", f"{path.name} line {line}: {code}: {message}")
    return EXIT_OK if summary.lines else EXIT_FAILED


def _split(ctx, args: argparse.Namespace) -> int:
    from workbench.store import dataset_export as exports
    from workbench.store.examples import count_examples

    dataset = find_dataset(ctx.db, args.name)
    test = exports.hold_out_test(ctx.db, dataset.id, args.test, args.seed) if args.test else None
    train, validation = exports.apply_split(ctx.db, dataset.id, args.validation, args.seed)
    if test is None:
        test = count_examples(ctx.db, dataset_id=dataset.id, split="test")
    result = {
        "dataset": dataset.name,
        "train": train,
        "validation": validation,
        "test": test,
        "seed": args.seed,
    }
    if args.json:
        print_json(result)
    else:
        print(
            f"{dataset.name}: {train:,} train, {validation:,} validation, {test:,} test "
            f"(seed {args.seed})"
        )
    return EXIT_OK


def _export(ctx, args: argparse.Namespace) -> int:
    from pathlib import Path

    from workbench.store import dataset_export as exports

    dataset = find_dataset(ctx.db, args.name)
    _ids, left_out = exports.export_rows(ctx.db, dataset.id, args.split)
    try:
        version, path = exports.export_version(
            ctx.db, dataset.id, args.split, Path(args.file), allow_problems=True
        )
    except exports.ExportRefused as exc:
        err("data", str(exc))
        return EXIT_FAILED
    except OSError as exc:
        raise UsageError(f"cannot write {args.file}: {exc.strerror or exc}") from None
    if args.json:
        print_json(
            {
                "dataset": dataset.name,
                "split": args.split,
                "file": str(path),
                "rows": version.examples,
                "left_out": left_out,
                "bytes": version.bytes,
                "sha256": version.sha256,
            }
        )
    else:
        print(f"wrote {version.examples} {args.split} rows of {dataset.name} to {path}")
    if left_out:
        err("data", f"left out {left_out} rows with problems (fix them in Training data, F3)")
    return EXIT_OK


def _list(ctx, args: argparse.Namespace) -> int:
    from workbench.store.examples import count_examples, list_datasets

    rows = []
    for d in list_datasets(ctx.db):
        counts = {
            split: count_examples(ctx.db, dataset_id=d.id, split=split)
            for split in ("train", "validation", "test")
        }
        problems = count_examples(ctx.db, dataset_id=d.id, with_problems=True)
        rows.append({"name": d.name, "method": d.method, **counts, "with_problems": problems})
    return print_listing(
        "data",
        rows,
        as_json=args.json,
        empty="no datasets yet (`workbench data import FILE --dataset NAME`)",
        header=f"{'NAME':<24} {'METHOD':<10} {'TRAIN':>7} {'VALID':>7} {'TEST':>7} {'PROBLEMS':>9}",
        line=lambda r: (
            f"{one_line(r['name'], 24):<24} {r['method']:<10} {r['train']:>7} "
            f"{r['validation']:>7} {r['test']:>7} {r['with_problems']:>9}"
        ),
    )
    if not rows:
        err("data", "no datasets yet (`workbench data import FILE --dataset NAME`)")
        return EXIT_OK
    print(f"{'NAME':<24} {'METHOD':<10} {'TRAIN':>7} {'VALID':>7} {'TEST':>7} {'PROBLEMS':>9}")
    for r in rows:
        print(
            f"{one_line(r['name'], 24):<24} {r['method']:<10} {r['train']:>7} "
            f"{r['validation']:>7} {r['test']:>7} {r['with_problems']:>9}"
        )
    return EXIT_OK


_ACTIONS = {"import": _import, "split": _split, "export": _export, "list": _list}
