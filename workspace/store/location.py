"""Where the store lives: an SQLite file (``PULSE_DB``, the default) or a PostgreSQL database (``PULSE_DATABASE_URL``).

A :class:`Location` is what every store function is given. It is parsed once from the setting and names
itself in messages without its password, so an error can say which database it means.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


@dataclass(frozen=True)
class Location:
    """``engine`` is :data:`SQLITE` (``path`` set) or :data:`POSTGRESQL` (``url`` set, libpq form)."""

    engine: str
    path: Path | None = None
    url: str | None = None

    @classmethod
    def of(cls, target: "str | os.PathLike[str] | Location") -> "Location":
        """A location from a path, an ``sqlite:///`` URL or a ``postgresql://`` URL (also ``postgres://`` and
        SQLAlchemy's ``postgresql+psycopg://``)."""
        if isinstance(target, Location):
            return target
        text = os.fspath(target)
        scheme = text.split("://", 1)[0].lower() if "://" in text else ""
        if scheme in ("postgresql", "postgres") or scheme.startswith("postgresql+"):
            parts = urlsplit(text)
            return cls(POSTGRESQL, url=urlunsplit(("postgresql", *parts[1:])))
        if scheme.startswith("sqlite"):
            # SQLAlchemy's form: sqlite:///relative.db, sqlite:////absolute.db
            return cls(SQLITE, path=Path(text.split("://", 1)[1].removeprefix("/")))
        if scheme:
            raise ValueError(f"PULSE_DATABASE_URL must start with postgresql:// (got a {scheme}:// URL).")
        return cls(SQLITE, path=Path(text))

    @property
    def is_postgresql(self) -> bool:
        return self.engine == POSTGRESQL

    @functools.cached_property
    def key(self) -> str:
        """Stable identity within a process (caches, once-per-process work): the resolved file or the URL
        (resolved once: every store operation asks)."""
        return str(self.path.resolve()) if self.path is not None else str(self.url)

    @property
    def sqlalchemy_url(self) -> str:
        """The same database as a SQLAlchemy URL (Alembic migrates through SQLAlchemy)."""
        if self.path is not None:
            return f"sqlite:///{self.path}"
        return "postgresql+psycopg://" + str(self.url).split("://", 1)[1]

    def describe(self) -> str:
        """How messages name the store: ``PULSE_DB (data/pulse.db)`` or ``PULSE_DATABASE_URL (db.example:5432/pulse)``,
        never with a password."""
        if self.path is not None:
            return f"PULSE_DB ({self.path})"
        parts = urlsplit(str(self.url))
        host = parts.hostname or "local socket"
        where = f"{host}:{parts.port}" if parts.port else host
        return f"PULSE_DATABASE_URL ({where}{parts.path or ''})"
