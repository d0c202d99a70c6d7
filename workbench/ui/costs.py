"""The Costs pane: what each approach costs on your prompt, what it scores on your test set, and
the verdict ("fine-tune or prompt-engineer?") computed from both.

Three tabs. Estimate: the cost table per approach, editable volume and output length, caching and
Batch toggles, and the cumulative cost chart with the break-even. Evaluate: run the held-out test
examples through each approach and compare scores, latency and cost. Verdict: the table and the
recommendation, exportable as Markdown.

Everything is recomputed from the store when the pane is shown and when a setting changes
(debounced, in a thread worker that opens its own connection); settings are saved per prompt.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.timer import Timer
from textual.widgets import (
    Checkbox,
    DataTable,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
    Tabs,
)
from textual.worker import get_current_worker

from workbench.core.estimate import CACHE_MIN_PREFIX, DEFAULT_VOLUME, Estimate, EstimateSettings
from workbench.core.evaluate import (
    Verdict,
    fmt_count,
    fmt_months,
    fmt_usd,
)
from workbench.ui.costs_eval import EvalPanel, short_model
from workbench.ui.pane import PaneScreen
from workbench.ui.plain import plain_options

DEBOUNCE_SECONDS = 0.3
MODEL_WIDTH = 16
SHORT_CUSTOMIZATION = {
    "zero-shot": "instructions",
    "few-shot": "+ examples",
    "few-shot-similar": "+ closest ones",
    "fine-tuned": "trained model",
}
VOLUME_PRESETS = {"1": 1_000, "2": 100_000, "3": 1_000_000}


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


@dataclass
class CostView:
    """Everything the pane shows, computed in a worker from the store."""

    prompt: str
    datasets: list[str]
    dataset: str | None
    estimate: Estimate
    verdict: Verdict
    group: Any = None
    results: dict[str, Any] = field(default_factory=dict)
    history: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    disagreements: list[int] = field(default_factory=list)
    test_items: int = 0
    error: str = ""
    scope: str | None = None  # the held-out set: None = all, "library", or a dataset's name
    held_out: dict[str, int] = field(default_factory=dict)  # test examples per scope


class CostsScreen(PaneScreen):
    PANE = "costs"

    BINDINGS = [
        Binding("v", "focus_volume", "Volume", show=False, tooltip="Edit the requests per month"),
        Binding("1", "preset('1')", "1k/mo", show=False),
        Binding("2", "preset('2')", "100k/mo", show=False),
        Binding("3", "preset('3')", "1M/mo", show=False),
        Binding("o", "focus_output", "Output tokens", show=False),
        Binding("c", "toggle('cache')", "Caching"),
        Binding("b", "toggle('batch')", "Batch"),
        Binding("e", "evaluate", "Evaluate"),
        Binding(
            "m",
            "export_markdown",
            "Export .md",
            tooltip="Write the estimate and verdict as Markdown",
        ),
        Binding(
            "ctrl+t", "next_tab", "Tabs", id="costs-next-tab", tooltip="Estimate, Evaluate, Verdict"
        ),
        Binding("x", "stop_eval", "Stop eval", show=False),
        Binding("r", "recompute", "Recompute", show=False),
        Binding("escape", "leave_field", "Leave field", show=False),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.view: CostView | None = None
        self.settings = EstimateSettings()
        self.dataset: str | None = None  # None: never chosen (the first); "": chosen "(none)"
        self.eval_scope: str | None = None  # the held-out set the Evaluate tab runs
        self._prompt = ""
        self._debounce: Timer | None = None
        self._loading = False  # True while widgets are being filled from saved settings
        self._dataset_names: list[str] = []

    # --- layout ------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="costs-tabs", initial="ct-estimate"):
            with TabPane("Estimate", id="ct-estimate"):
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
            with TabPane("Evaluate", id="ct-evaluate"):
                yield EvalPanel(id="eval-panel")
            with TabPane("Verdict", id="ct-verdict"), VerticalScroll(id="verdict-box"):
                yield Static(id="verdict-headline", markup=False)
                yield DataTable(id="verdict-table", cursor_type="row", zebra_stripes=True)
                yield Static(id="verdict-reasons", markup=False)
                yield Static(id="verdict-foot", markup=False)

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

    def on_resize(self) -> None:
        if self.view is not None:
            self._show_estimate(self.view)

    def on_screen_resume(self) -> None:
        prompt = getattr(self.app, "active_prompt", "default") or "default"
        if prompt != self._prompt:
            self._prompt = prompt
            self._load_settings(prompt)
        self.recompute()

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand(
            "Run the evaluation",
            "Score every approach on the held-out test examples",
            self.action_evaluate,
        )
        yield SystemCommand(
            "Export the verdict as Markdown",
            "Write the verdict table to a .md file",
            self.action_export_markdown,
        )
        yield SystemCommand(
            "Toggle prompt caching in the estimate",
            "Cached-rate prefixes of 1024+ tokens",
            lambda: self.action_toggle("cache"),
        )
        yield SystemCommand(
            "Toggle Batch API prices", "50% off, asynchronous", lambda: self.action_toggle("batch")
        )
        yield SystemCommand(
            "Edit the requests per month (v)",
            "The volume the estimate prices",
            self.action_focus_volume,
        )
        yield SystemCommand(
            "Next Costs tab (ctrl+t)", "Estimate, Evaluate, Verdict", self.action_next_tab
        )

    # --- settings ----------------------------------------------------------------------------

    def _load_settings(self, prompt: str) -> None:
        from workbench.core.provider_pricing import terms_for
        from workbench.store.evals import get_cost_settings

        saved = get_cost_settings(self.app.db, prompt)  # type: ignore[attr-defined]
        self.settings = EstimateSettings(
            volume=int(saved.get("volume", DEFAULT_VOLUME)),
            output_tokens=saved.get("output_tokens"),
            caching=bool(saved.get("caching", False)),
            batch=bool(saved.get("batch", False)),
            terms=terms_for(self.app.config.profile),  # type: ignore[attr-defined]
        )
        self.dataset = saved.get("dataset")
        self.eval_scope = saved.get("eval_scope") or None
        self._loading = True
        try:
            self.query_one("#volume", Input).value = fmt_count(self.settings.volume)
            out = self.settings.output_tokens
            self.query_one("#output-tokens", Input).value = "" if out is None else f"{out:g}"
            self.query_one("#cache", Checkbox).value = self.settings.caching
            self.query_one("#batch", Checkbox).value = self.settings.batch
        finally:
            self.call_after_refresh(self._done_loading)
        self.query_one(EvalPanel).load_settings(saved)

    def _done_loading(self) -> None:
        self._loading = False

    def save_settings(self, **extra: Any) -> None:
        from workbench.store.evals import get_cost_settings, save_cost_settings

        db = self.app.db  # type: ignore[attr-defined]
        data = get_cost_settings(db, self._prompt)
        data.update(
            volume=self.settings.volume,
            output_tokens=self.settings.output_tokens,
            caching=self.settings.caching,
            batch=self.settings.batch,
            dataset=self.dataset,
            eval_scope=self.eval_scope,
            **extra,
        )
        save_cost_settings(db, self._prompt, data)

    def _changed(self, **changes: Any) -> None:
        self.settings = replace(self.settings, **changes)
        self.save_settings()
        self.recompute(debounce=True)

    @on(Input.Changed, "#volume")
    def _volume_typed(self, event: Input.Changed) -> None:
        if self._loading:
            return
        value = parse_count(event.value)
        event.input.set_class(value is None, "-invalid")
        if value is not None and value != self.settings.volume:
            self._changed(volume=value)

    @on(Input.Submitted, "#volume")
    @on(Input.Submitted, "#output-tokens")
    def _submitted(self, event: Input.Submitted) -> None:
        self.recompute()
        self.action_leave_field()

    def action_leave_field(self) -> None:
        """Hand the keys (v, c, b, e, m) back: typing in a field swallows them."""
        if isinstance(self.focused, Input):
            self.query_one("#costs-tabs", TabbedContent).query_one(Tabs).focus()

    @on(Input.Changed, "#output-tokens")
    def _output_typed(self, event: Input.Changed) -> None:
        if self._loading:
            return
        text = event.value.strip()
        value = None if not text else parse_count(text)
        invalid = bool(text) and value is None
        event.input.set_class(invalid, "-invalid")
        if not invalid and value != self.settings.output_tokens:
            self._changed(output_tokens=value)

    @on(Checkbox.Changed)
    def _toggled(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id not in ("cache", "batch"):
            return
        event.stop()
        key = "caching" if event.checkbox.id == "cache" else "batch"
        event.checkbox.label = f"{key} {'on' if event.value else 'off'}"
        if self._loading:
            return
        if getattr(self.settings, key) != event.value:
            self._changed(**{key: event.value})

    @on(Select.Changed, "#dataset")
    def _dataset_chosen(self, event: Select.Changed) -> None:
        if self._loading:
            return
        # "(none)" is a choice: no training cost, never a silent fall back to the first dataset
        value = "" if event.value is Select.NULL else str(event.value)
        if value != self.dataset:
            self.dataset = value
            self.save_settings()
            self.recompute(debounce=True)

    def action_focus_volume(self) -> None:
        self.query_one("#costs-tabs", TabbedContent).active = "ct-estimate"
        self.query_one("#volume", Input).focus()

    def action_focus_output(self) -> None:
        self.query_one("#costs-tabs", TabbedContent).active = "ct-estimate"
        self.query_one("#output-tokens", Input).focus()

    def action_preset(self, key: str) -> None:
        volume = VOLUME_PRESETS[key]
        self._loading = True
        self.query_one("#volume", Input).value = fmt_count(volume)
        self.call_after_refresh(self._done_loading)
        self._changed(volume=volume)

    def action_toggle(self, which: str) -> None:
        box = self.query_one(f"#{which}", Checkbox)
        box.value = not box.value  # Checkbox.Changed does the rest

    # --- computing ---------------------------------------------------------------------------

    def action_recompute(self) -> None:
        self.recompute()

    def action_next_tab(self) -> None:
        """Estimate → Evaluate → Verdict by key; focus goes to the tab bar (left/right go on),
        not to a field left behind in a hidden tab."""
        tabs = self.query_one("#costs-tabs", TabbedContent)
        order = ["ct-estimate", "ct-evaluate", "ct-verdict"]
        index = order.index(tabs.active) if tabs.active in order else -1
        tabs.active = order[(index + 1) % len(order)]
        tabs.query_one(Tabs).focus()

    def recompute(self, debounce: bool = False) -> None:
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        if debounce:
            self._debounce = self.set_timer(DEBOUNCE_SECONDS, self.recompute)
            return
        self.compute(self._prompt or "default", self.settings, self.dataset, self.eval_scope)

    def set_eval_scope(self, scope: str | None) -> None:
        """The Evaluate tab narrowed the held-out set (None: every test example)."""
        if scope != self.eval_scope:
            self.eval_scope = scope
            self.save_settings()
            self.recompute()

    @work(thread=True, exclusive=True, group="costs-compute", description="computing costs")
    def compute(
        self, prompt: str, settings: EstimateSettings, dataset: str | None, scope: str | None
    ) -> None:
        view = build_view(self.app, prompt, settings, dataset, scope)  # type: ignore[arg-type]
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show_view, view)

    def show_view(self, view: CostView) -> None:
        self.view = view
        if self.dataset is None and view.dataset is not None:
            self.dataset = view.dataset  # the default choice: not a user change to react to
        self._show_datasets(view)
        self._show_estimate(view)
        self._show_verdict(view)
        self.query_one(EvalPanel).show(view)

    def _show_datasets(self, view: CostView) -> None:
        """Refill the dataset choice only when the list changed (a refill posts Select.Changed)."""
        select = self.query_one("#dataset", Select)
        if view.datasets != self._dataset_names:
            self._dataset_names = list(view.datasets)
            self._loading = True
            select.set_options(plain_options(view.datasets))
            self.call_after_refresh(self._done_loading)
        wanted = view.dataset if view.dataset is not None else Select.NULL
        if select.value != wanted:
            self._loading = True
            select.value = wanted
            self.call_after_refresh(self._done_loading)

    def _show_estimate(self, view: CostView) -> None:
        est = view.estimate
        s = est.settings
        meta = Text(no_wrap=True, overflow="ellipsis")
        meta.append(f" prompt {view.prompt}", style="bold")
        meta.append(f"  prices as of {est.prices_as_of}", style="dim")
        self.query_one("#cost-meta", Static).update(meta)
        table = self.query_one("#cost-table", DataTable)
        table.clear()
        table.columns["per month"].label = Text(f"per {fmt_count(s.volume)}")
        # the model column takes what the terminal can spare (ids are long: ft:<base>:org::id)
        width = max(MODEL_WIDTH, min(60, self.size.width - 76))
        table.columns["model"].width = width
        for a in est.approaches:
            input_text = f"{a.input_tokens:,}"
            table.add_row(
                Text(a.approach),
                Text(short_model(a.display_model, width)),
                Text(input_text, justify="right"),
                Text(f"{a.output_tokens:,.0f}", justify="right"),
                _usd(a.per_request),
                _usd(a.per_n(s.volume)),
                _one_off(a.one_off) if a.approach == "fine-tuned" else Text("–", justify="right"),
                key=a.approach,
            )
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
        out_source = _output_sources(est)
        prefix = "/".join(
            f"{a.cacheable_prefix:,}"
            + (f" ({a.cached_tokens:,} cached)" if a.cached_tokens else "")
            for a in est.approaches
        )
        summary.append(
            f"\nOutput: {out_source or 'your figure'} · prefix {prefix} tok "
            f"(cache ≥{CACHE_MIN_PREFIX:,})",
            style="dim",
        )
        for note in est.notes:
            summary.append(f"\n⚠ {note}", style="yellow")
        self.query_one("#cost-summary", Static).update(summary)
        from workbench.ui.costs_chart import CostChart

        self.query_one(CostChart).show(est)

    def _show_verdict(self, view: CostView) -> None:
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

    # --- actions -----------------------------------------------------------------------------

    def action_evaluate(self) -> None:
        self.query_one("#costs-tabs", TabbedContent).active = "ct-evaluate"
        self.query_one(EvalPanel).start()

    def action_stop_eval(self) -> None:
        self.query_one(EvalPanel).action_stop()

    def action_export_markdown(self) -> None:
        from workbench.core.evaluate import verdict_markdown

        if self.view is None:
            self.notify("nothing computed yet", severity="warning")
            return
        text = verdict_markdown(
            self.view.verdict, title=f"Fine-tune or prompt-engineer? ({self.view.prompt})"
        )
        path = export_path(self.view.prompt, Path(self.app.db_path))  # type: ignore[attr-defined]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.notify(f"could not write the verdict to {path}: {exc.strerror}", severity="error")
            return
        self.notify(f"verdict written to {path}", title="Exported", timeout=8, markup=False)
        self.last_export = path


def export_path(prompt: str, db_path: Path) -> Path:
    """exports/verdict-<prompt>-<date>.md beside the database (not wherever the app started)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in prompt).strip("-") or "prompt"
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return db_path.parent / "exports" / f"verdict-{safe}-{stamp}.md"


def _two_lines(text: str, width: int) -> str:
    """A setup phrase in two short lines ('20 training examples; ~10 min–2 h to train')."""
    parts = text.split("; ", 1)
    if len(parts) == 1:
        parts = textwrap.wrap(text, width, max_lines=2, placeholder="…") or [""]
    parts = [p.replace(" training examples", " examples") if len(p) > width else p for p in parts]
    return "\n".join(p if len(p) <= width else p[: width - 1] + "…" for p in parts)


def _usd(value: float | None) -> Text:
    if value is None:
        return Text("no price", style="yellow", justify="right")
    return Text(fmt_usd(value), justify="right")


def _output_sources(est: Any) -> str:
    """Where each output figure comes from; named per approach when they differ."""
    sources: dict[str, list[str]] = {}
    for a in est.approaches:
        sources.setdefault(a.output_source or "your figure", []).append(a.approach)
    if len(sources) == 1:
        return next(iter(sources))
    return "; ".join(f"{'/'.join(names)}: {src}" for src, names in sources.items())


def _once(value: float | None) -> str:
    """The one-off line under the fine-tuned cost (fits the 13-column cell)."""
    return "? to train" if value is None else f"{fmt_usd(value)} once"


def _one_off(value: float | None) -> Text:
    """The training cost; "unknown" (7 columns, it fits) when there is no dataset or price."""
    if value is None:
        return Text("unknown", style="yellow", justify="right")
    return _usd(value)


def build_view(
    app: Any,
    prompt: str,
    settings: EstimateSettings,
    dataset: str | None,
    scope: str | None = None,
) -> CostView:
    """Read the store and compute estimate, eval results and verdict (runs in a thread).
    `dataset` (training cost): None = the first dataset, "" = none. `scope`: the held-out set."""
    from workbench.core.evaluation.scoring import disagreements
    from workbench.store import eval_estimate, evals
    from workbench.store.db import open_db
    from workbench.store.eval_plan import eval_name_for, held_out_counts
    from workbench.store.examples import list_datasets

    db = open_db(app.db_path)
    try:
        names = [d.name for d in list_datasets(db)]
        if dataset is None:
            chosen = names[0] if names else None
        else:
            chosen = dataset if dataset in names else None
        held_out = held_out_counts(db)
        if scope and scope not in held_out and scope not in names:
            scope = None  # a dataset since deleted: back to every test example, said in the select
        setup = eval_estimate.load_prompt_setup(
            db, prompt, default_model=app.config.profile.default_model
        )
        eval_name = eval_name_for(prompt, scope)
        groups = evals.list_groups(db, eval_name, limit=6)
        group = groups[0] if groups else None
        est, data = eval_estimate.estimate_from_store(
            db,
            setup,
            settings,
            dataset_name=chosen or None,
            overrides=app.config.prices,
            group=group,
            allow_none=True,
        )
        verdict = eval_estimate.verdict_from_store(
            db, setup, est, data, group, provider_kind=app.config.profile.kind
        )
        results = eval_estimate.group_results(db, group) if group else {}
        history = [(g.created_at, eval_estimate.group_results(db, g)) for g in groups[1:]]
        diffs: list[int] = []
        if group is not None:
            diffs = disagreements(
                {r.approach + r.model: evals.item_results(db, r.id) for r in group.runs}
            )
        test_items = sum(held_out.values()) if not scope else held_out.get(scope, 0)
        view = CostView(
            prompt, names, chosen, est, verdict, group, results, history, diffs, test_items
        )
        view.scope, view.held_out = scope, held_out
        return view
    finally:
        db.close()
