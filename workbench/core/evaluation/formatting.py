"""How verdict figures read: dollars, months, counts, scores, latency; and the Markdown export."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.core.evaluation.scoring import ApproachResult
    from workbench.core.evaluation.verdict import Verdict


def fmt_usd(value: float | None) -> str:
    if value is None:
        return "no price"
    if value == 0:
        return "$0"
    if abs(value) < 0.01:  # per-request figures: two significant digits, never "$0.0000"
        decimals = max(2, 1 - math.floor(math.log10(abs(value))))
        return f"${value:.{decimals}f}"
    if abs(value) < 100:
        return f"${value:,.2f}"
    return f"${value:,.0f}"


def fmt_months(months: float | None) -> str:
    """A payback time in words: '8.2 months', 'about 5 days'."""
    if months is None:
        return "–"
    if months < 1:
        days = months * 30
        if days < 1:
            return "under a day"
        return "about a day" if days < 1.5 else f"about {days:.0f} days"
    return f"{months:.1f} months"


def fmt_count(n: float | None) -> str:
    if n is None:
        return "–"
    if n >= 1_000_000:
        return f"{n / 1_000_000:.3g}M"
    if n >= 1_000:
        return f"{n / 1_000:.3g}k"
    return f"{n:.0f}"


def fmt_score(r: ApproachResult | None) -> str:
    if r is None or r.score is None:
        return "not measured"
    return f"{r.score:.2f} [{r.ci[0]:.2f}–{r.ci[1]:.2f}] n={r.n}"


def fmt_latency(r: ApproachResult | None) -> str:
    if r is None or r.p50_ms is None:
        return "–"
    return f"p50 {r.p50_ms / 1000:.2f}s p95 {(r.p95_ms or r.p50_ms) / 1000:.2f}s"


def verdict_markdown(verdict: Verdict, *, title: str = "Fine-tune or prompt-engineer?") -> str:
    """The verdict as a Markdown document (user text escaped for table cells)."""

    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = [f"# {title}", ""]
    lines.append(f"**{verdict.headline}**")
    lines.append("")
    for reason in verdict.reasons:
        lines.append(f"- {cell(reason)}")
    lines.append("")
    lines.append(
        "| approach | customization | quality (measured) | cost per 1k requests | one-off cost "
        "| latency (measured) | setup effort |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    for row in verdict.rows:
        lines.append(
            "| "
            + " | ".join(
                cell(x)
                for x in (
                    f"{row.approach} ({row.model})",
                    row.customization,
                    fmt_score(row.quality),
                    fmt_usd(row.cost_per_1k),
                    "unknown" if row.one_off is None else fmt_usd(row.one_off),
                    fmt_latency(row.quality),
                    row.setup,
                )
            )
            + " |"
        )
    lines.append("")
    lines.append(
        f"Volume: {fmt_count(verdict.volume)} requests/month; horizon {verdict.horizon_months} months. "
        f"Prices as of {verdict.prices_as_of or 'unknown'}. Quality is the share of held-out test "
        "items passed, with a 95% Wilson interval."
    )
    for note in verdict.notes:
        lines.append(f"\n> {cell(note)}")
    return "\n".join(lines) + "\n"
