"""One open connection to the store, on either engine, and the transaction rule every write follows.

Every store function writes its SQL once, in the dialect both engines share, with ``?`` placeholders;
:class:`Database` hands it to the driver as that driver expects (psycopg wants ``%s``). What the two
engines do not share is kept out of the SQL: new ids come back with ``RETURNING id``, upserts are
``INSERT … ON CONFLICT``, timestamps are ISO-8601 UTC text (``utcnow``) on both, and flags INTEGER 0/1.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from workspace.store.location import Location

if TYPE_CHECKING:
    import pandas as pd

Params = Sequence[Any] | Mapping[str, Any]

# A ``?`` outside quotes, a ``%`` anywhere outside quotes, or a quoted string / identifier (kept as is).
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?|%")


def utcnow() -> str:
    """Now as ISO-8601 UTC with a ``Z``, the form every timestamp column holds (sorts as text)."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=1024)
def to_format_style(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (and a literal ``%`` as ``%%``), leaving quoted text alone."""
    def swap(match: re.Match[str]) -> str:
        token = match.group(0)
        return "%s" if token == "?" else "%%" if token == "%" else token.replace("%", "%%")
    return _TOKENS.sub(swap, sql)


class Database:
    """A connection for one operation. ``execute`` returns the driver's cursor (``fetchone``, ``fetchall``,
    ``rowcount``, iteration), rows are tuples on both engines, ``query`` yields dicts."""

    def __init__(self, conn: Any, location: Location) -> None:
        self.conn = conn
        self.location = location
        self.is_postgresql = location.is_postgresql

    def execute(self, sql: str, params: Params = ()) -> Any:
        if self.is_postgresql:
            # Without parameters psycopg sends the text as it is, so only a statement with some is rewritten.
            return self.conn.execute(to_format_style(sql), params) if params else self.conn.execute(sql)
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """Run ``sql`` once per row; returns the rows it changed in all (an ``ON CONFLICT DO NOTHING`` insert
        counts only the rows it inserted)."""
        if self.is_postgresql:
            with self.conn.cursor() as cursor:
                cursor.executemany(to_format_style(sql), rows)
                return max(cursor.rowcount, 0)
        return max(self.conn.executemany(sql, rows).rowcount, 0)

    def query(self, sql: str, params: Params = ()) -> Iterator[dict[str, Any]]:
        cursor = self.execute(sql, params)
        names = [column[0] for column in cursor.description]
        for row in cursor.fetchall():
            yield dict(zip(names, row))

    def insert_returning_id(self, sql: str, params: Params = ()) -> int:
        """Run an ``INSERT`` and return the new row's ``id`` (the statement must not say ``RETURNING``)."""
        return int(self.execute(f"{sql} RETURNING id", params).fetchall()[0][0])

    @property
    def in_transaction(self) -> bool:
        if self.is_postgresql:
            from workspace.store import postgres
            return postgres.in_transaction(self.conn)
        return bool(self.conn.in_transaction)

    def table_names(self) -> list[str]:
        """The store's own tables (not the engine's catalogue), sorted."""
        if self.is_postgresql:
            sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        return [row[0] for row in self.execute(sql).fetchall()]

    def frame(self, sql: str, params: Params = ()) -> "pd.DataFrame":
        """The rows of a query as a DataFrame named by its columns (pandas' ``read_sql_query`` wants an
        SQLAlchemy engine for any driver but sqlite3, and would not rewrite ``?`` for psycopg)."""
        import pandas as pd
        cursor = self.execute(sql, params)
        return pd.DataFrame(cursor.fetchall(), columns=[column[0] for column in cursor.description])


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """One write transaction (rollback on any error), taking the write lock up front: ``BEGIN IMMEDIATE`` on
    SQLite, the advisory write lock on PostgreSQL. Inside an open transaction it joins that one."""
    if db.in_transaction:
        yield db
        return
    if db.is_postgresql:
        from workspace.store import postgres
        postgres.begin(db.conn)
    else:
        db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    else:
        db.execute("COMMIT")
