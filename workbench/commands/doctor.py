"""`workbench doctor`: check the active profile and say in plain words what is wrong."""

from __future__ import annotations

import argparse
import json

HELP = "check the active profile: host reachable, key accepted, which capabilities answer"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    parser.add_argument(
        "--probe-chat",
        action="store_true",
        help="also send a 1-token chat completion to the default model (spends tokens)",
    )


def run(args: argparse.Namespace) -> int:
    from workbench.commands.common import open_config
    from workbench.core.display import printable
    from workbench.providers.health import check_profile

    def say(line: str) -> None:  # model ids and error details come from the server
        print(printable(line))

    config = open_config("doctor", args.profile)
    report = check_profile(config.profile, probe_chat=args.probe_chat)
    if config.profile.kind == "local":  # the machine the models run on (this one, usually)
        from workbench.local.machine import machine_checks
        from workbench.providers.health import Check

        report.checks += [Check(name, ok, detail) for name, ok, detail in machine_checks()]
    if args.json:
        data = report.to_json()
        data["warnings"] = list(config.warnings)
        print(json.dumps(data, indent=2))
        return 0 if report.ok else 1
    say(f"profile {report.profile} ({report.kind})  {report.base_url}")
    for warning in config.warnings:
        say(f"  ! {warning}")
    marks = {True: "ok ", False: "ERR", None: " - "}
    for check in report.checks:
        say(f"  {marks[check.ok]} {check.name}: {check.detail}")
    if report.fine_tunable_models:
        say("  fine-tunable models:")
        for model in report.fine_tunable_models:
            say(f"      {'' if model['usable'] else '(unusable) '}{model['note']}")
    if report.deployments:
        say("  deployments:")
        for model, name in report.deployments.items():
            say(f"      {model} -> {name}")
    for note in report.notes:
        say(f"  ! {note}")
    say("all good" if report.ok else "problems found (see ERR lines)")
    return 0 if report.ok else 1
