"""`workbench paths`: where the config file and the database are (llm's `logs path`, posting's
`locate`), so users can back them up or point tools at them."""

from __future__ import annotations

import argparse
import json

HELP = "print where the config file and the database live"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON object")


def run(args: argparse.Namespace) -> int:
    from workbench import config

    paths = {
        "config": str(config.config_path()),
        "database": str(config.db_path(args.db)),
        "data_dir": str(config.data_dir()),
    }
    if args.json:
        print(json.dumps(paths))
    else:
        for key, value in paths.items():
            print(f"{key:9} {value}")
    return 0
