"""What `workbench doctor` says about this machine for a `local` profile: the device torch would
use, the model cache, and free memory. Read-only; torch is imported only here, when asked."""

from __future__ import annotations

import importlib.util
import os
import shutil

from workbench.local.models import DEFAULT_MODEL_ID, is_converted, model_cache_dir


def free_memory_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (Linux), else the free physical pages; None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / 1024**3:.1f} GiB"


def machine_checks() -> list[tuple[str, bool | None, str]]:
    """(name, ok, detail) rows: ok None means "for information"."""
    rows: list[tuple[str, bool | None, str]] = []
    missing = [
        m for m in ("torch", "transformers", "peft", "trl") if not importlib.util.find_spec(m)
    ]
    if missing:
        rows.append(
            (
                "local extra",
                False,
                f"missing {', '.join(missing)}: pip install torch, then pip install "
                "'finetune-workbench[local]'",
            )
        )
    else:
        import torch

        if torch.cuda.is_available():
            name = torch.cuda.get_device_name(0)
            free, total = torch.cuda.mem_get_info(0)
            detail = f"cuda: {name}, {_gib(free)} free of {_gib(total)}"
        else:
            detail = f"cpu (torch {torch.__version__} sees no CUDA device; training is slow)"
        rows.append(("device", True, detail))
    cache = model_cache_dir()
    target = cache / DEFAULT_MODEL_ID
    if is_converted(target):
        size = sum(f.stat().st_size for f in target.iterdir() if f.is_file())
        rows.append(("model cache", True, f"{target} ({_gib(size)})"))
    else:
        rows.append(
            (
                "model cache",
                None,
                f"{DEFAULT_MODEL_ID} not converted yet: the first "
                f"`workbench local` converts it into {target} (~30 s)",
            )
        )
    free = free_memory_bytes()
    if free is not None:
        rows.append(("free memory", free > 2 * 1024**3, f"{_gib(free)} available"))
    disk = shutil.disk_usage(
        cache if cache.exists() else cache.parent if cache.parent.exists() else "/"
    )
    rows.append(("free disk", disk.free > 1024**3, f"{_gib(disk.free)} free for models and jobs"))
    return rows
