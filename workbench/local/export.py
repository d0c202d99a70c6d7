"""`workbench local export JOB_ID DIR [--merged]`: a fine-tuned model in a form other engines serve.

Without --merged, DIR gets the LoRA adapter as PEFT wrote it (adapter_config.json +
adapter_model.safetensors): `vllm serve BASE --enable-lora --lora-modules NAME=DIR`. With --merged,
DIR gets the base model with the adapter merged in (safetensors + tokenizer), a plain model any
`from_pretrained` or `vllm serve DIR` loads.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from workbench.sim.state import SimStore


class ExportError(Exception):
    """The job cannot be exported; the message says why."""


def export_job(state_file: Path, job_id: str, target: Path, merged: bool = False) -> dict:
    if not state_file.exists():
        raise ExportError(f"no local server state at {state_file} (see --db)")
    store = SimStore(state_file)
    try:
        job = store.get_job(job_id)
    finally:
        store.close()
    if job is None:
        raise ExportError(f"no job {job_id} in {state_file}")
    if job.get("status") != "succeeded" or not job.get("adapter_dir"):
        raise ExportError(f"job {job_id} is {job.get('status')}: only a succeeded job has a model")
    adapter = Path(job["adapter_dir"])
    if not (adapter / "adapter_config.json").is_file():
        raise ExportError(f"the job's adapter is missing from {adapter}")
    base_path = Path(
        json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"] or ""
    )
    spec_path = adapter.parent / "spec.json"
    if spec_path.is_file():
        base_path = Path(json.loads(spec_path.read_text(encoding="utf-8"))["model_path"])
    if target.exists() and any(target.iterdir()):
        raise ExportError(f"{target} is not empty; give a new or empty directory")
    target.mkdir(parents=True, exist_ok=True)
    name = (job.get("suffix") or job_id).replace(" ", "-")
    if not merged:
        for item in adapter.iterdir():
            if item.is_file():
                shutil.copy2(item, target / item.name)
        return {
            "kind": "adapter",
            "dir": str(target),
            "name": name,
            "model": job["fine_tuned_model"],
            "base_model_path": str(base_path),
        }
    try:
        from peft import PeftModel
        from transformers import AutoModelForCausalLM, AutoTokenizer

        base = AutoModelForCausalLM.from_pretrained(str(base_path), local_files_only=True)
        model = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
        model.save_pretrained(str(target), safe_serialization=True)
        AutoTokenizer.from_pretrained(str(base_path), local_files_only=True).save_pretrained(
            str(target)
        )
    except Exception as exc:
        raise ExportError(f"merging the adapter into {base_path} failed: {exc}") from None
    return {
        "kind": "merged model",
        "dir": str(target),
        "name": name,
        "model": job["fine_tuned_model"],
        "base_model_path": str(base_path),
    }
