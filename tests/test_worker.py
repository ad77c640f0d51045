"""Sync jobs claimed in the store and ``python -m workspace worker``: real worker processes against one store
(SQLite, or PostgreSQL with ``--engine postgresql``) and the sandbox over HTTP. Each survey is exported once
per interval however many workers run (counted at the sandbox), every response is stored once, a worker
killed or frozen mid-sync is replaced, one that lost its lease writes nothing, and with PULSE_WORKER=external
the app itself starts no background work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from qualtrics.sandbox import Sandbox
from tests.sandbox_fixtures import wait_until
from tests.test_workspace_support import assert_stored_equals_truth, settings_for
from workspace import bootstrap, catalog, jobs, live, metrics, runs, sync
from workspace.config import Settings
from workspace.connection import open_client
from workspace.datahub import worker as datahub_worker
from workspace.store import connect, transaction, versions

ROOT = Path(__file__).resolve().parent.parent
LEASE = 4.0  # seconds: short, so that a takeover happens within a test (the default is jobs.LEASE_SECONDS)


def track(s: Settings, sb: Sandbox, role: str, question_id: str, metric_type: str) -> metrics.Metric:
    survey_id = sb.survey_ids[role]
    with open_client(s) as client:
        catalog.refresh_questions(s, client, survey_id)
    return metrics.create_metric(s, survey_id, question_id, metric_type)


def worker_env(s: Settings, sb: Sandbox, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "QUALTRICS_"))}
    env.update(PULSE_DB=str(s.db_path), QUALTRICS_BASE_URL=sb.base_url, QUALTRICS_API_TOKEN=sb.api_token,
               PULSE_SYNC_INTERVAL=str(s.sync_interval), PYTHONUNBUFFERED="1", **extra)
    if s.database_url:
        env["PULSE_DATABASE_URL"] = s.database_url
    return env


class WorkerProcess:
    """``python -m workspace worker`` with its stderr in a file (read while it runs)."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.log = log
        self._out = open(log, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "workspace", "worker", "--lease", str(LEASE), *args],
                                     cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self._out)

    @property
    def text(self) -> str:
        return self.log.read_text()

    def started(self) -> bool:
        return " started (" in self.text

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self._out.close()
        return code


@contextmanager
def workers(env: dict[str, str], tmp_path: Path, count: int) -> Iterator[list[WorkerProcess]]:
    procs = [WorkerProcess(env, tmp_path / f"worker{i}.log") for i in range(count)]
    try:
        wait_until(lambda: all(p.started() for p in procs), timeout=60, what="the workers to start")
        yield procs
    finally:
        for p in procs:
            if p.proc.poll() is None:
                p.proc.kill()
                p.proc.wait(10)


def job_row(s: Settings, survey_id: str) -> dict:
    with connect(s.store) as db:
        return next(db.query("SELECT * FROM sync_jobs WHERE survey_id = ?", [survey_id]), {})


def token_responses(s: Settings, survey_id: str) -> int:
    """survey_sync.responses: every sync's final transaction adds its export's rows (answered or not), so a
    second write of the same export (a worker that lost its lease) would show here as a doubled count."""
    with connect(s.store) as db:
        row = db.execute("SELECT responses FROM survey_sync WHERE survey_id = ?", (survey_id,)).fetchone()
    return row[0] if row else 0


def data_version(s: Settings, survey_id: str) -> str:
    with connect(s.store) as db:
        return versions.read(db, [versions.survey(survey_id)])[0]


def total(sb: Sandbox, survey_id: str) -> int:
    """Every response the sandbox holds for the survey (answered or not): ground truth for token_responses."""
    return sb.store.total(next(spec for spec in sb.catalog.surveys if spec.id == survey_id))


@pytest.mark.slow
def test_two_worker_processes_export_each_survey_once_per_interval_and_store_every_response_once(
        tmp_path, fresh_sandbox):
    interval = 4
    s = settings_for(tmp_path, fresh_sandbox, PULSE_SYNC_INTERVAL=str(interval))
    surveys = [track(s, fresh_sandbox, "nps", "QID1", "nps").survey_id,
               track(s, fresh_sandbox, "csat", "QID1", "csat").survey_id]
    with workers(worker_env(s, fresh_sandbox), tmp_path, 2) as procs:
        for _ in range(3):  # new responses keep arriving while the workers sync
            time.sleep(interval)
            fresh_sandbox.add_responses("nps", 7)
            fresh_sandbox.add_responses("csat", 5)
        time.sleep(2.5 * interval)  # at least one more interval for each survey after the last responses
        codes = [p.stop() for p in procs]
        logs = [p.text for p in procs]
    assert codes == [0, 0], logs
    assert all("stopped" in log for log in logs), "SIGTERM ends a worker cleanly"
    for survey_id in surveys:
        starts = fresh_sandbox.export_starts(survey_id)
        gaps = [b - a for a, b in zip(starts, starts[1:])]
        assert len(starts) >= 3, (survey_id, starts)
        assert min(gaps) >= interval - 0.5, f"two exports of {survey_id} within one interval: {gaps}"
        assert_stored_equals_truth(s, fresh_sandbox, survey_id, "QID1")
        assert token_responses(s, survey_id) == total(fresh_sandbox, survey_id), "each response in exactly one export"
        assert not jobs.is_held(s, survey_id), "a stopped worker gives its claims back"
    # Every export the sandbox saw is one logged sync. SIGTERM can land while a sync waits for its export:
    # that sync is cancelled (it stores nothing), so each worker may end with one cancelled line.
    lines = [line for log in logs for line in log.splitlines() if "sync SV_" in line]
    assert len(lines) == sum(len(fresh_sandbox.export_starts(sv)) for sv in surveys), "one log line per sync"
    for log in logs:
        outcomes = [line for line in log.splitlines() if "sync SV_" in line and "succeeded" not in line]
        assert len(outcomes) <= 1 and all(" cancelled: " in line for line in outcomes), outcomes


@pytest.mark.slow
def test_a_worker_killed_mid_sync_is_replaced_and_its_export_resumed_with_nothing_lost_or_doubled(
        tmp_path, fresh_sandbox):
    s = settings_for(tmp_path, fresh_sandbox, PULSE_SYNC_INTERVAL="3600")
    survey_id = track(s, fresh_sandbox, "nps", "QID1", "nps").survey_id
    fresh_sandbox.faults.export_polls = 8  # the export stays in progress for eight polls (a few seconds)
    env = worker_env(s, fresh_sandbox)
    first = WorkerProcess(env, tmp_path / "first.log")
    try:
        wait_until(lambda: job_row(s, survey_id).get("progress_id") if first.started() else None, timeout=90,
                   what="the first worker to start the export")
        holder = job_row(s, survey_id)["holder"]
        first.stop(signal.SIGKILL)
        killed_at = time.monotonic()
        fresh_sandbox.faults.export_polls = 0
        with workers(env, tmp_path, 1) as (second,):
            wait_until(lambda: not jobs.is_held(s, survey_id) and runs.latest_run(s, survey_id).status == "succeeded",
                       timeout=60, what="the second worker to finish the sync")
            assert time.monotonic() - killed_at < 60
            assert second.stop() == 0
    finally:
        if first.proc.poll() is None:
            first.proc.kill()
    assert len(fresh_sandbox.export_starts(survey_id)) == 1, "the takeover polled the same export"
    assert "resumed its export" in second.text
    assert_stored_equals_truth(s, fresh_sandbox, survey_id, "QID1")
    assert token_responses(s, survey_id) == total(fresh_sandbox, survey_id)
    killed, done = runs.latest_runs(s, survey_id)[::-1][:2]
    assert killed.status == "failed" and killed.error == runs.INTERRUPTED, "the killed run reads as interrupted"
    assert done.status == "succeeded" and job_row(s, survey_id)["holder"] is None
    assert holder.split(":")[1] == str(first.proc.pid)


@pytest.mark.slow
def test_a_frozen_worker_loses_its_lease_to_another_and_writes_nothing_when_it_wakes(tmp_path, fresh_sandbox):
    s = settings_for(tmp_path, fresh_sandbox, PULSE_SYNC_INTERVAL="3600")
    survey_id = track(s, fresh_sandbox, "nps", "QID1", "nps").survey_id
    fresh_sandbox.faults.export_polls = 8
    env = worker_env(s, fresh_sandbox)
    frozen = WorkerProcess(env, tmp_path / "frozen.log")
    try:
        wait_until(lambda: job_row(s, survey_id).get("progress_id") if frozen.started() else None, timeout=90,
                   what="the first worker to start the export")
        frozen.proc.send_signal(signal.SIGSTOP)  # alive but silent: no heartbeat, so its lease runs out
        stopped_at = time.monotonic()
        fresh_sandbox.faults.export_polls = 0
        with workers(env, tmp_path, 1) as (other,):
            wait_until(lambda: runs.latest_run(s, survey_id).status == "succeeded" and not jobs.is_held(s, survey_id),
                       timeout=60, what="the other worker to take over and finish")
            assert time.monotonic() - stopped_at >= LEASE, "not before the lease ran out"
            assert_stored_equals_truth(s, fresh_sandbox, survey_id, "QID1")
            assert token_responses(s, survey_id) == total(fresh_sandbox, survey_id)
            frozen.proc.send_signal(signal.SIGCONT)
            wait_until(lambda: "taken over by another worker" in frozen.text or "lost the sync job" in frozen.text,
                       timeout=30, what="the woken worker to notice it lost the job")
            time.sleep(1.0)
            assert other.stop() == 0
        assert frozen.stop() == 0
    finally:
        if frozen.proc.poll() is None:
            frozen.proc.kill()
    assert token_responses(s, survey_id) == total(fresh_sandbox, survey_id), "the woken worker stored nothing"
    assert_stored_equals_truth(s, fresh_sandbox, survey_id, "QID1")
    assert len(fresh_sandbox.export_starts(survey_id)) == 1
    woken = runs.latest_runs(s, survey_id)[-1]
    assert woken.status == "cancelled" and "taken over by another worker" in woken.error


def test_a_sync_whose_claim_was_taken_over_writes_nothing(tmp_path, sandbox):
    s = settings_for(tmp_path, sandbox)
    survey_id = track(s, sandbox, "nps", "QID1", "nps").survey_id
    stale = jobs.claim_survey(s, survey_id, "scheduler", lease=60)
    with connect(s.store) as db, transaction(db):  # its lease ran out (a frozen worker) ...
        db.execute("UPDATE sync_jobs SET lease_until = ? WHERE survey_id = ?", ("2000-01-01T00:00:00.000Z", survey_id))
    other = jobs.claim_survey(s, survey_id, "scheduler")  # ... and another worker took the job
    result = sync.sync_survey(s, survey_id, claim=stale)
    assert result.status == "cancelled" and "taken over by another worker" in result.message
    assert token_responses(s, survey_id) == 0 and runs.survey_state(s, survey_id).continuation_token is None
    with connect(s.store) as db:
        assert db.execute("SELECT count(*) FROM answers WHERE survey_id = ?", (survey_id,)).fetchone()[0] == 0
    assert job_row(s, survey_id)["claim"] == other.token, "the loser does not release the winner's claim"
    jobs.release(s, other, succeeded=False)


def test_claims_exclude_each_other_across_threads_and_a_scheduled_claim_moves_the_due_time(tmp_path, sandbox):
    s = settings_for(tmp_path, sandbox, PULSE_SYNC_INTERVAL="600")
    surveys = sorted([track(s, sandbox, "nps", "QID1", "nps").survey_id, track(s, sandbox, "csat", "QID1", "csat").survey_id])
    claims: list[jobs.Claim | None] = []
    lock = threading.Lock()

    def claim() -> None:
        got = jobs.claim_due(s)
        with lock:
            claims.append(got)

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    taken = [c for c in claims if c is not None]
    assert sorted(c.survey_id for c in taken) == surveys, "each due job claimed exactly once"
    assert jobs.claim_due(s) is None, "claimed jobs are not due again"
    for c in taken:
        jobs.release(s, c, succeeded=True)
    assert jobs.claim_due(s) is None, "released jobs wait for their next interval"
    assert all(state.due_at > jobs._format(jobs.dt.datetime.now(jobs.dt.timezone.utc)) for state in jobs.job_states(s))


def test_worker_once_runs_what_is_due_and_exits(tmp_path, sandbox):
    s = settings_for(tmp_path, sandbox, PULSE_SYNC_INTERVAL="3600")
    metric = track(s, sandbox, "nps", "QID1", "nps")
    env = worker_env(s, sandbox)
    done = subprocess.run([sys.executable, "-m", "workspace", "worker", "--once"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"sync {metric.survey_id} (scheduler) succeeded" in done.stderr
    assert_stored_equals_truth(s, sandbox, metric.survey_id, "QID1")
    again = subprocess.run([sys.executable, "-m", "workspace", "worker", "--once"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "sync SV_" not in again.stderr, "not due again within the interval"
    assert [r.trigger for r in runs.latest_runs(s, metric.survey_id)] == ["scheduler"]


def test_with_pulse_worker_external_the_app_starts_no_background_threads(monkeypatch, tmp_path, sandbox):
    from app import health

    s = settings_for(tmp_path, sandbox)
    monkeypatch.setenv("PULSE_WORKER", "external")
    monkeypatch.setenv("PULSE_DB", str(s.db_path))
    if s.database_url:
        monkeypatch.setenv("PULSE_DATABASE_URL", s.database_url)
    monkeypatch.setenv("QUALTRICS_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("QUALTRICS_API_TOKEN", sandbox.api_token)
    bootstrap.shutdown()
    before = {t.name for t in threading.enumerate()}
    try:
        settings = bootstrap.runtime().settings
        metric = track(settings, sandbox, "nps", "QID1", "nps")
        states = live.watch(settings, [metric.survey_id])  # a Live screen asks: the row is written, no thread
        datahub_worker.notify(settings)
        time.sleep(0.5)
        started = {t.name for t in threading.enumerate()} - before
        assert not [name for name in started if name.startswith(("pulse-worker", "sync-heartbeat"))], started
        assert states[0].mode == live.feeds.STARTING
        with connect(settings.store) as db:
            assert db.execute("SELECT count(*) FROM live_feeds").fetchone()[0] == 1, "a worker process claims it"
        answer = TestClient(Starlette(routes=[Route("/api/health", health)])).get("/api/health")
        assert answer.json()["background_work"] == "external"
    finally:
        bootstrap.shutdown()
    monkeypatch.setenv("PULSE_WORKER", "embedded")
    try:
        bootstrap.runtime()
        assert any(t.name == "pulse-worker-sync" for t in threading.enumerate()), "the embedded default"
    finally:
        bootstrap.shutdown()


def test_a_live_feed_is_refreshed_by_a_worker_process_and_screens_read_its_version(tmp_path, fresh_sandbox):
    s = settings_for(tmp_path, fresh_sandbox, PULSE_SYNC_INTERVAL="3600", PULSE_WORKER="external")
    survey_id = track(s, fresh_sandbox, "nps", "QID1", "nps").survey_id
    assert live.watch(s, [survey_id])[0].mode == live.feeds.STARTING
    with workers(worker_env(s, fresh_sandbox, PULSE_WORKER="external"), tmp_path, 1) as (proc,):
        state = wait_until(lambda: next((f for f in live.watch(s, [survey_id]) if f.mode != live.feeds.STARTING),
                                        None), timeout=60, what="the worker to take the feed")
        assert state.mode == live.feeds.POLLING, state  # PULSE_URL is localhost: Qualtrics cannot push to it
        wait_until(lambda: runs.survey_state(s, survey_id).last_sync, timeout=30, what="the first sync")
        before = data_version(s, survey_id)
        fresh_sandbox.add_responses("nps", 3)
        wait_until(lambda: data_version(s, survey_id) != before, timeout=30,
                   what="the next refresh to store the new answers (which screens see by the data version)")
        assert proc.stop() == 0
        assert "live feed of" in proc.text
    assert_stored_equals_truth(s, fresh_sandbox, survey_id, "QID1")
    assert "live" in {r.trigger for r in runs.latest_runs(s, survey_id)}


@pytest.mark.slow
def test_live_says_when_no_worker_process_brings_answers_in_and_stops_saying_it_once_one_does(
        tmp_path, fresh_sandbox, monkeypatch):
    from workspace import journeys
    from workspace.live import view

    monkeypatch.setattr(view, "UNATTENDED_SECONDS", 0.0)  # the facilitator's session is old enough at once
    s = settings_for(tmp_path, fresh_sandbox, PULSE_SYNC_INTERVAL="3600", PULSE_WORKER="external")
    metric = track(s, fresh_sandbox, "nps", "QID1", "nps")
    journey = journeys.ensure_journey(s, "Workshop", [("Stay", "Renew")]).journey
    journeys.place_metric(s, metric.id, journey.steps[0].id)
    assert view.UNATTENDED_NOTE in live.journey_view(s, journey.id).notes
    with workers(worker_env(s, fresh_sandbox, PULSE_WORKER="external"), tmp_path, 1) as (proc,):
        wait_until(lambda: all(f.held for f in live.watch(s, [metric.survey_id])), timeout=60,
                   what="the worker to hold the feed")
        assert view.UNATTENDED_NOTE not in live.journey_view(s, journey.id).notes
        assert proc.stop() == 0
    assert view.UNATTENDED_NOTE in live.journey_view(s, journey.id).notes, "a stopped worker gives the feed up"
