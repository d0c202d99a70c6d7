"""A run column: streams one approach's answer, then shows latency, tokens and cost.

Each column runs its own exclusive async worker (a new run in the same column cancels the old
one); escape cancels. Whatever happens, the run is recorded: a failure or a cancel keeps the text
streamed so far and says why in plain words.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import getters, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from workbench.app import WorkbenchApp
from workbench.core.prompts import APPROACH_LABELS


@dataclass(frozen=True)
class RunRequest:
    """Everything needed to send (and record) one run."""

    prompt_name: str
    approach: str
    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    version_id: int | None = None
    version_number: int | None = None
    rerun_of: int | None = None


def format_cost(cost: float | None) -> str:
    if cost is None:
        return "no price"
    if cost == 0:
        return "$0"
    return f"${cost:.6f}" if cost < 0.01 else f"${cost:.4f}"


def format_stats(
    latency_ms: int | None,
    input_tokens: int | None,
    output_tokens: int | None,
    cost: float | None,
    has_usage: bool,
) -> str:
    parts = []
    if latency_ms is not None:
        parts.append(f"{latency_ms / 1000:.2f}s")
    if has_usage:
        parts.append(f"in {input_tokens} · out {output_tokens}")
        parts.append(format_cost(cost))
    else:
        parts.append("no usage")
    return " · ".join(parts)


class RunColumn(Vertical):
    """One approach's answer as it streams in."""

    app = getters.app(WorkbenchApp)

    @dataclass
    class Finished(Message):
        column: RunColumn
        run_id: int
        status: str

        @property
        def control(self) -> RunColumn:
            return self.column

    def __init__(self, approach: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.approach = approach
        self.answer = ""
        self.running = False
        self.last_run_id: int | None = None
        self.status = ""
        self.notices: list[str] = []  # retry waits shown while the SDK retried

    def compose(self) -> ComposeResult:
        yield Static(
            Text(APPROACH_LABELS.get(self.approach, self.approach), style="bold"),
            classes="run-title",
        )
        with VerticalScroll(classes="run-answer-box"):
            yield Static(Text(""), classes="run-answer")
        # provider messages run long (a 429 is five lines in a narrow column): scroll, never clip
        with VerticalScroll(classes="run-problem-box") as box:
            box.can_focus = False
            yield Static(Text(""), classes="run-problem")
        yield Static(Text("not run yet", style="dim"), classes="run-stats")

    # --- what the screen calls -----------------------------------------------------------------

    def show_problem(self, message: str) -> None:
        """A problem found before sending (no model, missing variables): nothing is recorded."""
        self.query_one(".run-problem", Static).update(Text(message, style="bold red"))
        self.query_one(".run-stats", Static).update(Text("not run", style="dim"))
        self.query_one(".run-answer", Static).update(Text(""))

    def start(self, request: RunRequest) -> None:
        self.answer = ""
        self.notices = []
        self.status = "running"
        self.running = True
        self.query_one(".run-title", Static).update(self._title(request.model))
        self.query_one(".run-answer", Static).update(Text(""))
        self.query_one(".run-problem", Static).update(Text(""))
        self.query_one(".run-stats", Static).update(Text(self._sending_note(), style="dim"))
        self._stream(request)

    def _sending_note(self) -> str:
        """'sending…', plus why the answer will arrive whole on a host that cannot stream."""
        from workbench.providers.capabilities import capabilities_for

        profile = self.app.config.profile
        caps = capabilities_for(profile)
        if caps.has("streaming"):
            return "sending…"
        return f"sending… (the answer arrives whole: {caps.why_not('streaming', profile.name)})"

    def cancel(self) -> None:
        for worker in self.workers:
            worker.cancel()

    def _title(self, model: str) -> Text:
        text = Text(APPROACH_LABELS.get(self.approach, self.approach), style="bold")
        text.append(f" · {model}", style="dim")
        return text

    # --- the worker -----------------------------------------------------------------------------

    def _on_retry(self, wait: float | None, status: int) -> None:
        what = "rate limited (429)" if status == 429 else f"provider error ({status})"
        when = f"retrying in {wait:g}s" if wait is not None else "retrying"
        notice = f"{what}: {when} (the SDK's retry policy)…"
        self.notices.append(notice)
        self.query_one(".run-stats", Static).update(Text(notice, style="yellow"))

    @work(exclusive=True, exit_on_error=False, group="run", description="streaming an answer")
    async def _stream(self, request: RunRequest) -> None:
        from workbench.providers.chat import ChatFailed, Delta, make_chat_client, stream_chat
        from workbench.providers.openai_api import explain_error

        profile = self.app.config.profile
        answer_widget = self.query_one(".run-answer", Static)
        answer_box = self.query_one(".run-answer-box", VerticalScroll)
        started = time.monotonic()
        usage = None
        problem = None
        status = "ok"
        try:
            try:
                client = make_chat_client(profile, on_retry=self._on_retry)
            except Exception as exc:  # missing key
                raise ChatFailed(explain_error(exc, profile)) from exc
            try:
                async for event in stream_chat(
                    client,
                    model=request.model,
                    messages=request.messages,
                    params=request.params,
                    profile=profile,
                ):
                    if isinstance(event, Delta):
                        self.answer += event.text
                        answer_widget.update(Text(self.answer))
                        answer_box.scroll_end(animate=False)
                    else:
                        usage = event
            finally:
                await client.close()
        except ChatFailed as exc:
            problem = exc.problem
            status = "error"
        except asyncio.CancelledError:
            status = "cancelled"
            self._finish(request, started, usage, None, status)
            raise
        self._finish(request, started, usage, problem, status)

    def _finish(self, request: RunRequest, started: float, usage, problem, status: str) -> None:
        from workbench.store.runs import record_run

        app = self.app
        latency_ms = round((time.monotonic() - started) * 1000)
        cost = None
        if usage is not None and (usage.input_tokens or usage.output_tokens):
            cost = _cost(app, request.model, usage)
        run = record_run(
            app.db,
            prompt_name=request.prompt_name,
            approach=request.approach,
            model=request.model,
            messages=request.messages,
            params=request.params,
            answer=self.answer,
            status=status,
            version_id=request.version_id,
            version_number=request.version_number,
            input_tokens=usage.input_tokens if usage else None,
            output_tokens=usage.output_tokens if usage else None,
            cached_tokens=usage.cached_tokens if usage else None,
            latency_ms=latency_ms,
            cost_usd=cost,
            error_kind=problem.kind
            if problem
            else ("cancelled" if status == "cancelled" else None),
            error_message=problem.message if problem else None,
            rerun_of=request.rerun_of,
            profile=app.config.profile.name,
        )
        self.running = False
        self.status = status
        self.last_run_id = run.id
        stats = format_stats(
            latency_ms,
            run.input_tokens,
            run.output_tokens,
            cost,
            usage is not None,
        )
        self.query_one(".run-stats", Static).update(Text(f"run #{run.id} · {stats}", style="dim"))
        if problem is not None:
            kept = " (the text so far is kept)" if self.answer else ""
            self.query_one(".run-problem", Static).update(
                Text(problem.message + kept, style="bold red")
            )
        elif usage is not None and usage.finish_reason == "length":
            self.query_one(".run-problem", Static).update(
                Text("cut off at the max tokens limit (Model tab)", style="yellow")
            )
        elif status == "cancelled":
            self.query_one(".run-problem", Static).update(
                Text("cancelled (the text so far is kept)", style="yellow")
            )
        self.post_message(self.Finished(self, run.id, status))


def _cost(app: WorkbenchApp, model: str, usage) -> float | None:
    """The run's price: core.pricing.request_cost on the profile's terms."""
    from workbench.core.pricing import request_cost
    from workbench.core.provider_pricing import terms_for

    terms = terms_for(app.config.profile, app.config.prices or None)
    try:
        return request_cost(
            terms,
            model,
            usage.input_tokens,
            usage.output_tokens,
            cached_input=usage.cached_tokens or 0,
        )
    except Exception:
        return None
