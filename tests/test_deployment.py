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

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from bench.streamlit_client import Session, run_sessions
from qualtrics.sandbox import Sandbox
from scripts.appserver import AppServer
from tests.sandbox_fixtures import approve_in_browser, wait_until
from tests.test_workspace_support import assert_stored_equals_truth
from workspace import catalog, connection, journeys, metrics
from workspace.config import Settings
from workspace.connection import open_client
from workspace.store import connect

# It starts its own PostgreSQL whatever --engine says: run once, in scripts/test.sh's PostgreSQL pass.
pytestmark = [pytest.mark.slow, pytest.mark.postgresql_only]
ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SECRET_KEY = "the passphrase every server and worker of this deployment shares"
COOKIE_SECRET = "the-same-streamlit-cookie-secret-on-every-replica"
JOURNEY = "Company onboarding"
#: The workers' schedule and lease, short so that two intervals and a takeover fit in seconds.
INTERVAL = 5
LEASE = 6.0
#: How late a takeover may come after the lease ran out: the idle worker looks every 2 s (workspace.worker).
TAKEOVER_SLACK = 2.0 + 3.0
WORKERS = ("machine-a", "machine-b", "machine-c")


@dataclass
class Company:
    """The running deployment: its proxy URL, its servers, the settings every process shares."""

    proxy_url: str
    servers: list[AppServer]
    sandbox: Sandbox
    env: dict[str, str]
    database_url: str
    root: Path
    journey_id: int = 0
    metric_ids: list[int] = field(default_factory=list)
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)

    def settings(self) -> Settings:
        """The settings of the deployment's environment file, as any of its processes loads them."""
        return Settings.load(self.env, secrets_path=None)

    def start_worker(self, machine: str) -> subprocess.Popen:
        """``python -m workspace worker`` as on a machine of its own: in a UTS namespace named ``machine``
        when this account may make one (root), so that no worker can see another's process die and only the
        lease hands a dead worker's job on, as between machines."""
        command = [sys.executable, "-m", "workspace", "worker", "--lease", str(LEASE)]
        if _own_hostnames():
            command = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', machine, *command]
        log = (self.root / f"worker-{machine}.log").open("w")
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   env=_process_env({**self.env, "PULSE_SYNC_INTERVAL": str(INTERVAL)}))
        log.close()
        self.workers[machine] = process
        return process

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with connect(self.database_url) as db:
            return [tuple(row) for row in db.execute(sql, params).fetchall()]

    def worker_logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text()[-3000:]}" for path in self.root.glob("worker-*.log"))


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

        deployment = Company(proxy.url, servers, sandbox, env, url, root)
        stack.callback(lambda: _stop_all(list(deployment.workers.values())))
        # Three workers, so that one is idle when another dies while the third is syncing the other survey.
        for machine in WORKERS:
            deployment.start_worker(machine)
        for server in servers:
            server.env.update(env)
            stack.callback(server.stop)
        with ThreadPoolExecutor(len(servers)) as pool:  # both start at once, as a rolling restart's last step does
            list(pool.map(lambda server: server.start(timeout=90), servers))
        stack.callback(proxy.stop)
        proxy.start()
        yield deployment


def _own_hostnames() -> bool:
    """Whether worker processes can get a host name of their own (``unshare --uts`` needs root)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "--uts", "true"], capture_output=True, timeout=10).returncode == 0


def _process_env(env: dict[str, str]) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("QUALTRICS_", "PULSE_", "STREAMLIT_"))}
    return {**clean, **env}


def _stop_all(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to all at once (a worker then gives its claims back), SIGKILL to any still there after 20 s."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 20
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
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

    return run_sessions(scenario())


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
    company.metric_ids = [nps.id, csat.id]


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


def _surveys(company: Company) -> list[tuple[str, str]]:
    return [(metrics.get_metric(company.settings(), metric_id).survey_id, "QID1") for metric_id in company.metric_ids]


def _succeeded_runs(company: Company, survey_id: str) -> int:
    return company.rows("SELECT count(*) FROM sync_runs WHERE survey_id = ? AND status = 'succeeded'",
                        (survey_id,))[0][0]


def _stored_equals_truth(company: Company) -> bool:
    try:
        for survey_id, question_id in _surveys(company):
            assert_stored_equals_truth(company.settings(), company.sandbox, survey_id, question_id)
    except AssertionError:
        return False
    return True


def test_the_workers_store_every_response_once_and_export_each_survey_once_per_interval(company):
    assert company.metric_ids, "needs the metrics of the OAuth test"
    surveys = [survey_id for survey_id, _ in _surveys(company)]
    wait_until(lambda: all(_succeeded_runs(company, s) >= 1 for s in surveys), 60,
               f"a first sync of each survey by the workers:\n{company.worker_logs()}")
    for role in ("nps", "csat"):
        company.sandbox.add_responses(role, 15)
    wait_until(lambda: _stored_equals_truth(company), 3 * INTERVAL + 10,
               f"the new responses stored by a scheduled sync:\n{company.worker_logs()}")

    for survey_id in surveys:
        starts = company.sandbox.export_starts(survey_id)
        gaps = [later - earlier for earlier, later in zip(starts, starts[1:])]
        assert len(starts) >= 2 and all(gap >= INTERVAL - 0.5 for gap in gaps), (survey_id, gaps)
        # One export per sync run, whichever worker ran it: no run exported twice, no export without a run.
        assert len(starts) in (_succeeded_runs(company, survey_id), _succeeded_runs(company, survey_id) + 1)
    if _own_hostnames():  # every run was a worker's, none an app server's
        hosts = {row[0] for row in company.rows("SELECT DISTINCT host FROM sync_runs")}
        assert hosts <= set(WORKERS), hosts


def test_a_worker_killed_mid_sync_is_taken_over_within_its_lease_with_nothing_lost_or_doubled(company):
    assert all(process.poll() is None for process in company.workers.values()), company.worker_logs()
    survey_id = _surveys(company)[0][0]
    sandbox = company.sandbox
    before = len(sandbox.export_starts(survey_id))
    sandbox.faults.export_polls = 12  # every export now stays in progress for a dozen polls: time to kill it
    try:
        sandbox.add_responses("nps", 40)
        wait_until(lambda: len(sandbox.export_starts(survey_id)) > before and company.rows(
            "SELECT holder FROM sync_jobs WHERE survey_id = ? AND holder IS NOT NULL AND progress_id IS NOT NULL",
            (survey_id,)), 3 * INTERVAL + 10, f"a scheduled export in flight:\n{company.worker_logs()}")
        holder = company.rows("SELECT holder FROM sync_jobs WHERE survey_id = ?", (survey_id,))[0][0]
        pid = int(holder.split(":")[1])
        victim = next(name for name, process in company.workers.items() if process.pid == pid)
        company.workers[victim].send_signal(signal.SIGKILL)
        company.workers[victim].wait(timeout=10)
        killed = time.monotonic()

        new_holder = wait_until(lambda: next((row[0] for row in company.rows(
            "SELECT holder FROM sync_jobs WHERE survey_id = ? AND holder IS NOT NULL", (survey_id,))
            if row[0] != holder), None), LEASE + TAKEOVER_SLACK + 5, f"a takeover:\n{company.worker_logs()}")
        took = time.monotonic() - killed
        print(f"the job of the worker killed mid-export was taken over {took:.1f} s later (lease {LEASE:.0f} s)")
        assert took <= LEASE + TAKEOVER_SLACK, f"taken over {took:.1f} s after the kill (lease {LEASE} s)"
        assert int(new_holder.split(":")[1]) != pid
        wait_until(lambda: _stored_equals_truth(company), 30, f"the resumed sync:\n{company.worker_logs()}")
        done = time.time()
    finally:
        sandbox.faults.export_polls = 0
    # The export the killed worker started was resumed by the other one, not started again.
    started = [at for at in sandbox.export_starts(survey_id)[before:] if at <= done]
    assert len(started) == 1, f"{len(started)} exports started for one scheduled sync"
