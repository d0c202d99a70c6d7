"""How values are written into columns: timestamps and JSON text, one rule each for every table."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def now() -> str:
    """UTC ISO-8601 to the microsecond: "edited last" must order edits made within a millisecond.

    (Rows written before this held milliseconds; as text they still sort in time order.)
    """
    return datetime.now(UTC).isoformat(timespec="microseconds")


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON keeping non-ASCII text; `sort_keys` where key order carries no meaning."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
