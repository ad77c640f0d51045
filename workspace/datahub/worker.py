"""Reading pushed texts off the request path: the endpoint stores a text unread and wakes this worker.

One daemon thread per database reads unread texts in batches and stores their sentiment. Qualtrics
gives a push 16 s and retries on failure, so the endpoint must never wait for mining: it answers as
soon as the text is stored. The thread ends after :data:`IDLE_SECONDS` without work and starts again
on the next push, or when a page finds unread texts (after a restart), so nothing is lost if the
process stops mid-batch: unread texts simply stay unread until the next wake-up.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from workspace.config import Settings
from workspace.datahub import sentiment, store

BATCH = 50
IDLE_SECONDS = 30.0
RETRY_SECONDS = 1.0

log = logging.getLogger("journey_pulse.datahub")


@dataclass
class _Worker:
    settings: Settings
    wake: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def run(self) -> None:
        failing_since: float | None = None
        while True:
            self.wake.clear()
            try:
                batch = store.unread_texts(self.settings, BATCH)
                failing_since = None
                if batch:
                    store.record_sentiments(self.settings, list(zip(batch, sentiment.scores([t.text for t in batch]))))
                    continue
            except Exception:  # noqa: BLE001 - a locked or vanished database must not kill the reader
                now = time.monotonic()
                if failing_since is None:
                    failing_since = now
                    log.exception("Data Hub: reading pushed texts failed; retrying")
                elif now - failing_since >= IDLE_SECONDS:
                    # A database that stays unreachable (dropped, a server gone) must not be retried forever:
                    # the texts stay unread and the next push or Data Hub page starts the reader again.
                    log.warning("Data Hub: stopped reading pushed texts after %.0f s of failures; the next "
                                "push starts again", now - failing_since)
                    with _lock:
                        self.thread = None
                        return
                time.sleep(RETRY_SECONDS)
                continue
            if self.wake.wait(IDLE_SECONDS):
                continue
            with _lock:  # a push between the wait and here has set wake: keep going
                if not self.wake.is_set():
                    self.thread = None
                    return


_lock = threading.Lock()
_workers: dict[str, _Worker] = {}


def _key(settings: Settings) -> str:
    return settings.store.key


def notify(settings: Settings) -> None:
    """There are unread texts: start the reader for this database if it is not running, and wake it."""
    with _lock:
        worker = _workers.setdefault(_key(settings), _Worker(settings))
        worker.wake.set()
        if worker.thread is None or not worker.thread.is_alive():
            worker.thread = threading.Thread(target=worker.run, name="datahub-reader", daemon=True)
            worker.thread.start()


def wait_until_read(settings: Settings, timeout: float) -> bool:
    """Block until every stored text is read (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while store.unread_count(settings):
        notify(settings)
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True
