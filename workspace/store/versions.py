"""Data versions: the store's word for "this survey's data (or the workspace's structure) changed", and the
per-process cache keyed by it.

Every app server caches what is costly to compute (scores, Live views) in its own memory, which would go
stale the moment another server, the worker or the CLI writes. So every write that changes what a page
shows moves a version row in the same transaction (:func:`bump`), and a cached value is used only while the
versions it was computed at are still the store's (:func:`read`, one primary-key lookup): a change made
anywhere shows on every server at its next rerun, and a rerun with nothing changed costs that one lookup.

Scopes: :func:`survey` (``survey:<id>``) for a survey's answers, comments and segment values;
:data:`WORKSPACE` for journeys, stages, steps, metrics, placements, targets and the survey list. A version is
a random token, not a counter, so a value cached against one store never matches another store (a test's
fresh database, a restored backup) that would count to the same number.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from workspace.store.database import Database

WORKSPACE = "workspace"

T = TypeVar("T")


def survey(survey_id: str) -> str:
    """The scope of one survey's stored answers, comments and segment values."""
    return f"survey:{survey_id}"


def bump(db: Database, *scopes: str) -> None:
    """Give ``scopes`` (default: the workspace's structure) a new version, inside the caller's write
    transaction, so the version moves exactly when the change commits."""
    db.executemany(
        "INSERT INTO data_versions (scope, version) VALUES (?, ?) "
        "ON CONFLICT (scope) DO UPDATE SET version = excluded.version",
        [(scope, secrets.token_hex(8)) for scope in (scopes or (WORKSPACE,))])


def read(db: Database, scopes: Sequence[str]) -> tuple[str, ...]:
    """The current versions of ``scopes``, in their order ('' for a scope never written)."""
    if not scopes:
        return ()
    marks = ", ".join("?" for _ in scopes)
    found = dict(db.execute(f"SELECT scope, version FROM data_versions WHERE scope IN ({marks})",
                            list(scopes)).fetchall())
    return tuple(found.get(scope, "") for scope in scopes)


class VersionedCache:
    """Values by key, each valid only at the versions it was computed at; the least recently used go first.

    Holds nothing that matters beyond its key: a miss recomputes from the store. Two threads missing the
    same key at once may both compute (the same value); no lock is held while computing.
    """

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[Hashable, Any]] = OrderedDict()

    def get_or_compute(self, key: Hashable, version: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == version:
                self._entries.move_to_end(key)
                return entry[1]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self._entries[key] = (version, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
