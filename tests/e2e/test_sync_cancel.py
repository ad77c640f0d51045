"""In a real browser: an export stuck "in progress" shows its progress and a Cancel that stops it, and a second
tab is told another sync of the survey is running instead of waiting on "Starting…".

The app runs against a sandbox of this test (not its embedded one), so that the test can make exports stick
(``faults.export_polls``) in the very server the app talks to; Qualtrics is connected through the real
consent page, the metric is created and first synced through the stored grant.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from qualtrics.sandbox import Sandbox
from scripts.appserver import AppServer
from workspace import catalog, metrics, runs, sync
from workspace.config import Settings
from workspace.connection import open_client

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]
STUCK = 10**6
WAIT = 150_000  # ms: a loaded 2-core machine takes over a minute to render the metric page


@pytest.fixture
def app_and_sandbox(tmp_path: Path):
    server = AppServer(tmp_path)
    sandbox = Sandbox(seed=7, redirect_uris=(f"{server.url}/api/qualtrics/callback",))
    sandbox.start()
    server.env.update(QUALTRICS_BASE_URL=sandbox.base_url, QUALTRICS_CLIENT_ID=sandbox.client_id,
                      QUALTRICS_CLIENT_SECRET=sandbox.client_secret)
    server.start()
    settings = Settings.load({k: server.env[k] for k in server.env if k.startswith(("QUALTRICS_", "PULSE_"))},
                             secrets_path=None)
    try:
        yield server, sandbox, settings
    finally:
        server.stop()
        sandbox.stop()


def test_a_stuck_export_can_be_cancelled_and_a_second_tab_is_told_it_runs(app_and_sandbox, page):
    from playwright.sync_api import expect

    server, sandbox, settings = app_and_sandbox
    page.set_default_timeout(WAIT)
    page.goto(f"{server.url}/integrations")
    page.get_by_role("button", name="Enable").click()
    page.get_by_text("Enabled by").wait_for()  # the rerun that replaces Enable with Authorize is done
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(r"/oauth2/auth\?"))
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Active", exact=True).wait_for()

    survey_id = sandbox.survey_ids["nps"]
    with open_client(settings) as client:
        catalog.refresh_questions(settings, client, survey_id)
    metric = metrics.create_metric(settings, survey_id, "QID1", "nps")
    assert sync.sync_metric(settings, metric.id).ok
    token = runs.survey_state(settings, survey_id).continuation_token

    sandbox.faults.export_polls = STUCK
    page.goto(f"{server.url}/metric?id={metric.id}")
    page.get_by_text("Answers behind the score").wait_for()
    # dispatch: charts above the button keep moving it while they render, which a 2-core CI never settles
    page.get_by_role("button", name="Sync data").dispatch_event("click")
    expect(page.get_by_text(re.compile(r"Export… \d+%")).first).to_be_visible(timeout=WAIT)
    running = runs.running_run(settings, survey_id)
    assert running is not None

    second = page.context.new_page()
    second.set_default_timeout(WAIT)
    second.goto(f"{server.url}/metric?id={metric.id}")
    second.get_by_text("Answers behind the score").wait_for()
    second.get_by_role("button", name="Sync data").dispatch_event("click")
    expect(second.get_by_text("Another sync of this survey is running")).to_be_visible(timeout=WAIT)
    expect(second.get_by_text(re.compile(r"started at \d\d:\d\d UTC by Sync data in the app"))).to_be_visible(timeout=WAIT)

    page.get_by_role("button", name="Cancel sync").dispatch_event("click")
    expect(page.get_by_text("Sync cancelled").first).to_be_visible(timeout=WAIT)
    deadline = time.monotonic() + 20
    while runs.get_run(settings, running.id).status == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    run = runs.get_run(settings, running.id)
    assert run.status == "cancelled", (run.status, run.error)
    assert runs.survey_state(settings, survey_id).continuation_token == token
    second.close()
