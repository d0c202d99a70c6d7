"""One turn of the example editor: role, content and, for the assistant, the training weight and
tool calls. It posts what changed (`Changed`, `RemoveRequested`); the editor decides and saves.
"""

from __future__ import annotations

import json
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Select, Static, TextArea

from workbench.core.dataset import Problem
from workbench.ui.training_report import problems_text

ROLES = ("system", "user", "assistant", "tool")


class TurnEditor(Vertical):
    """One message: role, content, and (assistant) the training weight and tool calls."""

    class Changed(Message):
        """Something in this turn changed."""

    class RemoveRequested(Message):
        def __init__(self, turn: TurnEditor) -> None:
            super().__init__()
            self.turn = turn

    def __init__(self, message: dict[str, Any]) -> None:
        super().__init__(classes="turn")
        self.original = dict(message)
        self.removing = False  # hidden, about to go: no longer part of the row
        self._weight_touched = False  # a weight the user did not touch is kept as the row has it
        role = message.get("role")
        self._role = role if isinstance(role, str) else "user"
        content = message.get("content")
        self._content_is_json = content is not None and not isinstance(content, str)
        self._content = (
            content
            if isinstance(content, str)
            else ("" if content is None else json.dumps(content, ensure_ascii=False, indent=1))
        )

    def compose(self) -> ComposeResult:
        roles = list(ROLES) if self._role in ROLES else [*ROLES, self._role]
        with Horizontal(classes="turn-bar"):
            yield Select(
                [(r, r) for r in roles],
                value=self._role,
                allow_blank=False,
                compact=True,
                classes="turn-role",
            )
            yield Checkbox(
                "train on this reply",
                self.original.get("weight", 1) != 0,
                compact=True,
                classes="turn-weight",
                tooltip="weight 1 (trained) or 0 (context only)",
            )
            yield Input(
                str(self.original.get("tool_call_id", "")),
                placeholder="tool_call_id",
                compact=True,
                classes="turn-tool-call-id",
            )
            yield Button("✕ remove turn", compact=True, classes="turn-remove")
        label = "content (JSON parts)" if self._content_is_json else ""
        yield TextArea(
            self._content,
            soft_wrap=True,
            compact=True,
            classes="turn-content",
            placeholder=label or f"{self._role} message",
        )
        calls = self.original.get("tool_calls")
        yield TextArea(
            json.dumps(calls, ensure_ascii=False, indent=1) if calls is not None else "",
            compact=True,
            classes="turn-tool-calls",
            placeholder='tool_calls as JSON: [{"id": …, "type": "function", "function": {…}}]',
        )
        yield Static("", classes="turn-problem", markup=False)

    def on_mount(self) -> None:
        self._show_role_fields(self._role)

    @property
    def role(self) -> str:
        value = self.query_one(".turn-role", Select).value
        return value if isinstance(value, str) else self._role

    def _show_role_fields(self, role: str) -> None:
        self.query_one(".turn-weight").display = role == "assistant"
        self.query_one(".turn-tool-calls").display = role == "assistant"
        self.query_one(".turn-tool-call-id").display = role == "tool"
        self.set_class(role == "assistant", "-assistant")

    @on(Select.Changed, ".turn-role")
    def _role_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._show_role_fields(self.role)
        self.post_message(self.Changed())

    @on(Checkbox.Changed, ".turn-weight")
    def _weight_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._weight_touched = True
        self.post_message(self.Changed())

    @on(TextArea.Changed)
    @on(Input.Changed)
    def _changed(self, event: Message) -> None:
        event.stop()
        self.post_message(self.Changed())

    @on(Button.Pressed, ".turn-remove")
    def _remove(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.RemoveRequested(self))

    def show_problems(self, problems: list[Problem]) -> None:
        widget = self.query_one(".turn-problem", Static)
        widget.update(problems_text(problems))
        widget.display = bool(problems)
        self.set_class(any(p.severity == "error" for p in problems), "-error")

    def to_message(self) -> tuple[dict[str, Any], list[str]]:
        """The message this turn now says, plus field errors the validator cannot see (bad JSON)."""
        errors: list[str] = []
        message = dict(self.original)
        role = self.role
        message["role"] = role
        text = self.query_one(".turn-content", TextArea).text
        if self._content_is_json:
            try:
                message["content"] = json.loads(text)
            except json.JSONDecodeError as exc:
                errors.append(f"content: not valid JSON at line {exc.lineno}: {exc.msg}")
                message["content"] = text
        elif text == "" and self.original.get("content", "") is None:
            message["content"] = None
        else:
            message["content"] = text
        if role == "assistant":
            trained = self.query_one(".turn-weight", Checkbox).value
            if not self._weight_touched:
                pass  # opening a row is not an edit: a weight of 0.5 or "1" stays until decided
            elif not trained:
                message["weight"] = 0
            elif "weight" in self.original:
                message["weight"] = 1
            calls_text = self.query_one(".turn-tool-calls", TextArea).text.strip()
            if calls_text:
                try:
                    message["tool_calls"] = json.loads(calls_text)
                except json.JSONDecodeError as exc:
                    errors.append(f"tool_calls: not valid JSON at line {exc.lineno}: {exc.msg}")
            else:
                message.pop("tool_calls", None)
        else:
            for key in ("weight", "tool_calls"):
                if key not in self.original:
                    message.pop(key, None)
        if role == "tool":
            message["tool_call_id"] = self.query_one(".turn-tool-call-id", Input).value
        elif "tool_call_id" not in self.original:
            message.pop("tool_call_id", None)
        return message, errors
