"""`python -m workbench.local.trainer JOBDIR`: one fine-tuning job, really trained, in its own process.

The `workbench local` server writes JOBDIR/spec.json and spawns this detached (see jobdir.py for
the files and their keys), so a job outlives the server and the SSH session. Phases:
validating_files (the project's own validator, the simulator's OpenAI-style errors) -> queued
(loading the model, tokenizing) -> running (TRL's SFTTrainer with a PEFT LoRA adapter, labels
built here so `weight: 0` turns carry no loss) -> succeeded (JOBDIR/adapter, results.csv) |
failed (error with code and a plain message; exit 1) | cancelled | paused (a trainer checkpoint
to resume from). Every unexpected exception ends as `failed` with a message: never a silent death.
The hyperparameter mapping and its defaults are in training_plan.py.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from workbench.local import jobdir as jd
from workbench.local.training_plan import (
    LORA_ALPHA,
    LORA_DROPOUT,
    LORA_RANK,
    LORA_TARGET_MODULES,
    HyperparameterError,
    resolve_hyperparameters,
    results_csv,
    total_steps,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class JobFailed(Exception):
    """Ends the job as failed with OpenAI's error object {code, message, param}."""

    def __init__(self, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.error = {"code": code, "message": message, "param": param}


def training_threads() -> int:
    """CPU threads for torch: $WORKBENCH_TRAIN_THREADS, else the cores this process may use."""
    override = os.environ.get("WORKBENCH_TRAIN_THREADS", "")
    if override.isdigit() and int(override) > 0:
        return int(override)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def pick_device(requested: str) -> str:
    """The server's rule (inference.pick_device), failing the job instead of the request."""
    from workbench.local.inference import pick_device as serving_device
    from workbench.local.models import ModelUnavailable

    try:
        return serving_device(requested)
    except ModelUnavailable as exc:
        raise JobFailed("device_unavailable", str(exc), "device") from None


def load_base_model(spec: dict, device: str) -> tuple[Any, Any]:
    """(tokenizer, model) from spec["model_path"]; JobFailed(model_load_failed) saying why."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(spec["model_path"])
    where = f"The base model {spec['base_model']} cannot be loaded from {path}"
    if not (path / "config.json").is_file():
        reason = "no such directory" if not path.exists() else "no config.json in it"
        raise JobFailed("model_load_failed", f"{where}: {reason}", "model")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        dtype = torch.float32
        if device == "cuda" and torch.cuda.is_bf16_supported():
            dtype = torch.bfloat16
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise JobFailed("model_load_failed", f"{where}: {reason}", "model") from None
    if not getattr(tokenizer, "is_fast", False) or not tokenizer.chat_template:
        raise JobFailed(
            "model_load_failed",
            f"{where}: its tokenizer needs a chat template and a fast (Rust) implementation",
            "model",
        )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, model


def lora_config() -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=LORA_RANK,
        lora_alpha=LORA_ALPHA,
        lora_dropout=LORA_DROPOUT,
        target_modules=LORA_TARGET_MODULES,
        task_type="CAUSAL_LM",
    )


def sft_config(output_dir: Path, hp: dict, device: str, max_steps: int | None) -> Any:
    """The SFTConfig for a job (also used by bench/local_train.py's bare TRL run)."""
    import torch
    from trl import SFTConfig

    cuda = device == "cuda"
    return SFTConfig(
        output_dir=str(output_dir),
        num_train_epochs=hp["n_epochs"],
        max_steps=max_steps or -1,
        per_device_train_batch_size=hp["batch_size"],
        per_device_eval_batch_size=hp["batch_size"],
        learning_rate=hp["learning_rate"],
        lr_scheduler_type="linear",
        warmup_steps=0,
        weight_decay=0.0,
        logging_steps=1,
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=hp["seed"],
        data_seed=hp["seed"],
        gradient_checkpointing=False,  # SFTConfig's default; only slows a small model down
        bf16=cuda and torch.cuda.is_bf16_supported(),
        fp16=False,
        use_cpu=not cuda,
        max_length=None,  # rows are cut to training_data.DEFAULT_MAX_LENGTH already
        dataloader_num_workers=0,
    )


class JobRun:
    """One trainer process's work on one job directory."""

    def __init__(self, jobdir: Path, spec: dict) -> None:
        self.jobdir = jobdir
        self.spec = spec
        self.state = jd.read_state(jobdir) or jd.new_state()
        self.signalled: str | None = None
        self.hp: dict = {}
        self.n_examples = 0
        self.total = 0
        self.validator: Any = None

    # ---- helpers used by the callback ----
    def stop_requested(self) -> str | None:
        return self.signalled or jd.read_control(self.jobdir)

    def save_state(self) -> None:
        jd.write_state(self.jobdir, self.state)

    def event(self, message: str, level: str = "info") -> None:
        jd.append_event(self.jobdir, message, level=level)

    def set_status(self, status: str, **changes: Any) -> None:
        self.state.update(status=status, **changes)
        self.save_state()

    # ---- the job ----
    def execute(self) -> int:
        try:
            self._execute()
        except JobFailed as exc:
            self.fail(exc.error)
            return EXIT_FAILED
        except Exception as exc:
            traceback.print_exc()
            self.fail(
                {
                    "code": "training_failed",
                    "message": f"Training failed: {type(exc).__name__}: {exc}",
                    "param": None,
                }
            )
            return EXIT_FAILED
        return EXIT_OK

    def fail(self, error: dict) -> None:
        self.event(error["message"], level="error")
        self.set_status("failed", error=error, finished_at=int(time.time()), estimated_finish=None)

    def _execute(self) -> None:
        spec = self.spec
        resuming = bool(spec.get("resume_from"))
        if resuming and jd.read_control(self.jobdir) == "pause":
            jd.clear_control(self.jobdir)  # the pause that stopped the previous trainer
        self.state.update(pid=os.getpid(), error=None, finished_at=None)
        self.state["started_at"] = self.state.get("started_at") or int(time.time())
        self.set_status("running" if resuming else "validating_files")
        if spec.get("method", "supervised") != "supervised":
            raise JobFailed(
                "unsupported_method",
                f"Fine-tuning method {spec['method']!r} is not supported by workbench local yet; "
                "only supervised fine-tuning is (DPO may come later)",
                "method",
            )
        n_valid = self._validate_files()
        if spec.get("seed") is None and self.state.get("seed") is not None:
            spec = {**spec, "seed": self.state["seed"]}  # a resumed job keeps its drawn seed
        try:
            self.hp = resolve_hyperparameters(spec, n_valid)
        except HyperparameterError as exc:
            raise JobFailed("invalid_hyperparameters", str(exc), exc.param) from None
        self.state.update(
            hyperparameters={
                k: self.hp[k] for k in ("n_epochs", "batch_size", "learning_rate_multiplier")
            },
            learning_rate=self.hp["learning_rate"],
            seed=self.hp["seed"],
        )
        if not resuming:
            self.event("Files validated, moving job to queued state")
            self.set_status("queued")
        if self._stopped_early():
            return
        self._train(resuming)

    def _validate_files(self) -> int:
        """The simulator's job-file checks (the project's validator); returns the example count."""
        from workbench.sim.validation import check_job_files

        validation = self.spec.get("validation_file")
        result = check_job_files(
            Path(self.spec["training_file"]),
            self.spec["base_model"],
            "supervised",
            Path(validation) if validation else None,
        )
        if result.get("error"):
            raise JobFailed(**result["error"])
        return int(result["n_examples"])

    def _stopped_early(self) -> bool:
        reason = self.stop_requested()
        if reason is None:
            return False
        self._finish_stopped(reason, checkpoint=None)
        return True

    def _train(self, resuming: bool) -> None:
        import torch

        torch.set_num_threads(training_threads())
        device = pick_device(self.spec.get("device") or "auto")
        tokenizer, model = load_base_model(self.spec, device)
        rows, left_out = self._tokenize(tokenizer, "training")
        valid_rows = self._tokenize(tokenizer, "validation")[0]
        if left_out:
            shown = ", ".join(str(n) for n in left_out[:10])
            self.event(
                f"{len(left_out)} example(s) left out: every trained token lies past the length "
                f"limit (lines {shown})",
                level="warn",
            )
        if not rows:
            raise JobFailed(
                "invalid_training_file", "No example in the training file can be trained on", None
            )
        self.n_examples = len(rows)
        self.total = total_steps(self.n_examples, self.hp, self.spec.get("max_steps"))
        trainer = self._build_trainer(model, tokenizer, rows, device)
        if valid_rows:
            from workbench.local.training_callback import Validator

            self.validator = Validator(valid_rows, trainer.data_collator, self.hp["batch_size"])
        if self._stopped_early():
            return
        self.event("Fine-tuning job resumed" if resuming else "Fine-tuning job started")
        self.set_status("running", total_steps=self.total)
        trainer.train(resume_from_checkpoint=self.spec.get("resume_from") or None)
        step = trainer.state.global_step
        reason = self.stop_requested()
        if step < self.total and reason:
            checkpoint = Path(trainer.args.output_dir) / f"checkpoint-{step}"
            self._finish_stopped(reason, checkpoint if checkpoint.is_dir() else None)
            return
        self._succeed(trainer)

    def _tokenize(self, tokenizer: Any, kind: str) -> tuple[list[dict], list[int]]:
        """The training or validation file as labelled rows (none when there is no such file)."""
        from workbench.local.training_data import ExampleError, tokenize_file

        path = self.spec.get(f"{kind}_file")
        if not path:
            return [], []
        try:
            return tokenize_file(tokenizer, path)
        except ExampleError as exc:
            raise JobFailed(
                f"invalid_{kind}_file",
                f"The job failed due to an invalid {kind} file: {exc}",
                f"{kind}_file",
            ) from None

    def _build_trainer(self, model: Any, tokenizer: Any, rows: list[dict], device: str) -> Any:
        from datasets import Dataset
        from trl import SFTTrainer

        from workbench.local.training_callback import JobCallback

        return SFTTrainer(
            model=model,
            args=sft_config(
                self.jobdir / jd.PAUSE_CHECKPOINTS, self.hp, device, self.spec.get("max_steps")
            ),
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
            peft_config=lora_config(),
            callbacks=[JobCallback(self)],
        )

    def _finish_stopped(self, reason: str, checkpoint: Path | None) -> None:
        now = int(time.time())
        if reason == "pause" and checkpoint is not None:
            self.event("Fine-tuning job paused")
            self.set_status("paused", pause_checkpoint=str(checkpoint), estimated_finish=None)
            return
        if reason == "pause":  # paused before training began: nothing to keep but the spec
            self.event("Fine-tuning job paused")
            self.set_status("paused", pause_checkpoint=None, estimated_finish=None)
            return
        self.event("Fine-tuning job cancelled")
        self.set_status("cancelled", finished_at=now, estimated_finish=None)

    def _succeed(self, trainer: Any) -> None:
        adapter = self.jobdir / jd.ADAPTER
        trainer.model.save_pretrained(str(adapter))
        metrics = [e["data"] for e in jd.read_events(self.jobdir) if e.get("type") == "metrics"]
        results = self.jobdir / jd.RESULTS
        results.write_text(results_csv(metrics), encoding="utf-8")
        self.event("New fine-tuned model created")
        self.event("The job has successfully completed")
        self.set_status(
            "succeeded",
            adapter_dir=str(adapter),
            result_file=str(results),
            finished_at=int(time.time()),
            estimated_finish=None,
            pause_checkpoint=None,
        )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("usage: python -m workbench.local.trainer JOBDIR", file=sys.stderr)
        return EXIT_USAGE
    jobdir = Path(args[0])
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is a local directory: no hub calls
    try:
        spec = jd.read_spec(jobdir)
    except jd.JobDirError as exc:
        print(f"workbench.local.trainer: {exc}", file=sys.stderr)
        if jobdir.is_dir():
            error = {"code": "invalid_spec", "message": str(exc), "param": None}
            jd.append_event(jobdir, str(exc), level="error")
            jd.update_state(jobdir, status="failed", pid=os.getpid(), error=error)
        return EXIT_USAGE
    run = JobRun(jobdir, spec)

    def on_sigterm(signum: int, frame: Any) -> None:
        run.signalled = "cancel"

    signal.signal(signal.SIGTERM, on_sigterm)
    return run.execute()


if __name__ == "__main__":
    sys.exit(main())
