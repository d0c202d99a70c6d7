"""The prompt the Prompt pane shows and its draft in SQLite: loading a named prompt, writing edits
a moment after typing stops (at once before a run, a version save or leaving the pane), another
window's changes to the same draft, and its versions (save with a note, list, restore).

A base of PromptScreen, which composes the widgets and fills them in `show_loaded()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

from workbench.providers.chat import DEFAULT_PARAMS
from workbench.store import prompts as store
from workbench.ui.pane import PaneScreen

if TYPE_CHECKING:
    from workbench.ui.prompt_versions import VersionsView

SAVE_DELAY = 0.4  # seconds after the last keystroke before the draft is written


class PromptDraftScreen(PaneScreen):
    """A pane holding one named prompt's content, edited in memory and written to its draft."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.prompt_name = ""
        self.version: store.PromptVersion | None = None
        self.content: dict[str, Any] = {}
        self._pending: dict[str, Any] = {}
        self._conflict = False  # another window changed the draft; the user is asked
        self._unmounting = False
        # False while widgets the pane fills are not mounted yet (PromptScreen mounts its hidden
        # tabs after the first paint and fills them then)
        self.tabs_composed = True

    # --- what the pane does with it --------------------------------------------------------------

    def show_loaded(self, version: store.PromptVersion) -> None:
        """Fill the pane's widgets from a version just loaded (no edits posted meanwhile)."""
        raise NotImplementedError

    def content_edited(self) -> None:
        """An edit changed `content` (the pane refreshes what it derives from it)."""

    # --- loading and saving ----------------------------------------------------------------------

    def load(self, name: str) -> None:
        """Show a named prompt (created with the profile's default model if it is new)."""
        if name != self.prompt_name and not self.flush():
            return  # the database is busy: the edits of the prompt shown stay with it
        self._pending = {}
        self.app.pending_saves.forget(self)
        version = store.ensure_prompt(
            self.app.db,
            name,
            model=self.app.config.profile.default_model,
            params=dict(DEFAULT_PARAMS),
        )
        self.prompt_name = name
        self.version = version
        self.content = version.content()
        self.show_header()
        self.refresh_versions()
        self.show_loaded(version)

    def edit(self, field: str, value: Any) -> None:
        """Remember one edit and write it into the draft shortly (see SAVE_DELAY)."""
        self.content[field] = value
        self._pending[field] = value
        self.app.pending_saves.later(self, self._write_pending, SAVE_DELAY)
        self.show_header()
        self.content_edited()

    def flush(self, show: bool = True) -> bool:
        """Write pending edits into the draft now (`show=False`: the widgets are going away).

        False when the database is busy: the edits stay pending and are retried (PendingSaves).
        """
        saved = self.app.pending_saves.now(self)
        if show and self.is_mounted:
            self.show_header()
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
                self.app.db, self.prompt_name, base=self.version, **changes
            )
        except store.DraftConflict as exc:
            self._changed_elsewhere(exc.stored)
            return
        for key, value in changes.items():
            if self._pending.get(key) is value:
                del self._pending[key]
        if self.is_attached and self.app.screen is self and not self._unmounting:
            self.show_header()
            self.refresh_versions()

    # --- another window ------------------------------------------------------------------------

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
                self.app.pending_saves.forget(self)
                self.load(self.prompt_name)
                return
            # keep ours: write it over theirs, now that the user chose to
            self.version = store.latest_version(self.app.db, self.prompt_name)
            self.flush()

        from workbench.ui.widgets.confirm import ConfirmDialog  # dialogs load when first opened

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
        stored = store.latest_version(self.app.db, self.prompt_name)
        if not store.same_prompt(stored, self.version):
            self._changed_elsewhere(stored)

    # --- what is shown of it -------------------------------------------------------------------

    def show_header(self) -> None:
        text = Text()
        text.append(" Prompt ", style="dim")
        text.append(self.prompt_name, style="bold")
        if self.version is not None:
            text.append(f"  {self.version.label}", style="bold")
        text.append("  saving…" if self._pending else "  saved", style="dim")
        text.append(f"  model {self.content.get('model') or '(none)'}", style="dim")
        self.query_one("#prompt-header", Static).update(text)

    def refresh_versions(self) -> None:
        if not self.tabs_composed:
            return  # the Versions tab is filled once it is composed
        from workbench.ui.prompt_versions import VersionsView

        self.query_one(VersionsView).show(store.list_versions(self.app.db, self.prompt_name))

    # --- versions ------------------------------------------------------------------------------

    def action_save_version(self) -> None:
        if not self.flush():
            return  # the database is busy: told, and retried

        def save(note: str | None) -> None:
            if note is None:
                return
            before = store.latest_version(self.app.db, self.prompt_name)
            version = store.save_version(self.app.db, self.prompt_name, note)
            self.version = version
            self.show_header()
            self.refresh_versions()
            if before is not None and not before.draft:
                added = "; the note was added to it" if note.strip() else ""
                self.notify(f"no changes since {version.label}{added}")
            else:
                self.notify(f"saved {version.label}")

        from workbench.ui.prompt_dialogs import AskText

        self.app.push_screen(AskText("Note for this version (optional)"), save)

    def on_versions_view_restore_requested(self, event: VersionsView.RestoreRequested) -> None:
        event.stop()
        if not self.flush():
            return  # the database is busy: told, and retried
        restored = store.restore_version(self.app.db, event.version.id)
        self.load(self.prompt_name)
        self.notify(f"restored v{event.version.number} as {restored.label}")
