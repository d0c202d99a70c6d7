"""One fine-tuning job on disk: the contract between the `workbench local` server and its trainer.

A job lives in one directory JOBDIR (the server picks it, under the data dir). The server writes
`spec.json`, spawns `trainer_command(jobdir)` detached (own session/process group, stdout and
stderr into JOBDIR/trainer.log), and from then on only READS what the trainer writes, except for
the `control` file. Everything is plain JSON so a restarted server re-attaches from disk alone.

Files (all names are constants below):
- `spec.json` (server -> trainer, written once before spawning, atomically):
  {"job_id", "base_model" (public id, e.g. "SmolLM2-135M-Instruct"), "model_path" (a local dir
  `from_pretrained` reads: safetensors + tokenizer), "training_file" (JSONL path),
  "validation_file" (path or null), "method" ("supervised" | "dpo"; dpo is refused by the trainer
  with status failed), "hyperparameters": {"n_epochs", "batch_size", "learning_rate_multiplier"}
  each a number or "auto", "seed" (int or null), "suffix" (str or null), "device"
  ("auto" | "cpu" | "cuda"), "resume_from" (a checkpoint dir, e.g. state["pause_checkpoint"], or
  null), "max_steps" (int or null: stop after that many optimizer steps; a testing knob)}.
  `read_spec` fills the optional keys with these defaults.
- `events.jsonl` (trainer -> server, appended one JSON object per line, flushed per line):
  {"id": "ftevent-…", "created_at": unix int, "level": "info"|"warn"|"error", "message",
  "type": "message"|"metrics", "data": dict|null}. Oldest first in the file (the wire API lists
  newest first: reverse). Metrics data is OpenAI's: {"step", "total_steps", "train_loss",
  "train_mean_token_accuracy"} + {"valid_loss", "valid_mean_token_accuracy"} (one sampled
  validation batch) with a validation file, + {"full_valid_loss", "full_valid_mean_token_accuracy"}
  (whole validation file) at each epoch end. The server may append its own events
  ("Created fine-tuning job: …", "Validating training file: …") with `append_event` before
  spawning; the trainer writes from "Files validated, moving job to queued state" on.
- `state.json` (trainer -> server, replaced atomically): see `new_state` for every key. `status`
  goes validating_files -> queued (loading the model, tokenizing) -> running -> succeeded |
  failed | cancelled | paused. `pid` is the trainer's (os.getpid(); the server spawns the
  interpreter directly, so it equals Popen.pid): the server writes `new_state(pid=proc.pid)`
  right after spawning so a trainer that dies before its first write is still detected; the
  trainer then keeps it. `trainer_gone(state)` (an ACTIVE status whose pid no longer runs) is the
  server's cue that the trainer died (SIGKILL, OOM, reboot) and the job must be marked failed.
  `hyperparameters`: the resolved {n_epochs, batch_size, learning_rate_multiplier} (the job
  object's); beside it `learning_rate` (the real LoRA rate) and `seed` (drawn when the spec had
  none; reported as the job's seed). `step`, `total_steps`, `trained_tokens` (real tokens seen,
  padding excluded) and `estimated_finish` (unix int, from the measured step time; null when not
  running) are rewritten at every step.
  `checkpoints`: [{"id": "ftckpt_…", "step", "epoch", "created_at", "dir" (a PEFT adapter dir),
  "metrics": {step, train_loss, train_mean_token_accuracy, valid_loss?, ...}}], oldest first,
  for the last 3 epochs (and the last step). `adapter_dir`: the final adapter (PEFT dir) once
  succeeded. `result_file`: JOBDIR/results.csv (plain CSV, OpenAI's columns; the server
  base64-encodes it for the openai flavor as the sim does). `pause_checkpoint`: a full trainer
  checkpoint dir (adapter + optimizer) written on pause; pass it as spec["resume_from"] to
  resume, after which the new trainer keeps appending to the same events.jsonl and keeps the
  earlier checkpoints. `error`: {"code", "message", "param"} or null. Codes:
  invalid_training_file / invalid_validation_file (the simulator's messages, with the line),
  unsupported_method (dpo), invalid_hyperparameters, device_unavailable, model_load_failed,
  training_failed (an unexpected exception: its type and message; the traceback goes to
  trainer.log), invalid_spec (spec.json unreadable). Exit code 0 for succeeded, cancelled and
  paused, 1 for failed, 2 for a bad command line or spec.
- `control` (server -> trainer): `request_control(jobdir, "cancel" | "pause")`. The trainer checks it
  at every step (and between phases); cancel ends with status cancelled, pause saves
  `pause_checkpoint` and ends with status paused (a pause before training began ends paused
  with pause_checkpoint null: resume then starts afresh with resume_from null). SIGTERM to the
  trainer is treated as cancel. The trainer itself writes the events "Fine-tuning job
  cancelled" / "Fine-tuning job paused" / "Fine-tuning job resumed" when it acts, so the server
  writes them only when it had to kill a trainer or acts on a job with no trainer running. A
  resumed trainer removes a leftover "pause" control file.

No torch, transformers or sqlite import here: the server imports this at start-up.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SPEC = "spec.json"
EVENTS = "events.jsonl"
STATE = "state.json"
CONTROL = "control"
RESULTS = "results.csv"
LOG = "trainer.log"  # where the server should send the trainer's stdout/stderr
ADAPTER = "adapter"  # JOBDIR/adapter: the final LoRA adapter
CHECKPOINTS = "checkpoints"  # JOBDIR/checkpoints/step-N: per-epoch adapters
PAUSE_CHECKPOINTS = "trainer-checkpoints"  # JOBDIR/trainer-checkpoints/checkpoint-N: for resume

STATUSES = ("validating_files", "queued", "running", "succeeded", "failed", "cancelled", "paused")
ACTIVE = ("validating_files", "queued", "running")
TERMINAL = ("succeeded", "failed", "cancelled")
CONTROLS = ("cancel", "pause")

SPEC_DEFAULTS: dict[str, Any] = {
    "validation_file": None,
    "method": "supervised",
    "seed": None,
    "suffix": None,
    "device": "auto",
    "resume_from": None,
    "max_steps": None,
}
HYPERPARAMETER_NAMES = ("n_epochs", "batch_size", "learning_rate_multiplier")

_ALPHABET = string.ascii_letters + string.digits


class JobDirError(Exception):
    """A job directory file is missing or malformed; the message names the file and key."""


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def _write_json_atomic(path: Path, obj: Any) -> None:
    """Write to a temp file in the same directory, fsync, then os.replace: readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(obj, out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise JobDirError(f"{path}: not valid JSON ({exc})") from None


# ---- spec --------------------------------------------------------------------------------------
def write_spec(jobdir: str | os.PathLike, spec: dict) -> None:
    _write_json_atomic(Path(jobdir) / SPEC, spec)


def read_spec(jobdir: str | os.PathLike) -> dict:
    """spec.json with the optional keys filled; JobDirError when it is missing or malformed."""
    path = Path(jobdir) / SPEC
    if not path.is_file():
        raise JobDirError(f"{path}: no such file")
    raw = _read_json(path)
    if not isinstance(raw, dict):
        raise JobDirError(f"{path}: expected a JSON object")
    for key in ("job_id", "model_path", "training_file"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise JobDirError(f"{path}: {key!r} is required (a non-empty string)")
    spec = {**SPEC_DEFAULTS, **raw}
    spec.setdefault("base_model", Path(spec["model_path"]).name)
    hp = spec.get("hyperparameters") or {}
    if not isinstance(hp, dict):
        raise JobDirError(f"{path}: 'hyperparameters' must be an object")
    spec["hyperparameters"] = {name: hp.get(name, "auto") for name in HYPERPARAMETER_NAMES}
    return spec


# ---- events ------------------------------------------------------------------------------------
def append_event(
    jobdir: str | os.PathLike,
    message: str,
    *,
    level: str = "info",
    type: str = "message",  # noqa: A002 - OpenAI's field name
    data: dict | None = None,
    created_at: int | None = None,
) -> dict:
    """Append one event line (flushed) and return it."""
    event = {
        "id": new_id("ftevent-"),
        "created_at": int(time.time()) if created_at is None else int(created_at),
        "level": level,
        "message": message,
        "type": type,
        "data": data,
    }
    line = json.dumps(event, ensure_ascii=False) + "\n"
    with open(Path(jobdir) / EVENTS, "a", encoding="utf-8") as out:
        out.write(line)
        out.flush()
    return event


def read_events(jobdir: str | os.PathLike, after_id: str | None = None) -> list[dict]:
    """Events oldest first; with `after_id`, only those written after that event (for tailing).

    An `after_id` not in the file returns every event (ids are unique: deduplicate by id). A last
    line still being written (no newline yet) is left for the next read."""
    path = Path(jobdir) / EVENTS
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    events = []
    for line in text.splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and "id" in event:
            events.append(event)
    if after_id is not None:
        for index, event in enumerate(events):
            if event["id"] == after_id:
                return events[index + 1 :]
    return events


# ---- state -------------------------------------------------------------------------------------
def new_state(status: str = "validating_files", pid: int | None = None) -> dict:
    """A state with every key the server may read."""
    return {
        "status": status,
        "pid": pid,
        "started_at": None,
        "finished_at": None,
        "trained_tokens": None,
        "step": 0,
        "total_steps": None,
        "estimated_finish": None,
        "hyperparameters": None,
        "error": None,
        "adapter_dir": None,
        "checkpoints": [],
        "result_file": None,
        "pause_checkpoint": None,
        "updated_at": int(time.time()),
    }


def read_state(jobdir: str | os.PathLike) -> dict | None:
    """state.json, or None before the trainer wrote it."""
    path = Path(jobdir) / STATE
    if not path.is_file():
        return None
    state = _read_json(path)
    return {**new_state(), **state} if isinstance(state, dict) else None


def write_state(jobdir: str | os.PathLike, state: dict) -> dict:
    """Replace state.json atomically (stamping `updated_at`); returns what was written."""
    state = {**state, "updated_at": int(time.time())}
    _write_json_atomic(Path(jobdir) / STATE, state)
    return state


def update_state(jobdir: str | os.PathLike, **changes: Any) -> dict:
    """Read, change some keys, write back; returns the new state."""
    state = read_state(jobdir) or new_state()
    state.update(changes)
    return write_state(jobdir, state)


# ---- control -----------------------------------------------------------------------------------
def request_control(jobdir: str | os.PathLike, action: str) -> None:
    if action not in CONTROLS:
        raise ValueError(f"unknown control {action!r}; expected one of {', '.join(CONTROLS)}")
    path = Path(jobdir) / CONTROL
    tmp = path.with_name(CONTROL + ".tmp")
    tmp.write_text(action, encoding="utf-8")
    os.replace(tmp, path)


def read_control(jobdir: str | os.PathLike) -> str | None:
    try:
        action = (Path(jobdir) / CONTROL).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return action if action in CONTROLS else None


def clear_control(jobdir: str | os.PathLike) -> None:
    (Path(jobdir) / CONTROL).unlink(missing_ok=True)


# ---- the process -------------------------------------------------------------------------------
def trainer_command(jobdir: str | os.PathLike) -> list[str]:
    return [sys.executable, "-m", "workbench.local.trainer", str(jobdir)]


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this pid runs (a zombie, exited but not reaped, counts as gone)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): kill(0) said it exists
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def trainer_gone(state: dict | None) -> bool:
    """An active state whose trainer process no longer runs: it died without writing its end."""
    return bool(state) and state["status"] in ACTIVE and not pid_alive(state.get("pid"))
