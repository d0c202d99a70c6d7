"""Edits typed but not yet written: one registry on the app, so nothing waits in a debounce timer
when the process quits, gets SIGHUP/SIGTERM, or the user switches pane.

An editor hands the registry a flush callback with `later()` (the debounce) and, when it must be
written now, calls `now()`. A callback writes its edits and forgets them only once the write
succeeded; if the database is busy (another process holds the write lock past the busy timeout)
it raises, the edit stays registered, the user is told in plain words, and it is retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.timer import Timer

from workbench.store.db import BUSY_MESSAGE, is_busy

RETRY_SECONDS = 2.0

Flush = Callable[[], None]


class PendingSaves:
    """owner -> the callback that writes its pending edits; `flush_all()` before anything ends."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._flushers: dict[int, Flush] = {}
        self._timers: dict[int, Timer] = {}
        self._retry: Timer | None = None
        self.busy = False  # the last write found the database locked

    def __contains__(self, owner: object) -> bool:
        return id(owner) in self._flushers

    def later(self, owner: object, flush: Flush, delay: float) -> None:
        """Write `owner`'s edits `delay` seconds from now (a newer call restarts the wait)."""
        key = id(owner)
        self._stop_timer(key)
        self._flushers[key] = flush
        self._timers[key] = self._app.set_timer(delay, lambda: self.now(owner))

    def now(self, owner: object) -> bool:
        """Write `owner`'s edits at once; False if the database is busy (they are kept)."""
        key = id(owner)
        self._stop_timer(key)
        flush = self._flushers.get(key)
        if flush is None:
            return True
        return self._run(key, flush)

    def forget(self, owner: object) -> None:
        """Drop `owner`'s entry without writing (its edits were written another way)."""
        key = id(owner)
        self._stop_timer(key)
        self._flushers.pop(key, None)

    def flush_all(self) -> bool:
        """Write every pending edit now (quit, signals, pane switch); False if any is kept."""
        ok = True
        for key, flush in list(self._flushers.items()):
            self._stop_timer(key)
            ok = self._run(key, flush) and ok
        return ok

    def _run(self, key: int, flush: Flush) -> bool:
        try:
            flush()
        except Exception as exc:
            if not is_busy(exc):
                self._flushers.pop(key, None)
                raise
            self._was_busy()
            return False
        self._flushers.pop(key, None)
        if self.busy and not self._flushers:
            self.busy = False
            self._app.notify("the database is free again: your edits are saved")
        return True

    def _was_busy(self) -> None:
        if not self.busy:
            self.busy = True
            self._app.notify(BUSY_MESSAGE, severity="warning", timeout=10)
        if self._retry is None:
            self._retry = self._app.set_timer(RETRY_SECONDS, self._retry_now)

    def _retry_now(self) -> None:
        self._retry = None
        if not self.flush_all():
            self._was_busy()

    def _stop_timer(self, key: int) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.stop()
