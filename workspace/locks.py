"""Per-survey sync locks that hold across threads and processes and die with their holder.

An OS file lock (``fcntl.flock``) on ``<data>/locks/<survey>.lock``: the kernel releases it when the
holding process exits for any reason, SIGKILL included, so there is no expiry to tune and no stale row
to clean up. Each acquisition opens the file anew, and flock locks belong to the open file description,
so two threads of one process exclude each other too. The holder writes ``pid host`` into the file for
people who wonder who is syncing.
"""

from __future__ import annotations

import fcntl
import os
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workspace.config import Settings
from workspace.errors import SyncBusy

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def lock_path(settings: Settings, survey_id: str) -> Path:
    return settings.data_dir / "locks" / f"{_UNSAFE.sub('_', survey_id)}.lock"


@contextmanager
def survey_lock(settings: Settings, survey_id: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the survey's sync lock for the block; :class:`SyncBusy` if not free within ``wait`` seconds."""
    path = lock_path(settings, survey_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise SyncBusy(f"Survey {survey_id} is being synced by another process right now; "
                                   "its new responses will be there when it finishes.") from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def is_locked(settings: Settings, survey_id: str) -> bool:
    """Whether some thread or process holds the survey's sync lock right now."""
    path = lock_path(settings, survey_id)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
