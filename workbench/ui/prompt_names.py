"""Named prompts keep projects apart: open another, start a new one, duplicate or rename this one.

The prompt shown is the app's `active_prompt`, which the Examples pane follows too.
"""

from __future__ import annotations

from workbench.providers.chat import DEFAULT_PARAMS
from workbench.store import prompts as store
from workbench.ui.prompt_draft import PromptDraftScreen


class PromptNamesScreen(PromptDraftScreen):
    """The Prompt pane's actions on named prompts (its bindings stay on PromptScreen)."""

    def switch_prompt(self, name: str) -> None:
        self.load(name)
        self.app.active_prompt = name

    def action_open_prompt(self) -> None:
        names = [p.name for p in store.list_prompts(self.app.db)]

        def picked(name: str | None) -> None:
            if name:
                self.switch_prompt(name)

        from workbench.ui.prompt_dialogs import PickPrompt  # dialogs load when first opened

        self.app.push_screen(PickPrompt(names, self.prompt_name), picked)

    def action_new_prompt(self, copy: bool = False) -> None:
        """Ask for a name, then start an empty prompt (`copy`: a copy of this one) under it."""

        def create(name: str | None) -> None:
            if not name or not name.strip():
                return
            if not self.flush():
                return  # the database is busy: told, and retried
            try:
                if copy:
                    store.create_prompt(self.app.db, name, copy_from=self.prompt_name)
                else:
                    store.create_prompt(
                        self.app.db,
                        name,
                        model=self.app.config.profile.default_model,
                        params=dict(DEFAULT_PARAMS),
                    )
            except ValueError as exc:
                self.notify(str(exc), severity="error")
                return
            self.switch_prompt(name.strip())

        from workbench.ui.prompt_dialogs import AskText

        title = "Name of the copy" if copy else "Name of the new prompt"
        self.app.push_screen(AskText(title), create)

    def action_rename_prompt(self) -> None:
        def rename(name: str | None) -> None:
            if not name or name.strip() == self.prompt_name:
                return
            if not self.flush():
                return  # the database is busy: told, and retried
            try:
                store.rename_prompt(self.app.db, self.prompt_name, name)
            except (ValueError, KeyError) as exc:
                self.notify(str(exc), severity="error")
                return
            self.prompt_name = name.strip()
            self.app.active_prompt = self.prompt_name
            self.load(self.prompt_name)

        from workbench.ui.prompt_dialogs import AskText

        self.app.push_screen(AskText("Rename prompt", self.prompt_name), rename)
