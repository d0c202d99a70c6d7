"""Cumulative cost against request volume for the three approaches, with the break-even marked.

Both axes are logarithmic: volumes of interest span 1k to 1M requests and the break-even can sit
anywhere in between, so a linear axis hides either the crossing or the user's own volume.
"""

from __future__ import annotations

import math

from textual_plotext import PlotextPlot

from workbench.core.estimate import Estimate, cost_curves
from workbench.core.evaluation.formatting import fmt_count, fmt_usd

COLORS = {"zero-shot": "blue", "few-shot": "orange", "fine-tuned": "green"}


def _decades(lo: float, hi: float) -> list[float]:
    start, end = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    return [10.0**e for e in range(start, end + 1)]


class CostChart(PlotextPlot):
    """`series` keeps what is drawn (volumes and USD per approach) so tests can read it."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.series: dict[str, list[float]] = {}
        self.volumes: list[int] = []
        self.break_even: int | None = None

    def show(self, est: Estimate | None) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        self.series, self.volumes, self.break_even = {}, [], None
        if est is None:
            plt.title("cumulative cost: nothing to plot yet")
            self.refresh()
            return
        self.volumes, self.series = cost_curves(est, log=True)
        self.break_even = est.break_even
        if not self.series:
            plt.title("cumulative cost: no prices for these models")
            self.refresh()
            return
        # Both axes are drawn as log10 values on linear axes with labelled ticks: plotext's own log
        # scale transforms the data in place, so a second render (a resize) takes log(log(x)).
        log_y = all(y > 0 for ys in self.series.values() for y in ys)
        lo = min(min(ys) for ys in self.series.values())
        hi = max(max(ys) for ys in self.series.values())

        def fy(y: float) -> float:
            return math.log10(y) if log_y else y

        xs = [math.log10(v) for v in self.volumes]
        for name, ys in self.series.items():
            plt.plot(xs, [fy(y) for y in ys], label=name, marker="braille", color=COLORS.get(name))
        title = "total cost by requests"
        # markers as two-point lines (plotext's vline would not follow the log transform)
        if est.break_even is not None and 1 <= est.break_even <= self.volumes[-1]:
            plt.plot([math.log10(est.break_even)] * 2, [fy(lo), fy(hi)], color="red", marker="│")
            title += f" · break-even {fmt_count(est.break_even)} (red)"
        if 1 <= est.settings.volume <= self.volumes[-1]:
            x = math.log10(est.settings.volume)
            plt.plot([x, x], [fy(lo), fy(hi)], color="gray", marker="┆")
        xt = [x for x in _decades(1, self.volumes[-1]) if x <= self.volumes[-1]]
        plt.xticks([math.log10(x) for x in xt], [fmt_count(x) for x in xt])
        if log_y:
            yt = _decades(lo, hi)
            if len(yt) > 5:
                yt = yt[1::2]
            plt.yticks([math.log10(y) for y in yt], [fmt_usd(y) for y in yt])
        plt.title(title + f" · your month {fmt_count(est.settings.volume)} (grey)")
        self.refresh()
