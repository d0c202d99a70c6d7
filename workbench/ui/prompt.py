"""The Prompt pane: write a prompt, preview what each approach sends, run them side by side.

Edits go into the prompt's draft in SQLite a moment after typing stops (ui/prompt_draft.py);
ctrl+s freezes a version; named prompts are opened, made and renamed in ui/prompt_names.py. The
preview and the runs both ask core/prompt_plan.py what each approach sends, with the few-shot
selection the Examples pane saved for the active prompt; every run is recorded by its column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer
from textual.widgets import Label, Static, TabbedContent, TabPane, Tabs, TextArea

from workbench.core.prompts import APPROACH_LABELS, APPROACHES, placeholders, prompt_size
from workbench.store import prompts as store
from workbench.ui.prompt_editor import PlaceholderTextArea
from workbench.ui.prompt_names import PromptNamesScreen

if TYPE_CHECKING:
    from textual.timer import Timer

    from workbench.ui.prompt_preview import ApproachPreview
    from workbench.ui.prompt_run import RunColumn, RunRequest
    from workbench.ui.prompt_settings import SettingsForm
    from workbench.ui.prompt_variables import VariablesForm

PREVIEW_DELAY = 0.2
LATER_TABS = (
    ("pt-variables", "Variables"),
    ("pt-model", "Model"),
    ("pt-preview", "Preview"),
    ("pt-run", "Run"),
    ("pt-versions", "Versions"),
)
TABS = ("pt-edit", *(tab for tab, _label in LATER_TABS))
RUN_CHOICES = [("All three", "all"), *((APPROACH_LABELS[a], a) for a in APPROACHES)]
NOT_SAVED = "not sent: the database is busy and the prompt is not saved yet"
IN_CONFLICT = "not sent: choose which version of the prompt to keep first"


class PromptScreen(PromptNamesScreen):
    PANE = "prompt"
    # typing right after start-up goes into the system prompt, not into the tab bar
    AUTO_FOCUS = "#system"

    # all of the pane's keys are here (not on its bases), in the footer's order
    BINDINGS = [
        Binding(
            "ctrl+r",
            "run",
            "Run",
            id="prompt-run",
            tooltip="Run the approaches chosen on the Run tab (all three unless changed)",
        ),
        Binding(
            "ctrl+s",
            "save_version",
            "Save version",
            id="prompt-save-version",
            tooltip="Freeze the draft as a numbered version, with a note",
        ),
        Binding(
            "escape",
            "cancel_runs",
            "Cancel run",
            id="prompt-cancel",
            tooltip="Stop the answers streaming (the text so far is kept and recorded)",
        ),
        Binding(
            "ctrl+t",
            "next_tab",
            "Next tab",
            id="prompt-next-tab",
            tooltip="Edit, Variables, Model, Preview, Run, Versions in turn",
        ),
        Binding(
            "ctrl+o",
            "open_prompt",
            "Open prompt",
            id="prompt-open",
            tooltip="Switch to another named prompt",
        ),
        Binding(
            "ctrl+n",
            "new_prompt",
            "New prompt",
            id="prompt-new",
            show=False,
            tooltip="Start another named prompt",
        ),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.models: list[str] = []
        self.previews: list[ApproachPreview] = []
        self._preview_timer: Timer | None = None
        self.tabs_composed = False  # see `_compose_later_tabs`

    # --- layout --------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        yield Static(id="prompt-header")
        with TabbedContent(id="prompt-tabs", initial="pt-edit"):
            with TabPane("Edit", id="pt-edit"):
                yield Label("System prompt", classes="editor-label")
                yield PlaceholderTextArea(id="system")
                yield Label("User template ({{name}} makes a variable)", classes="editor-label")
                yield PlaceholderTextArea(id="template")
            # composed after the first frame is drawn (`_compose_later_tabs`): nearly two thirds
            # of the pane's widgets are in these five hidden tabs, and the Edit tab is what shows
            for tab, label in LATER_TABS:
                yield TabPane(label, id=tab)

    async def _compose_later_tabs(self) -> None:
        """Mount the hidden tabs' widgets, then fill them from the prompt already loaded.

        Their modules are imported here, not at the top: the first frame does not need them."""
        from textual.widgets import Select

        from workbench.ui.prompt_preview import PreviewView
        from workbench.ui.prompt_run import RunColumn
        from workbench.ui.prompt_settings import SettingsForm
        from workbench.ui.prompt_variables import VariablesForm
        from workbench.ui.prompt_versions import VersionsView

        variables, settings = VariablesForm(id="variables"), SettingsForm(id="settings")
        await self.query_one("#pt-variables", TabPane).mount(variables)
        await self.query_one("#pt-model", TabPane).mount(settings)
        await self.query_one("#pt-preview", TabPane).mount(PreviewView(id="preview"))
        await self.query_one("#pt-run", TabPane).mount_all(
            [
                Horizontal(
                    Select[str](RUN_CHOICES, value="all", allow_blank=False, id="run-choice"),
                    Static(Text("ctrl+r run · escape cancel", style="dim"), id="run-help"),
                    id="run-bar",
                ),
                Horizontal(
                    *(RunColumn(approach, id=f"run-{approach}") for approach in APPROACHES),
                    id="run-columns",
                ),
            ]
        )
        await self.query_one("#pt-versions", TabPane).mount(VersionsView(id="versions"))
        if not (self.is_attached and self.app.is_running):
            return  # the app is closing (quit within the first moment): the widgets are going
        self.tabs_composed = True
        if self.prompt_name:
            self.fill_later_tabs()
            self.refresh_versions()
        # listing models imports the SDK, which costs more than Textual
        self.fetch_models()

    # the later tabs' widgets, typed (their classes are imported with them, see above)

    def _variables_form(self) -> VariablesForm:
        from workbench.ui.prompt_variables import VariablesForm

        return self.query_one(VariablesForm)

    def _settings_form(self) -> SettingsForm:
        from workbench.ui.prompt_settings import SettingsForm

        return self.query_one(SettingsForm)

    def _run_column(self, approach: str) -> RunColumn:
        from workbench.ui.prompt_run import RunColumn

        return self.query_one(f"#run-{approach}", RunColumn)

    def _run_columns(self) -> list[RunColumn]:
        return [self._run_column(approach) for approach in APPROACHES] if self.tabs_composed else []

    def on_mount(self) -> None:
        name = self.app.active_prompt
        if name == store.DEFAULT_PROMPT:
            # a fresh start: open the prompt the user edited last rather than "default"
            name = store.most_recent_prompt(self.app.db) or name
        self.load(name)
        self.app.active_prompt = name
        self.watch(self.app, "active_prompt", self._active_prompt_changed, init=False)
        self.app.call_after_first_frame(self._compose_later_tabs)

    def on_screen_resume(self) -> None:
        if self.app.active_prompt != self.prompt_name:
            self.load(self.app.active_prompt)
        else:
            self.check_changed_elsewhere()
        model = self.app.take_fine_tuned_model()  # Jobs' "Try model"
        if model:
            self.use_fine_tuned_model(model)
        self.refresh_preview()

    def on_screen_suspend(self) -> None:
        self.flush()

    def on_unmount(self) -> None:
        self._unmounting = True  # the widgets are going away: write, show nothing
        self.flush(show=False)

    def _active_prompt_changed(self, name: str) -> None:
        if name != self.prompt_name:
            self.load(name)

    def show_loaded(self, version: store.PromptVersion) -> None:
        with self.prevent(TextArea.Changed):
            self.query_one("#system", TextArea).load_text(version.system)
            self.query_one("#template", TextArea).load_text(version.template)
        if self.tabs_composed:
            self.fill_later_tabs()

    def fill_later_tabs(self) -> None:
        """The Variables and Model forms and the preview, from the prompt's content."""
        content = self.content
        form = self._variables_form()
        form.values = {}
        form.show(placeholders(content.get("template", "")), content.get("variables") or {})
        self._settings_form().show(
            model=content.get("model", ""),
            ft_model=content.get("ft_model", ""),
            ft_system=content.get("ft_system", ""),
            params=content.get("params") or {},
            models=self._model_choices(),
        )
        self.refresh_preview()

    def content_edited(self) -> None:
        self._schedule_preview()

    def _model_choices(self) -> list[str]:
        return list(dict.fromkeys([*self.models, self.app.config.profile.default_model]))

    # --- edits from the widgets ------------------------------------------------------------------

    @on(TextArea.Changed, "#system, #template")
    def _text_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        field = str(event.text_area.id)
        if self.content.get(field, "") == event.text_area.text:
            return  # the echo of loading the text, not an edit
        self.edit(field, event.text_area.text)
        if field == "template" and self.tabs_composed:
            form = self._variables_form()
            names = placeholders(event.text_area.text)
            if names != form.names:
                form.show(names, {})

    def on_variables_form_changed(self, event: VariablesForm.Changed) -> None:
        event.stop()
        self.edit("variables", {k: v for k, v in event.form.values.items() if v != ""})

    def on_settings_form_changed(self, event: SettingsForm.Changed) -> None:
        event.stop()
        self.edit(event.field, event.value)

    def use_fine_tuned_model(self, model: str) -> None:
        """Put a fine-tuned model (e.g. from the Jobs pane) in the fine-tuned picker."""
        if model not in self.models:
            self.models.append(model)
        self.edit("ft_model", model)
        if self.tabs_composed:
            self._settings_form().set_models(
                self._model_choices(), self.content.get("model", ""), model
            )
        self.action_show_tab("pt-model")
        self.notify(f"fine-tuned approach now uses {model}")

    @work(exclusive=True, group="models", exit_on_error=False, description="listing models")
    async def fetch_models(self) -> None:
        """Fill the model pickers from the provider; offline, the profile's default model stays."""
        import asyncio
        import importlib

        profile = self.app.config.profile
        if not (profile.api_key() or profile.extra.get("token_command")):
            self.models = []  # the status line already says the key is missing
        else:
            # import the SDK off the event loop so the screen keeps drawing meanwhile
            await asyncio.to_thread(importlib.import_module, "openai")
            await self._list_models()
        ft_model = self.content.get("ft_model", "")
        if ft_model and ft_model not in self.models:
            self.models.append(ft_model)
        self._settings_form().set_models(
            self._model_choices(), self.content.get("model", ""), ft_model
        )

    async def _list_models(self) -> None:
        from workbench.providers.chat import list_models, make_chat_client
        from workbench.providers.openai_api import MissingAPIKey

        try:
            client = make_chat_client(self.app.config.profile)
            try:
                self.models = await list_models(client)
            finally:
                await client.close()
        except MissingAPIKey:
            self.models = []  # the status line already says the key is missing
        except Exception as exc:
            self.models = []
            message = getattr(getattr(exc, "problem", None), "message", None) or str(exc)
            self.notify(f"model list unavailable: {message}", severity="warning", timeout=6)

    # --- preview -------------------------------------------------------------------------------

    def _schedule_preview(self) -> None:
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY, self.refresh_preview)

    def _examples(self) -> list:
        from workbench.store.selection import selected_examples

        return selected_examples(self.app.db, self.prompt_name)

    def build_previews(self) -> list[ApproachPreview]:
        """What each approach would send now, with token counts (placeholders left if unfilled)."""
        from workbench.core.prompt_plan import plan_approach
        from workbench.core.tokens import get_tokenizer
        from workbench.ui.prompt_preview import ApproachPreview

        examples = self._examples()
        previews = []
        for approach in APPROACHES:
            plan = plan_approach(approach, self.content, examples)
            note = ""
            if approach == "few-shot" and examples:
                note = f"{len(examples)} example(s) from the Examples pane"
            tokenizer = get_tokenizer(plan.model or self.content.get("model") or "")
            previews.append(
                ApproachPreview(
                    approach,
                    plan.model,
                    prompt_size(plan.messages, tokenizer),
                    "; ".join(plan.problems),
                    note,
                )
            )
        return previews

    def refresh_preview(self) -> None:
        if not self.prompt_name or not self.tabs_composed:
            return
        from workbench.core.tokens import loaded_tokenizer
        from workbench.ui.prompt_preview import PreviewView

        content = self.content
        models = {content.get("model") or "", content.get("ft_model") or content.get("model") or ""}
        cold = tuple(m for m in models if loaded_tokenizer(m) is None)
        if cold:
            # loading a BPE file takes a few hundred ms: never on the event loop
            self._warm_tokenizers(cold)
            return
        self.previews = self.build_previews()
        self.query_one(PreviewView).show(self.previews)

    @work(thread=True, group="tokenizers", description="loading the tokenizer")
    def _warm_tokenizers(self, models: tuple[str, ...]) -> None:
        from workbench.core.tokens import get_tokenizer

        for model in models:
            get_tokenizer(model)
        self.app.call_from_thread(self.refresh_preview)

    # --- running -------------------------------------------------------------------------------

    def run_requests(self, approaches: Iterable[str]) -> tuple[list[RunRequest], dict[str, str]]:
        """The runs to send now, and the problem of each approach that cannot be sent."""
        from workbench.core.prompt_plan import plan_approach
        from workbench.ui.prompt_run import RunRequest

        if not self.flush():
            return [], {"all": NOT_SAVED}
        self.check_changed_elsewhere()
        if self._conflict:
            return [], {"all": IN_CONFLICT}
        db = self.app.db
        examples = self._examples()
        params = dict(self.content.get("params") or {})
        requests, problems = [], {}
        for approach in approaches:
            plan = plan_approach(approach, self.content, examples)
            if plan.problem:
                problems[approach] = plan.problem
                continue
            requests.append(
                RunRequest(self.prompt_name, approach, plan.model, plan.messages, params)
            )
        if requests:
            # freeze what is sent (only when something is), so each run points at its version
            version = store.version_for_run(db, self.prompt_name, sent=self.content)
            self.version = store.latest_version(db, self.prompt_name)
            requests = [
                replace(r, version_id=version.id, version_number=version.number) for r in requests
            ]
        return requests, problems

    def action_run(self, which: str | None = None) -> None:
        """Run one approach or all three (the Run tab's choice when not given)."""
        if not self.tabs_composed:
            return  # within the first moment after start-up: the run columns are not there yet
        if which is None:
            from textual.widgets import Select

            value = self.query_one("#run-choice", Select).value
            which = value if isinstance(value, str) else "all"
        approaches = APPROACHES if which == "all" else (which,)
        requests, problems = self.run_requests(approaches)
        self.show_header()
        self.refresh_versions()
        self.action_show_tab("pt-run")
        for approach in APPROACHES:
            self._run_column(approach).display = approach in approaches
        for approach, problem in problems.items():
            self._run_column(approach).show_problem(problem)
        for request in requests:
            self._run_column(request.approach).start(request)
        if problems and not requests:
            self.notify(next(iter(problems.values())), severity="warning")
        self.refresh_bindings()

    def action_cancel_runs(self) -> None:
        for column in self._run_columns():
            column.cancel()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_runs":
            return any(c.running for c in self._run_columns())
        return True

    def on_run_column_finished(self, event: RunColumn.Finished) -> None:
        event.stop()
        self.refresh_bindings()

    # --- tabs ----------------------------------------------------------------------------------

    def action_next_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        index = TABS.index(tabs.active) if tabs.active in TABS else -1
        self.action_show_tab(TABS[(index + 1) % len(TABS)])

    def action_show_tab(self, tab: str) -> None:
        """Show a tab and move focus into it (focus left in a hidden tab would switch back)."""
        tabs = self.query_one(TabbedContent)
        tabs.active = tab
        self.set_focus(None)
        self.call_after_refresh(self._focus_into, tab)

    def _focus_into(self, tab: str) -> None:
        pane = self.query_one(f"#{tab}", TabPane)
        for widget in pane.query("*"):
            # a scrolling form is focusable too: go on to the first field inside it
            scroller = isinstance(widget, ScrollableContainer)
            if widget.focusable and not (scroller and any(w.focusable for w in widget.query("*"))):
                widget.focus()
                return
        self.query_one(TabbedContent).query_one(Tabs).focus()

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        event.stop()
        if event.pane.id == "pt-preview":
            self.refresh_preview()

    # --- the command palette (the keys above are offered from their bindings) -------------------

    def palette_extras(self) -> Iterable[SystemCommand]:
        prefix = self.palette_prefix()
        yield SystemCommand(
            f"{prefix}: Run all three approaches",
            "Stream zero-shot, few-shot and fine-tuned side by side",
            lambda: self.action_run("all"),
        )
        for approach in APPROACHES:
            label = APPROACH_LABELS[approach].lower()
            yield SystemCommand(
                f"{prefix}: Run {label} only",
                f"Stream the {label} answer alone",
                lambda a=approach: self.action_run(a),
            )
        yield SystemCommand(
            f"{prefix}: Duplicate prompt",
            "Copy this prompt under a new name",
            lambda: self.action_new_prompt(copy=True),
        )
        yield SystemCommand(
            f"{prefix}: Rename prompt", "Give this prompt another name", self.action_rename_prompt
        )
        yield SystemCommand(
            f"{prefix}: Preview messages",
            "Exactly what each approach sends, with tokens (Preview tab)",
            lambda: self.action_show_tab("pt-preview"),
        )
        yield SystemCommand(
            f"{prefix}: Prompt versions",
            "Browse, diff and restore versions (Versions tab)",
            lambda: self.action_show_tab("pt-versions"),
        )
