"""The deployment of deploy/ on this machine: a real PostgreSQL (scripts/postgres.py), the Qualtrics sandbox, two
app servers with ``PULSE_WORKER=external`` behind nginx with deploy/nginx's sticky upstream, and worker
processes (``python -m workspace worker``), all with the settings of deploy/journey-pulse.env.

What it proves: the schema is migrated once by ``python -m workspace migrate`` before any server starts; OAuth
completes through the proxy (its state is in the shared store, so either server may take the callback); an
edit made through one server shows on the other's page at its next rerun; every response is stored once and
each survey is exported once per interval however many workers run; a worker killed with SIGKILL mid-sync is
taken over within its lease, the export resumed, nothing lost or doubled.

Every process it starts is stopped at the end; every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from bench.streamlit_client import Session
from qualtrics.sandbox import Sandbox
from scripts.appserver import AppServer
from tests.sandbox_fixtures import approve_in_browser
from workspace import catalog, connection, journeys, metrics
from workspace.config import Settings
from workspace.connection import open_client

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SECRET_KEY = "the passphrase every server and worker of this deployment shares"
COOKIE_SECRET = "the-same-streamlit-cookie-secret-on-every-replica"
JOURNEY = "Company onboarding"


@dataclass
class Company:
    """The running deployment: its proxy URL, its servers, the settings every process shares."""

    proxy_url: str
    servers: list[AppServer]
    sandbox: Sandbox
    env: dict[str, str]
    database_url: str
    journey_id: int = 0
    workers: list[subprocess.Popen] = field(default_factory=list)

    def settings(self) -> Settings:
        """The settings of the deployment's environment file, as any of its processes loads them."""
        return Settings.load(self.env, secrets_path=None)


def _needs(path: str, what: str) -> None:
    if not Path(path).exists():
        pytest.skip(f"{what} is not installed (apt-get install -y {what}): the deployment test runs Debian's")


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    from scripts.postgres import PostgresServer, binaries
    if binaries() is None:
        pytest.skip("postgresql is not installed (apt-get install -y postgresql): the deployment test runs Debian's")
    _needs(NGINX, "nginx")
    from bench.load import Nginx

    root = tmp_path_factory.mktemp("company")
    with ExitStack() as stack:
        database = PostgresServer(Path(tempfile.mkdtemp(prefix="pulse-deploy-pg-")))
        stack.callback(shutil.rmtree, database.root, True)
        database.start()
        stack.callback(database.stop)
        url = database.create_database("pulse")

        sandbox = Sandbox(seed=11)
        sandbox.start()
        stack.callback(sandbox.stop)

        servers = [AppServer(root / f"app{n}") for n in (1, 2)]
        for server in servers:
            server.data_dir.mkdir()
        proxy = Nginx(root / "nginx", [server.port for server in servers])
        env = {
            "PULSE_DATABASE_URL": url, "PULSE_WORKER": "external", "PULSE_SECRET_KEY": SECRET_KEY,
            "PULSE_URL": proxy.url, "PULSE_SYNC_INTERVAL": "3600",
            "QUALTRICS_BASE_URL": sandbox.base_url, "QUALTRICS_CLIENT_ID": sandbox.client_id,
            "QUALTRICS_CLIENT_SECRET": sandbox.client_secret,
            "STREAMLIT_SERVER_COOKIE_SECRET": COOKIE_SECRET,
        }
        sandbox.add_redirect_uri(f"{proxy.url}/api/qualtrics/callback")

        # The upgrade step of deploy/README.md: the schema, once, before any server starts.
        migrated = subprocess.run([sys.executable, "-m", "workspace", "migrate"], cwd=ROOT, env=_process_env(env),
                                  capture_output=True, text=True, timeout=60)
        assert migrated.returncode == 0, migrated.stderr
        assert "now at revision" in migrated.stdout

        for server in servers:
            server.env.update(env)
            stack.callback(server.stop)
        with ThreadPoolExecutor(len(servers)) as pool:  # both start at once, as a rolling restart's last step does
            list(pool.map(lambda server: server.start(timeout=90), servers))
        stack.callback(proxy.stop)
        proxy.start()

        deployment = Company(proxy.url, servers, sandbox, env, url)
        stack.callback(lambda: [_stop(worker) for worker in deployment.workers])
        yield deployment


def _process_env(env: dict[str, str]) -> dict[str, str]:
    import os
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("QUALTRICS_", "PULSE_", "STREAMLIT_"))}
    return {**clean, **env}


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _page_texts(base_url: str, journey_id: int, edit=None) -> tuple[list[str], list[str]]:
    """The journey page of the server at ``base_url``: what it shows, then (after ``edit()``) what its next
    rerun in the same session shows."""

    async def scenario() -> tuple[list[str], list[str]]:
        async with Session(base_url, "/", f"journey={journey_id}") as session:
            await session.open(timeout=60)
            before = session.texts()
            if edit is not None:
                edit()
            known = len(session.runs)
            await session.rerun(timeout=60)
            # A run the page stops for a rerun of its own leaves the last finished run's elements on screen.
            await session.wait_for(lambda s: any(run.status == "finished" and not run.is_fragment
                                                 for run in s.runs[known:]), 60, "a finished run after the edit")
            assert session.errors == []
            return before, session.texts()

    return asyncio.run(scenario())


def test_oauth_completes_through_the_proxy_on_whichever_server_takes_the_callback(company):
    settings = company.settings()
    start = connection.begin_authorization(settings, started_by="ops@example.com")
    browser = requests.Session()
    sent = browser.get(company.proxy_url + start, allow_redirects=False, timeout=30)
    assert sent.status_code in (302, 303), sent.text[:300]
    assert "pulse_browser" in browser.cookies  # what the sticky upstream hashes from now on
    callback = approve_in_browser(sent.headers["Location"])
    done = browser.get(f"{company.proxy_url}/api/qualtrics/callback", params=callback, allow_redirects=False,
                       timeout=30)
    assert done.status_code in (200, 302, 303), done.text[:300]
    assert connection.integration_status(settings).connected

    # The metrics and the journey the rest of the module watches.
    survey_ids = [company.sandbox.survey_ids[role] for role in ("nps", "csat")]
    with open_client(settings) as client:
        for survey_id in survey_ids:
            catalog.refresh_questions(settings, client, survey_id)
    nps = metrics.create_metric(settings, survey_ids[0], "QID1", "nps")
    csat = metrics.create_metric(settings, survey_ids[1], "QID1", "csat")
    journey = journeys.create_journey(settings, JOURNEY, stages=[("Join", ["Sign up", "First call"])])
    journeys.place_metric(settings, nps.id, journey.steps[0].id)
    journeys.place_metric(settings, csat.id, journey.steps[1].id)
    company.journey_id = journey.id


def test_an_edit_through_one_server_shows_on_the_other_at_its_next_rerun(company):
    assert company.journey_id, "needs the journey of the OAuth test"
    first, second = company.servers
    settings_of_first = Settings.load({**company.env, "PULSE_URL": first.url}, secrets_path=None)
    step = journeys.get_journey(settings_of_first, company.journey_id).steps[1]

    before, after = _page_texts(second.url, company.journey_id,
                                edit=lambda: journeys.rename_step(settings_of_first, step.id, "Welcome call"))
    assert any("First call" in text for text in before) and not any("Welcome call" in text for text in before)
    assert any("Welcome call" in text for text in after), after[:20]
    assert not any("First call" in text for text in after), [t for t in after if "First call" in t]

    # And through the proxy, whichever server the session lands on.
    shown, _ = _page_texts(company.proxy_url, company.journey_id)
    assert any("Welcome call" in text for text in shown)
