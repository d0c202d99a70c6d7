"""Token counting: model name -> encoding, the chat-message formula, and an honest offline fallback.

tiktoken downloads its BPE files on first use. Where it cannot (no network, no cache), counts fall
back to a labelled estimate so nothing crashes or hangs; `Tokenizer.exact` and `Tokenizer.note` say
which one the caller got.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

O200K = "o200k_base"
CL100K = "cl100k_base"

# Prefixes of base model names, most specific first. tiktoken 0.14 maps `ft:gpt-4.1-*` to
# cl100k_base (its catch-all "ft:gpt-4" prefix), which is wrong, so we resolve ft: ids ourselves.
_PREFIX_ENCODINGS: tuple[tuple[str, str], ...] = (
    ("gpt-4o", O200K),
    ("gpt-4.1", O200K),
    ("gpt-4.5", O200K),
    ("gpt-5", O200K),
    ("gpt-6", O200K),
    ("gpt-oss", O200K),
    ("chatgpt-4o", O200K),
    ("o1", O200K),
    ("o3", O200K),
    ("o4", O200K),
    ("gpt-4", CL100K),
    ("gpt-3.5", CL100K),
    ("gpt-35", CL100K),
    ("text-embedding-3", CL100K),
    ("text-embedding-ada", CL100K),
    ("davinci-002", CL100K),
    ("babbage-002", CL100K),
)

# How long a caller may wait for tiktoken to fetch a missing BPE file before getting the estimate.
LOAD_TIMEOUT_SECONDS = 8.0
# The fallback's rule of thumb: about 4 characters per token for English text.
CHARS_PER_TOKEN_ESTIMATE = 4.0


def base_model_of(model: str) -> str:
    """The base model behind a fine-tuned id: `ft:<base>:org:suffix:id` or Azure `<base>.ft-<hex>`."""
    if model.startswith("ft:"):
        parts = model.split(":")
        return parts[1] if len(parts) > 1 and parts[1] else model
    if ".ft-" in model:
        return model.split(".ft-", 1)[0]
    return model


def billing_base_model(model: str) -> str:
    """The model whose rates a fine-tune is billed at: its base, with an Azure `.ft-` suffix of
    the base itself dropped too (`ft:gpt-4o.ft-abc:org::id` -> `gpt-4o`)."""
    return base_model_of(model.strip()).split(".ft-", 1)[0]


def encoding_name_for_model(model: str) -> str:
    """o200k_base for the gpt-4o/4.1/5 and o-series families (and their fine-tunes), else cl100k_base
    for gpt-4/3.5; unknown models get o200k_base, the encoding of every current model."""
    base = base_model_of(model.strip()).lower()
    for prefix, name in _PREFIX_ENCODINGS:
        if base.startswith(prefix):
            return name
    return O200K


def _cache_file_for(encoding_name: str) -> str | None:
    """Where tiktoken would look for this encoding's BPE file (None if caching is disabled)."""
    urls = {
        O200K: "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        CL100K: "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    }
    url = urls.get(encoding_name)
    if url is None:
        return None
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    if cache_dir is None:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if cache_dir == "":
        return None
    return os.path.join(cache_dir, hashlib.sha1(url.encode()).hexdigest())


@dataclass
class Tokenizer:
    """Counts tokens for one encoding, exactly (tiktoken) or as a labelled estimate."""

    encoding_name: str
    exact: bool
    note: str = ""
    _encoding: Any = None

    def count(self, text: str) -> int:
        if not text:
            return 0
        if self._encoding is not None:
            return len(self._encoding.encode_ordinary(text))
        return max(1, round(len(text) / CHARS_PER_TOKEN_ESTIMATE))

    def encode(self, text: str) -> list[int]:
        """Token ids (exact mode only; the estimate has no ids)."""
        if self._encoding is None:
            raise RuntimeError(self.note or "tokenizer is an estimate")
        return self._encoding.encode_ordinary(text)

    @property
    def label(self) -> str:
        """What the status line shows: `o200k_base` or `≈ estimate (o200k_base unavailable)`."""
        return (
            self.encoding_name if self.exact else f"≈ estimate ({self.encoding_name} unavailable)"
        )


_cache: dict[str, Tokenizer] = {}
_lock = threading.Lock()


def _load_encoding(name: str, timeout: float) -> tuple[Any, str]:
    """tiktoken's encoding, or (None, why not). Never waits longer than `timeout`."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            import tiktoken

            result["encoding"] = tiktoken.get_encoding(name)
        except Exception as exc:  # network errors, hash mismatch, missing plugin...
            result["error"] = f"{type(exc).__name__}: {exc}"

    cached = _cache_file_for(name)
    if cached and os.path.exists(cached):
        target()  # local file: fast, no thread needed
    else:
        thread = threading.Thread(target=target, name=f"tiktoken-load-{name}", daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            return None, f"downloading {name} took longer than {timeout:.0f}s (offline?)"
    if "encoding" in result:
        return result["encoding"], ""
    error = result.get("error", "unknown error")
    return None, f"could not load {name}: {error.splitlines()[0][:200]}"


def get_tokenizer(model_or_encoding: str, timeout: float = LOAD_TIMEOUT_SECONDS) -> Tokenizer:
    """The tokenizer for a model (or an encoding name), loaded once per process."""
    name = (
        model_or_encoding
        if model_or_encoding in (O200K, CL100K)
        else encoding_name_for_model(model_or_encoding)
    )
    with _lock:
        tok = _cache.get(name)
        if tok is not None:
            return tok
        encoding, why = _load_encoding(name, timeout)
        if encoding is not None:
            tok = Tokenizer(encoding_name=name, exact=True, _encoding=encoding)
        else:
            tok = Tokenizer(
                encoding_name=name,
                exact=False,
                note=f"token counts are estimates (~{CHARS_PER_TOKEN_ESTIMATE:g} chars/token): {why}",
            )
        _cache[name] = tok
        return tok


def loaded_tokenizer(model_or_encoding: str) -> Tokenizer | None:
    """The tokenizer if it is already loaded, else None: never blocks (for the UI thread)."""
    name = (
        model_or_encoding
        if model_or_encoding in (O200K, CL100K)
        else encoding_name_for_model(model_or_encoding)
    )
    return _cache.get(name)


def reset_cache() -> None:
    """Forget loaded tokenizers (tests switch TIKTOKEN_CACHE_DIR)."""
    with _lock:
        _cache.clear()


# Chat formula (OpenAI cookbook "How to count tokens with tiktoken"): every message costs 3 tokens of
# framing, a `name` costs 1 more, and every reply is primed with 3.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
# Keys that are metadata for training, not text the model reads.
_NOT_COUNTED = frozenset({"weight"})


def _value_text(key: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if key == "content" and isinstance(value, list) and all(isinstance(p, Mapping) for p in value):
        # content parts: count the text parts; images are priced separately
        return "".join(str(p.get("text", "")) for p in value if p.get("type") in ("text", None))
    # tool_calls, function_call and the like: the model reads them as compact JSON
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def count_message_tokens(
    messages: Iterable[Mapping[str, Any]], tokenizer: Tokenizer, *, reply_priming: bool = True
) -> int:
    """Tokens a list of chat messages costs as a prompt (cookbook formula, `weight` skipped)."""
    total = 0
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            if key in _NOT_COUNTED:
                continue
            total += tokenizer.count(_value_text(key, value))
            if key == "name":
                total += TOKENS_PER_NAME
    if reply_priming:
        total += REPLY_PRIMING
    return total
