"""One run in full: messages, answer, usage and error; re-run it with the same messages."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from workbench.store.runs import Run
from workbench.ui.prompt_preview import ROLE_STYLES
from workbench.ui.prompt_run import RunColumn, RunRequest, format_cost


def render_run(run: Run) -> Text:
    """The whole run as Text; prompt and answer text are literal, never markup."""
    text = Text()
    text.append(f"Run #{run.id}", style="bold")
    text.append(f"  {run.created_at[:19].replace('T', ' ')}  ", style="dim")
    text.append(f"{run.prompt_name} {run.version_label} · {run.approach} · {run.model}\n")
    if run.rerun_of:
        text.append(f"re-run of #{run.rerun_of}\n", style="dim")
    usage = (
        f"in {run.input_tokens} · out {run.output_tokens}"
        + (f" (cached {run.cached_tokens})" if run.cached_tokens else "")
        if run.input_tokens is not None
        else "no usage"
    )
    latency = f"{run.latency_ms / 1000:.2f}s" if run.latency_ms is not None else "-"
    cost = format_cost(run.cost_usd) if run.input_tokens is not None else "-"
    text.append(f"{latency} · {usage} · {cost}", style="bold")
    if run.params:
        shown = ", ".join(f"{k}={v}" for k, v in run.params.items() if v is not None)
        text.append(f"\nparameters: {shown}", style="dim")
    text.append("\n")
    if run.status != "ok":
        text.append(f"\n{run.status}: {run.error_message or run.error_kind or ''}\n", "bold red")
    text.append("\nMessages\n", style="bold underline")
    for message in run.messages:
        role = str(message.get("role", ""))
        text.append(role, style=ROLE_STYLES.get(role, "bold"))
        text.append("\n")
        content = message.get("content")
        text.append((content if isinstance(content, str) else str(content)) + "\n")
    text.append("\nAnswer", style="bold underline")
    if run.status != "ok" and run.answer:
        text.append(" (partial)", style="yellow")
    text.append("\n")
    text.append(run.answer or "(nothing came back)", style="" if run.answer else "dim")
    return text


class RunDetail(ModalScreen[int | None]):
    """Shows a run; ctrl+r re-runs it (same model, messages and parameters) into a column below.

    Dismisses with the id of the last new run, if any, so the list can show it.
    """

    BINDINGS = [
        Binding("escape", "close", "Close", id="history-detail-close"),
        Binding("ctrl+r", "rerun", "Re-run", id="history-rerun"),
    ]

    def __init__(self, run: Run) -> None:
        super().__init__(classes="history-detail")
        self.run_record = run
        self.new_run_id: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="detail-box"):
            with VerticalScroll(id="detail-scroll"):
                yield Static(render_run(self.run_record), id="detail-text")
            yield RunColumn(self.run_record.approach, id="rerun-column")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#rerun-column").display = False

    def action_rerun(self) -> None:
        run = self.run_record
        column = self.query_one(RunColumn)
        column.display = True
        column.start(
            RunRequest(
                prompt_name=run.prompt_name,
                approach=run.approach,
                model=run.model,
                messages=run.messages,
                params=run.params,
                version_id=run.version_id,
                version_number=run.version_number,
                rerun_of=run.id,
            )
        )

    def on_run_column_finished(self, event: RunColumn.Finished) -> None:
        self.new_run_id = event.run_id

    def action_close(self) -> None:
        column = self.query_one(RunColumn)
        if column.running:
            column.cancel()
            return
        self.dismiss(self.new_run_id)
