"""The sync's words and controls are true (issue 10): failures reach the server log with their reason, the
progress bar ends in the sync's real state, a second tab is told another sync runs (and since when), and
an export stuck "in progress" can be cancelled without losing or half-writing anything.

Real parts: the session's sandbox over HTTP (its slow-export fault makes an export stick in progress),
SQLite, and AppTest on the real page script.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

from tests.sandbox_fixtures import wait_until
from tests.test_pages import connect, no_exception, nps_metric, open_page, settings  # noqa: F401
from ui import routes
from workspace import jobs, runs, sync
from workspace import integration as integration_store
from workspace.store import connect as connect_db
from workspace.worker import stop_workers

STUCK = 10**6  # export polls before the sandbox reports an export complete: it never does, in a test


def answer_count(settings, survey_id: str) -> int:
    with connect_db(settings.db_path) as db:
        return db.execute("SELECT count(*) FROM answers WHERE survey_id = ?", (survey_id,)).fetchone()[0]




def test_a_failed_sync_is_one_log_line_with_its_reason_and_no_token(settings, sandbox, caplog):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    sandbox.faults.export_fail_next = 1
    with caplog.at_level(logging.INFO, logger="workspace"):
        result = sync.sync_metric(settings, metric.id, trigger="manual")
    assert result.status == "failed"
    failures = [r for r in caplog.records if r.name == "workspace.sync" and r.levelno >= logging.WARNING]
    assert len(failures) == 1
    line = failures[0].getMessage()
    assert metric.survey_id in line and result.message in line and "\n" not in line
    token = integration_store.load_token(settings)
    assert token["access_token"] not in caplog.text and token["refresh_token"] not in caplog.text


def test_a_stuck_export_cancelled_from_another_tab_ends_cancelled_with_nothing_changed(settings, sandbox):
    connect(settings)
    metric = nps_metric(settings, sandbox)  # a first sync: the survey has a continuation token and answers
    before = runs.survey_state(settings, metric.survey_id)
    stored = answer_count(settings, metric.survey_id)
    sandbox.faults.export_polls = STUCK

    outcome: list[sync.SyncResult] = []
    worker = threading.Thread(target=lambda: outcome.append(sync.sync_metric(settings, metric.id)))
    worker.start()
    running = wait_until(lambda: runs.running_run(settings, metric.survey_id))
    wait_until(lambda: (runs.get_run(settings, running.id).fraction or 0) > 0 or
             runs.get_run(settings, running.id).stage == "export")
    assert runs.request_cancel(settings, running.id, by="ana@example.com")
    worker.join(timeout=20)
    assert not worker.is_alive(), "the sync must see the cancel request at its next export poll"

    result = outcome[0]
    assert result.status == "cancelled" and not result.ok
    assert "Cancelled by ana@example.com during export" in result.message
    run = runs.get_run(settings, running.id)
    assert run.status == "cancelled" and run.error == result.message and run.finished_at
    after = runs.survey_state(settings, metric.survey_id)
    assert after.continuation_token == before.continuation_token
    assert answer_count(settings, metric.survey_id) == stored
    assert not runs.request_cancel(settings, running.id), "a finished run cannot be cancelled again"

    sandbox.faults.export_polls = 0
    again = sync.sync_metric(settings, metric.id)
    assert again.status == "succeeded", again.message


def test_an_interrupted_sync_is_recorded_as_cancelled_not_failed(settings, sandbox):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    token = runs.survey_state(settings, metric.survey_id).continuation_token

    def interrupt(stage: str, fraction: float) -> None:
        if stage == "export" and fraction > 0:
            raise KeyboardInterrupt

    sandbox.faults.export_polls = 3
    with pytest.raises(KeyboardInterrupt):
        sync.sync_metric(settings, metric.id, progress=interrupt)
    run = runs.latest_run(settings, metric.survey_id)
    assert run.status == "cancelled" and "KeyboardInterrupt" in run.error
    assert runs.survey_state(settings, metric.survey_id).continuation_token == token


def test_a_sync_waiting_for_the_survey_lock_says_it_is_waiting(settings, sandbox):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    stages: list[str] = []
    held = threading.Event()

    def hold() -> None:
        with jobs.held(settings, metric.survey_id, "manual"):
            held.set()
            time.sleep(0.5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    result = sync.sync_metric(settings, metric.id, wait=10, progress=lambda stage, _f: stages.append(stage))
    holder.join()
    assert result.status == "succeeded", result.message
    assert stages[0] == "waiting" and "export" in stages


def test_failed_sync_on_the_metric_page_ends_the_bar_in_the_failure(settings, sandbox):
    stop_workers()  # its first round would take the armed fault (or hold the survey) before the click
    connect(settings)
    metric = nps_metric(settings, sandbox)
    at = open_page(routes.METRIC, query={"id": str(metric.id)})
    sandbox.faults.export_fail_next = 1
    at.button(key="metric_sync").click().run()
    no_exception(at)
    errors = [e.value for e in at.error]
    assert any(e.startswith("Sync failed during export") for e in errors), errors
    assert not at.get("progress"), "no progress bar may stay beside a failed sync"
    assert "Cancel sync" in {b.label for b in at.button}


def test_second_tab_is_told_another_sync_runs_since_when_and_may_cancel_it(settings, sandbox):
    stop_workers()
    connect(settings)
    metric = nps_metric(settings, sandbox)
    with jobs.held(settings, metric.survey_id, "scheduler") as claim:  # the scheduler's sync, at export 40%
        run_id = runs.start_run(settings, claim)
        runs.record_progress(settings, run_id, "export", 0.4)
        started = runs.get_run(settings, run_id).started_at[11:16]

        at = open_page(routes.METRIC, query={"id": str(metric.id)})
        at.button(key="metric_sync").click().run()
        no_exception(at)
        notices = [i.value for i in at.info]
        assert any(f"Another sync of this survey is running: started at {started} UTC by the automatic sync, "
                   "now at export 40%" in n for n in notices), notices
        assert not at.get("progress"), "no bar waiting on 'Starting…'"

        at.button(key="metric_sync_cancel_other").click().run()
        no_exception(at)
        assert runs.get_run(settings, run_id).cancel_requested_by == "local user"
        assert any("Asked the other sync to stop" in t.value for t in at.toast)
        runs.finish_run(settings, run_id, "cancelled", error="test")
