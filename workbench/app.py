"""WorkbenchApp: the six pane screens, global keys, the command palette and the status line.

Kept small on purpose: pane behaviour lives in `workbench/ui/<pane>.py`, domain logic in `core/`.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import signal
from collections.abc import Callable, Iterable
from pathlib import Path

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.signal import Signal
from textual.worker import Worker, WorkerState

from workbench.config import Config, load_config, save_setting
from workbench.config import db_path as resolve_db_path
from workbench.ui.pane import PANES, PaneScreen
from workbench.ui.pending import PendingSaves
from workbench.ui.status import StatusInfo
from workbench.ui.stylesheet import WorkbenchStylesheet

# Textual posts a worker's StateChanged to the worker's own node only; letting it bubble brings
# every worker's end to the one router below (`_worker_state_changed`), as harlequin does with its
# app-level workers. A node that handles it itself may still stop it.
Worker.StateChanged.bubble = True

# SIGHUP (the SSH connection dropped, the terminal closed) and SIGTERM end the app through
# `exit()`, after the pending edits are written; their exit codes follow the shell's 128 + N.
EXIT_SIGNALS = (signal.SIGHUP, signal.SIGTERM)


def styles_dir() -> Path:
    """The .tcss files: inside the package in a wheel install, top-level `styles/` in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "styles", here.parent / "styles"):
        if (candidate / "base.tcss").exists():
            return candidate
    raise FileNotFoundError(f"workbench styles not found near {here}")


def _stylesheets(pane: str | None = None) -> list[Path]:
    """base.tcss then every pane's sheet in name order; with `pane`, base.tcss and that pane's."""
    root = styles_dir()
    panes = sorted(p for p in root.glob("*.tcss") if p.name != "base.tcss")
    if pane is not None:
        panes = [p for p in panes if p.stem == pane]
    return [root / "base.tcss", *panes]


_PANE_CLASSES = {
    "prompt": "PromptScreen",
    "examples": "ExamplesScreen",
    "training": "TrainingScreen",
    "jobs": "JobsScreen",
    "costs": "CostsScreen",
    "history": "HistoryScreen",
}


def _pane_factory(mode: str) -> Callable[[], Screen]:
    def make() -> Screen:
        module = importlib.import_module(f"workbench.ui.{mode}")
        return getattr(module, _PANE_CLASSES[mode])()

    make.__name__ = _PANE_CLASSES[mode]
    return make


class WorkbenchApp(App[int]):
    """The workbench TUI."""

    TITLE = "workbench"
    CSS_PATH = _stylesheets()
    # Each pane's module is imported when the pane is first shown (start-up pays for one).
    MODES = {mode: _pane_factory(mode) for mode, _label, _key in PANES}
    COMMAND_PALETTE_BINDING = "ctrl+p"

    # The prompt the Prompt and Examples panes work on (named prompts keep projects apart).
    active_prompt: reactive[str] = reactive("default")
    BINDINGS = [
        *(
            # priority: the F-keys switch panes even from an editor (TextArea binds f6 itself);
            # alt+digit arrives as ESC+digit, decoded as alt+digit by ui/keys.py (not as "¡");
            # ctrl+g then 1-6 (ui/pane.py) is the fallback that reaches the app everywhere
            Binding(
                f"{key},alt+{i}",
                f"switch_mode('{mode}')",
                label,
                show=False,
                priority=True,
                id=f"pane-{mode}",
            )
            for i, (mode, label, key) in enumerate(PANES, start=1)
        ),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    def __init__(
        self,
        config: Config | None = None,
        db_path: str | os.PathLike | None = None,
        start_pane: str = "prompt",
    ) -> None:
        # The start pane is the first mode itself (Textual reads DEFAULT_MODE in App.__init__):
        # switching to it from on_mount built a blank default screen first and parsed every
        # stylesheet twice more before the first frame.
        self.DEFAULT_MODE = start_pane
        # The first paint needs only its own pane's CSS; the rest is read right after it
        # (parsing and matching ~1,000 lines of other panes' rules was a third of the start-up).
        super().__init__(css_path=_stylesheets(start_pane))
        # nothing is read into the sheet yet: Textual reads the CSS when the app starts running
        self.stylesheet = WorkbenchStylesheet(variables=self.get_css_variables())
        self.config = config or load_config()
        self.db_path = resolve_db_path(db_path)
        profile = self.config.profile
        self.status_info = StatusInfo(
            profile=profile.name,
            base_url=profile.base_url,
            key_source=profile.api_key_source(),
            tokenizer="loading…",
            warning="; ".join(self.config.warnings),
        )
        self.status_signal: Signal[StatusInfo] = Signal(self, "status")
        self._db = None
        # edits waiting in a debounce: written on quit, SIGHUP/SIGTERM and pane switches
        self.pending_saves = PendingSaves(self)
        # the Jobs → Prompt hand-off (`try_fine_tuned_model`), taken once by the Prompt pane
        self._fine_tuned_model_to_try: str | None = None
        self._whole_frame_sent = False  # see `_display`
        # work that waits for the first frame (`call_after_first_frame`); None once it is drawn
        self._after_first_frame: list[Callable[[], object]] | None = []
        # True once that work has run (tests wait for it, as a user's first key would)
        self.started = False
        if self.config.theme and self.config.theme in self.available_themes:
            self.theme = self.config.theme

    @property
    def db(self):
        """The main thread's database connection (workers open their own with `open_db`)."""
        if self._db is None:
            from workbench.store.db import open_db

            self._db = open_db(self.db_path)
        return self._db

    def try_fine_tuned_model(self, model: str) -> None:
        """Open `model` in the Prompt pane's fine-tuned column (Jobs' "Try model")."""
        self._fine_tuned_model_to_try = model
        self.switch_mode("prompt")

    def take_fine_tuned_model(self) -> str | None:
        """The model handed over by `try_fine_tuned_model`, once (then None)."""
        model, self._fine_tuned_model_to_try = self._fine_tuned_model_to_try, None
        return model

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity="information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A toast that shows its text as is: messages carry names and errors, never markup.

        Every `self.notify` in a widget or screen comes here (Textual's own `notify` parses
        markup by default, so a dataset named `support [/INST]` crashed its toast).
        """
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def on_mount(self) -> None:
        self.db  # noqa: B018 - create and migrate the database before any pane reads it
        self._install_signal_handlers()
        for warning in self.config.warnings:
            self.notify(warning, severity="warning", timeout=10)

    def call_after_first_frame(self, callback: Callable[[], object]) -> None:
        """Run `callback` once the first frame is on the terminal (at once if it already is).

        For start-up work the first screen does not show. `call_after_refresh` is not enough
        before then: Textual mounts the first screen inside a batch that holds the paint back,
        and an idle screen runs its callbacks during a batch, so they ran before the frame."""
        if self._after_first_frame is None:
            self.call_after_refresh(callback)
        else:
            self._after_first_frame.append(callback)

    def on_ready(self) -> None:
        # Ready: the first screen is laid out, inside the start-up batch; its frame is drawn at
        # the first refresh after the batch, and the callbacks follow it
        self.call_after_refresh(self._first_frame_drawn)

    def _display(self, screen: Screen, renderable) -> None:
        """Send the whole screen as the first frame the terminal gets.

        Textual renders the first screen before the app is running and drops that frame, but
        counts it as drawn: the next frames carried only what changed after it (the tab bar, then
        the footer, and the user's prompt ~40 ms later, or the labels first), in whatever order
        the widgets happened to refresh. The first frame actually sent is made a full one (what a
        resize does). Private to Textual (pinned <9): a rename there costs only that ordering."""
        if (
            not self._whole_frame_sent
            and renderable is not None
            and self.is_running
            and not self._batch_count  # else Textual drops this one too
            and not self.is_headless
            and not self.is_inline
        ):
            with contextlib.suppress(AttributeError, TypeError):
                renderable = screen._compositor.render_update(full=True) or renderable
                self._whole_frame_sent = True
        super()._display(screen, renderable)

    async def _first_frame_drawn(self) -> None:
        """The first screen's deferred work, the other panes' stylesheets, then the tokenizer
        (loading a BPE file holds the GIL for a few hundred ms)."""
        callbacks, self._after_first_frame = self._after_first_frame or [], None
        for callback in (*callbacks, self.load_all_stylesheets, self.load_tokenizer):
            if self.return_code is not None or not self.is_running:
                return  # closing (quit within the first moment): nothing more to set up
            result = callback()
            if inspect.isawaitable(result):
                await result
        self.started = True

    def load_all_stylesheets(self) -> None:
        """Read the other panes' sheets, in CSS_PATH's order (a later sheet wins a tie)."""
        self.css_path = list(self.CSS_PATH)
        source = self.stylesheet.source
        keys = [(str(path), "") for path in self.css_path]
        for path, key in zip(self.css_path, keys, strict=True):
            if key not in source:
                self.stylesheet.read(path)
        sheets = {key: source.pop(key) for key in keys}
        others = dict(source)
        source.clear()
        source.update(sheets | others)
        self.refresh_css(animate=False)

    @work(thread=True, exclusive=True, group="tokenizer", description="loading the tokenizer")
    def load_tokenizer(self) -> None:
        from workbench.core.tokens import get_tokenizer

        tokenizer = get_tokenizer(self.config.profile.default_model)
        self.call_from_thread(
            self.set_status, tokenizer=tokenizer.label, tokenizer_note=tokenizer.note
        )

    def set_status(self, **changes: str) -> None:
        """Replace the status info and tell every status line."""
        from dataclasses import replace

        self.status_info = replace(self.status_info, **changes)
        self.status_signal.publish(self.status_info)

    def watch_theme(self, theme: str) -> None:
        if theme != self.config.theme:
            try:
                save_setting("theme", theme, self.config.path)
            except OSError as exc:
                self.notify(f"could not remember the theme: {exc}", severity="warning")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for i, (mode, label, key) in enumerate(PANES, start=1):
            yield SystemCommand(
                f"Go to {label}",
                f"Show the {label} pane ({key.upper()}, alt+{i}, or ctrl+g then {i})",
                lambda mode=mode: self.switch_mode(mode),
            )
        if isinstance(screen, PaneScreen):
            yield from screen.palette_commands()
        yield from super().get_system_commands(screen)

    # --- pending edits, signals, quitting -----------------------------------------------------

    def _install_signal_handlers(self) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        for signum in EXIT_SIGNALS:
            try:
                loop.add_signal_handler(signum, self.exit_on_signal, signum)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
                return

    def exit_on_signal(self, signum: int) -> None:
        """Write what is pending, then leave as if the user had quit."""
        try:
            self.pending_saves.flush_all()
        finally:
            self.exit(return_code=128 + signum)

    def switch_mode(self, mode: str):
        self.pending_saves.flush_all()  # a pane's edits are written before another pane reads
        return super().switch_mode(mode)

    async def action_quit(self) -> None:
        self.pending_saves.flush_all()
        self.exit()

    def _handle_exception(self, error: Exception) -> None:
        # A write that waited out the busy timeout must not end the app: what was being saved is
        # kept (see PendingSaves) and the user is told. Everything else ends it as Textual does.
        from workbench.store.db import BUSY_MESSAGE, is_busy

        if is_busy(error):
            self.notify(BUSY_MESSAGE, severity="warning", timeout=10)
            return
        super()._handle_exception(error)

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's failure is reported; its widget may reset (`worker_failed`)."""
        if event.state != WorkerState.ERROR:
            return
        worker, error = event.worker, event.worker.error
        reset = getattr(worker.node, "worker_failed", None)
        if callable(reset):
            reset(worker, error)
        self.notify(worker_failure_text(worker, error), severity="error", timeout=15)

    def on_unmount(self) -> None:
        self.pending_saves.flush_all()
        if self._db is not None:
            self._db.close()


def worker_failure_text(worker: Worker, error: BaseException | None) -> str:
    """What failed and why, in words (the error's own text, redacted, without a traceback)."""
    from workbench.core.redact import redact_secrets
    from workbench.store.db import BUSY_MESSAGE, is_busy

    what = worker.description
    if not what or "(" in what:  # Textual's default description is the call, arguments and all
        group = "" if worker.group == "default" else worker.group
        what = group.replace("-", " ") or "a background task"
    if error is not None and is_busy(error):
        return f"{what} failed: {BUSY_MESSAGE}"
    reason = f"{type(error).__name__}: {error}" if error is not None else "unknown error"
    return f"{what} failed: {redact_secrets(reason)}"
