"""The Evaluate tab: run the held-out test examples through each approach, compare the scores.

The work is core.evaluation.engine.run_evaluation in a thread worker (concurrent requests, or the
Batch API when ticked or for BATCH_THRESHOLD+ items); this tab only starts it, shows its progress
and the results. Every answer is stored as it arrives, so a stopped or killed run keeps what it
got, and `e` goes on with it (only the missing items are asked).

The panel saves nothing itself: scorer and scope changes go up as messages, and `Finished` tells
the pane to read the store again. The pane hands down what to run (`start(prompt, scope)`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import getters, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Checkbox, DataTable, Input, Label, ProgressBar, Select, Static

from workbench.app import WorkbenchApp
from workbench.core.display import plural
from workbench.core.evaluation.formatting import fmt_score, fmt_usd
from workbench.core.evaluation.scoring import SCORER_LABELS, Scorer, ScorerError, scorer_from

if TYPE_CHECKING:
    from workbench.ui.costs_view import CostView

ARG_HINTS = {
    "exact": "(no setting)",
    "contains": "(no setting)",
    "regex": "regular expression",
    "json": "(no setting)",
    "json_schema": 'JSON schema, e.g. {"type": "object"}',
    "numeric": "tolerance, e.g. 0.5",
    "judge": "judge model (default: the prompt's)",
}
DISAGREEMENTS_SHOWN = 100
ALL_SCOPE = "__all__"  # the Select's value for "every test example, library and datasets"


def short_model(model: str, width: int) -> str:
    """A model id that fits `width`: the start and the distinctive end, joined by an ellipsis."""
    if len(model) <= width:
        return model
    if model.endswith(" (to train)"):
        return short_model(model.removesuffix(" (to train)"), width - 9) + " to train"
    head = (width - 1) * 2 // 3
    return model[:head] + "…" + model[-(width - 1 - head) :]


class EvalPanel(Vertical):
    """The Evaluate tab: scorer, held-out set, progress, scores, earlier runs, disagreements."""

    app = getters.app(WorkbenchApp)
    # an evaluation in progress (or batches being watched): what makes "Stop eval" (x) available
    running: reactive[bool] = reactive(False, bindings=True)

    @dataclass
    class SettingsChanged(Message):
        """The scorer or the Batch API box changed: saved with the pane's settings."""

        scorer: dict[str, str]
        eval_batch: bool

    @dataclass
    class ScopeChanged(Message):
        """Another held-out set chosen (None: every test example)."""

        scope: str | None

    class Finished(Message):
        """An evaluation ended (done, stopped or failed): its answers are in the store."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view: CostView | None = None
        self._loading = True  # until the pane loads the saved settings: no event is the user's
        self._outcome: Text | None = None
        self._user_stopped = False  # x pressed: do not resume watching batches by itself
        self._cancel = threading.Event()  # the running evaluation's stop signal
        self._filling_scope = False
        self._scope_options: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="eval-controls"):
            yield Label("Scorer", classes="cost-label")
            yield Select(
                [(label, kind) for kind, label in SCORER_LABELS.items()],
                id="scorer",
                value="exact",
                allow_blank=False,
                compact=True,
            )
            yield Input(placeholder=ARG_HINTS["exact"], id="scorer-arg", compact=True)
            yield Checkbox(
                "Batch API",
                id="eval-batch",
                compact=True,
                tooltip="Half price, asynchronous (up to 24 h)",
            )
        with Horizontal(id="eval-scope-row"):
            yield Label("Held-out set", classes="cost-label")
            yield Select(
                [("all test examples", ALL_SCOPE)],
                id="eval-scope",
                value=ALL_SCOPE,
                allow_blank=False,
                compact=True,
            )
        with Horizontal(id="eval-progress-row"):
            # hidden until an evaluation starts: with no total it pulses as if one were running
            bar = ProgressBar(id="eval-progress", show_eta=False)
            bar.display = False
            yield bar
            yield Static(id="eval-status", markup=False)
        yield DataTable(id="eval-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="eval-history-label", markup=False)
        yield DataTable(id="eval-history", cursor_type="row")
        yield Label("Disagreements: enter reads every approach's answer", classes="cost-label")
        yield DataTable(id="eval-diff", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one("#eval-table", DataTable)
        for label, width in (
            ("approach", 14),
            ("score [95% CI] n", 21),
            ("p50 / p95", 11),
            ("$/request", 9),
            ("errors", 6),
        ):
            table.add_column(label, width=width)
        self.query_one("#eval-history", DataTable).add_columns("earlier run", "scores")
        diff = self.query_one("#eval-diff", DataTable)
        diff.add_column("item", width=5)
        diff.add_column("question", width=36)
        diff.add_column("passed by", width=24)
        self.query_one("#eval-status", Static).update(
            Text("e: run the evaluation on your held-out test examples", style="dim")
        )

    # --- settings ------------------------------------------------------------------------------

    def load_settings(self, saved: dict[str, Any]) -> None:
        scorer = saved.get("scorer") or {}
        self._loading = True
        kind = scorer.get("kind", "exact")
        self.query_one("#scorer", Select).value = kind if kind in SCORER_LABELS else "exact"
        self.query_one("#scorer-arg", Input).value = str(scorer.get("arg", ""))
        self.query_one("#eval-batch", Checkbox).value = bool(saved.get("eval_batch", False))
        self.call_after_refresh(self._done_loading)

    def _done_loading(self) -> None:
        self._loading = False

    def _save(self) -> None:
        if self._loading:
            return
        kind = str(self.query_one("#scorer", Select).value)
        arg = self.query_one("#scorer-arg", Input).value
        batch = self.query_one("#eval-batch", Checkbox).value
        self.post_message(self.SettingsChanged({"kind": kind, "arg": arg}, batch))

    def toggle_batch(self) -> None:
        """Evaluate through the Batch API, or not (the box has no key: the palette offers it)."""
        box = self.query_one("#eval-batch", Checkbox)
        box.value = not box.value  # Checkbox.Changed saves it

    @on(Select.Changed, "#scorer")
    def _scorer_changed(self, event: Select.Changed) -> None:
        self.query_one("#scorer-arg", Input).placeholder = ARG_HINTS.get(str(event.value), "")
        self._save()

    @on(Input.Changed, "#scorer-arg")
    @on(Checkbox.Changed, "#eval-batch")
    def _arg_changed(self, event: Any) -> None:
        event.stop()
        self._save()

    @on(Select.Changed, "#eval-scope")
    def _scope_changed(self, event: Select.Changed) -> None:
        event.stop()
        if self._loading or self._filling_scope:
            return
        value = str(event.value)
        self.post_message(self.ScopeChanged(None if value == ALL_SCOPE else value))

    # --- showing -------------------------------------------------------------------------------

    def _show_scopes(self, view: CostView) -> None:
        """The held-out sets and how many test examples each holds."""
        from workbench.store.eval_plan import LIBRARY

        counts = view.held_out
        options = [(f"all test examples ({sum(counts.values())})", ALL_SCOPE)]
        options.append((f"library, outside datasets ({counts.get(LIBRARY, 0)})", LIBRARY))
        options += [(f"dataset {name} ({counts.get(name, 0)})", name) for name in view.datasets]
        select = self.query_one("#eval-scope", Select)
        wanted = view.scope or ALL_SCOPE
        if options != self._scope_options or select.value != wanted:
            self._filling_scope = True
            self._scope_options = options
            select.set_options(options)
            select.value = wanted
            self.call_after_refresh(self._scope_filled)

    def _scope_filled(self) -> None:
        self._filling_scope = False

    def show(self, view: CostView) -> None:
        from workbench.core.evaluation.verdict import measured_per_request

        self.view = view
        self._show_scopes(view)
        settings = view.estimate.settings
        table = self.query_one("#eval-table", DataTable)
        table.clear()
        for label, r in view.results.items():
            # the verdict's figure: this evaluation's answers, hourly terms included
            cost = measured_per_request(r, settings.terms, settings.volume)
            table.add_row(
                Text(short_model(label, 14)),
                Text(fmt_score(r)),
                Text(_latency(r)),
                # nothing answered: nothing to price (not a missing price)
                Text("–" if r.n == 0 else fmt_usd(cost), justify="right"),
                Text(str(r.errors), style="red" if r.errors else "", justify="right"),
                key=label,
            )
        self.query_one("#eval-history-label", Static).update(
            Text(
                f"Earlier runs of this eval ({len(view.history)})"
                if view.history
                else "No earlier runs of this eval to compare with",
                style="dim",
            )
        )
        history = self.query_one("#eval-history", DataTable)
        history.clear()
        for when, results in view.history:
            scores = "  ".join(
                f"{name} {r.score:.2f}" if r.score is not None else f"{name} –"
                for name, r in results.items()
            )
            history.add_row(Text(when[:16].replace("T", " ")), Text(scores))
        self._show_disagreements(view)
        self.resume_batches(view)
        if not self.running:
            status = self.query_one("#eval-status", Static)
            from workbench.store.eval_plan import scope_words

            outcome, self._outcome = self._outcome, None
            if outcome is not None:  # how the evaluation just ended outlives the refresh it causes
                status.update(outcome)
            elif view.group is None:
                status.update(
                    Text(
                        f"{view.test_items} held-out test examples ({scope_words(view.scope)}) "
                        "· e: run the evaluation",
                        style="dim" if view.test_items else "yellow",
                    )
                )
            else:
                batch = [r for r in view.group.runs if r.status == "batch"]
                note = f" · {len(batch)} batch(es) still running" if batch else ""
                text = Text(
                    f"last run {view.group.created_at[:16].replace('T', ' ')} · "
                    f"{plural(len(view.disagreements), 'disagreement')}{note} · e: run again",
                    style="dim",
                )
                failed = [r for r in view.group.runs if r.status == "failed" and r.error]
                if failed:
                    names = ", ".join(r.approach for r in failed)
                    text.append(f"\n{names}: no answer at all: {failed[0].error}", style="red")
                status.update(text)

    def _show_disagreements(self, view: CostView) -> None:
        from workbench.store.evals import items_for_example

        table = self.query_one("#eval-diff", DataTable)
        table.clear()
        question_column = next(c for c in table.columns.values() if str(c.label) == "question")
        question_column.width = max(24, self.app.size.width - 44)  # it takes the spare width
        if view.group is None:
            return
        db = self.app.db
        for example_id in view.disagreements[:DISAGREEMENTS_SHOWN]:
            pairs = items_for_example(db, view.group.group_id, example_id)
            if not pairs:
                continue
            question = pairs[0][1].question.replace("\n", " ")
            passed = ", ".join(run.approach for run, item in pairs if item.passed) or "none"
            table.add_row(
                Text(str(example_id)),
                Text(question, overflow="ellipsis"),
                Text(passed),
                key=str(example_id),
            )

    @on(DataTable.RowSelected, "#eval-diff")
    def _read_item(self, event: DataTable.RowSelected) -> None:
        from workbench.store.evals import items_for_example
        from workbench.ui.costs_answers import AnswersDialog, answers_text

        if self.view is None or self.view.group is None or event.row_key.value is None:
            return
        example_id = int(event.row_key.value)
        pairs = items_for_example(self.app.db, self.view.group.group_id, example_id)
        if not pairs:
            return
        self.app.push_screen(AnswersDialog(f"Test item {example_id}", answers_text(pairs)))

    # --- running: core.evaluation.engine does the work; this starts it and shows progress ----

    def start(self, prompt: str, scope: str | None) -> None:
        """Run (or go on with) the evaluation of `prompt` on the held-out set `scope`."""
        if self.running:
            self.app.notify("an evaluation is already running (x stops it)", severity="warning")
            return
        kind = str(self.query_one("#scorer", Select).value)
        try:
            scorer = scorer_from(kind, self.query_one("#scorer-arg", Input).value)
        except ScorerError as exc:
            self.app.notify(str(exc), title="Scorer", severity="error")
            return
        batch = self.query_one("#eval-batch", Checkbox).value
        self._user_stopped = False
        self._begin(0, "starting")
        self.run_eval(prompt, scope, scorer, batch, resume=True)

    def action_stop(self) -> None:
        self._user_stopped = True
        self._cancel.set()

    def reset_after_failure(self, message: str = "") -> None:
        """A worker died: never leave the panel "running" (the app's worker router calls this)."""
        self._cancel.set()
        self._end(
            message or "the evaluation stopped with an error: the answers so far are kept", "red"
        )

    def worker_failed(self, worker: Any, error: BaseException | None) -> None:
        """The app's worker router calls this when the evaluation worker dies: reset the panel."""
        from workbench.core.redact import redact_secrets

        self.reset_after_failure(redact_secrets(f"the evaluation stopped: {error}"))

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#eval-status", Static).update(Text(text, style=style))

    def _begin(self, total: int, mode: str) -> None:
        self.running = True
        bar = self.query_one("#eval-progress", ProgressBar)
        bar.update(total=total or None, progress=0)
        bar.display = True
        self._status(f"running {total} answers ({mode}) · x: stop" if total else "starting…")

    def _progress(self, done: int, total: int) -> None:
        self.query_one("#eval-progress", ProgressBar).update(total=total, progress=done)

    def _end(self, message: str, style: str = "") -> None:
        self.running = False
        self.query_one("#eval-progress", ProgressBar).display = False
        self._status(message, style)
        self._outcome = Text(message, style=style)
        self.post_message(self.Finished())

    @work(
        thread=True,
        exclusive=True,
        group="costs-eval",
        exit_on_error=False,
        description="evaluation",
    )
    def run_eval(
        self, prompt: str, scope: str | None, scorer: Scorer, batch: bool, *, resume: bool
    ) -> None:
        """Plan from the store, run core.evaluation.engine.run_evaluation, report as it goes."""
        from workbench.core.evaluation.engine import BATCH_THRESHOLD, run_evaluation
        from workbench.core.provider_pricing import terms_for
        from workbench.providers.evals import SdkBatches, sdk_chat
        from workbench.providers.openai_api import explain_error, make_client
        from workbench.store import evals
        from workbench.store.db import open_db
        from workbench.store.eval_plan import plan_from_store

        app = self.app
        call = app.call_from_thread
        self._cancel = cancel = threading.Event()
        db = open_db(app.db_path)
        try:
            try:
                plan = plan_from_store(
                    db,
                    prompt,
                    scorer=scorer,
                    terms=terms_for(app.config.profile, app.config.prices),
                    scope=scope,
                    default_model=app.config.profile.default_model,
                    resume=resume,
                    profile=app.config.profile.name,
                )
            except (KeyError, ValueError) as exc:
                call(self._end, str(exc).strip("'\""), "yellow")
                return
            if not plan.cases:
                call(
                    self._end,
                    f"no held-out test examples in {plan.scope}: mark some examples as 'test' "
                    "(Examples: p promotes, Training data: s splits)",
                    "yellow",
                )
                return
            if len(plan.approaches) == 1:
                call(
                    app.notify,
                    "only zero-shot can run: pick few-shot examples or a fine-tuned model "
                    "in the Prompt pane to compare",
                    severity="warning",
                )
            group = evals.list_groups(db, plan.eval_name, limit=1)
            batch_out = plan.group_id and group and any(r.batch_id for r in group[0].runs)
            use_batch = batch or batch_out or len(plan.cases) >= BATCH_THRESHOLD
            try:  # no key: say so, and keep the last real evaluation on screen
                client = make_client(app.config.profile)
            except Exception as exc:  # noqa: BLE001
                call(self._end, explain_error(exc).message, "red")
                return
            mode = "Batch API" if use_batch else "concurrently"
            call(self._begin, len(plan.cases) * len(plan.approaches), mode)
            summary = run_evaluation(
                evals.EvalLedger(db),
                sdk_chat(client),
                plan,
                batch=SdkBatches(client) if use_batch else None,
                progress=lambda done, total: call(self._progress, done, total),
                cancel=cancel,
                status=lambda text: call(self._status, f"{text} · x: stop watching"),
            )
            failed = [
                r
                for r in evals.list_runs(db, group_id=summary.group_id, limit=None)
                if r.status == "failed"
            ]
        finally:
            db.close()
        if summary.cancelled:
            note = " (batches keep running at the provider)" if use_batch else ""
            call(self._end, f"stopped: the answers so far are kept{note} · e: go on", "yellow")
            return
        text = f"done: {len(plan.cases)} items × {len(plan.approaches)} approaches ({mode})"
        if summary.asked < len(plan.cases) * len(plan.approaches):
            text += f", {summary.asked} asked now (the rest were already answered)"
        if failed:  # not one answer: say why rather than show a table of errors
            names = ", ".join(r.approach for r in failed)
            call(self._end, f"{text}\n{names}: no answer at all: {failed[0].error}", "red")
            return
        call(self._end, text)

    def resume_batches(self, view: CostView) -> None:
        """Watch again the batches of the latest evaluation (after a restart or a stop)."""
        if self.running or self._user_stopped or view.group is None:
            return
        waiting = [r for r in view.group.runs if r.status == "batch" and r.batch_id]
        if not waiting:
            return
        self._begin(0, "Batch API")
        # the view's scope: the one its evaluation group was read for
        self.run_eval(
            view.prompt, view.scope, Scorer.from_json(waiting[0].scorer), True, resume=True
        )


def _latency(r: Any) -> str:
    if r.p50_ms is None:
        return "–"
    return f"{r.p50_ms / 1000:.2f}/{(r.p95_ms or r.p50_ms) / 1000:.2f}s"
