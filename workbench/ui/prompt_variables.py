"""The variables form: one small editor per `{{placeholder}}` of the template."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Label, TextArea

from workbench.ui.pane import EmptyState
from workbench.ui.prompt_editor import PaneTextArea


class VariableArea(PaneTextArea):
    """The value of one variable (several lines allowed: inputs are often whole emails)."""

    def __init__(self, variable: str, text: str) -> None:
        super().__init__(text, classes="variable-value")
        self.variable = variable


class VariablesForm(VerticalScroll):
    """Rebuilt when the set of placeholders changes; values of names still used are kept."""

    @dataclass
    class Changed(Message):
        form: VariablesForm
        variables: dict[str, str]

        @property
        def control(self) -> VariablesForm:
            return self.form

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.names: list[str] = []
        self.values: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield EmptyState("No variables: write {{name}} in the user template to add one.")

    def show(self, names: list[str], values: dict[str, str]) -> None:
        """Show a field per name, with the saved values (call again when the names change)."""
        self.values = {**self.values, **{k: str(v) for k, v in values.items()}}
        if names == self.names and self.children and not isinstance(self.children[0], EmptyState):
            for area in self.query(VariableArea):
                wanted = self.values.get(area.variable, "")
                if area.text != wanted:
                    with area.prevent(TextArea.Changed):
                        area.load_text(wanted)
            return
        self.names = list(names)
        self.remove_children()
        if not names:
            self.mount(EmptyState("No variables: write {{name}} in the user template to add one."))
            return
        widgets: list[Widget] = []
        for name in names:
            widgets.append(Label("{{" + name + "}}", markup=False, classes="variable-name"))
            area = VariableArea(name, self.values.get(name, ""))
            widgets.append(area)
        self.mount_all(widgets)

    def current(self) -> dict[str, str]:
        """The values of the variables the template uses now."""
        return {name: self.values.get(name, "") for name in self.names}

    @on(TextArea.Changed, "VariableArea")
    def _edited(self, event: TextArea.Changed) -> None:
        event.stop()
        area = event.text_area
        assert isinstance(area, VariableArea)
        if self.values.get(area.variable, "") == area.text:
            return  # the echo of filling the field, not an edit
        self.values[area.variable] = area.text
        self.post_message(self.Changed(self, self.current()))
