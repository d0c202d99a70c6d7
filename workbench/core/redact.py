"""Key-like strings taken out of text before it is stored, printed or shown.

Providers echo part of a rejected key ("Incorrect API key provided: sk-****-123"); that text goes
into runs.error_message, `history --json` and toasts. `redact_secrets()` is applied where provider
errors become our text (providers.openai_api.explain_error) and again where errors are stored.
"""

from __future__ import annotations

import re

REDACTED = "…redacted"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # OpenAI-style keys, whole or masked: sk-..., sk-proj-..., sk-****-123, sk-ant-...
    (re.compile(r"\b(sk|rk|pk)-[A-Za-z0-9_*\-]{2,}"), r"\1-" + REDACTED),
    # Authorization headers quoted back
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=\-*]{6,}", re.IGNORECASE), r"\1 " + REDACTED),
    # api-key: ..., "api_key": "...", key=...
    (
        re.compile(
            r"\b(api[-_ ]?key|access[-_ ]?token|subscription[-_ ]?key)([\"']?\s*[:=]\s*[\"']?)"
            r"[^\s\"',;]{4,}",
            re.IGNORECASE,
        ),
        r"\1\2" + REDACTED,
    ),
    # Azure OpenAI keys: 32 hex digits standing alone (not the tail of an id: "…ft-<32 hex>")
    (re.compile(r"(?<![\w-])[0-9a-fA-F]{32}(?![\w-])"), REDACTED),
)


def redact_secrets(text: str) -> str:
    """`text` with every key-like string replaced by '…redacted' (the rest kept as is)."""
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
