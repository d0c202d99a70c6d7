"""Training metrics: chart points from `metrics` events, the results CSV, and thinning a long
curve to what a terminal can draw.

Apart from progress and ETA because the chart and the results file need only these, and a
provider's CSV quirks (base64 or not) should not sit next to the ETA arithmetic.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import math
from dataclasses import dataclass, field

from workbench.core.jobs.model import JobEvent, int_or_none

METRIC_NAMES = (
    "train_loss",
    "valid_loss",
    "full_valid_loss",
    "train_mean_token_accuracy",
    "valid_mean_token_accuracy",
    "full_valid_mean_token_accuracy",
)


@dataclass(frozen=True)
class MetricPoint:
    step: int
    created_at: int
    total_steps: int | None = None
    values: dict[str, float] = field(default_factory=dict)

    def get(self, name: str) -> float | None:
        return self.values.get(name)


def metric_point(event: JobEvent) -> MetricPoint | None:
    """A chart point from a `metrics` event (`data.step`, `data.train_loss`, ...), else None."""
    data = event.data or {}
    step = int_or_none(data.get("step"))
    if step is None or (event.type != "metrics" and "train_loss" not in data):
        return None
    values = {}
    for name in METRIC_NAMES:
        value = data.get(name)
        if isinstance(value, int | float) and math.isfinite(value):
            values[name] = float(value)
    # some providers and older events say train_accuracy / valid_accuracy
    for alias, name in (
        ("train_accuracy", "train_mean_token_accuracy"),
        ("valid_accuracy", "valid_mean_token_accuracy"),
    ):
        if name not in values and isinstance(data.get(alias), int | float):
            values[name] = float(data[alias])
    return MetricPoint(step, event.created_at, int_or_none(data.get("total_steps")), values)


def metric_series(events: list[JobEvent]) -> list[MetricPoint]:
    """Metric points by step, one per step (the newest event wins), in step order."""
    by_step: dict[int, MetricPoint] = {}
    for event in sorted(events, key=lambda e: (e.created_at, e.id)):
        point = metric_point(event)
        if point is not None:
            by_step[point.step] = point
    return [by_step[s] for s in sorted(by_step)]


def decode_results_csv(content: bytes | str) -> list[dict[str, float | str]]:
    """The metrics CSV of `result_files[0]`. OpenAI base64-encodes it; Azure may not: both work."""
    raw = content.encode() if isinstance(content, str) else bytes(content)
    text: str | None = None
    stripped = raw.strip()
    if not stripped.lower().startswith(b"step"):
        try:
            text = base64.b64decode(stripped, validate=False).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            text = None
    if text is None:
        text = raw.decode("utf-8", errors="replace")
    rows: list[dict[str, float | str]] = []
    for row in csv.DictReader(io.StringIO(text)):
        parsed: dict[str, float | str] = {}
        for key, value in row.items():
            if key is None:
                continue
            value = (value or "").strip()
            try:
                parsed[key.strip()] = float(value)
            except ValueError:
                parsed[key.strip()] = value
        rows.append(parsed)
    return rows


def downsample(xs: list[int], ys: list[float], max_points: int) -> tuple[list[int], list[float]]:
    """At most `max_points` points for a terminal chart: the mean of each run of neighbours, so a
    1,000-step curve keeps its shape at the resolution a terminal can show anyway."""
    n = len(xs)
    if max_points <= 0 or n <= max_points:
        return list(xs), list(ys)
    out_x: list[int] = []
    out_y: list[float] = []
    for b in range(max_points):
        lo, hi = b * n // max_points, (b + 1) * n // max_points
        if hi <= lo:
            continue
        out_x.append(xs[hi - 1])
        out_y.append(sum(ys[lo:hi]) / (hi - lo))
    return out_x, out_y
