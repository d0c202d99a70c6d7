"""Model and parameters: model picker, temperature, max tokens, seed, response format, and the
fine-tuned approach's model and short system prompt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.validation import Integer, Number
from textual.widgets import Input, Label, Select, Static, TextArea

from workbench.providers.chat import DEFAULT_PARAMS, RESPONSE_FORMATS
from workbench.ui.plain import plain_options
from workbench.ui.prompt_editor import PaneTextArea

NO_FT_MODEL = ""


def _options(models: list[str], current: str) -> list[tuple[Text, str]]:
    ids = list(dict.fromkeys([*([current] if current else []), *models]))
    return plain_options(ids)


class SettingsForm(VerticalScroll):
    """Posts Changed(field, value) for each valid edit; invalid numbers are named, never saved."""

    @dataclass
    class Changed(Message):
        form: SettingsForm
        field: str  # "model", "ft_model", "ft_system" or "params"
        value: Any

        @property
        def control(self) -> SettingsForm:
            return self.form

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # What the form last showed or reported: change events that do not change these (the
        # echo of filling the form, a widget mounting) are not edits and are not reported.
        self._last: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="settings-row"):
            yield Label("Model", classes="settings-label")
            yield Select[str]([], id="model", allow_blank=True, prompt="(loading models…)")
        with Horizontal(classes="settings-row"):
            yield Label("Temperature", classes="settings-label")
            yield Input(
                id="temperature",
                placeholder="1.0",
                validators=[Number(minimum=0, maximum=2)],
                classes="param",
            )
            yield Label("Max tokens", classes="settings-label-short")
            yield Input(
                id="max_tokens", placeholder="512", validators=[Integer(minimum=1)], classes="param"
            )
        with Horizontal(classes="settings-row"):
            yield Label("Seed", classes="settings-label")
            yield Input(id="seed", placeholder="none", validators=[Integer()], classes="param")
            yield Label("Format", classes="settings-label-short")
            yield Select[str](
                [(f, f) for f in RESPONSE_FORMATS], id="response_format", allow_blank=False
            )
        yield Static("", id="settings-problem", markup=False)
        with Horizontal(classes="settings-row"):
            yield Label("Fine-tuned", classes="settings-label")
            yield Select[str]([], id="ft_model", allow_blank=True, prompt="(no ft: model)")
        with Vertical(id="ft-system-box"):
            yield Label("Fine-tuned system prompt (short; empty: the full one is sent)")
            yield PaneTextArea("", id="ft_system")

    def show(
        self,
        *,
        model: str,
        ft_model: str,
        ft_system: str | None,
        params: dict[str, Any],
        models: list[str],
    ) -> None:
        """Fill the form from a prompt version, without posting Changed."""
        with self.prevent(Select.Changed, Input.Changed, TextArea.Changed):
            self.set_models(models, model, ft_model)
            merged = {**DEFAULT_PARAMS, **params}
            for name in ("temperature", "max_tokens", "seed"):
                value = merged.get(name)
                self.query_one(f"#{name}", Input).value = "" if value is None else f"{value}"
            self.query_one("#response_format", Select).value = merged.get("response_format", "text")
            area = self.query_one("#ft_system", TextArea)
            area.load_text(ft_system or "")
        self.query_one("#settings-problem", Static).update("")
        self._last = {
            "model": model,
            "ft_model": ft_model,
            "ft_system": ft_system or None,
            "params": self.params(),
        }

    def _report(self, field: str, value: Any) -> None:
        if self._last is None or self._last.get(field) == value:
            return
        self._last[field] = value
        self.post_message(self.Changed(self, field, value))

    def set_models(self, models: list[str], model: str, ft_model: str) -> None:
        base = [m for m in models if not m.startswith("ft:")]
        tuned = [m for m in models if m.startswith("ft:") or ".ft-" in m]
        with self.prevent(Select.Changed):
            picker = self.query_one("#model", Select)
            picker.set_options(_options(base, model))
            if model:
                picker.value = model
            ft_picker = self.query_one("#ft_model", Select)
            ft_picker.set_options(_options(tuned, ft_model))
            if ft_model:
                ft_picker.value = ft_model
        if self._last is not None:
            self._last.update(model=model, ft_model=ft_model)

    def params(self) -> dict[str, Any] | None:
        """The parameters as typed, or None (with the problem shown) if one is not valid."""
        out: dict[str, Any] = {}
        problems = []
        for name, cast, words in (
            ("temperature", float, "a number from 0 to 2"),
            ("max_tokens", int, "a whole number of 1 or more"),
            ("seed", int, "a whole number (or empty for none)"),
        ):
            widget = self.query_one(f"#{name}", Input)
            text = widget.value.strip()
            if not text:
                out[name] = None
                continue
            result = widget.validate(text)
            if result is not None and not result.is_valid:
                problems.append(f"{name.replace('_', ' ')} must be {words} (not {text!r})")
                continue
            out[name] = cast(text)
        out["response_format"] = self.query_one("#response_format", Select).value
        self.query_one("#settings-problem", Static).update("; ".join(problems))
        return None if problems else out

    @on(Input.Changed, ".param")
    @on(Select.Changed, "#response_format")
    def _param_changed(self, event: Message) -> None:
        event.stop()
        params = self.params()
        if params is not None:
            self._report("params", params)

    @on(Select.Changed, "#model, #ft_model")
    def _model_changed(self, event: Select.Changed) -> None:
        event.stop()
        value = event.value if isinstance(event.value, str) else ""
        self._report(str(event.select.id), value)

    @on(TextArea.Changed, "#ft_system")
    def _ft_system_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        text = event.text_area.text
        self._report("ft_system", text if text.strip() else None)
