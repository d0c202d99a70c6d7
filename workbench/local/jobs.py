"""The real job lifecycle (wire_app.JobLifecycle): one detached trainer process per job.

A job's truth is its directory (jobdir.py: spec.json, events.jsonl, state.json, control): the server
writes the spec, spawns the trainer in its own session and process group (stdout/stderr into
trainer.log) so it survives the server restarting and the SSH session dropping, and from then on
reads. `advance()` folds state.json and new events.jsonl lines into the job document and the shared
event/checkpoint tables, so listing, paging and the wire objects are the simulator's code. A job
whose trainer is gone while its state is still active is failed, saying why; a restarted server
does exactly this for every job it finds active (re-attaching to the ones still running).
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from workbench.local import jobdir as jd
from workbench.local.models import BaseModelSource
from workbench.sim.state import SimStore, job_event, new_id
from workbench.sim.training import job_object as wire_job_object

ORG = "local"
# seconds a cancelled trainer gets to stop on its own before its process group is killed
CANCEL_GRACE_SECONDS = 10.0
TRAINER_LOG_TAIL = 3


def fine_tuned_model_name(job: dict) -> str:
    """`ft:<base>:local:<suffix>:<job id, short>`, OpenAI's shape with our organization."""
    short = job["id"].removeprefix("ftjob-")[-8:]
    return f"ft:{job['model']}:{ORG}:{job.get('suffix') or ''}:{short}"


def _log_tail(directory: Path, lines: int = TRAINER_LOG_TAIL) -> str:
    try:
        text = (directory / jd.LOG).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept)


class LocalJobs:
    """Spawns, watches, pauses, resumes and cancels trainer processes; keeps the store in step."""

    def __init__(
        self,
        store: SimStore,
        jobs_dir: Path,
        base_source: Callable[[str], BaseModelSource | None],
        device: str = "auto",
        max_steps: int | None = None,
        cancel_grace: float = CANCEL_GRACE_SECONDS,
    ) -> None:
        self.store = store
        self.jobs_dir = jobs_dir
        self.base_source = base_source
        self.device = device
        self.max_steps = max_steps
        self.cancel_grace = cancel_grace
        self._children: dict[str, subprocess.Popen] = {}  # reaped so they leave no zombies
        self._lock = threading.Lock()

    # ---- the JobLifecycle interface ----------------------------------------------------------
    def initial_state(self, now: float) -> dict:
        return {"events_seen": None, "checkpoint_dirs": {}, "adapter_dir": None}

    def on_validated(self, job: dict, result: dict) -> None:  # the trainer validates its files
        pass

    event = staticmethod(job_event)

    def job_dir(self, job_id: str) -> Path:
        return self.jobs_dir / job_id

    def start(self, job: dict) -> bool:
        """Write the spec and spawn the trainer (it validates the files itself)."""
        source = self.base_source(job["model"])
        assert source is not None, "create_job checked the model"
        directory = self.job_dir(job["id"])
        directory.mkdir(parents=True, exist_ok=True)
        hp = job["requested_hp"]
        spec = {
            "job_id": job["id"],
            "base_model": source.id,
            "model_path": str(source.path),
            "training_file": str(self.store.file_path(job["training_file"])),
            "validation_file": (
                str(self.store.file_path(job["validation_file"]))
                if job.get("validation_file")
                else None
            ),
            "method": job["method_type"],
            "hyperparameters": {name: hp.get(name, "auto") for name in jd.HYPERPARAMETER_NAMES},
            "seed": job.get("seed"),
            "suffix": job.get("suffix"),
            "device": self.device,
            "resume_from": None,
            "max_steps": self.max_steps,
        }
        jd.write_spec(directory, spec)
        self._spawn(job, directory)
        return True

    def _spawn(self, job: dict, directory: Path) -> None:
        with (directory / jd.LOG).open("ab") as log:
            proc = subprocess.Popen(
                jd.trainer_command(directory),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=str(directory),
                start_new_session=True,  # its own session and process group: survives us
                close_fds=True,
            )
        with self._lock:
            self._children[job["id"]] = proc
        state = jd.read_state(directory)
        if state is None:
            jd.write_state(directory, jd.new_state(pid=proc.pid))
        else:
            jd.update_state(directory, pid=proc.pid, status="queued", error=None)

    def _reap(self) -> None:
        with self._lock:
            for job_id, proc in list(self._children.items()):
                if proc.poll() is not None:
                    del self._children[job_id]

    def advance(self, job: dict, now: float | None = None) -> dict:
        """Fold the job directory into the job document (and the event/checkpoint tables)."""
        if job["status"] not in jd.ACTIVE and not job.get("settling"):
            return job
        self._reap()
        directory = self.job_dir(job["id"])
        try:
            state = jd.read_state(directory)
        except jd.JobDirError:
            state = None  # half a file cannot happen (atomic writes); a broken one waits a look
        changed = self._sync_events(job, directory)
        if state is None:
            return self._save(job) if changed else job
        changed = self._sync_checkpoints(job, state) or changed
        if jd.trainer_gone(state) and not job.get("settling"):
            state = self._fail_dead_trainer(job, directory, state)
            self._sync_events(job, directory)
        if job.get("settling"):  # cancelled on the wire: only the events still come in
            if state["status"] in jd.TERMINAL or not jd.pid_alive(state.get("pid")):
                job.pop("settling", None)
            return self._save(job)
        before = (job["status"], job.get("trained_tokens"), job.get("estimated_finish"))
        job.update(
            status=state["status"],
            trained_tokens=state.get("trained_tokens"),
            estimated_finish=state.get("estimated_finish")
            if state["status"] in ("queued", "running")
            else None,
            error=state.get("error"),
            step=state.get("step") or 0,
            total_steps=state.get("total_steps") or 0,
        )
        if state.get("hyperparameters"):
            job["hp"] = state["hyperparameters"]
        if state.get("seed") is not None:  # the trainer draws one when the spec had none
            job["seed"] = state["seed"]
        if state["status"] in jd.TERMINAL:
            job["finished_at"] = state.get("finished_at") or int(time.time())
        if state["status"] == "succeeded" and not job.get("fine_tuned_model"):
            self._succeed(job, state)
        after = (job["status"], job.get("trained_tokens"), job.get("estimated_finish"))
        if changed or before != after or state["status"] in jd.TERMINAL:
            self._save(job)
        return job

    def _save(self, job: dict) -> dict:
        self.store.save_job(job)
        return job

    def _sync_events(self, job: dict, directory: Path) -> bool:
        events = jd.read_events(directory, job.get("events_seen"))
        if not events:
            return False
        self.store.add_events([{**e, "job_id": job["id"]} for e in events])
        self.store.commit()
        job["events_seen"] = events[-1]["id"]
        return True

    def _sync_checkpoints(self, job: dict, state: dict) -> bool:
        dirs = job.setdefault("checkpoint_dirs", {})
        known = set(dirs.values())
        added = False
        for ckpt in state.get("checkpoints") or []:
            if ckpt["dir"] in known:
                continue
            model = f"{fine_tuned_model_name(job)}:ckpt-step-{ckpt['step']}"
            self.store.add_checkpoint(
                {
                    "id": ckpt["id"],
                    "job_id": job["id"],
                    "created_at": ckpt["created_at"],
                    "step_number": ckpt["step"],
                    "model": model,
                    "metrics": ckpt.get("metrics") or {"step": ckpt["step"]},
                }
            )
            dirs[model] = ckpt["dir"]
            added = True
        if added:
            self.store.commit()
        return added

    def _fail_dead_trainer(self, job: dict, directory: Path, state: dict) -> dict:
        tail = _log_tail(directory)
        message = (
            f"The trainer process (pid {state.get('pid')}) ended without finishing the job: it "
            "was killed (SIGKILL, out of memory) or the machine restarted. Its log: "
            f"{directory / jd.LOG}" + (f" (last lines: {tail})" if tail else "")
        )
        error = {"code": "trainer_killed", "message": message, "param": None}
        jd.append_event(directory, message, level="error")
        return jd.update_state(
            directory, status="failed", error=error, finished_at=int(time.time())
        )

    def _succeed(self, job: dict, state: dict) -> None:
        model = fine_tuned_model_name(job)
        result_file = state.get("result_file")
        if result_file and Path(result_file).is_file():
            content = base64.b64encode(Path(result_file).read_bytes())
            file_id = new_id("file-", 22)
            self.store.file_path(file_id).write_bytes(content)
            self.store.add_file(file_id, len(content), "step_metrics.csv", "fine-tune-results")
            job["result_files"] = [file_id]
        job["adapter_dir"] = state.get("adapter_dir")
        job["fine_tuned_model"] = model
        self.store.add_ft_model(model, job["finished_at"], job["id"], job["model"])
        self.store.commit()

    # ---- user actions ------------------------------------------------------------------------
    def pause(self, job: dict, now: float) -> dict:
        """The trainer saves a resumable checkpoint at its next step and ends as `paused`."""
        jd.request_control(self.job_dir(job["id"]), "pause")
        return self.advance(job, now)

    def resume(self, job: dict, now: float) -> dict:
        directory = self.job_dir(job["id"])
        state = jd.read_state(directory) or jd.new_state()
        spec = jd.read_spec(directory)
        spec["resume_from"] = state.get("pause_checkpoint")
        jd.write_spec(directory, spec)
        jd.clear_control(directory)
        jd.append_event(directory, "Fine-tuning job resume requested")
        self._spawn(job, directory)
        job.update(status="queued", estimated_finish=None)
        self._sync_events(job, directory)
        return self._save(job)

    def cancel(self, job: dict, now: float) -> dict:
        """Ask the trainer to stop, then kill its process group after a grace period."""
        directory = self.job_dir(job["id"])
        state = jd.read_state(directory)
        pid = state.get("pid") if state else None
        alive = jd.pid_alive(pid)
        if alive:
            jd.request_control(directory, "cancel")
            threading.Thread(
                target=self._kill_after_grace, args=(directory, pid), daemon=True
            ).start()
        if state is not None and state["status"] not in jd.TERMINAL and not alive:
            jd.update_state(directory, status="cancelled", finished_at=int(now))
        if not alive:  # a live trainer says so itself as it stops
            jd.append_event(directory, "Fine-tuning job cancelled")
        job.update(status="cancelled", finished_at=int(now), estimated_finish=None)
        job["settling"] = alive
        self._sync_events(job, directory)
        return self._save(job)

    def _kill_after_grace(self, directory: Path, pid: int) -> None:
        deadline = time.monotonic() + self.cancel_grace
        while time.monotonic() < deadline:
            self._reap()
            if not jd.pid_alive(pid):
                break
            time.sleep(0.2)
        else:
            kill_group(pid)
        state = jd.read_state(directory)
        if state is not None and state["status"] not in jd.TERMINAL:
            # the trainer did not get to say it (killed): the server does, event before state
            jd.append_event(directory, "Fine-tuning job cancelled")
            jd.update_state(directory, status="cancelled", finished_at=int(time.time()))

    def job_object(self, job: dict, now: float) -> dict:
        obj = wire_job_object(job, now)
        obj["organization_id"] = ORG
        obj["estimated_finish"] = job.get("estimated_finish")
        return obj

    # ---- what chat needs ---------------------------------------------------------------------
    def adapter_of(self, model_id: str) -> tuple[str, str, Path] | None:
        """(base id, adapter name, adapter dir) of a fine-tuned model or checkpoint id."""
        row = self.store.get_ft_model(model_id)
        if row is not None:
            job = self.store.get_job(row["job_id"])
            if job and job.get("adapter_dir"):
                return job["model"], model_id, Path(job["adapter_dir"])
            return None
        job_id = self.store.checkpoint_models().get(model_id)
        if job_id is None:
            return None
        job = self.store.get_job(job_id)
        directory = (job or {}).get("checkpoint_dirs", {}).get(model_id)
        return (job["model"], model_id, Path(directory)) if directory else None

    def stop_children(self) -> None:
        """Nothing to do on shutdown: trainers are detached on purpose and outlive the server."""
        self._reap()


def kill_group(pid: int) -> None:
    """SIGKILL the trainer's process group (the trainer and anything it started)."""
    try:
        os.killpg(os.getpgid(pid), signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
