"""`workbench prompt new|set|show|list`: named prompts from a plain terminal.

The same prompts and versions as the Prompt pane (store.prompts): every change is written into the
prompt's draft; a run or an evaluation freezes it as a version. `--examples SEL` sets which few-shot
examples the prompt sends (store.selection), as the Examples pane does:

    all          every few-shot example in the library (oldest first)
    recent:N     the N newest few-shot examples
    tag:TAG      the few-shot examples tagged TAG (the newest 3; `tag:TAG:N` for N)
    similar:K    per request, the K examples most like that request's input (BM25)
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from workbench.commands.common import (
    EXIT_CODES_EPILOG,
    EXIT_OK,
    UsageError,
    add_json,
    err,
    key_value,
    one_line,
    print_json,
    print_listing,
    printable,
    require_prompt,
    run_with_context,
)

HELP = "create, change, show or list named prompts (system, template, model, few-shot examples)"

# "all" is the recent mode with a k no library reaches: new examples join without a new pick.
ALL_K = 100_000
PARAM_TYPES = {"temperature": float, "max_tokens": int, "seed": int, "response_format": str}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXIT_CODES_EPILOG
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, text in (
        ("new", "a new named prompt"),
        ("set", "change a prompt (only the options given)"),
    ):
        p = sub.add_parser(action, help=text, description=__doc__, epilog=EXIT_CODES_EPILOG)
        p.formatter_class = argparse.RawDescriptionHelpFormatter
        p.add_argument("name", metavar="NAME")
        p.add_argument("--system", metavar="TEXT", help="system prompt")
        p.add_argument(
            "--template", metavar="TEXT", help="user template, e.g. 'Classify: {{input}}'"
        )
        p.add_argument("--model", metavar="M", help="model for zero-shot and few-shot")
        p.add_argument("--ft-model", metavar="ID", help="fine-tuned model id (ft:...)")
        p.add_argument(
            "--ft-system", metavar="TEXT", help="the fine-tuned model's own (short) system prompt"
        )
        p.add_argument(
            "--examples", metavar="SEL", help="all, recent:N, tag:TAG, similar:K (see above)"
        )
        p.add_argument(
            "--var",
            metavar="NAME=VALUE",
            type=key_value,
            action="append",
            default=[],
            help="a saved variable value (repeatable)",
        )
        p.add_argument(
            "--param",
            metavar="NAME=VALUE",
            type=key_value,
            action="append",
            default=[],
            help="temperature, max_tokens, seed or response_format (repeatable)",
        )
        add_json(p)
    p = sub.add_parser("show", help="one prompt: its latest version and few-shot selection")
    p.add_argument("name", metavar="NAME")
    add_json(p)
    p = sub.add_parser("list", help="every named prompt")
    add_json(p)


# --- few-shot selections as text ------------------------------------------------------------------


def parse_selection(text: str):
    """SEL -> FewShotSelection; UsageError saying what is expected."""
    from workbench.core.fewshot import FewShotSelection

    kind, _, rest = text.strip().partition(":")
    kind = kind.lower()
    try:
        if kind == "all" and not rest:
            return FewShotSelection(mode="recent", k=ALL_K)
        if kind == "recent":
            return FewShotSelection(mode="recent", k=_count(rest, text))
        if kind == "tag" and rest:
            tag, _, k = rest.partition(":")
            return FewShotSelection(mode="tag", tag=tag, k=_count(k, text) if k else 3)
        if kind == "similar":
            return FewShotSelection(mode="similar", k=_count(rest, text))
    except ValueError as exc:  # a mode this version of the core does not know
        raise UsageError(f"--examples {text!r}: {exc}") from None
    raise UsageError(f"--examples {text!r}: expected all, recent:N, tag:TAG or similar:K")


def _count(text: str, whole: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"--examples {whole!r}: {text!r} is not a whole number") from None
    if value < 1:
        raise UsageError(f"--examples {whole!r}: the number must be 1 or more")
    return value


def describe_selection(selection) -> str:
    if selection.mode == "recent" and selection.k >= ALL_K:
        return "all"
    if selection.mode == "manual":
        return "manual:" + ",".join(str(i) for i in selection.ids) if selection.ids else "none"
    if selection.mode == "tag":
        return f"tag:{selection.tag}:{selection.k}"
    return f"{selection.mode}:{selection.k}"


# --- the actions ----------------------------------------------------------------------------------


def _params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        kind = PARAM_TYPES.get(key)
        if kind is None:
            raise UsageError(f"--param {key}: expected one of {', '.join(PARAM_TYPES)}")
        try:
            out[key] = kind(value) if value != "" else None
        except ValueError:
            raise UsageError(f"--param {key}={value!r}: expected a {kind.__name__}") from None
    return out


def _changes(args: argparse.Namespace, current) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for option, field in (
        ("system", "system"),
        ("template", "template"),
        ("model", "model"),
        ("ft_model", "ft_model"),
        ("ft_system", "ft_system"),
    ):
        value = getattr(args, option)
        if value is not None:
            changes[field] = value
    if args.var:
        changes["variables"] = {**(current.variables if current else {}), **dict(args.var)}
    if args.param:
        changes["params"] = {**(current.params if current else {}), **_params(args.param)}
    return changes


def prompt_json(db, version) -> dict[str, Any]:
    from workbench.core.prompts import placeholders
    from workbench.store.selection import get_selection, selected_examples

    selection = get_selection(db, version.prompt_name)
    data = asdict(version)
    data["label"] = version.label
    data["placeholders"] = placeholders(version.template)
    data["examples"] = {
        "selection": describe_selection(selection),
        "count": len(selected_examples(db, version.prompt_name))
        if selection.mode != "similar"
        else None,
    }
    return data


def run(args: argparse.Namespace) -> int:
    return run_with_context("prompt", args, lambda ctx: _ACTIONS[args.action](ctx, args))


def _new(ctx, args: argparse.Namespace) -> int:
    from workbench.store import prompts as store

    selection = parse_selection(args.examples) if args.examples else None
    changes = _changes(args, None)
    changes.setdefault("model", ctx.profile.default_model)
    try:
        version = store.create_prompt(ctx.db, args.name, **changes)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return _after_change(ctx, args, version, selection, "created")


def _set(ctx, args: argparse.Namespace) -> int:
    from workbench.store import prompts as store

    current = require_prompt(ctx.db, args.name)
    selection = parse_selection(args.examples) if args.examples else None
    changes = _changes(args, current)
    if not changes and selection is None:
        raise UsageError("nothing to change: give --system, --template, --model, --examples…")
    version = store.save_draft(ctx.db, args.name, **changes) if changes else current
    return _after_change(ctx, args, version, selection, "changed")


def _after_change(ctx, args, version, selection, what: str) -> int:
    from workbench.store.selection import set_selection

    if selection is not None:
        set_selection(ctx.db, version.prompt_name, selection)
    if args.json:
        print_json(prompt_json(ctx.db, version))
    else:
        err("prompt", f"{what} {version.prompt_name!r} ({version.label})")
    return EXIT_OK


def _show(ctx, args: argparse.Namespace) -> int:
    data = prompt_json(ctx.db, require_prompt(ctx.db, args.name))
    if args.json:
        print_json(data)
        return EXIT_OK
    print(f"{printable(data['prompt_name'])} {data['label']}")
    for key in ("model", "ft_model"):
        print(f"  {key:<11}{printable(data[key]) or '—'}")
    print(f"  {'examples':<11}{data['examples']['selection']}", end="")
    count = data["examples"]["count"]
    print("" if count is None else f" ({count} now)")
    for key in ("params", "variables"):
        if data[key]:
            print(f"  {key:<11}" + ", ".join(f"{k}={printable(v)}" for k, v in data[key].items()))
    for key, title in (("system", "system"), ("template", "template"), ("ft_system", "ft system")):
        if data[key] is None:
            continue
        print(f"  {title}:")
        for line in (data[key] or "").splitlines() or [""]:
            print(f"    {printable(line)}")
    return EXIT_OK


def _list(ctx, args: argparse.Namespace) -> int:
    from workbench.store import prompts as store

    rows = []
    for prompt in store.list_prompts(ctx.db):
        latest = store.latest_version(ctx.db, prompt.name)
        rows.append(
            {
                "name": prompt.name,
                "versions": prompt.versions,
                "latest": latest.label if latest else None,
                "model": latest.model if latest else "",
                "ft_model": latest.ft_model if latest else "",
                "updated_at": prompt.updated_at,
            }
        )
    return print_listing(
        "prompt",
        rows,
        as_json=args.json,
        empty="no prompts yet (`workbench prompt new NAME`)",
        header=f"{'NAME':<24} {'LATEST':<12} {'MODEL':<30} FINE-TUNED",
        line=lambda r: (
            f"{one_line(r['name'], 24):<24} {r['latest'] or '—':<12} "
            f"{one_line(r['model'] or '—', 30):<30} {printable(r['ft_model']) or '—'}"
        ),
    )
    if not rows:
        err("prompt", "no prompts yet (`workbench prompt new NAME`)")
        return EXIT_OK
    print(f"{'NAME':<24} {'LATEST':<12} {'MODEL':<30} FINE-TUNED")
    for r in rows:
        print(
            f"{one_line(r['name'], 24):<24} {r['latest'] or '—':<12} "
            f"{one_line(r['model'] or '—', 30):<30} {printable(r['ft_model']) or '—'}"
        )
    return EXIT_OK


_ACTIONS = {"new": _new, "set": _set, "show": _show, "list": _list}
