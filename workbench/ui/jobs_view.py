"""One job, whole: status and timeline, progress and ETA, the live loss chart, checkpoints, the
results file, the fine-tuned model, errors, and the event log (newest first). Rendered from a
`JobDetail` read from SQLite, so it looks the same after a restart as while watching."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.text import Text
from textual import getters
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import ProgressBar, Static

from workbench.app import WorkbenchApp
from workbench.core import jobs as cj

if TYPE_CHECKING:
    from workbench.config import Profile
    from workbench.ui.jobs_chart import LossChart

# Events shown in the log at once; older ones are counted (they stay in SQLite).
EVENT_LOG_LIMIT = 200
LEVEL_STYLES = {"info": "", "warn": "yellow", "warning": "yellow", "error": "bold red"}
STAGE_MARKS = {
    "done": ("●", "green"),
    "current": ("◉", "bold cyan"),
    "todo": ("○", "dim"),
    "failed": ("✗", "bold red"),
    "skipped": ("–", "dim"),
}


@dataclass
class JobDetail:
    """Everything the view shows for one job, read from the store in one go."""

    job: cj.Job
    statuses_seen: set[str] = field(default_factory=set)
    points: list[cj.MetricPoint] = field(default_factory=list)
    checkpoints: list[cj.JobCheckpoint] = field(default_factory=list)
    events: list[cj.JobEvent] = field(default_factory=list)  # newest first, at most the limit
    event_count: int = 0
    results: list[dict] = field(default_factory=list)
    cost: cj.CostSoFar | None = None
    watch_note: str = ""


def _header(detail: JobDetail) -> Text:
    """The first lines: which job, where it stands, and what needs attention."""
    job = detail.job
    text = Text()
    text.append(job.id, style="bold")
    text.append("  ")
    text.append(cj.status_label(job.status), style="bold")
    dataset = job.dataset_name or job.metadata.get("workbench_dataset")
    if dataset:
        text.append("  dataset ")
        text.append(dataset)
    if job.error_text:
        text.append("\nerror ", style="bold red")
        text.append(job.error_text, style="red")
    if job.fine_tuned_model:
        text.append("\nfine-tuned model ")
        text.append(job.fine_tuned_model, style="bold green")
        text.append("  (t: try it in the Prompt pane)", style="dim")
    if detail.watch_note:
        text.append("\n")
        text.append(detail.watch_note, style="yellow")
    return text


def _details(detail: JobDetail, now: float) -> Text:
    job = detail.job
    text = Text()
    text.append(f"base model {job.model}  method {job.method}")
    text.append(f"\ncreated {cj.format_timestamp(job.created_at)}")
    text.append(f"  elapsed {cj.format_duration(cj.elapsed_seconds(job, now))}")
    if detail.cost is not None:
        text.append(f"\ncost so far {detail.cost.describe()}")
        if detail.cost.usd is not None:
            text.append(" (estimate)" if detail.cost.estimated else " (billed tokens)", style="dim")
    if job.trained_tokens is not None:
        text.append(f"  trained tokens {job.trained_tokens:,}")
    if job.hyperparameters:
        hp = ", ".join(f"{k}={v}" for k, v in job.hyperparameters.items())
        text.append(f"\nhyperparameters {hp}", style="dim")
    if job.suffix or job.seed is not None:
        text.append(f"\nsuffix {job.suffix or '—'}  seed {job.seed}", style="dim")
    return text


def _timeline(detail: JobDetail) -> Text:
    text = Text()
    for i, stage in enumerate(cj.timeline(detail.job.status, detail.statuses_seen)):
        if i:
            text.append(" → ", style="dim")
        mark, style = STAGE_MARKS[stage.state]
        text.append(f"{mark} {stage.label}", style=style)
    return text


def _azure_deploy(profile: Profile, detail: JobDetail) -> Text | None:
    """On Azure a fine-tune answers only once deployed: say whether it is, and how to deploy it."""
    model = detail.job.fine_tuned_model
    if profile.kind != "azure" or not model:
        return None
    from workbench.providers import azure

    text = Text()
    name = azure.deployments(profile).get(model)
    if name:
        text.append(f"\ndeployed as {name}: the Prompt pane calls it", style="green")
    else:
        name = azure.suggested_deployment_name(model)
        text.append("\nnot deployed: Azure answers only through a deployment. Run ", style="yellow")
        text.append("(palette: Copy the Azure deploy command)", style="dim")
        text.append(f"\n  {azure.deploy_command(profile, model, name)}")
        text.append(f'\nthen add  deployments = {{ "{model}" = "{name}" }}  to the profile')
    for warning in azure.tier_warnings(profile):
        text.append(f"\n{warning}", style="dim")
    return text


def _checkpoints_off(profile: Profile) -> Text | None:
    """The checkpoints section on a provider without them: why it is empty."""
    from workbench.providers.capabilities import capabilities_for

    caps = capabilities_for(profile)
    if caps.has("checkpoints"):
        return None
    text = Text("checkpoints", style="bold")
    text.append(f"\n  {caps.why_not('checkpoints', profile.name)}", style="dim")
    return text


def _checkpoints(detail: JobDetail) -> Text:
    text = Text("checkpoints", style="bold")
    if not detail.checkpoints:
        text.append("  none yet (one per epoch, the last three are kept)", style="dim")
    for c in detail.checkpoints:
        text.append(f"\n step {c.step_number}  ")
        text.append(c.fine_tuned_model_checkpoint or c.id)
        metrics = "  ".join(
            f"{k.replace('_mean_token_accuracy', '_acc')}={v:.3f}"
            for k, v in c.metrics.items()
            if k != "step"
        )
        if metrics:
            text.append(f"\n   {metrics}", style="dim")
    return text


def _results(detail: JobDetail) -> Text:
    text = Text("results file", style="bold")
    if not detail.results:
        waiting = "" if detail.job.terminal else " (when the job succeeds)"
        text.append(f"  not fetched{waiting}", style="dim")
        return text
    last = detail.results[-1]
    text.append(f"  {len(detail.results)} steps (s: save as CSV); last: ")
    text.append(
        ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in last.items()),
        style="dim",
    )
    return text


def _events(detail: JobDetail) -> Text:
    text = Text(f"events ({detail.event_count}, newest first)", style="bold")
    for e in detail.events:
        text.append(f"\n{cj.format_timestamp(e.created_at)} ", style="dim")
        text.append(f"{e.level:<5} ", style=LEVEL_STYLES.get(e.level, "yellow"))
        text.append(e.message, style=LEVEL_STYLES.get(e.level, ""))
    hidden = detail.event_count - len(detail.events)
    if hidden > 0:
        text.append(f"\n… {hidden} older events stored (e: show more)", style="dim")
    return text


class JobView(VerticalScroll):
    """Shows a JobDetail; `show()` is cheap enough to call a few times a second."""

    app = getters.app(WorkbenchApp)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.detail: JobDetail | None = None
        self.accuracy = False
        # how many of the newest events the log shows; `e` shows EVENT_LOG_LIMIT more
        self.event_limit = EVENT_LOG_LIMIT

    def compose(self) -> ComposeResult:
        # plotext is imported with the first job view, not at app start (about 40 ms)
        from workbench.ui.jobs_chart import LossChart

        yield Static(Text("Select a job on the left, or press n to create one."), id="job-summary")
        yield Static("", id="job-timeline")
        yield ProgressBar(total=None, show_eta=False, id="job-progress")
        yield Static("", id="job-progress-text")
        yield LossChart(id="job-chart")
        yield Static("", id="job-details")
        yield Static("", id="job-checkpoints")
        yield Static("", id="job-results")
        yield Static("", id="job-events")

    def show(self, detail: JobDetail | None, *, chart: bool = True) -> None:
        self.detail = detail
        # no job: no empty chart frame, no spinning bar, no curves left from another job
        for name in ("#job-progress", "#job-chart"):
            self.query_one(name).display = detail is not None
        if detail is None:
            self.query_one("#job-summary", Static).update(
                Text("No job selected. Press n to create one from a dataset.")
            )
            for name in ("#job-timeline", "#job-progress-text", "#job-checkpoints", "#job-details"):
                self.query_one(name, Static).update("")
            for name in ("#job-results", "#job-events"):
                self.query_one(name, Static).update("")
            return
        now = time.time()
        header = _header(detail)
        deploy = _azure_deploy(self.app.config.profile, detail)
        if deploy is not None:  # on Azure, what it takes to call the model comes first
            header.append_text(deploy)
        self.query_one("#job-summary", Static).update(header)
        self.query_one("#job-details", Static).update(_details(detail, now))
        self.query_one("#job-timeline", Static).update(_timeline(detail))
        prog = cj.progress(detail.job, detail.points, now)
        bar = self.query_one("#job-progress", ProgressBar)
        if prog.total_steps:
            bar.update(total=prog.total_steps, progress=prog.step or 0)
        elif detail.job.terminal:
            bar.update(total=1, progress=1 if detail.job.status == "succeeded" else 0)
        else:
            bar.update(total=None)
        self.query_one("#job-progress-text", Static).update(
            Text(prog.describe() or "waiting for the first training step")
        )
        if chart:
            self._chart().show(detail.points, self.accuracy)
        self.query_one("#job-checkpoints", Static).update(
            _checkpoints_off(self.app.config.profile) or _checkpoints(detail)
        )
        self.query_one("#job-results", Static).update(_results(detail))
        self.query_one("#job-events", Static).update(_events(detail))

    def toggle_accuracy(self) -> None:
        self.accuracy = not self.accuracy
        if self.detail is not None:
            self._chart().show(self.detail.points, self.accuracy)

    def _chart(self) -> LossChart:
        from workbench.ui.jobs_chart import LossChart  # imported by compose() already

        return self.query_one(LossChart)
