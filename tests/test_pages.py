"""The pages, run through Streamlit's AppTest on the real page script (ui/navigation.py).

Every test gets its own SQLite file and talks real HTTP to the session's Qualtrics sandbox: the OAuth
dance goes through the sandbox's consent page, and syncs export real responses. What AppTest cannot do
(a browser following the consent redirect, the st.App callback route) is covered by
tests/test_app_routes.py and the e2e suite.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from qualtrics.sandbox import Sandbox
from scoring import format_n, format_value
from tests.sandbox_fixtures import approve_in_browser
from tests.test_workspace_support import BROWSER, authorize_in_browser
from ui import routes
from ui.text import plain
from workspace import bootstrap, connection, journey_view, journeys, metrics, scores, sync, views, wizard
from workspace import integration as integration_store
from workspace.config import Settings
from workspace.connection import AuthorizationOutcome
from workspace.errors import Invalid
from workspace.metrics import Metric

NAVIGATION = str(Path(__file__).resolve().parent.parent / "ui" / "navigation.py")
ALL_PAGES = {
    "journeys": routes.JOURNEYS,
    "metrics_library": routes.METRICS_LIBRARY,
    "live": routes.LIVE,
    "data_hub": routes.DATA_HUB,
    "integrations": routes.INTEGRATIONS,
    "new_metric": routes.NEW_METRIC,
    "metric": routes.METRIC,
}
STATUS_WORDS = {"Inactive", "Active", "Error"}
BADGE = re.compile(r":[a-z]+-badge\[([^\]]*)\]")
MANAGER, EDITOR, VIEWER = "ana@example.com", "eli@example.com", "vic@example.com"
LOGIN_SECRETS = {
    "auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "not-a-real-secret",
             "client_id": "pulse-test", "client_secret": "not-a-real-secret",
             "server_metadata_url": "https://accounts.example.com/.well-known/openid-configuration"},
    "roles": {"integration_managers": [MANAGER], "editors": [EDITOR]},
}


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox) -> Iterator[Settings]:
    """A runtime of our own: a fresh database in tmp_path, Qualtrics = the session's sandbox (OAuth only)."""
    monkeypatch.setenv("PULSE_DB", str(tmp_path / "pulse.db"))
    monkeypatch.setenv("QUALTRICS_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("QUALTRICS_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("QUALTRICS_CLIENT_SECRET", sandbox.client_secret)
    monkeypatch.setenv("PULSE_SYNC_INTERVAL", "3600")
    for name in ("QUALTRICS_API_TOKEN", "QUALTRICS_DATACENTER", "PULSE_URL", "PULSE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    bootstrap.shutdown()
    yield bootstrap.runtime().settings
    bootstrap.shutdown()


def open_page(route: str, *, query: dict[str, str] | None = None, user: dict | None = None,
              secrets: dict | None = None) -> AppTest:
    """Open the app at `route` with `query` in the URL, as a shared link would.

    Journeys is the default page, so it is simply run; other pages need one run first (AppTest resolves
    `switch_page` against the pages that run registered).
    """
    at = AppTest.from_file(NAVIGATION, default_timeout=30)
    if secrets:
        at.secrets.update(secrets)
    if user is not None:
        at.user = user
    at.query_params.update(query or {})
    at.run()
    if route != routes.JOURNEYS:
        at.query_params.clear()
        at.query_params.update(query or {})
        at.switch_page(route).run()
    return at


def signed_in(email: str) -> dict:
    return {"is_logged_in": True, "email": email, "email_verified": True, "iss": "https://accounts.example.com",
            "name": email.split("@")[0].capitalize()}


def shown_text(at: AppTest) -> str:
    """Everything the page wrote as text, one element per line (Markdown sources as written)."""
    parts = []
    for elements in (at.title, at.subheader, at.markdown, at.caption, at.text, at.info, at.warning, at.error,
                     at.success):
        parts.extend(str(e.value) for e in elements)
    return "\n".join(parts)


def status_badges(at: AppTest) -> set[str]:
    return {label for md in at.markdown for label in BADGE.findall(md.value)} & STATUS_WORDS


def button_labels(at: AppTest) -> set[str]:
    return {b.label for b in at.button}


def connect(settings: Settings, by: str = "local user") -> None:
    """The OAuth dance the Authorize button starts, with the browser's part done over HTTP."""
    callback = authorize_in_browser(settings, started_by=by)
    outcome = connection.complete_authorization(settings, state=callback["state"], code=callback["code"],
                                                browser=BROWSER)
    assert outcome == AuthorizationOutcome.CONNECTED


def nps_metric(settings: Settings, sandbox: Sandbox) -> Metric:
    """The demo NPS question as a metric, created the way the wizard does it, and synced."""
    survey_id = sandbox.survey_ids["nps"]
    question = next(q for q in wizard.questions(settings, survey_id) if q.id == "QID1")
    mapping = wizard.mapping_from_table(wizard.default_table(question, "NPS"), "NPS")
    metric = wizard.create(settings, survey_id, question.id, "NPS", wizard.title_for(question, "NPS"), mapping,
                           owner="local user")
    result = sync.sync_metric(settings, metric.id)
    assert result.ok, result.message
    return metric


def placed_journey(settings: Settings, metric: Metric) -> tuple[journeys.Journey, journeys.Step]:
    journey = journey_view.create_with_stages(settings, "Onboarding", "Discover, Sign up")
    step = journeys.add_step(settings, journey.stages[1].id, "Welcome email")
    journeys.place_metric(settings, metric.id, step.id)
    return journeys.get_journey(settings, journey.id), step


def lane_of(at: AppTest) -> str:
    """The journey lane's HTML (one st.html grid)."""
    return next(e.proto.body for e in at.get("html") if 'data-testid="journey-lane"' in e.proto.body)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def nps_of(values: pd.Series, positive: set[str], negative: set[str]) -> float:
    return float((values.isin(positive).sum() - values.isin(negative).sum()) / len(values) * 100)


# ---------------------------------------------------------------- the guard rail


@pytest.mark.parametrize("route", ALL_PAGES.values(), ids=ALL_PAGES.keys())
def test_every_page_renders_without_an_exception_on_an_empty_workspace(settings, route):
    at = open_page(route)
    no_exception(at)


@pytest.mark.parametrize("route", ALL_PAGES.values(), ids=ALL_PAGES.keys())
def test_every_page_renders_without_an_exception_with_a_synced_metric_on_a_journey(settings, sandbox, route):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    journey, _ = placed_journey(settings, metric)
    at = open_page(route, query={"id": str(metric.id), "journey": str(journey.id)})
    no_exception(at)


# ---------------------------------------------------------------- Integrations


def test_integrations_not_connected_shows_inactive_and_offers_enable(settings):
    at = open_page(routes.INTEGRATIONS)
    no_exception(at)
    assert [s.value for s in at.subheader] == ["Data integrations"]
    assert status_badges(at) == {"Inactive"}
    assert button_labels(at) >= {"Enable"}
    assert not button_labels(at) & {"Authorize", "Reauthorize", "Disconnect"}


def test_enable_then_authorize_stores_one_pending_state_and_redirects_this_tab_to_the_consent_page(
        settings, sandbox):
    at = open_page(routes.INTEGRATIONS)
    at.button(key="enable").click().run()
    assert integration_store.get_integration(settings).enabled
    assert status_badges(at) == {"Inactive"}
    assert "Authorize" in button_labels(at) and "Enable" not in button_labels(at)

    at.button(key="authorize").click().run()
    no_exception(at)
    assert integration_store.pending_state_count(settings) == 1
    links = [m.value for m in at.markdown if 'target="_self"' in m.value]
    assert len(links) == 1
    url = html.unescape(re.search(r'href="([^"]+)"', links[0]).group(1))
    # This tab goes to the app's start route, which binds the attempt to this browser (see
    # tests/security/test_oauth_browser_binding.py) and then redirects to the consent page.
    assert url.startswith(f"{connection.START_PATH}?state=")
    scripts = [h.value for h in at.html if "window.location.assign" in h.value]
    assert len(scripts) == 1 and json.dumps(url).replace("</", "<\\/") in scripts[0]

    # The state in that URL is the one stored: approving it in Qualtrics completes the connection.
    state = parse_qs(urlsplit(url).query)["state"][0]
    consent = connection.claim_authorization(settings, state, BROWSER)
    assert consent.startswith(f"{sandbox.base_url}/oauth2/auth?")
    assert parse_qs(urlsplit(consent).query)["redirect_uri"] == [settings.redirect_uri]
    callback = approve_in_browser(consent)
    assert callback["state"] == state
    assert connection.complete_authorization(settings, callback["state"], callback["code"], browser=BROWSER) \
        == AuthorizationOutcome.CONNECTED
    assert integration_store.pending_state_count(settings) == 0


def test_active_integration_shows_the_account_and_disconnect_asks_before_removing_tokens(settings):
    connect(settings)
    at = open_page(routes.INTEGRATIONS)
    no_exception(at)
    assert status_badges(at) == {"Active"}
    assert "Dana Demo (dana.demo@example.com)" in shown_text(at)
    assert "Disconnect" in button_labels(at)
    assert not button_labels(at) & {"Enable", "Authorize", "Reauthorize"}

    at.button(key="disconnect").click().run()
    assert "Disconnect Qualtrics?" in shown_text(at)
    assert integration_store.get_integration(settings).has_token, "one click must not delete the tokens"

    at.button(key="confirm_disconnect_yes").click().run()
    no_exception(at)
    assert not integration_store.get_integration(settings).has_token
    assert status_badges(at) == {"Inactive"}
    assert "Authorize" in button_labels(at) and "Disconnect" not in button_labels(at)


def test_keep_connected_cancels_the_disconnect(settings):
    connect(settings)
    at = open_page(routes.INTEGRATIONS)
    at.button(key="disconnect").click().run()
    at.button(key="confirm_disconnect_no").click().run()
    assert "Disconnect Qualtrics?" not in shown_text(at)
    assert integration_store.get_integration(settings).has_token
    assert status_badges(at) == {"Active"}


def test_error_integration_shows_error_badge_reauthorize_and_the_reason(settings):
    connect(settings)
    reason = "Qualtrics refused the stored refresh token (it was revoked). Click Reauthorize to connect again."
    connection.mark_error(settings, reason)
    at = open_page(routes.INTEGRATIONS)
    no_exception(at)
    assert status_badges(at) == {"Error"}
    assert {"Reauthorize", "Disconnect"} <= button_labels(at)
    assert reason in [e.value for e in at.error]

    at.button(key="reauthorize").click().run()
    assert integration_store.pending_state_count(settings) == 1
    assert any("window.location.assign" in h.value for h in at.html)


@pytest.mark.parametrize("outcome", [AuthorizationOutcome.DENIED, AuthorizationOutcome.INVALID_STATE,
                                     AuthorizationOutcome.FAILED])
def test_returned_oauth_flag_shows_its_message_once_and_leaves_the_url(settings, outcome):
    at = open_page(routes.INTEGRATIONS, query={"oauth": outcome.value})
    no_exception(at)
    assert outcome.message("Enable, then Authorize") in [e.value for e in at.error]
    assert "oauth" not in at.query_params
    assert status_badges(at) == {"Inactive"}
    at.run()
    assert outcome.message("Enable, then Authorize") not in [e.value for e in at.error]


def test_connected_flag_toasts_instead_of_showing_an_error(settings):
    connect(settings)
    at = open_page(routes.INTEGRATIONS, query={"oauth": "connected"})
    no_exception(at)
    assert [t.value for t in at.toast] == [AuthorizationOutcome.CONNECTED.message()]
    assert not at.error
    assert "oauth" not in at.query_params


def test_missing_qualtrics_permissions_are_named_on_the_card(settings, sandbox):
    sandbox.faults.missing_permissions = ["Edit Surveys", "Filter Survey Results"]
    connect(settings)
    at = open_page(routes.INTEGRATIONS)
    no_exception(at)
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1
    assert "Edit Surveys, Filter Survey Results" in warnings[0]
    assert "Access API" not in warnings[0]


def test_all_permissions_granted_lists_them_without_a_warning(settings):
    connect(settings)
    at = open_page(routes.INTEGRATIONS)
    assert not at.warning
    assert any(c.value.startswith("Permissions checked: Access API") for c in at.caption)


# ---------------------------------------------------------------- roles


def test_viewer_sees_the_integration_and_library_without_any_actions(settings, sandbox):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    placed_journey(settings, metric)
    viewer = signed_in(VIEWER)

    at = open_page(routes.INTEGRATIONS, user=viewer, secrets=LOGIN_SECRETS)
    no_exception(at)
    assert status_badges(at) == {"Active"}
    assert not button_labels(at) & {"Enable", "Authorize", "Reauthorize", "Disconnect"}
    assert any("Only integration managers" in i.value for i in at.info)

    at.switch_page(routes.METRICS_LIBRARY).run()
    no_exception(at)
    assert "+ Metric" not in button_labels(at)
    assert format_value("nps", sandbox.known_scores()["nps"]) in shown_text(at)

    at.switch_page(routes.JOURNEYS).run()
    no_exception(at)
    assert not [link for link in at.get("page_link") if link.proto.label == "+ Metric"]


def test_manager_signed_in_gets_the_integration_actions_and_add_metric(settings):
    at = open_page(routes.INTEGRATIONS, user=signed_in(MANAGER), secrets=LOGIN_SECRETS)
    no_exception(at)
    assert "Enable" in button_labels(at)
    at.switch_page(routes.METRICS_LIBRARY).run()
    assert "+ Metric" in button_labels(at)


def test_editor_may_add_metrics_but_not_manage_the_integration(settings):
    at = open_page(routes.INTEGRATIONS, user=signed_in(EDITOR), secrets=LOGIN_SECRETS)
    assert "Enable" not in button_labels(at)
    at.switch_page(routes.METRICS_LIBRARY).run()
    assert "+ Metric" in button_labels(at)


def test_nobody_signed_in_sees_only_the_sign_in_screen(settings):
    at = open_page(routes.INTEGRATIONS, user={"is_logged_in": False}, secrets=LOGIN_SECRETS)
    no_exception(at)
    assert button_labels(at) == {"Sign in"}
    assert not status_badges(at)


# ---------------------------------------------------------------- Metrics Library, metric page, wizard


def test_metrics_library_without_metrics_says_to_press_add_metric(settings):
    at = open_page(routes.METRICS_LIBRARY)
    no_exception(at)
    assert [t.value for t in at.title] == ["Metrics Library"]
    assert any("No metrics yet" in i.value and "**+ Metric**" in i.value for i in at.info)
    assert "+ Metric" in button_labels(at)


def test_metrics_library_card_shows_the_known_score_and_n_of_a_synced_metric(settings, sandbox):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    expected = format_value("nps", sandbox.known_scores()["nps"])
    respondents = len(sandbox.expected_answers(sandbox.survey_ids["nps"], "QID1"))
    at = open_page(routes.METRICS_LIBRARY)
    no_exception(at)
    text = shown_text(at)
    assert f"[{expected}]" in text
    assert format_n(respondents) in text
    assert f"**{metric.title}**" in text
    assert f"NPS · {format_n(respondents)}" in text


def test_add_metric_button_opens_the_wizard(settings):
    at = open_page(routes.METRICS_LIBRARY)
    at.button(key="add_metric").click().run()
    no_exception(at)
    assert [t.value for t in at.title] == ["New metric"]


def test_metric_page_shows_the_score_and_the_question_as_plain_text(settings, sandbox):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    at = open_page(routes.METRIC, query={"id": str(metric.id)})
    no_exception(at)
    assert [t.value for t in at.title] == [plain(metric.title)]
    assert f"[{format_value('nps', sandbox.known_scores()['nps'])}]" in shown_text(at)
    assert "How likely are you to recommend Journey Pulse to a friend or colleague?" in [t.value for t in at.text]


def test_saving_an_edited_mapping_rescores_the_metric_page_without_a_sync(settings, sandbox):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    table = views.mapping_table(metric)
    table.loc[table["value"].isin(["7", "8"]), "sentiment"] = "Positive"
    views.save_mapping(settings, metric, table)

    values = sandbox.expected_answers(sandbox.survey_ids["nps"], "QID1")["value"]
    expected = nps_of(values, positive={"7", "8", "9", "10"}, negative={str(v) for v in range(7)})
    assert expected != sandbox.known_scores()["nps"]
    at = open_page(routes.METRIC, query={"id": str(metric.id)})
    no_exception(at)
    assert f"[{format_value('nps', expected)}]" in shown_text(at)
    saved = at.data_editor[0].value
    assert set(saved.loc[saved["value"].isin(["7", "8"]), "sentiment"]) == {"Positive"}


def test_metric_page_without_an_id_points_to_the_library(settings):
    at = open_page(routes.METRIC)
    no_exception(at)
    assert any("Choose a metric" in i.value for i in at.info)


def test_metric_page_for_an_unknown_metric_says_so(settings):
    at = open_page(routes.METRIC, query={"id": "999"})
    no_exception(at)
    assert at.warning


def test_wizard_when_not_connected_sends_to_integrations(settings):
    at = open_page(routes.NEW_METRIC)
    no_exception(at)
    assert any("not connected" in w.value for w in at.warning)
    assert [s.label for s in at.selectbox] == ["Source"]


def test_wizard_walks_source_survey_question_type_and_sync_to_the_metric_page(settings, sandbox):
    connect(settings)
    survey_id = sandbox.survey_ids["csat"]
    at = open_page(routes.NEW_METRIC)
    no_exception(at)
    assert [s.label for s in at.selectbox] == ["Source", "Survey"]
    at.selectbox(key="wizard_survey").set_value(survey_id).run()
    at.selectbox(key=f"wizard_question_{survey_id}").set_value("QID1").run()
    no_exception(at)
    assert [s.label for s in at.selectbox] == ["Source", "Survey", "Question"]
    assert at.segmented_control(key=f"wizard_type_{survey_id}_QID1").value == "CSAT"
    labels = list(at.data_editor[0].value["label"])
    assert "Very dissatisfied" in labels and not any("<" in label for label in labels)

    at.button(key="wizard_sync").click().run()
    no_exception(at)
    created = scores.metric_cards(settings)
    assert len(created) == 1 and created[0].type == "csat"
    assert created[0].display == format_value("csat", sandbox.known_scores()["csat"])
    assert at.query_params.get("id") == str(created[0].metric_id)
    assert [t.value for t in at.title] == [plain(created[0].title)]


def test_wizard_lists_the_questions_it_does_not_offer_with_the_reason(settings, sandbox):
    connect(settings)
    survey_id = sandbox.survey_ids["csat"]
    at = open_page(routes.NEW_METRIC)
    at.selectbox(key="wizard_survey").set_value(survey_id).run()
    no_exception(at)
    [why] = [e for e in at.expander if "1 question of this survey cannot be a metric" in e.label]
    table = why.dataframe[0].value
    assert list(table["question"]) == ["QID2"]  # the survey's open-text question
    assert list(table["reason"]) == ["open-text answers have no scale"]
    assert "QID2" not in {q.id for q in wizard.questions(settings, survey_id)}


def test_wizard_refuses_a_csat_mapping_with_a_counted_answer_without_a_score(settings, sandbox):
    connect(settings)
    question = next(q for q in wizard.questions(settings, sandbox.survey_ids["csat"]) if q.id == "QID1")
    table = wizard.default_table(question, "CSAT")
    assert wizard.mapping_from_table(table, "CSAT").missing_scores() == ()
    table.loc[table["label"] == "Very satisfied", "score"] = None
    with pytest.raises(Invalid, match="CSAT needs a score for every counted answer; add one for 'Very satisfied'"):
        wizard.mapping_from_table(table, "CSAT")


def test_survey_html_is_shown_as_text_never_rendered(settings, sandbox):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    placed_journey(settings, metric)
    for route in (routes.METRIC, routes.METRICS_LIBRARY, routes.JOURNEYS, routes.LIVE):
        at = open_page(route, query={"id": str(metric.id)})
        no_exception(at)
        for md in at.markdown:
            if md.allow_html:  # only our own same-tab link may carry HTML
                assert 'target="_self"' in md.value
            assert not re.search(r"</?(strong|div|b|em|p|i|u)>", md.value), md.value
        assert not re.search(r"</?(strong|div|b|em|p|i|u)>", shown_text(at))
    assert "<" not in metric.title and "Journey Pulse" in metric.title


def test_a_metric_title_with_markdown_is_shown_as_typed_on_every_page(settings, sandbox):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    placed_journey(settings, metric)
    metrics.update_metric(settings, metric.id, title="NPS · *Beta* [signup](http://evil.example) #1")
    markdown_syntax = re.compile(r"(?<!\\)[*\[#]")  # an unescaped emphasis, link or heading character
    live = open_page(routes.LIVE)
    no_exception(live)
    tiles = "\n".join(element.proto.body for element in live.get("html"))
    assert '<div class="wall-title">NPS · *Beta* [signup](http://evil.example) #1</div>' in tiles
    assert "<a " not in tiles
    for route in (routes.METRIC, routes.METRICS_LIBRARY):
        at = open_page(route, query={"id": str(metric.id)})
        no_exception(at)
        sources = [e.value for e in (*at.title, *at.markdown) if "Beta" in e.value]
        assert sources, route
        for source in sources:
            start = source.index("NPS ·")
            title_part = source[start:source.index("#1", start) + 2]
            assert not markdown_syntax.search(title_part), (route, source)


# ---------------------------------------------------------------- Journeys, Live, Data Hub


def test_journeys_empty_state_says_how_to_start(settings):
    at = open_page(routes.JOURNEYS)
    no_exception(at)
    assert any("No journeys yet" in i.value and "New journey" in i.value for i in at.info)


def test_journey_shows_the_placed_metric_card_in_its_steps_lane_and_the_url_names_the_journey(settings, sandbox):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    journey, step = placed_journey(settings, metric)
    at = open_page(routes.JOURNEYS)
    no_exception(at)
    assert at.query_params.get("journey") == str(journey.id)
    lane = lane_of(at)
    assert ">Discover</div>" in lane and ">Sign up</div>" in lane and f'data-step="{step.id}">Welcome email</div>' in lane
    card = re.search(rf'<a class="jp-card[^"]*" href="metric\?id={metric.id}".*?</a>', lane).group(0)
    assert re.search(rf'<span class="jp-score"[^>]*>{re.escape(format_value("nps", sandbox.known_scores()["nps"]))}</span>',
                     card)
    assert "n = " in card
    assert f'href="new-metric?step={step.id}"' in lane
    assert "Scores across steps" in [s.value for s in at.subheader]


def test_journey_named_in_the_url_is_the_one_shown(settings):
    journey_view.create_with_stages(settings, "Onboarding", "Sign up")
    second = journey_view.create_with_stages(settings, "Support", "Contact")
    at = open_page(routes.JOURNEYS, query={"journey": str(second.id)})
    no_exception(at)
    assert at.selectbox(key="journey_pick").value == second.id
    assert ">Contact</div>" in lane_of(at)


def test_live_shows_the_journeys_cards_with_scores(settings, sandbox):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    journey, step = placed_journey(settings, metric)
    at = open_page(routes.LIVE, query={"journey": str(journey.id)})
    no_exception(at)
    tiles = "\n".join(element.proto.body for element in at.get("html"))
    assert "Sign up › Welcome email" in tiles
    assert f'<div class="wall-score">{format_value("nps", sandbox.known_scores()["nps"])}</div>' in tiles
    assert any(c.value.endswith(f"/jfe/form/{metric.survey_id}") for c in at.caption)


def test_live_without_journeys_says_to_create_one(settings):
    at = open_page(routes.LIVE)
    no_exception(at)
    assert any("Create a journey" in i.value for i in at.info)


def test_empty_data_hub_says_how_to_start_receiving_responses(settings):
    at = open_page(routes.DATA_HUB)
    no_exception(at)
    assert [t.value for t in at.title] == ["Data Hub"]
    assert any("No responses have arrived yet" in i.value for i in at.info)
