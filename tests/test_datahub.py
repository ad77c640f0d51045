"""The Data Hub: pushes a Qualtrics Workflow's Web Service task sends, their storage and step links, theme and
sentiment mining, and the page.

The endpoint is app.py's own handler mounted on a plain Starlette app (AppTest does not serve st.App routes);
sample sending goes over real HTTP to that handler served by uvicorn. Comments come from the session's
sandbox, whose open-text answers repeat a known set of phrasings per survey (qualtrics/sandbox/catalog.py).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from app import datahub_push
from qualtrics.sandbox import Sandbox
from scoring import MetricType, default_mapping
from tests.test_pages import open_page, settings, shown_text, signed_in, LOGIN_SECRETS, VIEWER, no_exception  # noqa: F401
from ui import routes
from workspace import datahub, datahub_insights, datahub_samples, journeys, metrics, mining
from workspace.config import Settings
from workspace.db import connect

PATH = datahub.ENDPOINT_PATH


@pytest.fixture
def key(settings: Settings) -> str:  # noqa: F811
    return datahub.create_key(settings, "ana@example.com")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:  # noqa: F811
    app = Starlette(routes=[Route(PATH, datahub_push, methods=["POST"])])
    with TestClient(app, base_url="http://localhost:8501") as test_client:
        yield test_client


def push(client: TestClient, key: str | None, body: dict, **headers: str):
    if key is not None:
        headers.setdefault("X-API-KEY", key)
    return client.post(PATH, json=body, headers=headers)


def workflow_body(response_id: str = "R_1a2B3c4D5e6F7g8", **extra: str) -> dict:
    """A body as the task sends it once Qualtrics has filled in the piped text."""
    return {"SurveyID": "SV_3xAmPlE9sUrVeY1", "ResponseID": response_id, "RecordedDate": "2025-03-14 09:26:53",
            "Comment": "Billing was confusing, I was charged twice this month.", "region": "EMEA",
            "channel": "email", **extra}


def stored_sources(settings: Settings) -> list[dict]:  # noqa: F811
    with connect(settings.db_path) as db:
        return list(db.query("SELECT * FROM datahub_sources ORDER BY id"))


def placed_nps_metric(settings: Settings, survey_id: str, step_id: int) -> metrics.Metric:  # noqa: F811
    mapping = default_mapping(MetricType.NPS, [(str(v), str(v), float(v)) for v in range(11)])
    metric = metrics.create_metric(settings, survey_id, "QID1", "nps", title="NPS", mapping=mapping)
    journeys.place_metric(settings, metric.id, step_id)
    return metric


def onboarding(settings: Settings) -> journeys.Journey:  # noqa: F811
    return journeys.create_journey(settings, "Onboarding", stages=[("Start", ["Sign up", "First use"]),
                                                                   ("Pay", ["Billing"])])


# ---------------------------------------------------------------- receiving


def test_json_push_is_stored_with_its_text_sentiment_and_embedded_data(settings, client, key):
    answer = push(client, key, workflow_body())
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "stored" and answer.json()["texts"] == 1
    [source] = stored_sources(settings)
    assert (source["survey_id"], source["response_id"]) == ("SV_3xAmPlE9sUrVeY1", "R_1a2B3c4D5e6F7g8")
    assert source["recorded_date"] == "2025-03-14T09:26:53Z"
    assert source["status"] == "Processed"
    assert '"region": "EMEA"' in source["fields"] and "Comment" not in source["fields"]
    latest = datahub.latest_sources(settings)
    assert latest.loc[0, "Open text"] == "Billing was confusing, I was charged twice this month."
    assert latest.loc[0, "Tone"] == "Negative"


def test_form_urlencoded_push_with_bearer_key_and_a_text_field_is_stored(settings, client, key):
    body = urlencode({"SurveyID": "SV_3xAmPlE9sUrVeY1", "ResponseID": "R_form0000000001",
                      "QID4_TEXT": "The agent was friendly & knew the product well.", "channel": "web"})
    answer = client.post(PATH, content=body, headers={"Authorization": f"Bearer {key}",
                                                      "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 201, answer.text
    latest = datahub.latest_sources(settings)
    assert latest.loc[0, "Open text"] == "The agent was friendly & knew the product well."
    assert latest.loc[0, "Tone"] == "Positive"


def test_basic_authentication_with_the_key_as_password_is_accepted(client, key):
    answer = client.post(PATH, json=workflow_body(), auth=("qualtrics", key))
    assert answer.status_code == 201, answer.text


def test_a_field_declared_as_open_text_is_mined_and_others_stay_embedded_data(settings, client, key):
    datahub.set_text_fields(settings, ["Why"])
    answer = push(client, key, {"SurveyID": "SV_a", "ResponseID": "R_a", "Why": "Setup was quick.", "plan": "Pro"})
    assert answer.json()["texts"] == 1
    assert datahub.latest_sources(settings).loc[0, "Open text"] == "Setup was quick."


@pytest.mark.parametrize("headers", [{}, {"X-API-KEY": "jpdh_wrong"}, {"Authorization": "Bearer nope"}],
                         ids=["no key", "wrong key", "wrong bearer"])
def test_a_push_without_the_right_key_is_401_and_stores_nothing(settings, client, key, headers):
    answer = client.post(PATH, json=workflow_body(), headers=headers)
    assert answer.status_code == 401
    assert "X-API-KEY" in answer.json()["error"]
    assert stored_sources(settings) == []


def test_a_rotated_key_stops_working_and_only_its_hash_is_stored(settings, client, key):
    newer = datahub.create_key(settings, "ana@example.com")
    assert push(client, key, workflow_body()).status_code == 401
    assert push(client, newer, workflow_body()).status_code == 201
    with connect(settings.db_path) as db:
        dump = "\n".join(db.conn.iterdump())
    assert key not in dump and newer not in dump
    datahub.revoke_key(settings)
    assert push(client, newer, workflow_body("R_2")).status_code == 401


@pytest.mark.parametrize("missing", ["SurveyID", "ResponseID"])
def test_a_push_missing_survey_or_response_id_is_400_naming_the_field(settings, client, key, missing):
    body = workflow_body()
    del body[missing]
    answer = push(client, key, body)
    assert answer.status_code == 400
    assert missing in answer.json()["error"]
    assert stored_sources(settings) == []


def test_unreadable_bodies_are_400_and_other_types_415(client, key):
    broken = client.post(PATH, content=b'{"SurveyID": "SV_a", ', headers={"X-API-KEY": key,
                                                                          "Content-Type": "application/json"})
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]
    array = client.post(PATH, json=[workflow_body()], headers={"X-API-KEY": key})
    assert array.status_code == 400
    xml = client.post(PATH, content=b"<r/>", headers={"X-API-KEY": key, "Content-Type": "application/xml"})
    assert xml.status_code == 415 and "JSON or URL-Encoded" in xml.json()["error"]


def test_a_body_over_one_megabyte_is_413(settings, client, key):
    answer = push(client, key, workflow_body(Comment="x" * datahub.MAX_BODY_BYTES))
    assert answer.status_code == 413
    assert stored_sources(settings) == []


def test_a_retried_push_updates_the_same_response_instead_of_adding_one(settings, client, key):
    assert push(client, key, workflow_body()).status_code == 201
    retry = push(client, key, workflow_body(Comment="Billing was confusing."))
    assert retry.status_code == 200 and retry.json()["status"] == "updated"
    [source] = stored_sources(settings)
    assert source["deliveries"] == 2
    assert datahub.overview(settings).texts == 1
    assert datahub.latest_sources(settings).loc[0, "Open text"] == "Billing was confusing."


def test_unfilled_piped_text_is_reported_and_a_push_without_text_is_kept_as_no_text(settings, client, key):
    answer = push(client, key, workflow_body(Comment="${q://QID2/ChoiceTextEntryValue}"))
    assert answer.status_code == 201
    assert any("not filled in" in w for w in answer.json()["warnings"])
    assert stored_sources(settings)[0]["status"] == "No text"
    assert datahub.overview(settings).with_text == 0


# ---------------------------------------------------------------- step links


def test_an_explicit_step_links_to_that_step_and_otherwise_the_surveys_placements_count(settings, client, key):
    journey = onboarding(settings)
    sign_up, first_use, billing = journey.steps
    placed_nps_metric(settings, "SV_3xAmPlE9sUrVeY1", first_use.id)

    named = push(client, key, workflow_body("R_named", Step="billing"))
    assert named.json()["steps"] == ["Onboarding › Billing"]
    unnamed = push(client, key, workflow_body("R_unnamed", Comment="First use felt guided, the tips were well timed."))
    assert unnamed.json()["steps"] == ["Onboarding › First use"]
    unknown = push(client, key, workflow_body("R_unknown", Step="Checkout", Comment="Support chat is excellent."))
    assert unknown.json()["steps"] == ["Onboarding › First use"], "an unknown step falls back to the placements"
    elsewhere = push(client, key, {"SurveyID": "SV_other", "ResponseID": "R_x", "Comment": "Nice."})
    assert elsewhere.json()["steps"] == []

    by_step = {s.step: s for s in datahub_insights.journey_insights(settings, journey.id)}
    assert by_step["Billing"].count == 1 and by_step["Billing"].negative == 1
    assert by_step["First use"].count == 2 and by_step["First use"].positive == 2
    assert by_step["Sign up"].count == 0
    assert datahub_insights.unlinked_sources(settings) == 1

    # A step created after the push picks up the comments that name it.
    journeys.add_step(settings, journey.stages[1].id, "Checkout")
    by_step = {s.step: s for s in datahub_insights.journey_insights(settings, journey.id)}
    assert by_step["Checkout"].count == 1 and by_step["First use"].count == 1


# ---------------------------------------------------------------- mining


def sandbox_comments(sandbox: Sandbox, role: str) -> list[str]:
    return sandbox.expected_answers(sandbox.survey_ids[role], "QID2_TEXT")["value"].tolist()


def theme_with(themes: list[mining.Theme], word: str) -> mining.Theme:
    matches = [t for t in themes if any(word in term for term in t.terms)]
    assert matches, f"no theme about {word!r} in {[t.label for t in themes]}"
    return max(matches, key=lambda t: t.count)


def test_the_nps_surveys_recurring_comments_come_out_as_gain_and_pain_themes(sandbox):
    texts = sandbox_comments(sandbox, "nps")
    themes = mining.find_themes(texts)
    assert sum(t.count for t in themes) == len(texts)
    assert len(themes) == 8, [t.label for t in themes]  # the survey's eight phrasings, none merged
    billing = theme_with(themes, "billing")
    assert billing.kind == mining.InsightKind.PAIN and billing.negative_share == 1.0
    assert all("Billing was confusing" in e for e in billing.examples)
    assert theme_with(themes, "slow").kind == mining.InsightKind.PAIN
    assert theme_with(themes, "days").kind == mining.InsightKind.PAIN
    assert theme_with(themes, "dashboards").kind == mining.InsightKind.GAIN
    assert theme_with(themes, "value").kind == mining.InsightKind.GAIN
    # The tone of the comments follows the NPS answers that steered them: mostly promoters' reasons.
    assert sum(t.positive for t in themes) > sum(t.negative for t in themes)


def test_themes_hold_across_paraphrases_and_are_the_same_on_every_run(sandbox):
    texts = sandbox_comments(sandbox, "csat")
    fillers = ("", "Hmm. ", "In short: ", "Re the call: ")
    varied = [f"{fillers[i % 4]}{text}" + (" See above." if i % 3 == 0 else "") for i, text in enumerate(texts)]
    first, second = mining.find_themes(varied), mining.find_themes(varied)
    assert first == second
    assert theme_with(first, "queue").kind == mining.InsightKind.PAIN
    assert theme_with(first, "transferred").kind == mining.InsightKind.PAIN
    assert theme_with(first, "friendly").kind == mining.InsightKind.GAIN
    assert theme_with(first, "instructions").kind == mining.InsightKind.GAIN


@pytest.mark.parametrize(("text", "expected"), [
    ("Support took days to reply and I had to repeat myself.", mining.Polarity.NEGATIVE),
    ("Quick answer, problem fixed in one call.", mining.Polarity.POSITIVE),
    ("The answer did not fix my problem.", mining.Polarity.NEGATIVE),
    ("The app is slow when loading large reports.", mining.Polarity.NEGATIVE),
    ("Support chat is excellent.", mining.Polarity.POSITIVE),
    ("I called on Tuesday about my invoice.", mining.Polarity.NEUTRAL),
])
def test_sentiment_reads_customer_feedback_the_right_way_round(text, expected):
    assert mining.polarity(mining.sentiment(text)) == expected


def test_comments_without_content_words_join_no_theme():
    assert mining.find_themes(["", "n/a", "  ", "it was"]) == []


# ---------------------------------------------------------------- sample pushes over real HTTP


@pytest.fixture
def served_endpoint(settings: Settings) -> Iterator[str]:  # noqa: F811
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = Starlette(routes=[Route(PATH, datahub_push, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}{PATH}"
    server.should_exit = True
    thread.join(timeout=5)


def test_sample_responses_go_through_the_endpoint_and_resending_adds_nothing(settings, sandbox, key, served_endpoint):
    first = datahub_samples.send_samples(settings, key, sandbox, limit=40, url=served_endpoint)
    assert (first.sent, first.stored, first.failed) == (40, 40, 0), first.first_error
    again = datahub_samples.send_samples(settings, key, sandbox, limit=40, url=served_endpoint)
    assert (again.stored, again.updated) == (0, 40)
    assert datahub.overview(settings).sources == 40
    refused = datahub_samples.send_samples(settings, "jpdh_wrong", sandbox, limit=2, url=served_endpoint)
    assert refused.failed == 2 and refused.first_error.startswith("401")


# ---------------------------------------------------------------- the page


def test_empty_data_hub_tells_a_manager_to_create_a_key_and_creating_shows_it_once(settings):
    at = open_page(routes.DATA_HUB)
    no_exception(at)
    assert [t.value for t in at.title] == ["Data Hub"]
    assert any("No responses have arrived yet" in i.value and "Create a Data Hub key" in i.value for i in at.info)
    assert datahub.endpoint_url(settings) in [c.value for c in at.code]
    next(b for b in at.button if b.label == "Create key").click().run()
    [shown] = [c.value for c in at.code if c.value.startswith(datahub.KEY_PREFIX)]
    assert datahub.key_is_valid(settings, shown)
    next(b for b in at.button if b.label == "I have copied the key").click().run()
    assert not [c.value for c in at.code if c.value.startswith(datahub.KEY_PREFIX)]
    assert {"Rotate key", "Revoke key"} <= {b.label for b in at.button}


def test_data_hub_shows_themes_per_step_with_quotes_as_plain_text(settings, client, key):
    journey = onboarding(settings)
    billing = journey.steps[2]
    placed_nps_metric(settings, "SV_3xAmPlE9sUrVeY1", billing.id)
    comments = ["Billing was confusing, I was charged twice this month."] * 3 + [
        "Billing page is **confusing**, <b>invoices</b> are hard to find.",
        "The dashboards are clear and easy to share with my team.",
    ]
    for i, comment in enumerate(comments):
        assert push(client, key, workflow_body(f"R_{i:015d}", Comment=comment)).status_code == 201
    at = open_page(routes.DATA_HUB)
    no_exception(at)
    text = shown_text(at)
    assert "Pay › Billing" in text
    assert "5 comments · 20% positive · 80% negative" in text
    assert "No comments on this step yet" in text  # Sign up and First use
    assert "“Billing page is **confusing**, <b>invoices</b> are hard to find.”" in [t.value for t in at.text]
    assert ":red-badge[Pain]" in text and ":blue-badge[Gain]" in text
    assert len(at.dataframe[0].value) == 5


def test_a_viewer_sees_themes_but_not_key_management(settings, client, key):
    onboarding(settings)
    push(client, key, workflow_body(Step="Billing"))
    at = open_page(routes.DATA_HUB, user=signed_in(VIEWER), secrets=LOGIN_SECRETS)
    no_exception(at)
    assert [t.label for t in at.tabs] == ["Themes by step", "Received responses"]
    labels = {b.label for b in at.button}
    assert not labels & {"Create key", "Rotate key", "Revoke key", "Send sample responses"}
    assert "Pay › Billing" in shown_text(at)
    assert not [c.value for c in at.code if datahub.ENDPOINT_PATH in c.value]
