"""The Prompt pane: write a prompt, preview what each approach sends, run them side by side.

Edits go into the prompt's draft in SQLite a moment after typing stops (and at once before a run,
a version save or leaving the pane); ctrl+s freezes a version. The pane reads the few-shot
selection the Examples pane saved for the active prompt, and every run is recorded by its column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer
from textual.widgets import Label, Select, Static, TabbedContent, TabPane, Tabs, TextArea

from workbench.core.prompts import (
    APPROACH_LABELS,
    APPROACHES,
    MissingVariables,
    assemble_messages,
    missing_variables,
    placeholders,
    prompt_size,
)
from workbench.providers.chat import DEFAULT_PARAMS
from workbench.store import prompts as store
from workbench.ui.pane import PaneScreen
from workbench.ui.prompt_dialogs import AskText, PickPrompt
from workbench.ui.prompt_editor import PlaceholderTextArea
from workbench.ui.prompt_preview import ApproachPreview, PreviewView
from workbench.ui.prompt_run import RunColumn, RunRequest
from workbench.ui.prompt_settings import SettingsForm
from workbench.ui.prompt_variables import VariablesForm
from workbench.ui.prompt_versions import VersionsView
from workbench.ui.widgets.confirm import ConfirmDialog

SAVE_DELAY = 0.4  # seconds after the last keystroke before the draft is written
PREVIEW_DELAY = 0.2
TABS = ("pt-edit", "pt-variables", "pt-model", "pt-preview", "pt-run", "pt-versions")
RUN_CHOICES = [("All three", "all"), *((APPROACH_LABELS[a], a) for a in APPROACHES)]
NO_EXAMPLES = "no few-shot examples chosen: pick them in the Examples pane (F2)"
NO_FT_MODEL = "no fine-tuned model chosen: pick one on the Model tab"


class PromptScreen(PaneScreen):
    PANE = "prompt"
    # typing right after start-up goes into the system prompt, not into the tab bar
    AUTO_FOCUS = "#system"

    BINDINGS = [
        Binding("ctrl+r", "run", "Run", id="prompt-run", tooltip="Run the chosen approach(es)"),
        Binding("ctrl+s", "save_version", "Save version", id="prompt-save-version"),
        Binding("escape", "cancel_runs", "Cancel run", id="prompt-cancel"),
        Binding("ctrl+t", "next_tab", "Next tab", id="prompt-next-tab"),
        Binding("ctrl+o", "open_prompt", "Open prompt", id="prompt-open"),
        Binding("ctrl+n", "new_prompt", "New prompt", id="prompt-new", show=False),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.prompt_name = ""
        self.version: store.PromptVersion | None = None
        self.content: dict[str, Any] = {}
        self.models: list[str] = []
        self.previews: list[ApproachPreview] = []
        self._pending: dict[str, Any] = {}
        self._conflict = False  # another window changed the draft; the user is asked
        self._unmounting = False
        self._preview_timer = None

    # --- layout --------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        yield Static(id="prompt-header")
        with TabbedContent(id="prompt-tabs", initial="pt-edit"):
            with TabPane("Edit", id="pt-edit"):
                yield Label("System prompt", classes="editor-label")
                yield PlaceholderTextArea(id="system")
                yield Label("User template ({{name}} makes a variable)", classes="editor-label")
                yield PlaceholderTextArea(id="template")
            with TabPane("Variables", id="pt-variables"):
                yield VariablesForm(id="variables")
            with TabPane("Model", id="pt-model"):
                yield SettingsForm(id="settings")
            with TabPane("Preview", id="pt-preview"):
                yield PreviewView(id="preview")
            with TabPane("Run", id="pt-run"):
                with Horizontal(id="run-bar"):
                    yield Select[str](RUN_CHOICES, value="all", allow_blank=False, id="run-choice")
                    yield Static(Text("ctrl+r run · escape cancel", style="dim"), id="run-help")
                with Horizontal(id="run-columns"):
                    for approach in APPROACHES:
                        yield RunColumn(approach, id=f"run-{approach}")
            with TabPane("Versions", id="pt-versions"):
                yield VersionsView(id="versions")

    def on_mount(self) -> None:
        app: Any = self.app
        name = app.active_prompt
        if name == store.DEFAULT_PROMPT:
            # a fresh start: open the prompt the user edited last rather than "default"
            name = store.most_recent_prompt(app.db) or name
        self.load(name)
        app.active_prompt = name
        self.watch(self.app, "active_prompt", self._active_prompt_changed, init=False)
        # after the first paint: listing models imports the SDK, which costs more than Textual
        self.call_after_refresh(self.fetch_models)

    def on_screen_resume(self) -> None:
        app: Any = self.app
        if app.active_prompt != self.prompt_name:
            self.load(app.active_prompt)
        else:
            self.check_changed_elsewhere()
        pending = getattr(app, "pending_fine_tuned_model", None)
        if pending:
            app.pending_fine_tuned_model = None
            self.use_fine_tuned_model(str(pending))
        self.refresh_preview()

    def on_screen_suspend(self) -> None:
        self.flush()

    def on_unmount(self) -> None:
        self._unmounting = True  # the widgets are going away: write, show nothing
        self.flush(show=False)

    def _active_prompt_changed(self, name: str) -> None:
        if name != self.prompt_name:
            self.load(name)

    # --- loading and saving ----------------------------------------------------------------------

    def load(self, name: str) -> None:
        """Show a named prompt (created with the profile's default model if it is new)."""
        if name != self.prompt_name and not self.flush():
            return  # the database is busy: the edits of the prompt shown stay with it
        self._pending = {}
        self.app.pending_saves.forget(self)  # type: ignore[attr-defined]
        profile = self.app.config.profile  # type: ignore[attr-defined]
        version = store.ensure_prompt(
            self.app.db,  # type: ignore[attr-defined]
            name,
            model=profile.default_model,
            params=dict(DEFAULT_PARAMS),
        )
        self.prompt_name = name
        self.version = version
        self.content = version.content()
        with self.prevent(TextArea.Changed):
            self.query_one("#system", TextArea).load_text(version.system)
            self.query_one("#template", TextArea).load_text(version.template)
        self.query_one(VariablesForm).values = {}
        self.query_one(VariablesForm).show(placeholders(version.template), version.variables)
        self.query_one(SettingsForm).show(
            model=version.model,
            ft_model=version.ft_model,
            ft_system=version.ft_system,
            params=version.params,
            models=self._model_choices(),
        )
        self._show_header()
        self.refresh_versions()
        self.refresh_preview()

    def _model_choices(self) -> list[str]:
        profile = self.app.config.profile  # type: ignore[attr-defined]
        return list(dict.fromkeys([*self.models, profile.default_model]))

    def edit(self, field: str, value: Any) -> None:
        """Remember one edit and write it into the draft shortly (see SAVE_DELAY)."""
        self.content[field] = value
        self._pending[field] = value
        self.app.pending_saves.later(self, self._write_pending, SAVE_DELAY)  # type: ignore[attr-defined]
        self._show_header()
        self._schedule_preview()

    def flush(self, show: bool = True) -> bool:
        """Write pending edits into the draft now (`show=False`: the widgets are going away).

        False when the database is busy: the edits stay pending and are retried (PendingSaves).
        """
        saved = self.app.pending_saves.now(self)  # type: ignore[attr-defined]
        if show and self.is_mounted:
            self._show_header()
            self.refresh_versions()
        return saved

    def _write_pending(self) -> None:
        """The PendingSaves callback: the edits are forgotten only once they are written."""
        if not self._pending or not self.prompt_name:
            return
        if self._conflict:
            return  # waiting for the user to choose theirs or ours; nothing written meanwhile
        changes = dict(self._pending)
        try:
            self.version = store.save_draft(
                self.app.db,  # type: ignore[attr-defined]
                self.prompt_name,
                base=self.version,
                **changes,
            )
        except store.DraftConflict as exc:
            self._changed_elsewhere(exc.stored)
            return
        for key, value in changes.items():
            if self._pending.get(key) is value:
                del self._pending[key]
        if self.is_attached and self.app.screen is self and not self._unmounting:
            self._show_header()
            self.refresh_versions()

    def _changed_elsewhere(self, stored: store.PromptVersion | None) -> None:
        """Another window saved this prompt: reload if nothing here is unsaved, else ask."""
        if not self._pending:
            self.load(self.prompt_name)
            self.notify(f"{self.prompt_name}: reloaded, it was changed in another window")
            return
        self._conflict = True

        def answer(theirs: bool | None) -> None:
            self._conflict = False
            if theirs:
                self._pending = {}
                self.app.pending_saves.forget(self)  # type: ignore[attr-defined]
                self.load(self.prompt_name)
                return
            # keep ours: write it over theirs, now that the user chose to
            self.version = store.latest_version(self.app.db, self.prompt_name)  # type: ignore[attr-defined]
            self.flush()

        self.app.push_screen(
            ConfirmDialog(
                "This prompt was changed in another window.",
                f"{self.prompt_name}: y loads the other window's version (your unsaved edits "
                "here are dropped); n keeps yours and saves it over theirs.",
                yes="Load theirs",
                no="Keep mine",
            ),
            answer,
        )

    def check_changed_elsewhere(self) -> None:
        """Compare the stored draft with what this window loaded (on resume and before a run)."""
        if not self.prompt_name or self._conflict:
            return
        stored = store.latest_version(self.app.db, self.prompt_name)  # type: ignore[attr-defined]
        if not store.same_prompt(stored, self.version):
            self._changed_elsewhere(stored)

    def _show_header(self) -> None:
        text = Text()
        text.append(" Prompt ", style="dim")
        text.append(self.prompt_name, style="bold")
        if self.version is not None:
            text.append(f"  {self.version.label}", style="bold")
        text.append("  saving…" if self._pending else "  saved", style="dim")
        text.append(f"  model {self.content.get('model') or '(none)'}", style="dim")
        self.query_one("#prompt-header", Static).update(text)

    def refresh_versions(self) -> None:
        self.query_one(VersionsView).show(store.list_versions(self.app.db, self.prompt_name))  # type: ignore[attr-defined]

    # --- edits from the widgets ------------------------------------------------------------------

    @on(TextArea.Changed, "#system, #template")
    def _text_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        field = str(event.text_area.id)
        if self.content.get(field, "") == event.text_area.text:
            return  # the echo of loading the text, not an edit
        self.edit(field, event.text_area.text)
        if field == "template":
            form = self.query_one(VariablesForm)
            names = placeholders(event.text_area.text)
            if names != form.names:
                form.show(names, {})

    @on(VariablesForm.Changed)
    def _variables_changed(self, event: VariablesForm.Changed) -> None:
        event.stop()
        self.edit("variables", {k: v for k, v in event.form.values.items() if v != ""})

    @on(SettingsForm.Changed)
    def _settings_changed(self, event: SettingsForm.Changed) -> None:
        event.stop()
        self.edit(event.field, event.value)

    def use_fine_tuned_model(self, model: str) -> None:
        """Put a fine-tuned model (e.g. from the Jobs pane) in the fine-tuned picker."""
        if model not in self.models:
            self.models.append(model)
        self.edit("ft_model", model)
        self.query_one(SettingsForm).set_models(
            self._model_choices(), self.content.get("model", ""), model
        )
        self.action_show_tab("pt-model")
        self.notify(f"fine-tuned approach now uses {model}")

    @work(exclusive=True, group="models", exit_on_error=False, description="listing models")
    async def fetch_models(self) -> None:
        """Fill the model pickers from the provider; offline, the profile's default model stays."""
        import asyncio
        import importlib

        profile = self.app.config.profile  # type: ignore[attr-defined]
        if not (profile.api_key() or profile.extra.get("token_command")):
            self.models = []  # the status line already says the key is missing
        else:
            # import the SDK off the event loop so the screen keeps drawing meanwhile
            await asyncio.to_thread(importlib.import_module, "openai")
            await self._list_models()
        ft_model = self.content.get("ft_model", "")
        if ft_model and ft_model not in self.models:
            self.models.append(ft_model)
        self.query_one(SettingsForm).set_models(
            self._model_choices(), self.content.get("model", ""), ft_model
        )

    async def _list_models(self) -> None:
        from workbench.providers.chat import list_models, make_chat_client
        from workbench.providers.openai_api import MissingAPIKey

        try:
            client = make_chat_client(self.app.config.profile)  # type: ignore[attr-defined]
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

        return selected_examples(self.app.db, self.prompt_name)  # type: ignore[attr-defined]

    def build_previews(self) -> list[ApproachPreview]:
        """What each approach would send now, with token counts (placeholders left if unfilled)."""
        from workbench.core.tokens import get_tokenizer

        content = self.content
        examples = self._examples()
        missing = missing_variables(content.get("template", ""), content.get("variables", {}))
        previews = []
        for approach in APPROACHES:
            model = content.get("ft_model") if approach == "fine-tuned" else content.get("model")
            messages = assemble_messages(
                approach,
                content.get("system", ""),
                content.get("template", ""),
                content.get("variables", {}),
                examples,
                content.get("ft_system"),
                strict=False,
            )
            problems = []
            if missing:
                problems.append(str(MissingVariables(missing)))
            note = ""
            if approach == "few-shot":
                note = f"{len(examples)} example(s) from the Examples pane" if examples else ""
                if not examples:
                    problems.append(NO_EXAMPLES)
            if approach == "fine-tuned" and not model:
                problems.append(NO_FT_MODEL)
            tokenizer = get_tokenizer(model or content.get("model") or "")
            previews.append(
                ApproachPreview(
                    approach,
                    model or "",
                    prompt_size(messages, tokenizer),
                    "; ".join(problems),
                    note,
                )
            )
        return previews

    def refresh_preview(self) -> None:
        from workbench.core.tokens import loaded_tokenizer

        if not self.prompt_name:
            return
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
        if not self.flush():
            return [], {"all": "not sent: the database is busy and the prompt is not saved yet"}
        self.check_changed_elsewhere()
        if self._conflict:
            return [], {"all": "not sent: choose which version of the prompt to keep first"}
        db = self.app.db  # type: ignore[attr-defined]
        content = self.content
        examples = self._examples()
        params = dict(content.get("params") or {})
        requests, problems = [], {}
        for approach in approaches:
            model = content.get("ft_model") if approach == "fine-tuned" else content.get("model")
            if not model:
                problems[approach] = NO_FT_MODEL if approach == "fine-tuned" else "choose a model"
                continue
            if approach == "few-shot" and not examples:
                problems[approach] = NO_EXAMPLES
                continue
            try:
                messages = assemble_messages(
                    approach,
                    content.get("system", ""),
                    content.get("template", ""),
                    content.get("variables", {}),
                    examples,
                    content.get("ft_system"),
                )
            except MissingVariables as exc:
                problems[approach] = str(exc)
                continue
            requests.append(RunRequest(self.prompt_name, approach, model, messages, params))
        if requests:
            # freeze what is sent (only when something is), so each run points at its version
            version = store.version_for_run(db, self.prompt_name, sent=content)
            self.version = store.latest_version(db, self.prompt_name)
            requests = [
                replace(r, version_id=version.id, version_number=version.number) for r in requests
            ]
        return requests, problems

    def action_run(self, which: str | None = None) -> None:
        """Run one approach or all three (the Run tab's choice when not given)."""
        if which is None:
            value = self.query_one("#run-choice", Select).value
            which = value if isinstance(value, str) else "all"
        approaches = APPROACHES if which == "all" else (which,)
        requests, problems = self.run_requests(approaches)
        self._show_header()
        self.refresh_versions()
        self.action_show_tab("pt-run")
        for approach in APPROACHES:
            self.query_one(f"#run-{approach}", RunColumn).display = approach in approaches
        for approach, problem in problems.items():
            self.query_one(f"#run-{approach}", RunColumn).show_problem(problem)
        for request in requests:
            self.query_one(f"#run-{request.approach}", RunColumn).start(request)
        if problems and not requests:
            self.notify(next(iter(problems.values())), severity="warning")
        self.refresh_bindings()

    def action_cancel_runs(self) -> None:
        for column in self.query(RunColumn):
            column.cancel()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_runs":
            return any(c.running for c in self.query(RunColumn))
        return True

    @on(RunColumn.Finished)
    def _run_finished(self, event: RunColumn.Finished) -> None:
        event.stop()
        self.refresh_bindings()

    # --- versions and named prompts --------------------------------------------------------------

    def action_save_version(self) -> None:
        if not self.flush():
            return  # the database is busy: told, and retried

        def save(note: str | None) -> None:
            if note is None:
                return
            before = store.latest_version(self.app.db, self.prompt_name)  # type: ignore[attr-defined]
            version = store.save_version(self.app.db, self.prompt_name, note)  # type: ignore[attr-defined]
            self.version = version
            self._show_header()
            self.refresh_versions()
            if before is not None and not before.draft:
                added = "; the note was added to it" if note.strip() else ""
                self.notify(f"no changes since {version.label}{added}")
            else:
                self.notify(f"saved {version.label}")

        self.app.push_screen(AskText("Note for this version (optional)"), save)

    @on(VersionsView.RestoreRequested)
    def _restore(self, event: VersionsView.RestoreRequested) -> None:
        event.stop()
        if not self.flush():
            return  # the database is busy: told, and retried
        restored = store.restore_version(self.app.db, event.version.id)  # type: ignore[attr-defined]
        self.load(self.prompt_name)
        self.notify(f"restored v{event.version.number} as {restored.label}")

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

    def switch_prompt(self, name: str) -> None:
        app: Any = self.app
        self.load(name)
        app.active_prompt = name

    def action_open_prompt(self) -> None:
        names = [p.name for p in store.list_prompts(self.app.db)]  # type: ignore[attr-defined]

        def picked(name: str | None) -> None:
            if name:
                self.switch_prompt(name)

        self.app.push_screen(PickPrompt(names, self.prompt_name), picked)

    def action_new_prompt(self, copy: bool = False) -> None:
        def create(name: str | None) -> None:
            if not name or not name.strip():
                return
            if not self.flush():
                return  # the database is busy: told, and retried
            profile = self.app.config.profile  # type: ignore[attr-defined]
            try:
                if copy:
                    store.create_prompt(self.app.db, name, copy_from=self.prompt_name)  # type: ignore[attr-defined]
                else:
                    store.create_prompt(
                        self.app.db,  # type: ignore[attr-defined]
                        name,
                        model=profile.default_model,
                        params=dict(DEFAULT_PARAMS),
                    )
            except ValueError as exc:
                self.notify(str(exc), severity="error")
                return
            self.switch_prompt(name.strip())

        title = "Name of the copy" if copy else "Name of the new prompt"
        self.app.push_screen(AskText(title), create)

    def action_rename_prompt(self) -> None:
        def rename(name: str | None) -> None:
            if not name or name.strip() == self.prompt_name:
                return
            if not self.flush():
                return  # the database is busy: told, and retried
            try:
                store.rename_prompt(self.app.db, self.prompt_name, name)  # type: ignore[attr-defined]
            except (ValueError, KeyError) as exc:
                self.notify(str(exc), severity="error")
                return
            self.prompt_name = name.strip()
            self.app.active_prompt = self.prompt_name  # type: ignore[attr-defined]
            self.load(self.prompt_name)

        self.app.push_screen(AskText("Rename prompt", self.prompt_name), rename)

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand(
            "Run all three approaches",
            "Stream zero-shot, few-shot and fine-tuned side by side",
            lambda: self.action_run("all"),
        )
        for approach in APPROACHES:
            label = APPROACH_LABELS[approach]
            yield SystemCommand(
                f"Run {label.lower()} only",
                f"Stream the {label.lower()} answer",
                lambda a=approach: self.action_run(a),
            )
        yield SystemCommand(
            "Save prompt version", "Freeze the draft with a note (ctrl+s)", self.action_save_version
        )
        yield SystemCommand("New prompt", "Start another named prompt", self.action_new_prompt)
        yield SystemCommand(
            "Duplicate prompt",
            "Copy this prompt under a new name",
            lambda: self.action_new_prompt(copy=True),
        )
        yield SystemCommand(
            "Open prompt", "Switch to another named prompt (ctrl+o)", self.action_open_prompt
        )
        yield SystemCommand(
            "Rename prompt", "Give this prompt another name", self.action_rename_prompt
        )
        yield SystemCommand(
            "Preview messages",
            "Exactly what each approach sends, with tokens",
            lambda: self.action_show_tab("pt-preview"),
        )
        yield SystemCommand(
            "Prompt versions",
            "Browse, diff and restore versions",
            lambda: self.action_show_tab("pt-versions"),
        )
        yield SystemCommand(
            "Cancel runs", "Stop streaming answers (escape)", self.action_cancel_runs
        )
