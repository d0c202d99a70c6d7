"""The live loss chart (train and validation loss, or token accuracy), drawn with plotext."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from workbench.core.jobs import MetricPoint, downsample

# (metric, label) drawn for each view.
LOSS_SERIES = (
    ("train_loss", "train loss"),
    ("valid_loss", "valid loss"),
    ("full_valid_loss", "full valid"),
)
ACCURACY_SERIES = (
    ("train_mean_token_accuracy", "train acc"),
    ("valid_mean_token_accuracy", "valid acc"),
    ("full_valid_mean_token_accuracy", "full valid acc"),
)


class LossChart(PlotextPlot):
    """Plots metric points; `series` keeps what is drawn (x and y per line) for tests and the CSV."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.accuracy = False
        self.series: dict[str, tuple[list[int], list[float]]] = {}
        self._signature: tuple | None = None

    def show(self, points: list[MetricPoint], accuracy: bool | None = None) -> None:
        """Redraw from these points; skipped when nothing that is drawn changed."""
        if accuracy is not None:
            self.accuracy = accuracy
        signature = (self.accuracy, len(points), points[-1] if points else None)
        if signature == self._signature:
            return
        self._signature = signature
        wanted = ACCURACY_SERIES if self.accuracy else LOSS_SERIES
        self.series = {}
        for name, label in wanted:
            xs = [p.step for p in points if p.get(name) is not None]
            if xs:
                ys = [p.values[name] for p in points if p.get(name) is not None]
                self.series[label] = (xs, ys)
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        title = "token accuracy" if self.accuracy else "loss"
        if not self.series:
            plt.title(f"{title}: no metrics yet")
        else:
            plt.title(f"{title} by step  (a: {'loss' if self.accuracy else 'accuracy'})")
            # braille draws two dots per cell: more points than that only cost time
            budget = max(20, 2 * max(self.size.width, 40))
            for label, (xs, ys) in self.series.items():
                if label.startswith("full"):  # once per epoch: points, not a line
                    plt.scatter(xs, ys, label=label, marker="dot")
                else:
                    plt.plot(*downsample(xs, ys, budget), label=label, marker="braille")
            plt.xlabel("step")
        self.refresh()
