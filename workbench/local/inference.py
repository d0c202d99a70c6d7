"""Chat answers from real models through transformers `generate`: base models loaded lazily and kept
in memory, LoRA adapters of fine-tuned models (and checkpoints) loaded onto their base by name.

One lock per base model: generation and adapter switching on a base happen one request at a
time (PEFT's active adapter is state of the model). Calls here block; the server runs them in a
worker thread, never on the event loop. torch and transformers are imported on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.messages import content_text
from workbench.local.models import BaseModelSource, ModelUnavailable

DEFAULT_MAX_TOKENS = 512


@dataclass
class GenerationRequest:
    """What a chat request asks of the model, already checked."""

    messages: list[dict]
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 1.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    cancel: threading.Event | None = None  # set when the client left: stop at the next token


@dataclass
class GenerationResult:
    text: str
    finish_reason: str  # "stop" | "length"
    prompt_tokens: int
    completion_tokens: int


@dataclass
class LoadedBase:
    model: Any
    tokenizer: Any
    device: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    adapters: dict[str, Path] = field(default_factory=dict)  # adapter name -> directory
    peft: bool = False


def pick_device(requested: str) -> str:
    """'auto' -> cuda when torch sees a GPU, else cpu; 'cuda' without one is an error."""
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ModelUnavailable("--device cuda: torch sees no CUDA device (a CPU build of torch?)")
    return requested


class StopTrimmer:
    """Cuts generated text at the first stop sequence, holding back any tail that could still
    become one, so a stream never shows text a stop sequence later removes."""

    def __init__(self, stops: tuple[str, ...]) -> None:
        self.stops = tuple(s for s in stops if s)
        self.hold = max((len(s) for s in self.stops), default=1) - 1
        self.text = ""
        self.shown = 0
        self.stopped = False

    def feed(self, text: str) -> str:
        """The whole text so far -> the new part that may be shown now."""
        self.text = text
        cut = min((i for i in (text.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            visible = cut
        else:
            visible = max(self.shown, len(text) - self.hold)
        new = text[self.shown : visible] if visible > self.shown else ""
        self.shown = max(self.shown, visible)
        return new

    def finish(self) -> str:
        """The held-back tail once generation ended without a stop sequence."""
        if self.stopped:
            return ""
        new = self.text[self.shown :]
        self.shown = len(self.text)
        return new


class ModelHost:
    """Base models in memory, keyed by id; each with its adapters."""

    def __init__(self, device: str = "auto") -> None:
        self.requested_device = device
        self._bases: dict[str, LoadedBase] = {}
        self._loading = threading.Lock()

    def base(self, source: BaseModelSource) -> LoadedBase:
        with self._loading:
            loaded = self._bases.get(source.id)
            if loaded is None:
                loaded = self._bases[source.id] = load_base(source, self.requested_device)
            return loaded

    def generate(
        self,
        source: BaseModelSource,
        adapter: tuple[str, Path] | None,
        request: GenerationRequest,
        on_text: Callable[[str], None] | None = None,
    ) -> GenerationResult:
        """Generate one answer; `on_text` receives each new visible piece as it is produced."""
        loaded = self.base(source)
        with loaded.lock, _adapter_active(loaded, adapter):
            return _generate(loaded, request, on_text)


def load_base(source: BaseModelSource, requested_device: str) -> LoadedBase:
    """Load a base model and its tokenizer; ModelUnavailable (never a hang) when it cannot be."""
    device = pick_device(requested_device)
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(source.path), local_files_only=True)
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        model = AutoModelForCausalLM.from_pretrained(
            str(source.path), dtype=dtype, local_files_only=True
        )
    except ModelUnavailable:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelUnavailable(
            f"model {source.id} ({source.path}) cannot be loaded: {first}"
        ) from None
    model.to(device)
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return LoadedBase(model=model, tokenizer=tokenizer, device=device)


class _adapter_active:
    """Within the block, `loaded.model` answers with the named adapter (None: the bare base)."""

    def __init__(self, loaded: LoadedBase, adapter: tuple[str, Path] | None) -> None:
        self.loaded, self.adapter = loaded, adapter
        self._disabled: Any = None

    def __enter__(self) -> None:
        loaded = self.loaded
        if self.adapter is None:
            if loaded.peft:
                self._disabled = loaded.model.disable_adapter()
                self._disabled.__enter__()
            return
        name, directory = self.adapter
        name = _adapter_key(name)
        if name not in loaded.adapters:
            try:
                if not loaded.peft:
                    from peft import PeftModel

                    loaded.model = PeftModel.from_pretrained(
                        loaded.model, str(directory), adapter_name=name
                    )
                    loaded.model.eval()
                    loaded.peft = True
                else:
                    loaded.model.load_adapter(str(directory), adapter_name=name)
            except Exception as exc:
                raise ModelUnavailable(
                    f"the adapter in {directory} cannot be loaded: {str(exc).splitlines()[0]}"
                ) from None
            loaded.adapters[name] = directory
        loaded.model.set_adapter(name)

    def __exit__(self, *exc: object) -> None:
        if self._disabled is not None:
            self._disabled.__exit__(None, None, None)


def _adapter_key(model_id: str) -> str:
    """PEFT adapter names become module attribute names: no dots or colons."""
    return "".join(c if c.isalnum() else "_" for c in model_id)


def _generate(
    loaded: LoadedBase, request: GenerationRequest, on_text: Callable[[str], None] | None
) -> GenerationResult:
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList
    from transformers.generation.streamers import BaseStreamer

    tokenizer = loaded.tokenizer
    messages = [
        {"role": str(m.get("role")), "content": content_text(m.get("content"))}
        for m in request.messages
    ]
    input_ids = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )["input_ids"].to(loaded.device)
    prompt_len = int(input_ids.shape[1])
    trimmer = StopTrimmer(request.stop)
    generated: list[int] = []

    class Pieces(BaseStreamer):
        """Decodes the tokens so far at each step (robust to multi-token characters)."""

        def put(self, value: Any) -> None:
            if not generated and value.dim() == 2 and value.shape[-1] == prompt_len:
                generated.append(-1)  # the prompt itself is put first: skip it
                return
            generated.extend(int(t) for t in value.reshape(-1).tolist())
            text = tokenizer.decode([t for t in generated if t >= 0], skip_special_tokens=True)
            new = trimmer.feed(text)
            if new and on_text is not None:
                on_text(new)

        def end(self) -> None:
            pass

    class StopOnText(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            done = trimmer.stopped or (request.cancel is not None and request.cancel.is_set())
            return torch.full(
                (input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device
            )

    sample = request.temperature > 0
    kwargs: dict[str, Any] = {
        "max_new_tokens": request.max_tokens,
        "do_sample": sample,
        "pad_token_id": tokenizer.pad_token_id,
        "streamer": Pieces(),
        "stopping_criteria": StoppingCriteriaList([StopOnText()]),
        "attention_mask": torch.ones_like(input_ids),
    }
    if sample:
        kwargs.update(temperature=request.temperature, top_p=request.top_p, top_k=0)
    else:  # greedy: the model's own generation_config must not switch sampling back on
        kwargs.update(temperature=None, top_p=None, top_k=None)
    if request.seed is not None:
        torch.manual_seed(request.seed)
    with torch.inference_mode():
        output = loaded.model.generate(input_ids, **kwargs)
    new_tokens = output[0, prompt_len:].tolist()
    eos = set(_eos_ids(loaded))
    hit_eos = bool(new_tokens) and new_tokens[-1] in eos
    tail = trimmer.finish()
    if tail and on_text is not None:
        on_text(tail)
    text = trimmer.text[: trimmer.shown]
    finish = (
        "stop" if trimmer.stopped or hit_eos or len(new_tokens) < request.max_tokens else "length"
    )
    return GenerationResult(text, finish, prompt_len, len(new_tokens))


def _eos_ids(loaded: LoadedBase) -> list[int]:
    eos = loaded.model.generation_config.eos_token_id
    if eos is None:
        eos = loaded.tokenizer.eos_token_id
    if eos is None:
        return []
    return list(eos) if isinstance(eos, (list, tuple)) else [eos]
