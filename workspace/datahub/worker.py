"""Reading pushed texts off the request path: the endpoint stores a text unread and wakes the mining work.

Mining is one kind of the process's background work (:mod:`workspace.worker`): a thread reads unread texts
in batches and stores their sentiment. Qualtrics gives a push 16 s and retries on failure, so the endpoint
must never wait for mining: it answers as soon as the text is stored. In the app (the embedded default) the
thread starts on the first push, or when a page finds unread texts (after a restart); with
``PULSE_WORKER=external`` a worker process reads them. Nothing is lost if a process stops mid-batch: unread
texts simply stay unread until the next read, and a text read twice (two workers) gets the same score.
"""

from __future__ import annotations

import logging
import time

from workspace.config import Settings
from workspace.datahub import store

BATCH = 50
RETRY_SECONDS = 1.0

log = logging.getLogger("journey_pulse.datahub")


def read_batch(settings: Settings, limit: int = BATCH) -> int:
    """Score and store up to ``limit`` unread texts; returns how many (0: nothing was unread)."""
    batch = store.unread_texts(settings, limit)
    if batch:
        # Imported with the first text to read: scikit-learn and scipy take seconds of CPU, which the mining
        # thread would otherwise spend at every start of the app, beside its first pages.
        from workspace.datahub import sentiment

        store.record_sentiments(settings, list(zip(batch, sentiment.scores([t.text for t in batch]))))
    return len(batch)


def notify(settings: Settings) -> None:
    """There are unread texts: wake this process's mining (started if it is not running). With
    ``PULSE_WORKER=external`` a worker process reads them instead, and this does nothing."""
    from workspace.worker import ensure_worker

    worker = ensure_worker(settings, ["mining"], resident=False)
    if worker is not None:
        worker.wake("mining")


def wait_until_read(settings: Settings, timeout: float) -> bool:
    """Block until every stored text is read (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while store.unread_count(settings):
        notify(settings)
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True
