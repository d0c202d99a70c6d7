"""The Verdict tab: "fine-tune or prompt-engineer?" answered from the estimate and the evaluation.

The headline and its reasons, one row per approach (quality measured, cost per 1k requests,
latency, setup effort) and the terms it assumed. core.evaluation.verdict computes the verdict; this only
lays it out (the same verdict is what `m` exports as Markdown).
"""

from __future__ import annotations

import textwrap

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static, TabPane

from workbench.core.evaluation.formatting import fmt_count, fmt_usd
from workbench.ui.costs_view import CostView

SHORT_CUSTOMIZATION = {
    "zero-shot": "instructions",
    "few-shot": "+ examples",
    "few-shot-similar": "+ closest ones",
    "fine-tuned": "trained model",
}


class VerdictTab(TabPane):
    """The verdict table and the recommendation."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="verdict-box"):
            yield Static(id="verdict-headline", markup=False)
            yield DataTable(id="verdict-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="verdict-reasons", markup=False)
            yield Static(id="verdict-foot", markup=False)

    def on_mount(self) -> None:
        verdict = self.query_one("#verdict-table", DataTable)
        for label, width in (
            # the widest cells: "few-shot-similar", "not measured", "+$0.02 once", "p50 0.49s",
            # "trained in 15 min"; 75 columns in all, so 80 needs no sideways scrolling
            ("approach", 16),
            ("quality", 12),
            ("cost per 1k", 11),
            ("latency", 9),
            ("setup effort", 17),
        ):
            verdict.add_column(label, width=width)

    def show(self, view: CostView) -> None:
        v = view.verdict
        style = "bold yellow" if v.thin else "bold green"
        self.query_one("#verdict-headline", Static).update(Text(v.headline, style=style))
        self.query_one("#verdict-reasons", Static).update(
            Text("\n".join(f"• {r}" for r in v.reasons))
        )
        table = self.query_one("#verdict-table", DataTable)
        table.clear()
        for row in v.rows:
            q = row.quality
            quality = "not measured"
            if q is not None and q.score is not None:
                quality = f"{q.score:.2f} n={q.n}\n[{q.ci[0]:.2f}–{q.ci[1]:.2f}]"
            latency = "–"
            if q is not None and q.p50_ms is not None:
                latency = f"p50 {q.p50_ms / 1000:.2f}s\np95 {(q.p95_ms or 0) / 1000:.2f}s"
            table.add_row(
                Text(f"{row.approach}\n{SHORT_CUSTOMIZATION.get(row.approach, '')}"),
                Text(quality),
                Text(
                    f"{fmt_usd(row.cost_per_1k)}\n+{_once(row.one_off)}"
                    if row.approach == "fine-tuned"
                    else fmt_usd(row.cost_per_1k)
                ),
                Text(latency),
                Text(_two_lines(row.setup, 17)),
                key=row.approach,
                height=2,
            )
        foot = Text(
            f"m: export Markdown · volume {fmt_count(v.volume)}/month · horizon "
            f"{v.horizon_months} months · prices as of {v.prices_as_of}",
            style="dim",
        )
        for note in v.notes:
            if note not in view.estimate.notes:
                foot.append(f"\n⚠ {note}", style="yellow")
        self.query_one("#verdict-foot", Static).update(foot)


def _two_lines(text: str, width: int) -> str:
    """A setup phrase in two short lines ('20 training examples; ~10 min–2 h to train')."""
    parts = text.split("; ", 1)
    if len(parts) == 1:
        parts = textwrap.wrap(text, width, max_lines=2, placeholder="…") or [""]
    parts = [p.replace(" training examples", " examples") if len(p) > width else p for p in parts]
    return "\n".join(p if len(p) <= width else p[: width - 1] + "…" for p in parts)


def _once(value: float | None) -> str:
    """The one-off line under the fine-tuned cost (fits the 13-column cell)."""
    return "? to train" if value is None else f"{fmt_usd(value)} once"
