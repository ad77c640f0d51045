"""Engine errors as the sentence a user can act on: which store (by its setting, never its password) and what to do."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from workspace.config import ConfigError
from workspace.errors import StoreFull
from workspace.store import sqlite
from workspace.store.location import Location


def translated_error(exc: Exception, location: Location) -> Exception:
    """The sentence for an engine error a user can act on; any other error unchanged."""
    if location.is_postgresql:
        from workspace.store import postgres
        if postgres.is_disk_full(exc):
            return StoreFull(f"The database at {location.describe()} is full: its server has no disk space left. "
                             "Free space there and try again; everything stored before is kept.")
        if postgres.is_unreachable(exc):
            return ConfigError(f"The database at {location.describe()} cannot be reached ({first_line(exc)}): "
                               "check that the server is running and that the URL, user and password are right.")
        return exc
    if sqlite.is_disk_full(exc):
        return StoreFull(
            f"The database at {location.describe()} is full because its disk has no space left: free space on "
            "that disk (or point PULSE_DB at a larger one) and try again; everything stored before is kept.")
    if isinstance(exc, OSError):
        return ConfigError(
            f"{location.describe()} cannot be opened ({exc.strerror or exc}): point PULSE_DB at a file this "
            "account can create and write.")
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return ConfigError(
            f"{location.describe()} cannot be used as the Journey Pulse database ({exc}): restore the file from a "
            "backup, or point PULSE_DB at a new file to start an empty database.")
    if isinstance(exc, sqlite3.OperationalError) and "unable to open" in str(exc):
        return ConfigError(
            f"{location.describe()} cannot be opened ({exc}): point PULSE_DB at a file this account can create "
            "and write.")
    return exc


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@contextmanager
def engine_errors_explained(location: Location) -> Iterator[None]:
    """Re-raise an engine error met inside as its sentence (:func:`translated_error`); others pass unchanged."""
    try:
        yield
    except (StoreFull, ConfigError):
        raise
    except Exception as exc:
        translated = translated_error(exc, location)
        if translated is exc:
            raise
        raise translated from exc
