"""Moving a store from its SQLite file into an empty PostgreSQL database (``python -m workspace move-store``).

Why one transaction on the target for the whole copy: PostgreSQL keeps a large transaction cheaply (MVCC; no
undo log to fill), and all-or-nothing is what makes a failure or Ctrl-C harmless: the target is left as it was,
migrated and empty, and the same command simply runs again. Per-table transactions would leave a half-filled
database that the emptiness check then (rightly) refuses. The transaction holds the store's write lock, so an
app server pointed at the target too early waits instead of writing between the tables.

What keeps memory flat on a large ``answers`` table: rows stream from one SQLite cursor in batches into
PostgreSQL's ``COPY … FROM STDIN``; nothing reads a whole table. The SQLite side is read inside one read
transaction, so the copy is one consistent snapshot even if something still writes to the file.

What is copied is what the schema holds, table by table as the migrated target lists them (parents before
the tables whose keys point at them), with every id kept; PostgreSQL's sequences are then set past the
highest id so new rows never collide. Secrets (the integration's token, PKCE verifiers) are copied as the
encrypted bytes they are: the new servers need the key that sealed them.
"""

from __future__ import annotations

import graphlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workspace.store import sqlite
from workspace.store.errors import engine_errors_explained
from workspace.store.location import Location
from workspace.store.migrate import HEAD, current_revision, migrate
from workspace.store.postgres_lock import WRITE_LOCK

#: Rows per batch read from SQLite and written to COPY (a few MB of answers at a time).
BATCH_ROWS = 5000
#: Bookkeeping that each engine keeps for itself: never copied (the target's schema is migrated, not copied).
ENGINE_TABLES = frozenset({"alembic_version", "_sqlite_migrations"})

#: ``progress(table, rows_copied, rows_in_table)`` after every batch.
Progress = Callable[[str, int, int], None]


class MoveRefused(Exception):
    """The move cannot start (source or target not as required); the message says what to do."""


class MoveFailed(Exception):
    """The copy stopped; the target was rolled back to empty. The message says how to retry."""


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target: int

    @property
    def matches(self) -> bool:
        return self.source == self.target


@dataclass
class MoveReport:
    """What was copied: rows per table on both sides, the sequences set, source tables left out."""

    source: Location
    target: Location
    revision: str
    counts: list[TableCount] = field(default_factory=list)
    sequences: dict[str, int] = field(default_factory=dict)  # "table.column" -> the next id it hands out
    skipped: list[str] = field(default_factory=list)
    sealed_secrets: int = 0  # encrypted values copied as they are (tokens, verifiers, sandbox secrets)

    @property
    def rows(self) -> int:
        return sum(count.target for count in self.counts)


def move_store(source: "str | os.PathLike[str] | Location", target: "str | Location", *,
               progress: Progress | None = None, batch_rows: int = BATCH_ROWS) -> MoveReport:
    """Copy the SQLite store ``source`` into the empty PostgreSQL database ``target`` and verify the counts.

    Refuses (:class:`MoveRefused`) a source that is missing or not at this version's schema, and a target
    that is not PostgreSQL or already holds rows. Raises :class:`MoveFailed` (target rolled back) when the
    copy fails or the counts differ; a ``KeyboardInterrupt`` also rolls back before it propagates.
    """
    source_location, target_location = _checked_locations(source, target)
    _refuse_outdated_source(source_location)
    with engine_errors_explained(target_location):
        _refuse_non_empty(target_location)  # before migrating: never touch a database that holds something
        migrate(target_location)
        report = MoveReport(source_location, target_location, HEAD)
        source_conn = sqlite.open_connection(source_location.path)  # type: ignore[arg-type]
        try:
            source_conn.execute("BEGIN")  # one snapshot of the file for the whole copy
            _copy(source_conn, target_location, report, progress or (lambda *_: None), batch_rows)
        finally:
            source_conn.close()
    return report


def _checked_locations(source: Any, target: Any) -> tuple[Location, Location]:
    try:
        target_location = Location.of(target)
    except ValueError:
        target_location = None
    if target_location is None or not target_location.is_postgresql:
        raise MoveRefused(f"--to must be a PostgreSQL URL such as postgresql://USER:PASSWORD@HOST:5432/DATABASE "
                          f"(got {target!s:.40})." if "://" not in str(target) else
                          "--to must be a postgresql:// URL: the store moves from SQLite to PostgreSQL only.")
    source_location = Location.of(source)
    if source_location.is_postgresql:
        raise MoveRefused("--from must be the SQLite file to copy (the store moves from SQLite to PostgreSQL).")
    path = source_location.path
    assert path is not None
    if not path.is_file() or path.stat().st_size == 0:
        raise MoveRefused(f"There is no store at {path} to move: give the SQLite file with --from PATH (or set "
                          "PULSE_DB to it).")
    return source_location, target_location


def _refuse_outdated_source(location: Location) -> None:
    try:
        revision = current_revision(location)
    except sqlite3.DatabaseError as exc:
        raise MoveRefused(f"{location.path} is not a Journey Pulse store ({exc}): give the right file with "
                          "--from PATH.") from None
    if revision == HEAD:
        return
    if revision is None or revision < HEAD:
        raise MoveRefused(
            f"The store at {location.path} has an older schema (revision {revision or 'before 0001'}; this version "
            f"writes {HEAD}): upgrade it first with PULSE_DB={location.path} python -m workspace migrate (or open "
            "it once with this version), then run move-store again.")
    raise MoveRefused(f"The store at {location.path} was written by a newer Journey Pulse (revision {revision}; "
                      f"this one knows up to {HEAD}): run move-store from that version.")


def _refuse_non_empty(location: Location) -> None:
    """A target is empty when it has no tables, or only this schema's tables with no rows in them."""
    from workspace.store import postgres
    conn = postgres.open_connection(str(location.url))
    try:
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename").fetchall()]
        if not tables:
            return
        if "alembic_version" not in tables:
            raise MoveRefused(
                f"The database at {location.describe()} already holds tables that are not Journey Pulse's "
                f"({', '.join(tables[:5])}{', …' if len(tables) > 5 else ''}): create an empty database for the "
                "store (CREATE DATABASE pulse OWNER …) and give its URL with --to.")
        filled = _filled_tables(conn, [t for t in tables if t not in ENGINE_TABLES])
        if filled:
            raise MoveRefused(
                f"The database at {location.describe()} already holds a store ({', '.join(filled[:5])} have rows): "
                "move-store copies only into an empty database. Give the URL of a new, empty database with --to, "
                "or drop and re-create this one if its contents are disposable.")
    finally:
        conn.close()


def _filled_tables(conn: Any, tables: list[str]) -> list[str]:
    return [t for t in tables if conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{t}")').fetchone()[0]]


def _copy(source: sqlite3.Connection, target: Location, report: MoveReport, progress: Progress,
          batch_rows: int) -> None:
    from workspace.store import postgres
    conn = postgres.open_connection(str(target.url))
    try:
        with _all_or_nothing(conn):
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            tables = _tables_in_dependency_order(conn)
            # Checked again under the lock: nothing may have arrived since the first look.
            filled = _filled_tables(conn, tables)
            if filled:
                raise MoveRefused(f"The database at {target.describe()} received rows while the move started "
                                  f"({', '.join(filled[:5])}): stop every server using it and run move-store again.")
            present = {row[0] for row in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
            report.skipped = sorted(present - set(tables) - ENGINE_TABLES)
            for table in tables:
                if table not in present:
                    raise MoveFailed(f"The store at {report.source.path} has no table {table} although its schema "
                                     f"is revision {HEAD}: it was altered by hand; restore it from a backup.")
                columns = _target_columns(conn, table)
                total = source.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                copied = _copy_table(source, conn, table, columns, total, progress, batch_rows)
                counted = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                report.counts.append(TableCount(table, total, counted))
                if copied != total or counted != total:
                    raise MoveFailed(f"Table {table}: {total:,} rows in the SQLite store but {counted:,} arrived; "
                                     "nothing was kept. Stop everything that writes to the SQLite file and run "
                                     "move-store again.")
                report.sealed_secrets += sum(
                    source.execute(f'SELECT count(*) FROM "{table}" WHERE typeof("{name}") = \'blob\'').fetchone()[0]
                    for name, data_type in columns if data_type == "bytea")
            report.sequences = _advance_sequences(conn)
    finally:
        conn.close()


@contextmanager
def _all_or_nothing(conn: Any) -> Iterator[None]:
    """One transaction on the target: committed only when every table arrived and counted right."""
    conn.execute("BEGIN")
    try:
        yield
    except BaseException as exc:  # KeyboardInterrupt included: the target must be left empty
        try:
            conn.rollback()
        except Exception:  # the connection died: the server rolls the transaction back itself
            pass
        if isinstance(exc, (MoveRefused, MoveFailed, KeyboardInterrupt)):
            raise
        raise MoveFailed(f"The copy stopped ({str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}); "
                         "nothing was kept, the target is empty again: fix that and run move-store again.") from exc
    conn.commit()


def _tables_in_dependency_order(conn: Any) -> list[str]:
    """The target's tables (without Alembic's), every table after those its foreign keys point at."""
    tables = [row[0] for row in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename").fetchall()
        if row[0] not in ENGINE_TABLES]
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter({t: set() for t in tables})
    for child, parent in conn.execute(
            "SELECT c.relname, p.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
            "JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE k.contype = 'f' AND n.nspname = current_schema()").fetchall():
        if child != parent:
            sorter.add(child, parent)
    return list(sorter.static_order())


def _target_columns(conn: Any, table: str) -> list[tuple[str, str]]:
    return [(name, data_type) for name, data_type in conn.execute(
        "SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s ORDER BY ordinal_position", (table,)).fetchall()]


def _copy_table(source: sqlite3.Connection, conn: Any, table: str, columns: list[tuple[str, str]], total: int,
                progress: Progress, batch_rows: int) -> int:
    names = ", ".join(f'"{name}"' for name, _ in columns)
    reader = source.execute(f'SELECT {names} FROM "{table}"')
    copied = 0
    progress(table, 0, total)
    with conn.cursor() as cursor, cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
        while batch := reader.fetchmany(batch_rows):
            for row in batch:
                copy.write_row(row)
            copied += len(batch)
            progress(table, copied, total)
    return copied


def _advance_sequences(conn: Any) -> dict[str, int]:
    """Every serial column's sequence set to hand out max(id) + 1 next (1 for an empty table)."""
    advanced: dict[str, int] = {}
    for table, column, sequence in conn.execute(
            "SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name) "
            "FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL "
            "ORDER BY table_name").fetchall():
        highest = conn.execute(f'SELECT max("{column}") FROM "{table}"').fetchone()[0] or 0
        conn.execute("SELECT setval(%s, %s, false)", (sequence, highest + 1))
        advanced[f"{table}.{column}"] = highest + 1
    return advanced


def format_report(report: MoveReport) -> str:
    """The per-table counts as a plain-text table, then the sequences and what to do next."""
    header = ("TABLE", "SQLITE ROWS", "POSTGRESQL ROWS", "")
    lines = [header] + [(c.table, f"{c.source:,}", f"{c.target:,}", "ok" if c.matches else "DIFFERENT")
                        for c in sorted(report.counts, key=lambda c: c.table)]
    widths = [max(len(line[i]) for line in lines) for i in range(3)]
    text = [f"{line[0]:<{widths[0]}}  {line[1]:>{widths[1]}}  {line[2]:>{widths[2]}}  {line[3]}".rstrip()
            for line in lines]
    text.append(f"{'total':<{widths[0]}}  {sum(c.source for c in report.counts):>{widths[1]},}  "
                f"{report.rows:>{widths[2]},}")
    if report.sequences:
        text.append("Ids continue after the copied ones: " + ", ".join(
            f"{name} from {value:,}" for name, value in report.sequences.items()) + ".")
    if report.skipped:
        text.append("Not part of the store's schema, not copied: " + ", ".join(report.skipped) + ".")
    return "\n".join(text)


def key_reminder(report: MoveReport, secret_key_set: bool, key_file: Path) -> str:
    """What the new servers need to read the copied secrets, which stay sealed with the old key."""
    if not report.sealed_secrets:
        return "No encrypted secret was stored (the integration is not authorized yet): nothing depends on the key."
    where = ("the same PULSE_SECRET_KEY as this store used" if secret_key_set else
             f"the same key: copy {key_file} to every server and set PULSE_KEY_FILE to it (or put its content "
             "in PULSE_SECRET_KEY)")
    return (f"The stored Qualtrics authorization ({report.sealed_secrets} sealed value(s)) was copied still encrypted, byte for byte: run every server and the "
            f"worker with {where}; with another key the integration must be reauthorized.")
