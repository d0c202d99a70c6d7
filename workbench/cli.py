"""The `workbench` command: no arguments opens the TUI; subcommands are small modules.

Each subcommand lives in `workbench/commands/<name>.py` and exposes:

    HELP = "one line for --help"
    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...   # the exit code

Modules are found by name (COMMANDS), so adding one never touches another. Subcommand modules
import nothing heavy at module level and never import Textual. stdout is data (`--json`), stderr is
narrative. Exit codes (workbench/commands/common.py): 0 ok, 1 the thing checked failed, 2 usage,
config or an unusable file, 3 provider unreachable or key refused, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys

from workbench import __version__

COMMANDS: tuple[str, ...] = (
    "validate",
    "estimate",
    "history",
    "jobs",
    "sim",
    "serve",
    "local",
    "doctor",
    "paths",
    "prompt",
    "examples",
    "data",
    "run",
    "eval",
)


def _available_commands() -> list[str]:
    return [
        name
        for name in COMMANDS
        if importlib.util.find_spec(f"workbench.commands.{name}") is not None
    ]


def build_parser(with_commands: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description=(
            "A terminal workbench for deciding, on your own data, whether to prompt-engineer or "
            "fine-tune a model. With no command, opens the app."
        ),
        epilog="Environment: OPENAI_API_KEY, OPENAI_BASE_URL, WORKBENCH_DB, WORKBENCH_CONFIG, "
        "WORKBENCH_PROFILE, NO_COLOR.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    add_common_arguments(parser)
    if not with_commands:
        return parser
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _available_commands():
        module = importlib.import_module(f"workbench.commands.{name}")
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        add_common_arguments(sub, suppress=True)
        module.add_arguments(sub)
        _common_arguments_on_actions(sub)
        sub.set_defaults(_run=module.run)
    return parser


def _common_arguments_on_actions(parser: argparse.ArgumentParser) -> None:
    """`workbench prompt new NAME --db F` works too: every nested action takes --db/--profile."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for nested in action.choices.values():
                taken = {o for a in nested._actions for o in a.option_strings}
                if "--db" not in taken and "--profile" not in taken:
                    add_common_arguments(nested, suppress=True)
                _common_arguments_on_actions(nested)


def add_common_arguments(parser: argparse.ArgumentParser, suppress: bool = False) -> None:
    """--db and --profile, accepted before or after the subcommand."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=default,
        help="SQLite database file (default: $WORKBENCH_DB or the XDG data dir)",
    )
    parser.add_argument(
        "--profile",
        metavar="NAME",
        default=default,
        help="provider profile from the config file (default: $WORKBENCH_PROFILE or active_profile)",
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if _opens_the_app(argv):
        # the app's own launch skips importing every command to build their parsers (~20 ms)
        return _run_app(build_parser(with_commands=False).parse_args(argv))
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return _run_app(args)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `workbench history --json | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _opens_the_app(argv: list[str]) -> bool:
    """True for `workbench` with nothing but --db and --profile (each with its value)."""
    tokens = iter(argv)
    for token in tokens:
        if token in ("--db", "--profile"):
            if next(tokens, None) is None:
                return False  # argparse says what is missing
        elif not token.startswith(("--db=", "--profile=")):
            return False
    return True


def _run_app(args: argparse.Namespace) -> int:
    from workbench.commands.common import open_config, open_database

    config = open_config("", args.profile)
    open_database("", args.db).close()  # a bad --db is named now, not on the first edit
    from workbench.app import WorkbenchApp

    app = WorkbenchApp(config=config, db_path=args.db)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    raise SystemExit(main())
