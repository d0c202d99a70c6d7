"""`workbench sim`: run the local OpenAI-compatible SIMULATOR (nothing is trained; no real model)."""

from __future__ import annotations

import argparse
import signal
import sys

HELP = "run a local OpenAI-compatible simulator (for demos and tests; trains nothing)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # the shared --db names the simulator's own state file here, never the app's database
    for action in parser._actions:
        if action.dest == "db":
            action.help = "the simulator's state file (default: sim.db in the data dir)"
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8089, help="port (default 8089; 0 = any free)")
    parser.add_argument(
        "--speed",
        type=float,
        default=10.0,
        help="simulated seconds per real second (default 10: a 10-example job takes ~2 minutes; "
        "tests use 1000)",
    )
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        default=None,
        help="accept only this bearer key (default: any non-empty key)",
    )
    parser.add_argument(
        "--flavor",
        choices=("openai", "azure", "openai-compatible"),
        default="openai",
        help="wire to imitate: azure (/openai/v1/, file import delay, trainingType, 'pending', "
        "deployments via PUT /_sim/deployments/NAME); openai-compatible (no pause/resume, "
        "checkpoints, DPO or batch)",
    )
    parser.add_argument(
        "--training-types",
        default=None,
        metavar="LIST",
        help="azure: accepted trainingType values, comma-separated, case-insensitive (default "
        "GlobalStandard,Standard,Developer; 'any' = not required)",
    )
    parser.add_argument(
        "--file-processing-seconds",
        type=float,
        default=None,
        metavar="S",
        help="azure: simulated seconds an uploaded fine-tune file stays pending/running "
        "(default 20; 0 = processed at once)",
    )
    parser.add_argument(
        "--max-file-bytes",
        type=int,
        default=None,
        metavar="N",
        help="testing knob: refuse uploads over N bytes (default: OpenAI's 512 MB)",
    )


def _banner(
    host: str, port: int, db: str, speed: float, api_key: str | None, flavor: str = "openai"
) -> str:
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    base_url = f"http://{shown_host}:{port}/{'openai/v1' if flavor == 'azure' else 'v1'}"
    key = api_key or "sk-sim"
    return (
        "workbench sim: this is a SIMULATOR, not OpenAI. Nothing is trained and no real model\n"
        "answers: replies are canned (trained answers, nearest few-shot answer, or a generic line).\n"
        f"  base URL   {base_url}\n"
        f"  state      {db}\n"
        f"  flavor     {flavor}\n"
        f"  speed      {speed:g}x simulated time\n"
        f"  API key    {'only ' + api_key if api_key else 'any non-empty key'}\n"
        f"Point the app at it:\n"
        f"  OPENAI_BASE_URL={base_url} OPENAI_API_KEY={key} workbench\n"
        + (
            "or as an Azure profile in the config file (deploy a fine-tune with\n"
            f'  curl -X PUT -d \'{{"model": "MODEL"}}\' {base_url.rsplit("/openai", 1)[0]}'
            "/_sim/deployments/NAME):\n"
            "  [profiles.azure-sim]\n"
            '  kind = "azure"\n'
            f'  base_url = "{base_url}/"\n'
            '  training_type = "GlobalStandard"\n'
            '  api_key_env = "OPENAI_API_KEY"\n'
            if flavor == "azure"
            else ""
        )
        + "Ctrl-C stops it; jobs resume where they were on the next start with the same state file."
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _claimable_port(host: str, port: int) -> int:
    """The port uvicorn will get (0: a free one), or OSError when something listens on it.

    SO_REUSEADDR as uvicorn sets it: without it, restarting the simulator on the same port right
    after stopping it fails for a minute (the old server's connections linger in TIME_WAIT)."""
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        return sock.getsockname()[1]


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from workbench import config
    from workbench.sim.server import MAX_FILE_BYTES, SimOptions, serve

    if args.speed <= 0:
        print("workbench sim: --speed must be above 0", file=sys.stderr)
        return 2
    if args.api_key is not None and not args.api_key.strip():
        print("workbench sim: --api-key must not be empty", file=sys.stderr)
        return 2
    from workbench.sim.state import NotASimulatorFile, check_state_file

    db = Path(args.db) if args.db else config.data_dir() / "sim.db"
    try:
        check_state_file(db)
    except NotASimulatorFile as exc:
        print(f"workbench sim: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # not SQLite at all, unreadable
        print(f"workbench sim: cannot use {db} as the state file: {exc}", file=sys.stderr)
        return 2
    port = args.port
    try:
        port = _claimable_port(args.host, port)
    except OSError as exc:
        print(
            f"workbench sim: cannot listen on {args.host}:{port}: {exc.strerror or exc} "
            "(is another simulator running? try --port 0 for any free port)",
            file=sys.stderr,
        )
        return 2
    from workbench.sim.azure import DEFAULT_FILE_PROCESSING_SECONDS, parse_training_types

    options = SimOptions(
        training_types=parse_training_types(args.training_types),
        file_processing_seconds=(
            DEFAULT_FILE_PROCESSING_SECONDS
            if args.file_processing_seconds is None
            else max(0.0, args.file_processing_seconds)
        ),
        db=db,
        speed=args.speed,
        api_key=args.api_key,
        flavor=args.flavor,
        max_file_bytes=args.max_file_bytes or MAX_FILE_BYTES,
    )
    print(
        _banner(args.host, port, str(db), args.speed, args.api_key, args.flavor),
        file=sys.stderr,
        flush=True,
    )
    # uvicorn stops cleanly on SIGINT/SIGTERM, then re-raises the signal: make SIGTERM end like
    # Ctrl-C (exit 0, "stopped") rather than as a kill
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve(options, host=args.host, port=port)
    except KeyboardInterrupt:  # uvicorn normally handles Ctrl-C itself
        return 0
    finally:
        print("workbench sim: stopped", file=sys.stderr)
    return 0
