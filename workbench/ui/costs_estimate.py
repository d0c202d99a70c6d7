"""The Estimate tab: what each approach costs on your prompt at your volume.

The settings form (requests per month, output tokens, caching and Batch toggles, the dataset whose
training is priced) above the cost table, the summary (training, break-even, where each figure
comes from) and the cumulative cost chart. The tab keeps no settings of its own: every edit goes
up as `SettingsChanged` / `DatasetChosen`, and the pane saves it, recomputes and hands the new
`CostView` back to `show()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Checkbox, DataTable, Input, Label, Select, Static, TabPane
from textual.widgets.data_table import ColumnKey

from workbench.core.estimate import CACHE_MIN_PREFIX, DEFAULT_VOLUME, Estimate, EstimateSettings
from workbench.core.evaluation.formatting import fmt_count, fmt_months, fmt_usd
from workbench.ui.costs_eval import short_model
from workbench.ui.costs_view import CostView
from workbench.ui.plain import plain_options

MODEL_WIDTH = 16
# the checkbox ids and the EstimateSettings fields they set
TOGGLES = {"cache": "caching", "batch": "batch"}


def parse_count(text: str) -> int | None:
    """'5000', '100k', '1.5M', '1,000' -> int; None when it is not a count."""
    t = text.strip().lower().replace(",", "").replace("_", "")
    if not t:
        return None
    scale = 1
    if t[-1] in "km":
        scale = 1_000 if t[-1] == "k" else 1_000_000
        t = t[:-1]
    try:
        value = float(t) * scale
    except ValueError:
        return None
    if value < 0 or value != value or value > 1e12:
        return None
    return int(value)


class EstimateTab(TabPane):
    """The cost table per approach, the settings that drive it and the chart."""

    @dataclass
    class SettingsChanged(Message):
        """A valid figure typed or a toggle flipped: `changes` are EstimateSettings fields."""

        changes: dict[str, Any]

    @dataclass
    class DatasetChosen(Message):
        """The dataset whose training is priced; "" is the "(none)" choice (no training cost)."""

        dataset: str

    def __init__(self, title: str, **kwargs: Any) -> None:
        super().__init__(title, **kwargs)
        # True while the pane fills the fields, and until it first does: a Changed event of the
        # mount's default values is not the user's, and would overwrite the saved settings
        self._loading = True
        self._dataset_names: list[str] = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="cost-controls"):
            yield Label("Req/month", classes="cost-label")
            yield Input(
                fmt_count(DEFAULT_VOLUME),
                id="volume",
                compact=True,
                tooltip="e.g. 5000, 100k, 1M (keys 1/2/3: 1k, 100k, 1M)",
            )
            yield Label("Output tok", classes="cost-label")
            yield Input(
                placeholder="auto",
                id="output-tokens",
                compact=True,
                tooltip="expected output tokens per request; empty: measured",
            )
            yield Checkbox("caching off", id="cache", compact=True)
            yield Checkbox("batch off", id="batch", compact=True)
        with Horizontal(id="cost-controls-2"):
            yield Label("Dataset", classes="cost-label")
            yield Select([], id="dataset", compact=True, prompt="(none)")
            yield Static(id="cost-meta", markup=False)
        yield DataTable(id="cost-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="cost-summary", markup=False)
        from workbench.ui.costs_chart import CostChart  # plotext: only when shown

        yield CostChart(id="cost-chart")

    def on_mount(self) -> None:
        table = self.query_one("#cost-table", DataTable)
        for label, width in (
            ("approach", 10),
            ("model", MODEL_WIDTH),
            ("input", 6),
            ("output", 6),
            ("/request", 9),
            ("per month", 8),
            ("one-off", 7),
        ):
            table.add_column(label, width=width, key=label)

    # --- the settings form: filled by the pane, edits posted up -------------------------------

    def _fill(self) -> None:
        """Fields set from here, not typed: their Changed events are not the user's."""
        self._loading = True
        self.call_after_refresh(self._done_loading)

    def _done_loading(self) -> None:
        self._loading = False

    def load_settings(self, settings: EstimateSettings) -> None:
        """Show saved settings in the form (no SettingsChanged for them)."""
        self._fill()
        self.query_one("#volume", Input).value = fmt_count(settings.volume)
        out = settings.output_tokens
        self.query_one("#output-tokens", Input).value = "" if out is None else f"{out:g}"
        self.query_one("#cache", Checkbox).value = settings.caching
        self.query_one("#batch", Checkbox).value = settings.batch

    def show_volume(self, volume: int) -> None:
        """A preset chose the volume: show it as the pane already applies it."""
        self._fill()
        self.query_one("#volume", Input).value = fmt_count(volume)

    def focus_field(self, field_id: str) -> None:
        self.query_one(f"#{field_id}", Input).focus()

    def toggle(self, which: str) -> None:
        box = self.query_one(f"#{which}", Checkbox)
        box.value = not box.value  # Checkbox.Changed does the rest

    @on(Input.Changed, "#volume")
    def _volume_typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._loading:
            return
        value = parse_count(event.value)
        event.input.set_class(value is None, "-invalid")
        if value is not None:
            self.post_message(self.SettingsChanged({"volume": value}))

    @on(Input.Changed, "#output-tokens")
    def _output_typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._loading:
            return
        text = event.value.strip()
        value = None if not text else parse_count(text)
        invalid = bool(text) and value is None
        event.input.set_class(invalid, "-invalid")
        if not invalid:
            self.post_message(self.SettingsChanged({"output_tokens": value}))

    @on(Checkbox.Changed, "#cache")
    @on(Checkbox.Changed, "#batch")
    def _toggled(self, event: Checkbox.Changed) -> None:
        event.stop()
        key = TOGGLES[str(event.checkbox.id)]
        event.checkbox.label = f"{key} {'on' if event.value else 'off'}"
        if not self._loading:
            self.post_message(self.SettingsChanged({key: event.value}))

    @on(Select.Changed, "#dataset")
    def _dataset_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if self._loading:
            return
        # "(none)" is a choice: no training cost, never a silent fall back to the first dataset
        self.post_message(
            self.DatasetChosen("" if event.value is Select.NULL else str(event.value))
        )

    # --- showing -------------------------------------------------------------------------------

    def show(self, view: CostView) -> None:
        self._show_datasets(view)
        self._show_estimate(view)

    def _show_datasets(self, view: CostView) -> None:
        """Refill the dataset choice only when the list changed (a refill posts Select.Changed)."""
        select = self.query_one("#dataset", Select)
        if view.datasets != self._dataset_names:
            self._dataset_names = list(view.datasets)
            self._fill()
            select.set_options(plain_options(view.datasets))
        wanted = view.dataset if view.dataset is not None else Select.NULL
        if select.value != wanted:
            self._fill()
            select.value = wanted

    def _show_estimate(self, view: CostView) -> None:
        est = view.estimate
        s = est.settings
        meta = Text(no_wrap=True, overflow="ellipsis")
        meta.append(f" prompt {view.prompt}", style="bold")
        meta.append(f"  prices as of {est.prices_as_of}", style="dim")
        self.query_one("#cost-meta", Static).update(meta)
        table = self.query_one("#cost-table", DataTable)
        table.clear()
        table.columns[ColumnKey("per month")].label = Text(f"per {fmt_count(s.volume)}")
        # the model column takes what the terminal can spare (ids are long: ft:<base>:org::id)
        width = max(MODEL_WIDTH, min(60, self.app.size.width - 76))
        table.columns[ColumnKey("model")].width = width
        for a in est.approaches:
            table.add_row(
                Text(a.approach),
                Text(short_model(a.display_model, width)),
                Text(f"{a.input_tokens:,}", justify="right"),
                Text(f"{a.output_tokens:,.0f}", justify="right"),
                _usd(a.per_request),
                _usd(a.per_n(s.volume)),
                _one_off(a.one_off) if a.approach == "fine-tuned" else Text("–", justify="right"),
                key=a.approach,
            )
        self.query_one("#cost-summary", Static).update(_summary(est))
        from workbench.ui.costs_chart import CostChart

        self.query_one(CostChart).show(est)


def _summary(est: Estimate) -> Text:
    """Training, break-even, and where the output and prefix figures come from."""
    summary = Text()
    t = est.training
    if t is not None:
        rate = "no price" if t.rate_per_million is None else f"${t.rate_per_million:.2f}/M"
        summary.append(
            f"Training {t.examples} ex · {t.billed_tokens_per_epoch:,} tok × {t.epochs} ep "
            f"× {rate} = {fmt_usd(t.cost)}\n"
        )
    summary.append("Break-even: ", style="bold")
    if est.break_even is not None:
        summary.append(
            f"{fmt_count(est.break_even)} requests ({fmt_months(est.break_even_months)})"
        )
    else:
        summary.append(est.break_even_words())
    out_source = output_sources(est)
    prefix = "/".join(
        f"{a.cacheable_prefix:,}" + (f" ({a.cached_tokens:,} cached)" if a.cached_tokens else "")
        for a in est.approaches
    )
    summary.append(
        f"\nOutput: {out_source or 'your figure'} · prefix {prefix} tok "
        f"(cache ≥{CACHE_MIN_PREFIX:,})",
        style="dim",
    )
    for note in est.notes:
        summary.append(f"\n⚠ {note}", style="yellow")
    return summary


def _usd(value: float | None) -> Text:
    if value is None:
        return Text("no price", style="yellow", justify="right")
    return Text(fmt_usd(value), justify="right")


def output_sources(est: Estimate) -> str:
    """Where each output figure comes from; named per approach when they differ."""
    sources: dict[str, list[str]] = {}
    for a in est.approaches:
        sources.setdefault(a.output_source or "your figure", []).append(a.approach)
    if len(sources) == 1:
        return next(iter(sources))
    return "; ".join(f"{'/'.join(names)}: {src}" for src, names in sources.items())


def _one_off(value: float | None) -> Text:
    """The training cost; "unknown" (7 columns, it fits) when there is no dataset or price."""
    if value is None:
        return Text("unknown", style="yellow", justify="right")
    return _usd(value)
