"""The Evaluate tab: run the held-out test examples through each approach, compare the scores.

Small sets run concurrently in an async worker (bounded in-flight requests, a progress bar); with
"Batch API" ticked (or a set of BATCH_THRESHOLD+ items) they go through the provider's Batch API in
a thread worker that watches the batch like a job. Every answer is stored as it arrives, so a
stopped or crashed run keeps what it got.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, DataTable, Input, Label, ProgressBar, Select, Static
from textual.worker import get_current_worker

from workbench.core.display import plural
from workbench.core.evaluate import (
    SCORER_LABELS,
    Scorer,
    ScorerError,
    fmt_score,
    fmt_usd,
)

if TYPE_CHECKING:
    from workbench.ui.costs import CostView

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


def short_model(model: str, width: int) -> str:
    """A model id that fits `width`: the start and the distinctive end, joined by an ellipsis."""
    if len(model) <= width:
        return model
    if model.endswith(" (to train)"):
        return short_model(model.removesuffix(" (to train)"), width - 9) + " to train"
    head = (width - 1) * 2 // 3
    return model[:head] + "…" + model[-(width - 1 - head) :]


def scorer_from(kind: str, arg: str) -> Scorer:
    """A Scorer from the tab's two fields; ScorerError names what is wrong."""
    arg = arg.strip()
    if kind == "regex":
        return Scorer("regex", pattern=arg)
    if kind == "json_schema":
        try:
            schema = json.loads(arg) if arg else None
        except json.JSONDecodeError as exc:
            raise ScorerError(f"JSON schema: not JSON ({exc.msg} at column {exc.colno})") from exc
        return Scorer("json_schema", schema=schema)
    if kind == "numeric":
        try:
            tolerance = float(arg) if arg else 0.0
        except ValueError as exc:
            raise ScorerError(f"tolerance {arg!r} is not a number") from exc
        return Scorer("numeric", tolerance=tolerance)
    if kind == "judge":
        return Scorer("judge", judge_model=arg or None)
    return Scorer(kind)


class AnswersDialog(ModalScreen[None]):
    """Every approach's answer to one test item, side by side in plain text."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]

    def __init__(self, title: str, body: Text) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(id="answers-dialog"):
            yield Static(Text(self.title_text, style="bold"), id="answers-title")
            with VerticalScroll():
                yield Static(self.body, id="answers-body")
            yield Static(Text("escape: close", style="dim"))


class EvalPanel(Vertical):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view: CostView | None = None
        self._loading = False
        self.running = False
        self._user_stopped = False  # x pressed: do not resume watching batches by itself

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
        self.screen.save_settings(  # type: ignore[attr-defined]
            scorer={"kind": kind, "arg": arg},
            eval_batch=self.query_one("#eval-batch", Checkbox).value,
        )

    @on(Select.Changed, "#scorer")
    def _scorer_changed(self, event: Select.Changed) -> None:
        self.query_one("#scorer-arg", Input).placeholder = ARG_HINTS.get(str(event.value), "")
        self._save()

    @on(Input.Changed, "#scorer-arg")
    @on(Checkbox.Changed, "#eval-batch")
    def _arg_changed(self, event: Any) -> None:
        event.stop()
        self._save()

    # --- showing -------------------------------------------------------------------------------

    def show(self, view: CostView) -> None:
        self.view = view
        table = self.query_one("#eval-table", DataTable)
        table.clear()
        for label, r in view.results.items():
            table.add_row(
                Text(short_model(label, 14)),
                Text(fmt_score(r)),
                Text(_latency(r)),
                # nothing answered: nothing to price (not a missing price)
                Text("–" if r.n == 0 else fmt_usd(r.cost_per_request), justify="right"),
                Text(str(r.errors), style="red" if r.errors else "", justify="right"),
                key=label,
            )
        label = self.query_one("#eval-history-label", Static)
        label.update(
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
            if view.group is None:
                status.update(
                    Text(
                        f"{view.test_items} held-out test examples · e: run the evaluation",
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
        question = next(c for c in table.columns.values() if str(c.label) == "question")
        question.width = max(24, self.app.size.width - 44)  # the question takes the spare width
        if view.group is None:
            return
        db = self.app.db  # type: ignore[attr-defined]
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

        if self.view is None or self.view.group is None or event.row_key.value is None:
            return
        example_id = int(event.row_key.value)
        pairs = items_for_example(self.app.db, self.view.group.group_id, example_id)  # type: ignore[attr-defined]
        if not pairs:
            return
        body = Text()
        body.append("Question\n", style="bold")
        body.append(pairs[0][1].question + "\n\n")
        body.append("Expected\n", style="bold")
        body.append(pairs[0][1].expected + "\n")
        for run, item in pairs:
            mark, style = ("✓", "green") if item.passed else ("✗", "red")
            body.append(f"\n{mark} {run.approach} ({run.model})\n", style=f"bold {style}")
            body.append(item.answer or (item.error or ""))
            if item.detail:
                body.append(f"\n  {item.detail}", style="dim")
            body.append("\n")
        self.app.push_screen(AnswersDialog(f"Test item {example_id}", body))

    # --- running -------------------------------------------------------------------------------

    def start(self) -> None:
        if self.running:
            self.app.notify("an evaluation is already running (x stops it)", severity="warning")
            return
        kind = str(self.query_one("#scorer", Select).value)
        try:
            scorer = scorer_from(kind, self.query_one("#scorer-arg", Input).value)
        except ScorerError as exc:
            self.app.notify(str(exc), title="Scorer", severity="error")
            return
        screen: Any = self.screen
        batch = self.query_one("#eval-batch", Checkbox).value
        dataset = self.view.dataset if self.view is not None else screen.dataset
        self._user_stopped = False
        self.running = True
        self.run_eval(screen._prompt or "default", dataset, scorer, batch)

    def action_stop(self) -> None:
        self._user_stopped = True
        self.workers.cancel_group(self, "costs-eval")

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#eval-status", Static).update(Text(text, style=style))

    def _begin(self, total: int, mode: str) -> None:
        self.running = True
        bar = self.query_one("#eval-progress", ProgressBar)
        bar.update(total=total, progress=0)
        bar.display = True
        self._status(f"running {total} answers ({mode}) · x: stop")

    def _advance(self) -> None:
        self.query_one("#eval-progress", ProgressBar).advance(1)

    def _end(self, message: str, style: str = "") -> None:
        self.running = False
        self._status(message, style)
        self.screen.recompute()  # type: ignore[attr-defined]

    def worker_failed(self, worker: Any, error: BaseException | None) -> None:
        """An unexpected error (reported by the app's worker router) ends the run, not the panel."""
        from workbench.core.redact import redact_secrets

        self._end(redact_secrets(f"evaluation failed: {error}"), "red")

    @work(exclusive=True, group="costs-eval", exit_on_error=False, description="evaluation")
    async def run_eval(self, prompt: str, dataset: str | None, scorer: Scorer, batch: bool) -> None:
        from workbench.providers.evals import BATCH_THRESHOLD, EvalTarget, run_concurrently
        from workbench.providers.openai_api import explain_error, make_async_client
        from workbench.store import evals
        from workbench.store.examples import find_dataset

        app: Any = self.app
        db = app.db
        setup = evals.load_prompt_setup(db, prompt, default_model=app.config.profile.default_model)
        ds = find_dataset(db, dataset) if dataset else None
        cases = evals.eval_cases(db, ds.id if ds else ...)
        if not cases:
            self.running = False
            self._status(
                "no held-out test examples: mark some examples as 'test' in Training data",
                "yellow",
            )
            return
        if setup.ft_model == "" and not setup.examples:
            self.app.notify(
                "only zero-shot can run: pick few-shot examples or a fine-tuned model "
                "in the Prompt pane to compare",
                severity="warning",
            )
        if scorer.kind == "judge" and scorer.judge_model is None:
            scorer = Scorer("judge", judge_model=setup.model)
        use_batch = batch or len(cases) >= BATCH_THRESHOLD
        try:  # no key, no runs: a failed start must not hide the last real evaluation
            client = make_async_client(app.config.profile)
        except Exception as exc:
            self.running = False
            self._status(explain_error(exc).message, "red")
            return
        seed = random.randrange(1 << 30)
        scorer_json = {**scorer.to_json()}
        group, runs = evals.start_evaluation(
            db,
            setup,
            ds.name if ds else _first_dataset(db),
            cases,
            scorer_json,
            seed=seed,
            mode="batch" if use_batch else "concurrent",
        )
        targets = [EvalTarget(r.id, r.approach, r.model) for r in runs]
        if use_batch:
            await client.close()
            self.run_batch([r.id for r in runs], cases, evals.prompt_parts(setup), scorer, seed)
            return
        self._begin(len(cases) * len(targets), "concurrently")

        answered: dict[int, int] = {}  # run id -> items that got an answer
        first_error: dict[int, str] = {}

        def on_item(target: EvalTarget, case: Any, outcome: Any) -> None:
            evals.record_outcome(db, target.key, case, outcome)
            if outcome.error:
                first_error.setdefault(target.key, outcome.error)
            else:
                answered[target.key] = answered.get(target.key, 0) + 1
            self._advance()

        try:
            await run_concurrently(
                client,
                cases,
                targets,
                scorer,
                evals.prompt_parts(setup),
                on_item,
                seed=seed,
                overrides=app.config.prices,
            )
        except asyncio.CancelledError:
            for run in runs:
                evals.finish_run(db, run.id, "cancelled")
            self._end("stopped: the answers so far are kept", "yellow")
            raise
        finally:
            await client.close()
        for run in runs:
            if answered.get(run.id) or run.id not in first_error:
                evals.finish_run(db, run.id, "done")
            else:  # not one answer: say why rather than show a table of errors
                evals.finish_run(db, run.id, "failed", first_error[run.id])
        self._end(
            f"done: {plural(len(cases), 'item')} × {plural(len(targets), 'approach', 'approaches')}"
        )

    @work(thread=True, exclusive=True, group="costs-eval", exit_on_error=False, description="batch")
    def run_batch(
        self, run_ids: list[int], cases: list[Any], parts: Any, scorer: Scorer, seed: int
    ) -> None:
        """Submit a batch per run (unless it has one: a resumed watch), then watch and score each."""
        from workbench.providers.evals import (
            EvalTarget,
            collect_batch,
            submit_batch,
            wait_for_batch,
        )
        from workbench.providers.openai_api import explain_error, make_client
        from workbench.store import evals
        from workbench.store.db import open_db

        app: Any = self.app
        worker = get_current_worker()
        db = open_db(app.db_path)
        call = app.call_from_thread
        try:
            runs = [evals.get_run(db, run_id) for run_id in run_ids]
            call(self._begin, len(cases) * len(runs), "Batch API")
            client = make_client(app.config.profile)
            for run in runs:
                if not run.batch_id:
                    target = EvalTarget(run.id, run.approach, run.model)
                    run.batch_id = submit_batch(client, cases, target, parts)
                    evals.set_batch(db, run.id, run.batch_id)
            for run in runs:
                target = EvalTarget(run.id, run.approach, run.model)
                state = wait_for_batch(
                    client,
                    run.batch_id or "",
                    should_stop=lambda: worker.is_cancelled,
                    on_state=lambda s, r=run: call(
                        self._status,
                        f"{r.approach}: batch {s.status} {s.completed}/{s.total} · x: stop watching",
                    ),
                )
                if not state.done:
                    call(self._end, "stopped watching: the batches keep running at the provider")
                    return

                def on_item(t: Any, case: Any, outcome: Any) -> None:
                    evals.record_outcome(db, t.key, case, outcome)
                    call(self._advance)

                collect_batch(
                    client,
                    state,
                    cases,
                    target,
                    scorer,
                    on_item,
                    seed=seed,
                    overrides=app.config.prices,
                )
                status = "done" if state.status == "completed" else "failed"
                evals.finish_run(db, run.id, status, state.errors or None)
            call(
                self._end,
                f"done: {plural(len(cases), 'item')} × "
                f"{plural(len(runs), 'approach', 'approaches')} (Batch API)",
            )
        except Exception as exc:
            message = explain_error(exc).message
            for run_id in run_ids:
                if evals.get_run(db, run_id).status not in ("done", "failed"):
                    evals.finish_run(db, run_id, "failed", message)
            call(self._end, message, "red")
        finally:
            db.close()

    def resume_batches(self, view: CostView) -> None:
        """Watch again the batches of the latest evaluation (after a restart or a stop)."""
        from workbench.store import evals
        from workbench.store.examples import find_dataset

        if self.running or self._user_stopped or view.group is None:
            return
        waiting = [r for r in view.group.runs if r.status == "batch" and r.batch_id]
        if not waiting:
            return
        app: Any = self.app
        setup = evals.load_prompt_setup(
            app.db, view.prompt, default_model=app.config.profile.default_model
        )
        ds = find_dataset(app.db, view.dataset) if view.dataset else None
        cases = evals.eval_cases(app.db, ds.id if ds else ...)
        first = waiting[0]
        self.running = True
        self.run_batch(
            [r.id for r in waiting],
            cases,
            evals.prompt_parts(setup),
            Scorer.from_json(first.scorer),
            first.seed,
        )


def _latency(r: Any) -> str:
    if r.p50_ms is None:
        return "–"
    return f"{r.p50_ms / 1000:.2f}/{(r.p95_ms or r.p50_ms) / 1000:.2f}s"


def _first_dataset(db: Any) -> str | None:
    from workbench.store.examples import list_datasets

    datasets = list_datasets(db)
    return datasets[0].name if datasets else None
