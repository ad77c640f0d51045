"""Running the suite on either store engine: ``pytest`` (SQLite, the default) or ``pytest --engine postgresql``.

On PostgreSQL every test gets a database of its own, copied from a template the session migrates once (a copy
costs ~50 ms, a migration ~1 s), on a private server the session starts (scripts/postgres.py) unless
``PULSE_TEST_DATABASE_URL`` names a server to use (its user must be allowed to create databases). The test's
database is in ``PULSE_DATABASE_URL`` for the test and what it starts, and :func:`database_url` gives it to
helpers that build settings from explicit values. What needs a database beyond the test's (an app a whole
module shares, a second store in one test) takes one from :func:`own_database`.

Tests of what only the SQLite file has (its permissions, a full disk, the SQLite-only releases' migrations)
are marked ``sqlite_only`` and skip with that reason on PostgreSQL.

Tests that never open a store (the Qualtrics client and sandbox, scoring, vocabulary, the architecture rules)
are marked ``engine_independent``: a PostgreSQL run deselects them, as they would prove the same twice.
Every other test runs on both engines by default, so a new store test cannot be left out; and on SQLite a
test marked ``engine_independent`` that opens a store in the test process fails, so the marker cannot
hide one either.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ENGINES = ("sqlite", "postgresql")
TEMPLATE = "pulse_test_template"
_current: str | None = None
_numbers = itertools.count(1)


def database_url() -> str | None:
    """The running test's PostgreSQL database, None on SQLite."""
    return _current


def store_env() -> dict[str, str]:
    """What a process started with a clean environment needs to use the running test's store: its
    ``PULSE_DATABASE_URL`` on PostgreSQL, nothing on SQLite (the process's ``PULSE_DB`` is the store)."""
    return {"PULSE_DATABASE_URL": _current} if _current else {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--engine", choices=ENGINES, default=os.environ.get("PULSE_TEST_ENGINE", "sqlite"),
                     help="store engine the tests run on (default sqlite; PULSE_TEST_ENGINE sets it too)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: proves what only the SQLite file has; skipped on PostgreSQL")
    config.addinivalue_line("markers", "postgresql_only: proves what only PostgreSQL has; skipped on SQLite")
    config.addinivalue_line("markers", "engine_independent: opens no store; deselected on PostgreSQL")


def pytest_report_header(config: pytest.Config) -> str:
    return f"store engine: {config.getoption('--engine')}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    engine = config.getoption("--engine")
    if engine == "postgresql":
        independent = [item for item in items if item.get_closest_marker("engine_independent")]
        if independent:
            config.hook.pytest_deselected(items=independent)
            items[:] = [item for item in items if not item.get_closest_marker("engine_independent")]
    for item in items:
        if engine == "postgresql" and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="proves what only the SQLite file has"))
        if engine == "sqlite" and item.get_closest_marker("postgresql_only"):
            item.add_marker(pytest.mark.skip(reason="proves what only PostgreSQL has (run with --engine postgresql)"))


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> Iterator[object]:
    """The session's PostgreSQL server with the migrated template database; None on SQLite."""
    if request.config.getoption("--engine") != "postgresql":
        yield None
        return
    from scripts.postgres import PostgresServer
    from workspace.store import migrate

    given = os.environ.get("PULSE_TEST_DATABASE_URL")
    server = None
    if given:
        admin = given
    else:
        server = PostgresServer(Path(tempfile.mkdtemp(prefix="pulse-tests-pg-"))).start()
        admin = server.url
    import psycopg
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    template_url = _with_database(admin, TEMPLATE)
    migrate(template_url)
    from workspace.store import postgres
    postgres.close_pools()
    yield admin
    if server is not None:
        server.stop()


@contextmanager
def own_database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A fresh migrated database on the session's server for the block (dropped after it), None on SQLite:
    for an app that a whole module or session shares, or a second store beside the test's own."""
    admin = request.getfixturevalue("postgres_server")
    if admin is None:
        yield None
        return
    import psycopg
    name = f"pulse_test_{os.getpid()}_{next(_numbers)}"
    url = _with_database(str(admin), name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    try:
        yield url
    finally:
        from workspace import store
        from workspace.store import postgres
        postgres.close_pools()
        store.forget_migrated(url)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def store_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test on the engine the run asks for: on PostgreSQL a fresh database in ``PULSE_DATABASE_URL``."""
    global _current
    engine = request.config.getoption("--engine")
    if engine != "postgresql":
        monkeypatch.delenv("PULSE_DATABASE_URL", raising=False)
        if request.node.get_closest_marker("engine_independent") is None:
            yield engine
            return
        from workspace import store
        opened: list[object] = []
        migrated = store.ensure_migrated  # what every store.connect calls first

        def watched(location: object) -> object:
            opened.append(location)
            return migrated(location)
        monkeypatch.setattr(store, "ensure_migrated", watched)
        yield engine
        if opened:
            pytest.fail(f"{request.node.nodeid} is marked engine_independent but opened the store "
                        f"{store.Location.of(opened[0]).describe()}: remove the marker so that it runs on "
                        "PostgreSQL too", pytrace=False)
        return
    with own_database(request) as url:
        _current = url
        monkeypatch.setenv("PULSE_DATABASE_URL", url)
        try:
            yield engine
        finally:
            _current = None


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))
