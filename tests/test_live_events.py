"""Live mode's push path over real HTTP: the sandbox publishes a completed response to the app's events route
(served by uvicorn), the app fetches that response and stores it exactly once, also when the next incremental
export brings it again; and the cases where Live cannot be pushed to, said in words.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from app import qualtrics_event, survey_form
from qualtrics.sandbox import Sandbox
from scripts.appserver import free_port
from tests.sandbox_fixtures import wait_until
from tests.test_pages import connect
from tests.test_pages import settings  # noqa: F401  (fixture: own database, the session sandbox over OAuth)
from workspace import bootstrap, catalog, connection, journey_view, journeys, live, metrics, runs, scores, store, sync
from workspace.config import Settings
from workspace.live import feeds, push

EVENTS = push.EVENTS_PATH




@pytest.fixture
def app_url(monkeypatch: pytest.MonkeyPatch, fresh_sandbox: Sandbox, tmp_path: Path) -> Iterator[str]:
    """The app's events route on a real port, its runtime on the test's own sandbox (API token) and database."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("PULSE_DB", str(tmp_path / "pulse.db"))
    monkeypatch.setenv("PULSE_URL", url)
    monkeypatch.setenv("PULSE_SYNC_INTERVAL", "3600")
    for name, value in fresh_sandbox.env().items():
        if name != "QUALTRICS_CLIENT_ID" and name != "QUALTRICS_CLIENT_SECRET":
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("QUALTRICS_DATACENTER", raising=False)
    bootstrap.shutdown()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route(EVENTS, qualtrics_event, methods=["POST"])]),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, what="the events route to listen")
    yield url
    server.should_exit = True
    thread.join(10)
    bootstrap.shutdown()


def nps_metric(s: Settings, sb: Sandbox) -> metrics.Metric:
    survey_id = sb.survey_ids["nps"]
    with connection.open_client(s) as client:
        catalog.refresh_questions(s, client, survey_id)
    return metrics.create_metric(s, survey_id, "QID1", "nps")


def stored_rows(s: Settings, survey_id: str, response_id: str) -> list[tuple]:
    with store.connect(s.store) as db:
        number = "(SELECT id FROM responses WHERE survey_id = ? AND response_id = ?)"
        answers = db.execute(f"SELECT question_id, value FROM answers WHERE response = {number}",
                             (survey_id, response_id)).fetchall()
        comments = db.execute(f"SELECT question_id, text FROM comments WHERE response = {number}",
                              (survey_id, response_id)).fetchall()
    return sorted(answers) + sorted(comments)


def test_a_pushed_response_is_stored_once_and_the_next_incremental_export_does_not_count_it_again(
        app_url, fresh_sandbox):
    s = bootstrap.runtime().settings
    metric = nps_metric(s, fresh_sandbox)
    survey_id = metric.survey_id
    assert sync.sync_survey(s, survey_id).status == "succeeded"
    before = scores.metric_score(s, metric.id).respondents
    token_before = runs.survey_state(s, survey_id).continuation_token
    with connection.open_client(s) as client:
        subscription = push.subscribe(s, client, survey_id)
    try:
        response_id = fresh_sandbox.record_response("nps", {"QID1": "10", "QID2_TEXT": "Quick and clear"})

        rows = wait_until(lambda: stored_rows(s, survey_id, response_id), what="the pushed response to be stored")
        assert rows == [("QID1", "10"), ("QID2_TEXT", "Quick and clear")]
        delivery = [d for d in fresh_sandbox.events.deliveries if d.response_id == response_id]
        assert [d.status for d in delivery] == [200], "the app answers the publication at once"
        assert scores.metric_score(s, metric.id).respondents == before + 1
        assert runs.survey_state(s, survey_id).continuation_token == token_before, "a push leaves the token"

        result = sync.sync_survey(s, survey_id)  # the incremental export brings the same response again
        assert result.status == "succeeded" and result.responses == 1
        assert stored_rows(s, survey_id, response_id) == rows
        assert scores.metric_score(s, metric.id).respondents == before + 1
        truth = fresh_sandbox.expected_answers(survey_id, "QID1")
        assert scores.metric_score(s, metric.id).respondents == len(truth)
    finally:
        with connection.open_client(s) as client:
            client.unsubscribe(subscription)


def test_a_publication_without_the_apps_secret_is_refused_and_stores_nothing(app_url, fresh_sandbox):
    s = bootstrap.runtime().settings
    metric = nps_metric(s, fresh_sandbox)
    response_id = fresh_sandbox.record_response("nps", {"QID1": "3"})
    form = {"Topic": f"journeypulse.surveyengine.completedResponse.{metric.survey_id}", "Status": "Complete",
            "SurveyID": metric.survey_id, "ResponseID": response_id, "BrandID": "journeypulse"}
    for token in ("", "guessed-token"):
        answer = requests.post(f"{app_url}{EVENTS}", params={"token": token} if token else None, data=form, timeout=5)
        assert answer.status_code == 401
    genuine = push.publication_url(s)
    broken = requests.post(genuine, data={**form, "ResponseID": "'; DROP TABLE answers; --"}, timeout=5)
    assert broken.status_code == 400 and "ResponseID" in broken.json()["error"]
    time.sleep(0.5)
    assert feeds.pending() == 0
    assert stored_rows(s, metric.survey_id, response_id) == []


def test_subscribing_again_removes_the_apps_stale_subscription_first(app_url, fresh_sandbox):
    s = bootstrap.runtime().settings
    survey_id = fresh_sandbox.survey_ids["nps"]
    with connection.open_client(s) as client:
        stale = client.subscribe(push.topic(survey_id), f"{push.endpoint(s)}?token=from-an-earlier-process")
        other = client.subscribe(push.topic(survey_id), "https://elsewhere.example/hook")
        fresh = push.subscribe(s, client, survey_id)
        left = {sub.id for sub in client.subscriptions()}
        client.unsubscribe(fresh)
        client.unsubscribe(other)
    assert stale not in left and {fresh, other} <= left


def test_live_polls_and_says_why_when_qualtrics_refuses_to_subscribe(app_url, fresh_sandbox):
    s = dataclasses.replace(bootstrap.runtime().settings, pulse_url="https://pulse.example.com")
    metric = nps_metric(s, fresh_sandbox)
    fresh_sandbox.events.refuse = True
    try:
        state = wait_until(lambda: next((f for f in live.watch(s, [metric.survey_id]) if f.mode != feeds.STARTING),
                                        None), what="the feed to decide")
    finally:
        feeds.stop_all()
    assert state.mode == feeds.POLLING
    assert "refused" in state.note and "brand administrator" in state.note
    assert fresh_sandbox.events.elements() == []
    wait_until(lambda: runs.survey_state(s, metric.survey_id).last_sync, what="a polling sync")


def test_real_qualtrics_is_not_asked_to_push_to_localhost_and_live_says_why(tmp_path):
    s = Settings.load({"PULSE_DB": str(tmp_path / "p.db"), "QUALTRICS_DATACENTER": "fra1",
                       "QUALTRICS_API_TOKEN": "x", "PULSE_URL": "http://localhost:8501"}, secrets_path=None)
    assert "cannot reach this app at http://localhost:8501" in push.unreachable_reason(s)
    for private in ("http://127.0.0.1:8501", "http://192.168.1.20:8501", "http://pulse.local"):
        assert push.unreachable_reason(dataclasses.replace(s, pulse_url=private)), private
    assert push.unreachable_reason(dataclasses.replace(s, pulse_url="https://pulse.example.com")) is None
    embedded = dataclasses.replace(s, is_sandbox=True, pulse_url="http://127.0.0.1:8501")
    assert push.unreachable_reason(embedded) is None, "the embedded sandbox runs beside the app"


def test_after_disconnect_live_says_the_figures_are_frozen_and_why(settings, sandbox):  # noqa: F811
    connect(settings)
    metric = nps_metric(settings, sandbox)
    assert sync.sync_survey(settings, metric.survey_id).status == "succeeded"
    journey = journey_view.create_with_stages(settings, "Workshop", "Try")
    journeys.place_metric(settings, metric.id, journeys.add_step(settings, journey.stages[0].id, "First use").id)
    connection.disconnect(settings)
    try:
        view = wait_until(lambda: (v := live.journey_view(settings, journey.id)).frozen and v,
                          what="the feed to notice the disconnect")
    finally:
        feeds.stop_all()
    assert "frozen" in view.frozen.note and "disconnected" in view.frozen.note
    assert view.frozen.frozen_since is not None
    assert view.steps[0].cards[0].n > 0, "the last figures stay visible"


def test_the_app_serves_the_embedded_sandboxs_survey_link_under_its_own_url(monkeypatch, tmp_path):
    monkeypatch.setenv("PULSE_DB", str(tmp_path / "pulse.db"))
    monkeypatch.setenv("PULSE_URL", "http://pulse.test:8501")
    for name in ("QUALTRICS_BASE_URL", "QUALTRICS_DATACENTER", "QUALTRICS_API_TOKEN", "QUALTRICS_CLIENT_ID",
                 "QUALTRICS_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PULSE_SANDBOX_LIVE", "0")
    bootstrap.shutdown()
    try:
        runtime = bootstrap.runtime()
        sb = runtime.sandbox
        survey_id = sb.survey_ids["nps"]
        link = live.public_link(runtime.settings, survey_id)
        assert link == f"http://pulse.test:8501/jfe/form/{survey_id}", "the QR code shows the app's URL"
        routes = [Route("/jfe/form/{survey_id}", survey_form, methods=["GET", "POST"]),
                  Route("/jfe/form/{survey_id}/thanks", survey_form, methods=["GET"])]
        before = len(sb.expected_answers(survey_id, "QID1"))
        with TestClient(Starlette(routes=routes), base_url="http://pulse.test:8501") as client:
            form = client.get(f"/jfe/form/{survey_id}")
            assert form.status_code == 200 and 'action="/jfe/form/' in form.text
            sent = client.post(f"/jfe/form/{survey_id}", data={"QID1": "9", "region": "Room 2"},
                               follow_redirects=False)
            assert sent.status_code == 303 and sent.headers["location"].startswith(f"/jfe/form/{survey_id}/thanks")
            thanks = client.get(sent.headers["location"])
            assert thanks.status_code == 200 and "Thank you" in thanks.text
            refused = client.post(f"/jfe/form/{survey_id}", data={"QID1": "eleven"})
            assert refused.status_code == 400 and "not one of the choices" in refused.text
            assert client.get("/jfe/form/SV_doesNotExist0").status_code == 404
        assert len(sb.expected_answers(survey_id, "QID1")) == before + 1
    finally:
        bootstrap.shutdown()
