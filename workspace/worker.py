"""Background work: scheduled syncs, Live refreshes and Data Hub mining, in one worker per process.

``python -m workspace worker`` (:func:`run`) is such a process on its own; ``streamlit run app.py`` runs the
same :class:`Worker` in a background thread of the app (the embedded default), and with ``PULSE_WORKER=external``
the app servers start none and only serve pages. Any number of workers may run against one store, on any
number of machines: what they share is claimed in the store (:mod:`workspace.jobs` for syncs, the
``live_feeds`` rows for Live), so each survey is synced once per interval and each Live feed refreshed by one.

A worker has one thread per kind of work, so a long sync never holds up a Live screen's refresh:

- ``sync``: claims the most overdue survey, syncs it (the claim's heartbeat renews its lease), logs one
  line, and looks again; with nothing due it checks every :data:`POLL_SECONDS`.
- ``live``: :class:`workspace.live.feeds.Refresher` claims the feeds screens want and refreshes each every
  couple of seconds while wanted.
- ``mining``: reads pushed Data Hub texts in batches (idempotent: a text read twice gets the same score).

Threads started on demand (a page pushing a Data Hub text, a Live screen, in a process without a resident
worker, e.g. under AppTest) end after a while without work; a resident worker's run until :meth:`Worker.stop`.
This module never imports Streamlit.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workspace import jobs
from workspace.config import Settings

if TYPE_CHECKING:  # the sync engine (and requests with it) is imported when a sync is due, not with the app
    from workspace.sync import SyncResult

log = logging.getLogger(__name__)

KINDS = ("sync", "live", "mining")
#: How often an idle sync thread looks for due jobs (a read; the claim is a write only when one is due).
POLL_SECONDS = 2.0
#: An on-demand thread (not a resident worker's) ends after this long without work.
IDLE_SECONDS = 30.0
#: How long stopping waits for a running sync to notice its cancel request and give its job back.
STOP_SECONDS = 20.0


def _describe(result: SyncResult, trigger: str) -> str:
    if result.status == "succeeded":
        return (f"sync {result.survey_id} ({trigger}) succeeded: {result.responses:,} responses, {result.answers:,} "
                f"answers, {result.comments:,} comments in {result.seconds:.1f} s (run {result.run_id})")
    return f"sync {result.survey_id} ({trigger}) {result.status}: {result.message} (run {result.run_id})"


@dataclass
class Worker:
    """The background work of one process for one store. ``resident``: runs until stopped (a worker process,
    an app server); otherwise each thread ends after :data:`IDLE_SECONDS` without work."""

    settings: Settings
    resident: bool = True
    first_delay: float = 0.0
    lease: float = jobs.LEASE_SECONDS
    kinds: set[str] = field(default_factory=set)
    rounds: int = 0
    last_results: list[SyncResult] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _wake: dict[str, threading.Event] = field(default_factory=lambda: {k: threading.Event() for k in KINDS})
    _halt: dict[str, threading.Event] = field(default_factory=lambda: {k: threading.Event() for k in KINDS})
    _threads: dict[str, threading.Thread] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _current: jobs.Claim | None = None
    _refresher: object | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------
    def start(self, kinds: Iterable[str] = KINDS) -> "Worker":
        """Start (or restart, when ended idle) the threads of ``kinds``."""
        with self._lock:
            for kind in kinds:
                self.kinds.add(kind)
                thread = self._threads.get(kind)
                if thread is None or not thread.is_alive():
                    thread = threading.Thread(target=self._guarded, args=(kind,), name=f"pulse-worker-{kind}",
                                              daemon=True)
                    self._threads[kind] = thread
                    thread.start()
        return self

    def wake(self, kind: str) -> None:
        self._wake[kind].set()

    @property
    def alive(self) -> bool:
        return any(t.is_alive() for t in self._threads.values())

    def running(self, kind: str) -> bool:
        thread = self._threads.get(kind)
        return thread is not None and thread.is_alive()

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop every thread: a running sync is asked to cancel (it stops at its next export poll, before
        storing anything), Live feeds remove their subscriptions, and every claim is given back."""
        self._stop.set()
        for event in self._wake.values():
            event.set()
        current = self._current
        if current is not None and current.run_id is not None:
            from workspace import runs
            try:
                runs.request_cancel(self.settings, current.run_id, "the worker shutting down")
            except Exception:  # the store is gone: the lease runs out by itself
                log.warning("could not ask the running sync of %s to stop", current.survey_id, exc_info=True)
        deadline = time.monotonic() + timeout
        for thread in list(self._threads.values()):
            thread.join(max(0.0, deadline - time.monotonic()))
        try:
            released = jobs.release_all(self.settings)
        except Exception:
            log.warning("could not give back this worker's sync jobs (their leases run out)", exc_info=True)
        else:
            if released:
                log.info("gave back %d sync job(s) still held", released)

    def stop_kind(self, kind: str, timeout: float = STOP_SECONDS) -> None:
        """Stop one kind's thread (it starts again on the next :meth:`start` of that kind)."""
        self._halt[kind].set()
        self._wake[kind].set()
        thread = self._threads.get(kind)
        if thread is not None:
            thread.join(timeout)
        if kind == "live" and self._refresher is not None:
            self._refresher.stop()  # type: ignore[attr-defined]
        self._halt[kind].clear()

    def _stopping(self, kind: str) -> bool:
        return self._stop.is_set() or self._halt[kind].is_set()

    def _guarded(self, kind: str) -> None:
        try:
            {"sync": self._sync_loop, "live": self._live_loop, "mining": self._mining_loop}[kind]()
        except Exception:  # never silently: the thread is restarted by the next ensure/start
            log.exception("background %s work stopped", kind)

    # -- scheduled syncs ----------------------------------------------------------------------------------
    def run_due_syncs(self) -> list[SyncResult]:
        """Claim and run every due sync, one after another, until none is due (or stopping)."""
        results: list[SyncResult] = []
        if not jobs.anything_due(self.settings):
            return results
        from workspace.connection import open_client
        from workspace.errors import WorkspaceError
        from workspace.sync import sync_survey

        try:
            client = open_client(self.settings)
        except WorkspaceError as exc:  # not connected: nothing is claimed, the next round tries again
            log.warning("scheduled syncs could not start: %s", exc)
            return results
        with client:
            while not self._stop.is_set():
                claim = jobs.claim_due(self.settings, lease=self.lease)
                if claim is None:
                    break
                self._current = claim
                try:
                    result = sync_survey(self.settings, claim.survey_id, client=client, trigger="scheduler",
                                         claim=claim)
                finally:
                    self._current = None
                log.info("%s", _describe(result, "resumed its export" if claim.taken_over else "scheduler"))
                results.append(result)
        self.rounds += 1
        self.last_results = results
        return results

    def _sync_loop(self) -> None:
        self._wake["sync"].wait(self.first_delay)
        while not self._stop.is_set():
            self._wake["sync"].clear()
            try:
                self.run_due_syncs()
            except Exception:  # a round must never end the thread: the next one may well succeed
                log.exception("scheduled sync round failed")
            self._wake["sync"].wait(POLL_SECONDS)

    # -- Live ---------------------------------------------------------------------------------------------
    def refresher(self) -> object:
        from workspace.live.feeds import Refresher
        with self._lock:
            if self._refresher is None:
                self._refresher = Refresher(self.settings, lease=self.lease)
            return self._refresher

    def _live_loop(self) -> None:
        from workspace.live.feeds import TICK
        refresher = self.refresher()
        idle_since = time.monotonic()
        failing = False
        try:
            while not self._stopping("live"):
                try:
                    busy = refresher.tick()  # type: ignore[attr-defined]
                    failing = False
                except Exception:  # the store failed this tick; the next one tries again (said once)
                    if not failing:
                        log.exception("Live refresh failed; retrying")
                    failing, busy = True, False
                if busy:
                    idle_since = time.monotonic()
                elif not self.resident and time.monotonic() - idle_since > IDLE_SECONDS:
                    return
                self._wake["live"].wait(TICK)
                self._wake["live"].clear()
        finally:
            refresher.stop()  # type: ignore[attr-defined]

    # -- Data Hub mining ----------------------------------------------------------------------------------
    def _mining_loop(self) -> None:
        from workspace.datahub.worker import RETRY_SECONDS, read_batch
        wake = self._wake["mining"]
        failing_since: float | None = None
        while not self._stopping("mining"):
            wake.clear()
            try:
                found = read_batch(self.settings)
                failing_since = None
                if found:
                    log.info("Data Hub: read %d pushed text(s)", found)
                    continue
            except Exception:  # noqa: BLE001 - a locked or vanished database must not end the reader
                now = time.monotonic()
                if failing_since is None:
                    failing_since = now
                    log.exception("Data Hub: reading pushed texts failed; retrying")
                elif not self.resident and now - failing_since >= IDLE_SECONDS:
                    # A database that stays unreachable (dropped, a server gone) is not retried forever on
                    # demand: the texts stay unread and the next push or Data Hub page starts the reader again.
                    log.warning("Data Hub: stopped reading pushed texts after %.0f s of failures; the next "
                                "push starts again", now - failing_since)
                    with self._lock:
                        self._threads.pop("mining", None)
                        return
                time.sleep(RETRY_SECONDS)
                continue
            if wake.wait(POLL_SECONDS if self.resident else IDLE_SECONDS) or self.resident:
                continue
            with self._lock:  # a push between the wait and here has set wake: keep going
                if not wake.is_set():
                    self._threads.pop("mining", None)
                    return

    # -- one pass (``worker --once``) -----------------------------------------------------------------------
    def run_once(self) -> list[SyncResult]:
        """Everything due now, once: due syncs, one Live refresh of the wanted feeds, the unread texts."""
        from workspace.datahub.worker import read_batch
        results = self.run_due_syncs()
        refresher = self.refresher()
        try:
            refresher.tick()  # type: ignore[attr-defined]
        finally:
            refresher.stop()  # type: ignore[attr-defined]
        while read_batch(self.settings):
            pass
        return results


_registry_lock = threading.Lock()
#: Keyed by the settings themselves: a Live feed refreshes with the settings of whoever asked for it (its
#: PULSE_URL decides whether Qualtrics can push), and the app's own settings are one value per process.
_workers: dict[Settings, Worker] = {}


def ensure_worker(settings: Settings, kinds: Iterable[str] = KINDS, *, resident: bool = True,
                  first_delay: float = 5.0) -> Worker | None:
    """This process's worker for these settings, with the threads of ``kinds`` running; None when background
    work runs elsewhere (``PULSE_WORKER=external``). An on-demand call (``resident=False``: a page, a Live
    screen) does not make an existing resident worker less so."""
    if not settings.runs_background_work:
        return None
    key = settings
    with _registry_lock:
        worker = _workers.get(key)
        if worker is None:
            worker = _workers[key] = Worker(settings, resident=resident, first_delay=first_delay)
        elif resident and not worker.resident:
            worker.resident = True
    return worker.start(kinds)


def process_worker(settings: Settings) -> Worker | None:
    """The worker this process runs for these settings, if any."""
    with _registry_lock:
        return _workers.get(settings)


def stop_workers(timeout: float = STOP_SECONDS) -> None:
    """Stop every worker of this process (server shutdown, tests)."""
    with _registry_lock:
        stopping = list(_workers.values())
        _workers.clear()
    for worker in stopping:
        worker.stop(timeout)


def stop_kind(kind: str, timeout: float = STOP_SECONDS) -> None:
    """Stop one kind of work in every worker of this process (``live``: Live's feeds, e.g. after a test)."""
    with _registry_lock:
        workers = list(_workers.values())
    for worker in workers:
        worker.stop_kind(kind, timeout)


def live_feeds_running() -> list[str]:
    """Survey ids of the Live feeds this process's workers refresh now."""
    with _registry_lock:
        workers = list(_workers.values())
    return sorted(s for w in workers if w._refresher is not None for s in w._refresher.running())  # type: ignore[attr-defined]


def background_work(settings: Settings) -> str:
    """Where this deployment's background work runs, for /api/health: ``in-process`` or ``external``."""
    return "in-process" if settings.runs_background_work else "external"


def log_to_stderr() -> None:
    """Warnings and job lines of the workspace (a failed sync and its reason, one line each) go to the process's
    stderr with a time stamp, where "the server log has the details" sends people; neither the app nor the
    worker configures logging otherwise, and Python's last-resort handler would drop the time and the name."""
    logger = logging.getLogger("workspace")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def run(settings: Settings, *, once: bool = False, lease: float = jobs.LEASE_SECONDS,
        stop: threading.Event | None = None) -> list[SyncResult]:
    """``python -m workspace worker``: run the background work in this process until SIGTERM/SIGINT (or
    ``stop``), then give back every claim; ``once``: run what is due now and return. Returns the syncs run
    (with ``once``; a long-running worker returns the last round's)."""
    worker = Worker(settings, resident=True, lease=lease)
    log.info("worker %s started (%s, store %s, lease %.0f s)", jobs.worker_id(), "once" if once else "until stopped",
             settings.store.describe(), lease)
    if once:
        try:
            return worker.run_once()
        finally:
            jobs.release_all(settings)
    stop = stop or threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        worker.start()
        while not stop.wait(1.0):
            if not worker.alive:
                worker.start()  # a thread that died of an unexpected error: start it again
    finally:
        log.info("worker %s stopping", jobs.worker_id())
        worker.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        log.info("worker %s stopped", jobs.worker_id())
    return worker.last_results
