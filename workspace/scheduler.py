"""Automatic updates: one background thread per server process syncs every metric's survey on a schedule.

Started idempotently by the app bootstrap (:func:`ensure_scheduler`), so Streamlit reruns and several
sessions never start a second one. Several *processes* (two app servers, cron running the CLI) may each
have one: the per-survey file lock makes them take turns, and a survey whose lock is held is skipped
this round rather than waited for. This module never imports Streamlit (a worker thread must not call it).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from workspace.config import Settings
from workspace.sync import SyncResult, sync_all

log = logging.getLogger(__name__)


@dataclass
class Scheduler:
    """A daemon thread calling :func:`workspace.sync.sync_all` every ``settings.sync_interval`` seconds."""

    settings: Settings
    first_delay: float = 5.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _wake: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    rounds: int = 0
    last_results: list[SyncResult] = field(default_factory=list)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="journey-pulse-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_now(self) -> None:
        """Start the next round at once (e.g. right after a metric was added)."""
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_once(self) -> list[SyncResult]:
        """One round: sync every survey with metrics, skipping those another process is syncing."""
        results = sync_all(self.settings, trigger="scheduler", wait=0.0)  # sync logs each failure
        self.rounds += 1
        self.last_results = results
        return results

    def _loop(self) -> None:
        delay = self.first_delay
        while not self._stop.is_set():
            self._wake.wait(delay)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.run_once()
            except Exception:  # a round must never kill the thread: the next one may well succeed
                log.exception("scheduled sync round failed")
            delay = float(self.settings.sync_interval)


_lock = threading.Lock()
_schedulers: dict[str, Scheduler] = {}


def ensure_scheduler(settings: Settings, first_delay: float = 5.0) -> Scheduler:
    """The process's scheduler for this database, started on first call; later calls return it."""
    key = settings.store.key
    with _lock:
        scheduler = _schedulers.get(key)
        if scheduler is None or not scheduler.alive:
            scheduler = Scheduler(settings, first_delay=first_delay)
            scheduler.start()
            _schedulers[key] = scheduler
        return scheduler


def stop_schedulers() -> None:
    """Stop every scheduler of this process (server shutdown, tests)."""
    with _lock:
        for scheduler in _schedulers.values():
            scheduler.stop()
        _schedulers.clear()
