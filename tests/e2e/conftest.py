"""A real `streamlit run app.py` on a free port, driven by headless Debian Chromium.

The server gets its own database and no Qualtrics settings, so it starts the embedded sandbox
exactly as a fresh machine does. On ``--engine postgresql`` an app started in a test uses the test's
database; one that a module or the session shares gets a database of its own for as long as it runs. Its log goes to a file (a PIPE can fill and deadlock the server).
On a failing test the page's screenshot is saved under test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect

from scripts.appserver import CHROMIUM, CHROMIUM_ARGS, ROOT, AppServer
from tests import engines
from workspace.config import Settings

ARTIFACTS = ROOT / "test-artifacts"


@contextmanager
def running_app(data_dir: Path, env: Mapping[str, str] | None = None,
                shared_by: pytest.FixtureRequest | None = None) -> Iterator[dict]:
    """The app as a user runs it, with a private data folder and ``env`` on top of a clean environment.
    ``shared_by``: the request of a fixture wider than one test, whose app outlives the test's database and
    so gets a store of its own (on SQLite its file in ``data_dir`` already is)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/test.sh`, which installs Debian's chromium")
    with ExitStack() as stack:
        url = stack.enter_context(engines.own_database(shared_by)) if shared_by is not None else None
        server = AppServer(data_dir, {**({"PULSE_DATABASE_URL": url} if url else {}), **(env or {})}).start()
        stack.callback(server.stop)
        yield {"url": server.url, "data": server.data_dir, "log": server.log, "database_url": server.database_url}


def app_settings(app: dict, **env: str) -> Settings:
    """Settings on the store of an app that :func:`running_app` started (its SQLite file or its database)."""
    store = {"PULSE_DB": str(app["data"] / "pulse.db"),
             **({"PULSE_DATABASE_URL": app["database_url"]} if app["database_url"] else {})}
    return Settings.load({**store, **env}, secrets_path=None)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[dict]:
    """The app as a user runs it, with a private data folder, on the embedded sandbox."""
    with running_app(tmp_path_factory.mktemp("app-data"), shared_by=request) as app:
        yield app


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20_000)
    expect.set_options(timeout=15_000)  # assertions wait like actions do: a loaded machine renders slowly
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A browser test that misses a timeout once on a loaded machine is run again, once; a real failure fails
    twice. The rerun shows as ``R`` in the summary, so flakiness stays visible."""
    for item in items:
        if item.get_closest_marker("e2e") is not None:
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))
