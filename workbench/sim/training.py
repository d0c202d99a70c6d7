"""The simulated fine-tuning lifecycle: validating_files -> queued -> running -> succeeded | failed |
cancelled (+ paused), derived from persisted clocks so a restart continues where it stopped.

Each job carries its own clock in simulated seconds: `clock_base` (simulated seconds elapsed when
the clock was last anchored), `clock_anchor` (the real Unix time of that anchor, or None while the
clock is stopped: paused, finished, or the server down) and `clock_speed` (--speed). Everything a job
shows - status, events, checkpoints, the final model - is a function of that clock, materialised
lazily by `advance()` whenever the job is looked at (and by a background tick), with each event
stamped at the real time it "happened". Nothing is trained: the loss curve is a seeded formula.
"""

from __future__ import annotations

import base64
import csv
import io
import math
import random
import time
from typing import Any

from workbench.sim.catalog import ORG
from workbench.sim.state import SimStore, job_event, new_id

# Simulated seconds per phase. A 10-example job (10 auto epochs, batch 1 -> 100 steps) takes about
# 1,260 simulated seconds: ~1.3 s at --speed 1000, ~2 min at --speed 10, ~21 min at --speed 1.
VALIDATE_SECONDS = 30.0
QUEUE_SECONDS = 30.0
STEP_SECONDS = 12.0
# Metrics events per job are capped: long jobs report every n-th step, like OpenAI does.
MAX_METRICS_EVENTS = 1000
KEPT_CHECKPOINT_EPOCHS = 3
ORGANIZATION_ID = "org-sim"

ACTIVE = ("validating_files", "queued", "running")
TERMINAL = ("succeeded", "failed", "cancelled")


# ---- clock ----------------------------------------------------------------------------------
def clock_now(job: dict, now: float) -> float:
    if job.get("clock_anchor") is None:
        return float(job["clock_base"])
    return float(job["clock_base"]) + (now - job["clock_anchor"]) * job["clock_speed"]


def real_time_of(job: dict, t: float, now: float) -> int:
    """The real Unix time at which simulated time `t` of this job's clock was (or will be) reached."""
    if job.get("clock_anchor") is None:
        return int(now)
    return int(job["clock_anchor"] + (t - job["clock_base"]) / job["clock_speed"])


def stop_clock(job: dict, now: float) -> None:
    job["clock_base"] = clock_now(job, now)
    job["clock_anchor"] = None


def start_clock(job: dict, now: float, speed: float) -> None:
    job["clock_base"] = clock_now(job, now)
    job["clock_anchor"] = now
    job["clock_speed"] = speed


# ---- hyperparameters --------------------------------------------------------------------------
def auto_batch_size(n_examples: int) -> int:
    return max(1, min(256, math.ceil(n_examples * 0.002)))


def resolve_hyperparameters(
    requested: dict, method: str, n_examples: int, auto_epochs: int
) -> dict:
    def pick(name: str, auto_value: Any) -> Any:
        value = requested.get(name, "auto")
        return auto_value if value in (None, "auto") else value

    resolved = {
        "n_epochs": int(pick("n_epochs", auto_epochs)),
        "batch_size": int(pick("batch_size", auto_batch_size(n_examples))),
        "learning_rate_multiplier": float(pick("learning_rate_multiplier", 1.8)),
    }
    if method == "dpo":
        resolved["beta"] = float(pick("beta", 0.1))
    return resolved


# ---- the loss curve ---------------------------------------------------------------------------
def metrics_at(job: dict, step: int) -> dict:
    """Plausible, decreasing, deterministic metrics for a step (seeded by the job's seed)."""
    total = max(1, job["total_steps"])
    shape = random.Random(job["seed"])
    if job["method_type"] == "dpo":
        start, end = 0.693, 0.12 + shape.random() * 0.15
    else:
        start, end = 1.6 + shape.random() * 1.4, 0.08 + shape.random() * 0.3
    frac = step / total
    smooth = end + (start - end) * math.exp(-4.5 * frac)
    noise = random.Random(f"{job['seed']}:{step}")
    wiggle = 1.0 - 0.7 * frac
    train_loss = max(0.005, smooth + (noise.random() - 0.5) * 0.16 * wiggle)
    progress = (start - smooth) / (start - end) if start != end else 1.0
    train_acc = min(0.999, max(0.0, 0.42 + 0.55 * progress + (noise.random() - 0.5) * 0.04))
    data: dict[str, Any] = {
        "step": step,
        "total_steps": total,
        "train_loss": round(train_loss, 4),
        "train_mean_token_accuracy": round(train_acc, 4),
    }
    if job.get("validation_file"):
        valid_loss = max(0.005, smooth * 1.08 + 0.03 + (noise.random() - 0.5) * 0.1 * wiggle)
        data["valid_loss"] = round(valid_loss, 4)
        data["valid_mean_token_accuracy"] = round(max(0.0, train_acc - 0.02), 4)
        if step % job["steps_per_epoch"] == 0 or step == total:
            data["full_valid_loss"] = round(smooth * 1.1 + 0.02, 4)
            data["full_valid_mean_token_accuracy"] = round(max(0.0, train_acc - 0.03), 4)
    return data


def metrics_message(data: dict) -> str:
    text = f"Step {data['step']}/{data['total_steps']}: training loss={data['train_loss']:.2f}"
    if "valid_loss" in data:
        text += f", validation loss={data['valid_loss']:.2f}"
    if "full_valid_loss" in data:
        text += f", full validation loss={data['full_valid_loss']:.2f}"
    return text


def results_csv(job: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["step", "train_loss", "train_accuracy", "valid_loss", "valid_mean_token_accuracy"]
    )
    for step in range(1, job["total_steps"] + 1):
        m = metrics_at(job, step)
        writer.writerow(
            [
                step,
                m["train_loss"],
                m["train_mean_token_accuracy"],
                m.get("valid_loss", ""),
                m.get("valid_mean_token_accuracy", ""),
            ]
        )
    return out.getvalue().encode()


# ---- model names ------------------------------------------------------------------------------
def fine_tuned_model_name(job: dict) -> str:
    short = job["id"].removeprefix("ftjob-")[-8:]
    base = job["model"]
    if base.startswith("ft:"):
        base = base.split(":")[1]
    return f"ft:{base}:{ORG}:{job.get('suffix') or ''}:{short}"


# ---- advancing --------------------------------------------------------------------------------
class JobClock:
    """The simulated job lifecycle (wire_app.JobLifecycle): advances jobs stored in a SimStore on
    their clocks; collects events with their real timestamps."""

    def __init__(self, store: SimStore, flavor: str = "openai", speed: float = 10.0) -> None:
        self.store = store
        self.flavor = flavor
        self.speed = speed

    def initial_state(self, now: float) -> dict:
        """A new job's clock starts at once (validation takes simulated time too)."""
        return {
            "clock_base": 0.0,
            "clock_anchor": now,
            "clock_speed": self.speed,
            "queued_until": None,
            "run_origin": None,
        }

    def start(self, job: dict) -> bool:
        """False: the wire layer validates the files first (sim/validation.py), then `advance`."""
        return False

    def on_validated(self, job: dict, result: dict) -> None:
        # a slow validation (a big file) ends when it ends, not at the nominal time
        result["done_at_clock"] = clock_now(job, time.time())

    def job_object(self, job: dict, now: float) -> dict:
        return job_object(job, now, self.flavor)

    event = staticmethod(job_event)

    def advance(self, job: dict, now: float | None = None) -> dict:
        """Bring a job up to its clock; persists it and its new events. Returns the job."""
        now = time.time() if now is None else now
        if job["status"] not in ACTIVE or job.get("clock_anchor") is None:
            return job
        clock = clock_now(job, now)
        events: list[dict] = []
        changed = False
        while True:
            status = job["status"]
            if status == "validating_files":
                if job.get("validation") is None:
                    break  # the validator is still reading the file (in a thread)
                # a slow validation (a big file) ends when it ends, not at the nominal time
                t = max(VALIDATE_SECONDS, job["validation"].get("done_at_clock", 0.0))
                if clock < t:
                    break
                at = real_time_of(job, t, now)
                problem = job["validation"].get("error")
                if problem:
                    events.append(self.event(job, at, problem["message"], level="error"))
                    job.update(status="failed", error=problem, finished_at=at)
                    stop_clock(job, now)
                    changed = True
                    break
                job["hp"] = job["resolved_hp"]
                events.append(self.event(job, at, "Files validated, moving job to queued state"))
                job.update(status="queued", queued_until=t + QUEUE_SECONDS)
                changed = True
            elif status == "queued":
                t = job["queued_until"]
                if clock < t:
                    break
                at = real_time_of(job, t, now)
                started = "Fine-tuning job resumed" if job["step"] else "Fine-tuning job started"
                events.append(self.event(job, at, started))
                job.update(status="running", run_origin=t - job["step"] * STEP_SECONDS)
                changed = True
            elif status == "running":
                total = job["total_steps"]
                done = min(total, int((clock - job["run_origin"]) // STEP_SECONDS))
                every = max(1, math.ceil(total / MAX_METRICS_EVENTS))
                for step in range(job["step"] + 1, done + 1):
                    at = real_time_of(job, job["run_origin"] + step * STEP_SECONDS, now)
                    if step % every == 0 or step == total:
                        data = metrics_at(job, step)
                        events.append(
                            self.event(job, at, metrics_message(data), type_="metrics", data=data)
                        )
                    epoch_end = step % job["steps_per_epoch"] == 0 or step == total
                    epoch = math.ceil(step / job["steps_per_epoch"])
                    if epoch_end and epoch > job["n_epochs"] - KEPT_CHECKPOINT_EPOCHS:
                        self.add_checkpoint(job, step, at)
                        events.append(self.event(job, at, f"Checkpoint created at step {step}"))
                if done > job["step"]:
                    job["step"] = done
                    changed = True
                if done < total:
                    break
                at = real_time_of(job, job["run_origin"] + total * STEP_SECONDS, now)
                self.succeed(job, at, events)
                stop_clock(job, now)
                changed = True
                break
            else:
                break
        if events:
            self.store.add_events(events)
        if changed or events:
            self.store.save_job(job)
        return job

    def add_checkpoint(self, job: dict, step: int, at: int) -> None:
        m = metrics_at(job, step)
        metrics = {k: v for k, v in m.items() if k != "total_steps"}
        self.store.add_checkpoint(
            {
                "id": new_id("ftckpt_"),
                "job_id": job["id"],
                "created_at": at,
                "step_number": step,
                "model": f"{self.model_name(job)}:ckpt-step-{step}",
                "metrics": metrics,
            }
        )

    def model_name(self, job: dict) -> str:
        if self.flavor == "azure":
            from workbench.sim.azure import fine_tuned_model_name as azure_name

            return azure_name(job)
        return fine_tuned_model_name(job)

    def succeed(self, job: dict, at: int, events: list[dict]) -> None:
        model = self.model_name(job)
        content = results_csv(job)
        if self.flavor != "azure":
            content = base64.b64encode(content)
        file_id = new_id("file-", 22)
        self.store.file_path(file_id).write_bytes(content)
        self.store.add_file(file_id, len(content), "step_metrics.csv", "fine-tune-results")
        self.store.add_ft_model(model, at, job["id"], job["model"])
        events.append(self.event(job, at, "New fine-tuned model created"))
        events.append(
            self.event(
                job,
                at,
                "Usage policy evaluations completed, model is now enabled for sampling",
            )
        )
        events.append(self.event(job, at, "The job has successfully completed"))
        job.update(
            status="succeeded",
            fine_tuned_model=model,
            finished_at=at,
            result_files=[file_id],
            trained_tokens=job["validation"]["billed_per_epoch"] * job["n_epochs"],
        )

    # user actions: each advances first so the history before the action is complete
    def pause(self, job: dict, now: float) -> dict:
        self.advance(job, now)
        if job["status"] in ACTIVE:
            stop_clock(job, now)
            job["status"] = "paused"
            self.store.add_events([self.event(job, int(now), "Fine-tuning job paused")])
            self.store.save_job(job)
        return job

    def resume(self, job: dict, now: float) -> dict:
        if job["status"] == "paused":
            start_clock(job, now, self.speed)
            job.update(status="queued", queued_until=job["clock_base"] + QUEUE_SECONDS)
            self.store.add_events([self.event(job, int(now), "Fine-tuning job resume requested")])
            self.store.save_job(job)
        return job

    def cancel(self, job: dict, now: float) -> dict:
        self.advance(job, now)
        if job["status"] in ACTIVE or job["status"] == "paused":
            stop_clock(job, now)
            job.update(status="cancelled", finished_at=int(now))
            self.store.add_events([self.event(job, int(now), "Fine-tuning job cancelled")])
            self.store.save_job(job)
        return job


def job_object(job: dict, now: float, flavor: str = "openai") -> dict:
    """The `fine_tuning.job` object as OpenAI returns it."""
    status = job["status"]
    hp = job.get("hp") or job["requested_hp"]
    estimated_finish = None
    if status in ("queued", "running") and job.get("clock_anchor") is not None:
        if status == "queued":
            end = job["queued_until"] + (job["total_steps"] - job["step"]) * STEP_SECONDS
        else:
            end = job["run_origin"] + job["total_steps"] * STEP_SECONDS
        estimated_finish = real_time_of(job, end, now)
    extra: dict[str, Any] = {}
    if flavor == "azure":
        status = "pending" if status == "queued" else status
        extra["trainingType"] = job.get("training_type")
    method_hp = dict(hp)
    method: dict[str, Any] = {"type": job["method_type"]}
    method[job["method_type"]] = {"hyperparameters": method_hp}
    top_hp = {k: hp.get(k, "auto") for k in ("n_epochs", "batch_size", "learning_rate_multiplier")}
    return {
        "object": "fine_tuning.job",
        "id": job["id"],
        "model": job["model"],
        "created_at": job["created_at"],
        "finished_at": job.get("finished_at"),
        "fine_tuned_model": job.get("fine_tuned_model"),
        "organization_id": ORGANIZATION_ID,
        "result_files": job.get("result_files", []),
        "status": status,
        "validation_file": job.get("validation_file"),
        "training_file": job["training_file"],
        "hyperparameters": top_hp,
        "trained_tokens": job.get("trained_tokens"),
        "error": job.get("error"),
        "user_provided_suffix": job.get("suffix"),
        "seed": job["seed"],
        "estimated_finish": estimated_finish,
        "integrations": job.get("integrations") or [],
        "metadata": job.get("metadata"),
        "method": method,
        **extra,
    }
