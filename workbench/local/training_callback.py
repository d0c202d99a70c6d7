"""The TrainerCallback that turns a transformers training loop into an OpenAI fine-tuning job on disk.

At every optimizer step it checks the job's control file (and SIGTERM) to stop for cancel or
pause; at every log (one per step) it writes a metrics event in OpenAI's shape, the job state
(step, trained tokens, estimated finish from the measured step time) and, at the end of each of
the last epochs, a checkpoint adapter. Validation metrics are computed here on the validation
file: `valid_*` on one sampled batch per step, `full_valid_*` on the whole file per epoch, as
OpenAI defines them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from transformers import TrainerCallback

from workbench.local import jobdir as jd
from workbench.local.training_data import IGNORE_INDEX
from workbench.local.training_plan import keeps_checkpoint, steps_per_epoch
from workbench.sim.training import metrics_message


def batch_metrics(model: Any, batch: dict) -> tuple[float, int, int]:
    """(summed loss, trained tokens, correctly predicted tokens) of one padded batch."""
    device = next(model.parameters()).device
    input_ids = batch["input_ids"].to(device)
    labels = batch["labels"].to(device)
    attention = batch.get("attention_mask")
    with torch.no_grad():
        logits = model(
            input_ids=input_ids,
            attention_mask=attention.to(device) if attention is not None else None,
        ).logits[:, :-1]
        targets = labels[:, 1:]
        mask = targets != IGNORE_INDEX
        loss = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]).float(),
            targets.reshape(-1),
            ignore_index=IGNORE_INDEX,
            reduction="sum",
        )
        correct = ((logits.argmax(-1) == targets) & mask).sum()
    return loss.item(), int(mask.sum().item()), int(correct.item())


class Validator:
    """Loss and token accuracy on the validation rows, in batches of the training batch size."""

    def __init__(self, rows: list[dict], collator: Any, batch_size: int) -> None:
        self.rows = rows
        self.collator = collator
        self.batch_size = batch_size
        self.cursor = 0

    def _measure(self, model: Any, chunks: list[list[dict]]) -> tuple[float, float]:
        was_training = model.training
        model.eval()
        loss = tokens = correct = 0
        try:
            for chunk in chunks:
                batch_loss, batch_tokens, batch_correct = batch_metrics(model, self.collator(chunk))
                loss, tokens, correct = (
                    loss + batch_loss,
                    tokens + batch_tokens,
                    correct + batch_correct,
                )
        finally:
            model.train(was_training)
        return (loss / tokens, correct / tokens) if tokens else (0.0, 0.0)

    def sampled(self, model: Any) -> tuple[float, float]:
        """The next batch of the file, round robin: OpenAI's per-step `valid_*`."""
        chunk = [self.rows[(self.cursor + i) % len(self.rows)] for i in range(self.batch_size)]
        self.cursor = (self.cursor + self.batch_size) % len(self.rows)
        return self._measure(model, [chunk])

    def full(self, model: Any) -> tuple[float, float]:
        """The whole file: OpenAI's per-epoch `full_valid_*`."""
        size = self.batch_size
        return self._measure(
            model, [self.rows[i : i + size] for i in range(0, len(self.rows), size)]
        )


class JobCallback(TrainerCallback):
    """Events, state and checkpoints of one job, written as the Trainer goes."""

    def __init__(self, run: Any) -> None:
        self.run = run  # trainer.JobRun: jobdir, state, hp, n_examples, total, validator, stop
        self.per_epoch = steps_per_epoch(run.n_examples, run.hp["batch_size"])
        self.started = time.monotonic()
        self.first_step: int | None = None
        self.tokens_before = int(run.state.get("trained_tokens") or 0)  # from before a pause

    # control: cancel / pause
    def on_step_end(self, args, state, control, **kwargs):
        reason = self.run.stop_requested()
        if reason:
            control.should_training_stop = True
            if reason == "pause":
                control.should_save = True  # a full trainer checkpoint to resume from
        return control

    def on_log(self, args, state, control, logs=None, model=None, **kwargs):
        if not logs or "loss" not in logs or model is None:
            return control
        step = state.global_step
        data = {
            "step": step,
            "total_steps": self.run.total,
            "train_loss": round(float(logs["loss"]), 4),
            "train_mean_token_accuracy": round(float(logs.get("mean_token_accuracy", 0.0)), 4),
        }
        epoch_end = step % self.per_epoch == 0 or step == self.run.total
        if self.run.validator is not None:
            loss, accuracy = self.run.validator.sampled(model)
            data.update(valid_loss=round(loss, 4), valid_mean_token_accuracy=round(accuracy, 4))
            if epoch_end:
                loss, accuracy = self.run.validator.full(model)
                data.update(
                    full_valid_loss=round(loss, 4),
                    full_valid_mean_token_accuracy=round(accuracy, 4),
                )
        jd.append_event(self.run.jobdir, metrics_message(data), type="metrics", data=data)
        self.run.state.update(
            step=step,
            trained_tokens=self.tokens_before + int(logs.get("num_tokens", 0)),
            estimated_finish=self._estimated_finish(step),
        )
        if keeps_checkpoint(step, self.per_epoch, self.run.hp["n_epochs"], self.run.total):
            self._checkpoint(model, step, data)
        self.run.save_state()
        return control

    def _estimated_finish(self, step: int) -> int:
        if self.first_step is None:
            self.first_step = step
            self.first_at = time.monotonic()
            elapsed, done = self.first_at - self.started, 1
        else:
            elapsed, done = time.monotonic() - self.first_at, step - self.first_step
        per_step = elapsed / max(done, 1)
        return int(time.time() + per_step * max(0, self.run.total - step))

    def _checkpoint(self, model: Any, step: int, data: dict) -> None:
        directory = Path(self.run.jobdir) / jd.CHECKPOINTS / f"step-{step}"
        model.save_pretrained(str(directory))
        metrics = {k: v for k, v in data.items() if k != "total_steps"}
        checkpoints = [c for c in self.run.state["checkpoints"] if c["step"] != step]
        checkpoints.append(
            {
                "id": jd.new_id("ftckpt_"),
                "step": step,
                "epoch": -(-step // self.per_epoch),
                "created_at": int(time.time()),
                "dir": str(directory),
                "metrics": metrics,
            }
        )
        self.run.state["checkpoints"] = checkpoints
        jd.append_event(self.run.jobdir, f"Checkpoint created at step {step}")
