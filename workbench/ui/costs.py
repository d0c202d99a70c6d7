"""The Costs pane: what each approach costs on your prompt, what it scores on your test set, and
the verdict ("fine-tune or prompt-engineer?") computed from both.

Three tabs. Estimate (ui/costs_estimate.py): the cost table per approach, editable volume and
output length, caching and Batch toggles, and the cumulative cost chart with the break-even.
Evaluate (ui/costs_eval.py): run the held-out test examples through each approach and compare
scores, latency and cost. Verdict (ui/costs_verdict.py): the table and the recommendation,
exportable as Markdown (ui/costs_export.py).

This screen holds the settings, saved per prompt: the tabs post what the user changed, and
everything is recomputed from the store (ui/costs_view.py) when the pane is shown and when a
setting changes (debounced, in a thread worker that opens its own connection).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import Input, TabbedContent, TabPane, Tabs
from textual.worker import get_current_worker

from workbench.core.estimate import DEFAULT_VOLUME, EstimateSettings
from workbench.ui.costs_estimate import EstimateTab
from workbench.ui.costs_eval import EvalPanel
from workbench.ui.costs_verdict import VerdictTab
from workbench.ui.costs_view import CostView, build_view
from workbench.ui.pane import PaneScreen

DEBOUNCE_SECONDS = 0.3
VOLUME_PRESETS = {"1": 1_000, "2": 100_000, "3": 1_000_000}
TABS = ("ct-estimate", "ct-evaluate", "ct-verdict")


class CostsScreen(PaneScreen):
    PANE = "costs"

    BINDINGS = [
        Binding("v", "focus_volume", "Volume", show=False, tooltip="Edit the requests per month"),
        Binding("1", "preset('1')", "1k/mo", show=False, tooltip="Price 1,000 requests a month"),
        Binding(
            "2", "preset('2')", "100k/mo", show=False, tooltip="Price 100,000 requests a month"
        ),
        Binding(
            "3", "preset('3')", "1M/mo", show=False, tooltip="Price 1,000,000 requests a month"
        ),
        Binding(
            "o",
            "focus_output",
            "Output tokens",
            show=False,
            tooltip="Edit the expected output tokens per request (empty: measured)",
        ),
        Binding(
            "c",
            "toggle_setting('cache')",
            "Caching",
            tooltip="Prompt caching: cached-rate prefixes of 1024+ tokens",
        ),
        Binding(
            "b",
            "toggle_setting('batch')",
            "Batch",
            tooltip="Batch API prices: 50% off, asynchronous",
        ),
        Binding(
            "e",
            "evaluate",
            "Evaluate",
            tooltip="Score every approach on the held-out test examples",
        ),
        Binding(
            "m",
            "export_markdown",
            "Export .md",
            tooltip="Write the estimate and verdict as Markdown",
        ),
        Binding(
            "ctrl+t", "next_tab", "Tabs", id="costs-next-tab", tooltip="Estimate, Evaluate, Verdict"
        ),
        Binding(
            "x",
            "stop_eval",
            "Stop eval",
            show=False,
            tooltip="Stop the running evaluation (the answers so far are kept)",
        ),
        Binding(
            "r",
            "recompute",
            "Recompute",
            show=False,
            tooltip="Read the store again and recompute every figure",
        ),
        Binding("escape", "leave_field", "Leave field", show=False),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.view: CostView | None = None
        self.settings = EstimateSettings()
        self.dataset: str | None = None  # None: never chosen (the first); "": chosen "(none)"
        self.eval_scope: str | None = None  # the held-out set the Evaluate tab runs
        self.last_export: Path | None = None
        self._prompt = ""
        self._debounce: Timer | None = None

    # --- layout ------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="costs-tabs", initial="ct-estimate"):
            yield EstimateTab("Estimate", id="ct-estimate")
            with TabPane("Evaluate", id="ct-evaluate"):
                yield EvalPanel(id="eval-panel")
            yield VerdictTab("Verdict", id="ct-verdict")

    def on_resize(self) -> None:
        if self.view is not None:
            self.query_one(EstimateTab).show(self.view)  # the model column follows the width

    def on_screen_resume(self) -> None:
        prompt = self.app.active_prompt or "default"
        if prompt != self._prompt:
            self._prompt = prompt
            self._load_settings(prompt)
        self.recompute()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """x (and its palette entry) only while an evaluation runs."""
        if action == "stop_eval":
            panel = self.query_one_optional(EvalPanel)
            return panel is not None and panel.running
        return True

    def palette_extras(self) -> Iterable[SystemCommand]:
        yield SystemCommand(
            f"{self.palette_prefix()}: Batch API for evaluations",
            "Tick or untick the Evaluate tab's 'Batch API' box (half price, up to 24 h)",
            self.action_toggle_eval_batch,
        )

    # --- settings ----------------------------------------------------------------------------

    def _load_settings(self, prompt: str) -> None:
        from workbench.core.provider_pricing import terms_for
        from workbench.store.evals import get_cost_settings

        saved = get_cost_settings(self.app.db, prompt)
        self.settings = EstimateSettings(
            volume=int(saved.get("volume", DEFAULT_VOLUME)),
            output_tokens=saved.get("output_tokens"),
            caching=bool(saved.get("caching", False)),
            batch=bool(saved.get("batch", False)),
            terms=terms_for(self.app.config.profile),
        )
        self.dataset = saved.get("dataset")
        self.eval_scope = saved.get("eval_scope") or None
        self.query_one(EstimateTab).load_settings(self.settings)
        self.query_one(EvalPanel).load_settings(saved)

    def save_settings(self, **extra: Any) -> None:
        from workbench.store.evals import get_cost_settings, save_cost_settings

        db = self.app.db
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
        """Apply the settings that differ from the current ones; save and recompute if any."""
        changes = {k: v for k, v in changes.items() if getattr(self.settings, k) != v}
        if not changes:
            return
        self.settings = replace(self.settings, **changes)
        self.save_settings()
        self.recompute(debounce=True)

    @on(EstimateTab.SettingsChanged)
    def _estimate_settings_changed(self, event: EstimateTab.SettingsChanged) -> None:
        self._changed(**event.changes)

    @on(EstimateTab.DatasetChosen)
    def _dataset_chosen(self, event: EstimateTab.DatasetChosen) -> None:
        if event.dataset != self.dataset:
            self.dataset = event.dataset
            self.save_settings()
            self.recompute(debounce=True)

    @on(EvalPanel.SettingsChanged)
    def _eval_settings_changed(self, event: EvalPanel.SettingsChanged) -> None:
        self.save_settings(scorer=event.scorer, eval_batch=event.eval_batch)

    @on(EvalPanel.ScopeChanged)
    def _eval_scope_changed(self, event: EvalPanel.ScopeChanged) -> None:
        """The Evaluate tab narrowed the held-out set (None: every test example)."""
        if event.scope != self.eval_scope:
            self.eval_scope = event.scope
            self.save_settings()
            self.recompute()

    @on(EvalPanel.Finished)
    def _eval_finished(self, event: EvalPanel.Finished) -> None:
        self.recompute()  # the new answers change the scores and the verdict

    @on(Input.Submitted, "#volume")
    @on(Input.Submitted, "#output-tokens")
    def _submitted(self, event: Input.Submitted) -> None:
        self.recompute()
        self.action_leave_field()

    def action_leave_field(self) -> None:
        """Hand the keys (v, c, b, e, m) back: typing in a field swallows them."""
        if isinstance(self.focused, Input):
            self.query_one("#costs-tabs", TabbedContent).query_one(Tabs).focus()

    def action_focus_volume(self) -> None:
        self.query_one("#costs-tabs", TabbedContent).active = "ct-estimate"
        self.query_one(EstimateTab).focus_field("volume")

    def action_focus_output(self) -> None:
        self.query_one("#costs-tabs", TabbedContent).active = "ct-estimate"
        self.query_one(EstimateTab).focus_field("output-tokens")

    def action_preset(self, key: str) -> None:
        volume = VOLUME_PRESETS[key]
        self.query_one(EstimateTab).show_volume(volume)
        self._changed(volume=volume)

    def action_toggle_setting(self, which: str) -> None:
        self.query_one(EstimateTab).toggle(which)

    def action_toggle_eval_batch(self) -> None:
        self.query_one(EvalPanel).toggle_batch()

    # --- computing ---------------------------------------------------------------------------

    def action_recompute(self) -> None:
        self.recompute()

    def action_next_tab(self) -> None:
        """Estimate → Evaluate → Verdict by key; focus goes to the tab bar (left/right go on),
        not to a field left behind in a hidden tab."""
        tabs = self.query_one("#costs-tabs", TabbedContent)
        index = TABS.index(tabs.active) if tabs.active in TABS else -1
        tabs.active = TABS[(index + 1) % len(TABS)]
        tabs.query_one(Tabs).focus()

    def recompute(self, debounce: bool = False) -> None:
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        if debounce:
            self._debounce = self.set_timer(DEBOUNCE_SECONDS, self.recompute)
            return
        self.compute(self._prompt or "default", self.settings, self.dataset, self.eval_scope)

    @work(thread=True, exclusive=True, group="costs-compute", description="computing costs")
    def compute(
        self, prompt: str, settings: EstimateSettings, dataset: str | None, scope: str | None
    ) -> None:
        app = self.app
        view = build_view(app.db_path, app.config, prompt, settings, dataset, scope)
        if not get_current_worker().is_cancelled:
            app.call_from_thread(self.show_view, view)

    def show_view(self, view: CostView) -> None:
        self.view = view
        if self.dataset is None and view.dataset is not None:
            self.dataset = view.dataset  # the default choice: not a user change to react to
        self.query_one(EstimateTab).show(view)
        self.query_one(VerdictTab).show(view)
        self.query_one(EvalPanel).show(view)

    # --- actions -----------------------------------------------------------------------------

    def action_evaluate(self) -> None:
        self.query_one("#costs-tabs", TabbedContent).active = "ct-evaluate"
        self.query_one(EvalPanel).start(self._prompt or "default", self.eval_scope)

    def action_stop_eval(self) -> None:
        self.query_one(EvalPanel).action_stop()

    def action_export_markdown(self) -> None:
        from workbench.ui.costs_export import export_path, write_verdict

        if self.view is None:
            self.notify("nothing computed yet", severity="warning")
            return
        path = export_path(self.view.prompt, self.app.db_path)
        try:
            write_verdict(self.view, path)
        except OSError as exc:
            self.notify(f"could not write the verdict to {path}: {exc.strerror}", severity="error")
            return
        self.notify(f"verdict written to {path}", title="Exported", timeout=8, markup=False)
        self.last_export = path
