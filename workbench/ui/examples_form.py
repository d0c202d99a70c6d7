"""The example form: input, output, tags, note and split, saved as the user types.

There is no save button: every change is written through `store.examples` after a short pause
(a debounce, so typing does not write on every key), and once more when the form closes. A new
example is created by its first non-empty edit, so opening the form and leaving adds nothing.
Multi-turn examples (or any with a system message) are edited as their messages in JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Select, Static, TextArea

from workbench.app import WorkbenchApp
from workbench.core.fewshot import example_from_row, pair_data, pair_from_messages, parse_tags
from workbench.store import examples as store

SAVE_DELAY = 0.4
SPLIT_OPTIONS = [
    ("few-shot", "few-shot"),
    ("train", "train"),
    ("validation", "validation"),
    ("test (held out)", "test"),
]


def is_simple_pair(messages: list[dict[str, Any]]) -> bool:
    """One user message then one assistant reply, plain text: editable as input/output."""
    return (
        len(messages) == 2
        and [m.get("role") for m in messages] == ["user", "assistant"]
        and all(isinstance(m.get("content"), str) for m in messages)
        and all(set(m) <= {"role", "content"} for m in messages)
    )


def messages_from_json(text: str) -> tuple[dict | None, str]:
    """The example data typed in the JSON editor, or (None, what is wrong and where)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"messages JSON, line {exc.lineno} column {exc.colno}: {exc.msg}"
    if isinstance(value, list):
        value = {"messages": value}
    data, why = example_from_row(value)
    if data is None:
        return None, f"messages JSON: {why}"
    return data, ""


class ExampleForm(ModalScreen[int | None]):
    """Edit one example (or a new one); dismisses with the example id, if it exists."""

    app = getters.app(WorkbenchApp)

    BINDINGS = [
        Binding("escape", "close", "Close", id="example-form-close"),
        Binding("ctrl+j", "toggle_json", "Messages JSON", id="example-form-json"),
    ]

    def __init__(
        self,
        example: store.Example | None,
        on_saved: Callable[[store.Example], None],
        default_split: str = "few-shot",
    ) -> None:
        super().__init__()
        self.example = example
        self.on_saved = on_saved
        messages = example.messages if example else []
        self.json_mode = bool(example) and not is_simple_pair(messages)
        self.default_split = example.split if example else default_split
        self._timer = None
        self._dirty = False
        self._error = ""
        self._warned_close = False

    def compose(self) -> ComposeResult:
        ex = self.example
        text_in, text_out = pair_from_messages(ex.messages) if ex else ("", "")
        messages_text = json.dumps(ex.messages if ex else [], indent=2, ensure_ascii=False)
        with Vertical(id="example-form"):
            title = f"Example #{ex.id}" if ex else "New example"
            yield Static(title, id="form-title", markup=False)
            with Horizontal(classes="form-row pair-field"):
                yield Label("Input", classes="form-label")
                yield TextArea(text_in, id="form-input", compact=True)
            with Horizontal(classes="form-row pair-field"):
                yield Label("Output", classes="form-label")
                yield TextArea(text_out, id="form-output", compact=True)
            with Horizontal(classes="form-row json-field"):
                yield Label("Messages", classes="form-label")
                yield TextArea(messages_text, id="form-json", compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Tags", classes="form-label")
                yield Input(
                    ", ".join(ex.tags) if ex else "",
                    placeholder="comma-separated, e.g. billing, tone",
                    id="form-tags",
                    compact=True,
                )
            with Horizontal(classes="form-row"):
                yield Label("Note", classes="form-label")
                yield Input(ex.note if ex else "", id="form-note", compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Split", classes="form-label")
                yield Select(
                    SPLIT_OPTIONS,
                    value=self.default_split,
                    allow_blank=False,
                    id="form-split",
                    compact=True,
                )
            yield Static("", id="form-error", markup=False)
            yield Static(
                "Saved as you type · esc closes · ctrl+j messages JSON",
                id="form-hint",
                markup=False,
            )
        yield Footer()  # the dialog's own keys, not the pane's beneath

    def on_mount(self) -> None:
        self._show_mode()
        self.query_one("#form-json" if self.json_mode else "#form-input").focus()

    def _show_mode(self) -> None:
        self.set_class(self.json_mode, "-json")

    # --- saving -----------------------------------------------------------------------------

    @on(TextArea.Changed)
    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        if not self.is_mounted:
            return
        self._dirty = True
        self._warned_close = False
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SAVE_DELAY, self.save_now)

    def _data(self) -> tuple[dict | None, str]:
        if self.json_mode:
            return messages_from_json(self.query_one("#form-json", TextArea).text)
        text_in = self.query_one("#form-input", TextArea).text
        text_out = self.query_one("#form-output", TextArea).text
        if not text_in.strip() and not text_out.strip():
            return None, ""
        return pair_data(text_in, text_out), ""

    def save_now(self) -> None:
        """Write what the form holds (called after a pause in typing, and on close)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self._dirty:
            return
        data, error = self._data()
        self._set_error(error)
        if error:
            return
        tags = list(parse_tags(self.query_one("#form-tags", Input).value))
        note = self.query_one("#form-note", Input).value
        split = self.query_one("#form-split", Select).value
        db = self.app.db
        if self.example is None:
            if data is None:
                return  # nothing typed yet: do not create an empty example
            self.example = store.add_example(db, data, split=split, tags=tags, note=note)
            self.query_one("#form-title", Static).update(f"Example #{self.example.id}")
        else:
            ex = self.example
            changes: dict[str, Any] = {"tags": tags, "note": note, "split": split}
            if data is not None:
                changes["data"] = data
            if (ex.tags, ex.note, ex.split, ex.data) == (tags, note, split, data or ex.data):
                self._dirty = False
                return  # nothing changed (e.g. the widgets announcing their first value)
            self.example = store.update_example(db, ex.id, **changes)
        self._dirty = False
        self.on_saved(self.example)

    def _set_error(self, error: str) -> None:
        self._error = error
        self.query_one("#form-error", Static).update(error)

    # --- actions ----------------------------------------------------------------------------

    def action_toggle_json(self) -> None:
        if self.json_mode:
            data, error = messages_from_json(self.query_one("#form-json", TextArea).text)
            if error:
                self._set_error(error)
                return
            if not is_simple_pair(data["messages"]):
                self.notify(
                    f"This example has {len(data['messages'])} messages: edit it as JSON.",
                    severity="warning",
                )
                return
            text_in, text_out = pair_from_messages(data["messages"])
            self.query_one("#form-input", TextArea).load_text(text_in)
            self.query_one("#form-output", TextArea).load_text(text_out)
        else:
            data, _ = self._data()
            messages = data["messages"] if data else pair_data("", "")["messages"]
            self.query_one("#form-json", TextArea).load_text(
                json.dumps(messages, indent=2, ensure_ascii=False)
            )
        self.json_mode = not self.json_mode
        self._show_mode()
        self.query_one("#form-json" if self.json_mode else "#form-input").focus()

    def action_close(self) -> None:
        self.save_now()
        if self._error and self._dirty and not self._warned_close:
            self._warned_close = True
            self.notify(
                f"Not saved: {self._error}. Fix it, or press escape again to discard the change.",
                severity="warning",
            )
            return
        self.dismiss(self.example.id if self.example else None)
