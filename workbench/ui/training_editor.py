"""The example editor: a form (one block per turn) and the raw JSON, validated as you type.

Every change is checked by the validator after a short pause and written to the store at once
(`store.examples.update_example`), with its token count and problems cached on the row. A line that
is not JSON yet is saved as raw text, so nothing typed is ever lost.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import (
    Button,
    Footer,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)

from workbench.core.dataset import Problem
from workbench.core.dataset_io import dumps_line, parse_text, problems_from_dicts
from workbench.store import dataset_checks as checks
from workbench.store import examples as store
from workbench.ui.training_report import problems_text
from workbench.ui.training_turn import TurnEditor

DEBOUNCE_SECONDS = 0.35
_TURN_REF = re.compile(r"`(?:input\.)?messages\[(\d+)\]")


def _form_fits(data: Any) -> bool:
    """The form edits chat examples; anything else (DPO, broken rows) is edited as raw JSON."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("messages"), list)
        and all(isinstance(m, dict) for m in data["messages"])
    )


class ExampleEditor(Screen):
    """Edit one example; closes back to the table. Changes are saved as they are made."""

    BINDINGS = [
        Binding("escape", "close", "Back to table", id="editor-close"),
        Binding("ctrl+n", "add_turn", "Add turn", id="editor-add-turn"),
        Binding("ctrl+r", "toggle_raw", "Form/raw JSON", id="editor-toggle-raw"),
        # a TextArea keeps ctrl+z for its own text; after a removal the focus is on a button
        Binding("ctrl+z", "undo_remove", "Undo remove", id="editor-undo-remove"),
    ]

    def __init__(
        self,
        db: Any,
        example_id: int,
        *,
        method: str = "supervised",
        model: str | None = None,
        tokenizer: Any = None,
        new: bool = False,
    ) -> None:
        super().__init__()
        self.app_db = db
        self.example_id = example_id
        self.method = method
        self.model = model
        self.tokenizer = tokenizer
        self.new = new
        self.edited = False
        example = store.get_example(self.app_db, example_id)
        self.example = example
        self.data: Any = example.data
        self.raw_text = (
            dumps_line(example.data) if example.data is not None else (example.raw or "")
        )
        self._timer: Timer | None = None
        self._form_stale = False
        self._raw_stale = False
        self._source: str = "form"  # which tab the pending change came from
        self.unsaved: list[str] = []  # JSON fields that do not parse (not written)
        self.removed_turns: list[tuple[int, dict[str, Any]]] = []  # (index, message), for ctrl+z

    def compose(self) -> ComposeResult:
        # the row's line in its imported file: the number the table and the pre-flight show
        where = (
            f"line {self.example.source_line} of the imported file"
            if self.example.source_line
            else "added by hand"
        )
        with Horizontal(id="editor-head"):
            yield Static(
                Text(f"Example #{self.example_id} · {where}"), id="editor-title", markup=False
            )
            splits = ["train", "validation", "test"]
            if self.example.split not in splits:
                splits.append(self.example.split)
            yield Select(
                [(f"split: {s}", s) for s in splits],
                value=self.example.split,
                allow_blank=False,
                compact=True,
                id="editor-split",
                tooltip="test rows are held out: never exported for training",
            )
        yield Static("", id="editor-summary", markup=False)
        with TabbedContent(
            id="editor-tabs", initial="form-tab" if _form_fits(self.data) else "raw-tab"
        ):
            with TabPane("Form", id="form-tab"), VerticalScroll(id="turns"):
                yield Static(
                    Text("This row is not a chat example yet: fix it in the Raw JSON tab."),
                    id="form-unavailable",
                )
                if _form_fits(self.data):
                    for message in self.data["messages"]:
                        yield TurnEditor(message)
                with Horizontal(id="form-actions"):
                    yield Button("+ add turn", id="add-turn", compact=True)
                yield Label("tools (JSON list, optional)", id="tools-label")
                yield TextArea(
                    self._tools_text(),
                    id="tools",
                    compact=True,
                    placeholder='[{"type": "function", "function": {"name": …}}]',
                )
                yield Static("", id="tools-problem", markup=False)
            with TabPane("Raw JSON", id="raw-tab"):
                yield TextArea(self._pretty_raw(), id="raw", soft_wrap=True)
                yield Static("", id="raw-problem", markup=False)
        yield Footer()

    def _tools_text(self) -> str:
        if isinstance(self.data, dict) and "tools" in self.data:
            return json.dumps(self.data["tools"], ensure_ascii=False, indent=1)
        return ""

    def _pretty_raw(self) -> str:
        if self.data is not None:
            return json.dumps(self.data, ensure_ascii=False, indent=2)
        return self.raw_text

    def on_mount(self) -> None:
        self._show_form_state()
        self._show_problems(self._current_problems(), self.example.tokens)
        if _form_fits(self.data):
            turns = self.query(TurnEditor)
            target = next((t for t in turns if t.role == "user"), None) or turns.first()
            target.query_one(".turn-content", TextArea).focus()
        else:
            self.query_one("#raw", TextArea).focus()

    def _current_problems(self) -> list[Problem]:
        return problems_from_dicts(self.example.problems, self.example.source_line or 0)

    def _show_form_state(self) -> None:
        fits = _form_fits(self.data)
        self.query_one("#form-unavailable").display = not fits
        for selector in ("#form-actions", "#tools-label", "#tools", "#tools-problem"):
            self.query_one(selector).display = fits

    # --- edits --------------------------------------------------------------------------------

    def save_now_from(self, source: str) -> None:
        """Save at once what `source` ("form" or "raw") now says (a removal is not typing)."""
        self._source = source
        self.save_now()

    def _schedule(self, source: str) -> None:
        self._source = source
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self.save_now)

    @on(Select.Changed, "#editor-split")
    def _split_changed(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str) and event.value != self.example.split:
            self.example = store.update_example(self.app_db, self.example_id, split=event.value)
            self.edited = True

    @on(TurnEditor.Changed)
    def _turn_changed(self) -> None:
        self._schedule("form")

    @on(TextArea.Changed, "#tools")
    def _tools_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._schedule("form")

    @on(TextArea.Changed, "#raw")
    def _raw_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self.query_one("#editor-tabs", TabbedContent).active == "raw-tab":
            self._schedule("raw")

    def _turns(self) -> list[TurnEditor]:
        """The turns on screen, in order (a turn being removed is no longer one of them)."""
        return [t for t in self.query(TurnEditor) if not t.removing]

    @on(TurnEditor.RemoveRequested)
    def _remove_turn(self, event: TurnEditor.RemoveRequested) -> None:
        """Remove a turn (saved at once, like every edit); ctrl+z puts it back.

        The turn is hidden and the focus moved to a widget that stays; the widget itself goes
        after the next refresh. Removed at once, its TextArea could still be painted from the
        old layout after it was unmounted (`KeyError: 'text-area--gutter'`, the app exited)."""
        turns = self._turns()
        if event.turn not in turns:
            return
        index = turns.index(event.turn)
        message, _errors = event.turn.to_message()
        self.removed_turns.append((index, message))
        rest = [t for t in turns if t is not event.turn]
        target = rest[min(index, len(rest) - 1)].query_one(".turn-remove") if rest else None
        (target or self.query_one("#add-turn", Button)).focus()
        event.turn.removing = True
        event.turn.display = False
        self.call_after_refresh(event.turn.remove)
        self.save_now_from("form")
        self.refresh_bindings()
        self.notify("turn removed · ctrl+z puts it back", timeout=4)

    async def action_undo_remove(self) -> None:
        """Put the last removed turn back where it was, and save."""
        if not self.removed_turns:
            return
        index, message = self.removed_turns.pop()
        turn = TurnEditor(message)
        turns = self._turns()
        before = turns[index] if index < len(turns) else self.query_one("#form-actions")
        await self.query_one("#turns").mount(turn, before=before)
        turn.query_one(".turn-content", TextArea).focus()
        self.save_now_from("form")
        self.refresh_bindings()
        self.notify("turn put back", timeout=3)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo_remove":
            return bool(self.removed_turns)
        return True

    @on(Button.Pressed, "#add-turn")
    async def action_add_turn(self) -> None:
        if not _form_fits(self.data):
            self.notify("fix the row in the Raw JSON tab first", severity="warning")
            return
        turns = self._turns()
        role = "assistant" if turns and turns[-1].role == "user" else "user"
        turn = TurnEditor({"role": role, "content": ""})
        await self.query_one("#turns").mount(turn, before="#form-actions")
        turn.query_one(".turn-content", TextArea).focus()
        turn.scroll_visible()
        self._schedule("form")

    def action_toggle_raw(self) -> None:
        tabs = self.query_one("#editor-tabs", TabbedContent)
        tabs.active = "form-tab" if tabs.active == "raw-tab" else "raw-tab"

    @on(TabbedContent.TabActivated)
    async def _tab_switched(self, event: TabbedContent.TabActivated) -> None:
        self.save_now()
        if event.pane.id == "raw-tab" and self._raw_stale:
            self.query_one("#raw", TextArea).text = self._pretty_raw()
            self._raw_stale = False
        elif event.pane.id == "form-tab" and self._form_stale:
            await self._rebuild_form()

    async def _rebuild_form(self) -> None:
        self._form_stale = False
        await self.query(TurnEditor).remove()
        self._show_form_state()
        if _form_fits(self.data):
            turns = [TurnEditor(m) for m in self.data["messages"]]
            await self.query_one("#turns").mount_all(turns, before="#form-actions")
            self.query_one("#tools", TextArea).text = self._tools_text()

    def _data_from_form(self) -> tuple[dict[str, Any], list[tuple[int, str]]]:
        data = dict(self.data) if isinstance(self.data, dict) else {}
        errors: list[tuple[int, str]] = []
        messages = []
        for i, turn in enumerate(self._turns()):
            message, turn_errors = turn.to_message()
            messages.append(message)
            errors.extend((i, e) for e in turn_errors)
        data["messages"] = messages
        tools_text = self.query_one("#tools", TextArea).text.strip()
        if tools_text:
            try:
                data["tools"] = json.loads(tools_text)
            except json.JSONDecodeError as exc:
                errors.append((-1, f"tools: not valid JSON at line {exc.lineno}: {exc.msg}"))
        else:
            data.pop("tools", None)
        # keep the key order the row had: messages first as written, other keys where they were
        return data, errors

    def save_now(self) -> None:
        """Validate what is on screen and write it to the store (also called on close)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        line = self.example.source_line or 0
        db = self.app_db
        field_errors: list[tuple[int, str]] = []
        if self._source == "raw":
            text = self.query_one("#raw", TextArea).text
            parsed = parse_text(text, line, method=self.method, model=self.model)
            if parsed.data is None:
                if text == self.raw_text and self.data is None:
                    return
                self.data, self.raw_text = None, text
                problems = [Problem(line, p.code, p.message, p.severity) for p in parsed.problems]
                checks.save_example(db, self.example_id, None, raw=text, problems=problems)
                self.edited = True
                self._form_stale = True
                self._show_problems(problems, None)
                return
            new_data: Any = parsed.data
            self._form_stale = True
        else:
            if not _form_fits(self.data):
                return
            new_data, field_errors = self._data_from_form()
            self._raw_stale = True
        if field_errors:
            # a JSON field that does not parse is not written (the row keeps its last good
            # version); the text stays on screen until it is fixed
            self.unsaved = [message for _, message in field_errors]
            self._show_unsaved(field_errors)
            return
        self.unsaved = []
        if new_data == self.data:
            return
        self.data = new_data
        self.raw_text = dumps_line(new_data)
        check = checks.save_example(
            db,
            self.example_id,
            new_data,
            tokenizer=self.tokenizer,
            method=self.method,
            model=self.model,
            line=line,
        )
        self.edited = True
        self._show_problems(check.problems, check.tokens)

    def _show_unsaved(self, field_errors: list[tuple[int, str]]) -> None:
        summary = Text()
        summary.append("⚠ not saved: ", style="bold red")
        summary.append("fix the JSON marked below (the last good version is kept)")
        self.query_one("#editor-summary", Static).update(summary)
        for i, turn in enumerate(self._turns()):
            mine = [Problem(0, "invalid_json", m) for index, m in field_errors if index == i]
            if mine:
                turn.show_problems(mine)
        tools = [Problem(0, "invalid_json", m) for index, m in field_errors if index < 0]
        if tools:
            widget = self.query_one("#tools-problem", Static)
            widget.update(problems_text(tools))
            widget.display = True

    def _show_problems(self, problems: list[Problem], tokens: int | None) -> None:
        errors = sum(p.severity == "error" for p in problems)
        warnings = len(problems) - errors
        summary = Text()
        summary.append(f"{tokens:,} tokens" if tokens is not None else "tokens: –", style="cyan")
        summary.append("  ")
        if errors:
            summary.append(f"⚠ {errors} problem{'s' * (errors != 1)}", style="bold red")
        elif warnings:
            summary.append(f"! {warnings} warning{'s' * (warnings != 1)}", style="yellow")
        else:
            summary.append("✓ valid", style="green")
        summary.append("  saved", style="dim")
        self.query_one("#editor-summary", Static).update(summary)

        per_turn: dict[int, list[Problem]] = {}
        general: list[Problem] = []
        for problem in problems:
            match = _TURN_REF.search(problem.message)
            if match:
                per_turn.setdefault(int(match.group(1)), []).append(problem)
            else:
                general.append(problem)
        for i, turn in enumerate(self._turns()):
            turn.show_problems(per_turn.get(i, []))
        tools_problem = self.query_one("#tools-problem", Static)
        tools_problems = [p for p in general if "tools" in p.message]
        tools_problem.update(problems_text(tools_problems))
        tools_problem.display = bool(tools_problems)
        raw_problem = self.query_one("#raw-problem", Static)
        raw_problem.update(problems_text(problems))
        raw_problem.display = bool(problems)
        top = [p for p in general if p not in tools_problems]
        if top:
            summary.append("\n")
            summary.append_text(problems_text(top))
            self.query_one("#editor-summary", Static).update(summary)

    def action_close(self) -> None:
        self.save_now()
        if self.unsaved:
            self.notify(
                "not saved (not valid JSON): " + "; ".join(self.unsaved),
                severity="warning",
                timeout=10,
            )
        self.dismiss(self.edited)
