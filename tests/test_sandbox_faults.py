"""Every fault switch of the sandbox over real HTTP, set both on ``sb.faults`` and through ``/_sandbox/faults``."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
import requests

from tests.sandbox_fixtures import api_session, run_export

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)


def whoami(sb, session=None) -> requests.Response:
    return (session or api_session(sb)).get(f"{sb.base_url}/API/v3/whoami")


def test_next_k_requests_are_rate_limited_with_retry_after(sandbox):
    sandbox.faults.rate_limit_next, sandbox.faults.retry_after = 2, 7
    statuses = [whoami(sandbox) for _ in range(3)]
    assert [r.status_code for r in statuses] == [429, 429, 200]
    assert statuses[0].headers["Retry-After"] == "7"
    meta = statuses[0].json()["meta"]
    assert meta["httpStatus"] == "429 - Too Many Requests" and meta["error"]["errorCode"]
    assert sandbox.faults_fired["rate_limit"] == 2


def test_every_nth_request_is_rate_limited(fresh_sandbox):
    fresh_sandbox.faults.rate_limit_every = 3
    codes = [whoami(fresh_sandbox).status_code for _ in range(7)]
    assert codes == [200, 200, 429, 200, 200, 429, 200]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_for_the_next_k_requests(sandbox, status):
    sandbox.faults.server_error_next, sandbox.faults.server_error_status = 2, status
    responses = [whoami(sandbox) for _ in range(3)]
    assert [r.status_code for r in responses] == [status, status, 200]
    error = responses[0].json()["meta"]["error"]
    assert error["instanceId"] and error["errorCode"]


def test_dropped_connections_close_without_a_response(sandbox):
    sandbox.faults.drop_next = 1
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sandbox.base_url}/API/v3/whoami", headers={"X-API-TOKEN": sandbox.api_token})
    assert whoami(sandbox).status_code == 200
    assert sandbox.requests[-2].status == 0  # the dropped one is recorded as such


def test_faults_are_counted_per_kind(sandbox):
    sandbox.faults.drop_next, sandbox.faults.rate_limit_next, sandbox.faults.server_error_next = 1, 1, 1
    session = api_session(sandbox)
    outcomes = []
    for _ in range(4):
        try:
            outcomes.append(whoami(sandbox, session).status_code)
        except requests.ConnectionError:
            outcomes.append("dropped")
    assert outcomes == ["dropped", 429, 503, 200]
    assert sandbox.faults_fired == {"drop": 1, "rate_limit": 1, "server_error": 1}


def test_slow_export_stays_in_progress_for_m_polls(sandbox):
    sandbox.faults.export_polls = 4
    session = api_session(sandbox)
    url = f"{sandbox.base_url}/API/v3/surveys/{sandbox.survey_ids['ces']}/export-responses"
    progress_id = session.post(url, json={"format": "csv", "limit": 5}).json()["result"]["progressId"]
    time.sleep(0.2)  # the job itself is long done
    polls = [session.get(f"{url}/{progress_id}").json()["result"] for _ in range(5)]
    assert [p["status"] for p in polls] == ["inProgress"] * 4 + ["complete"]
    percents = [p["percentComplete"] for p in polls]
    assert percents == sorted(percents) and percents[0] < 100


def test_failed_export_job_reports_failed(sandbox):
    sandbox.faults.export_fail_next = 1
    result, response = run_export(api_session(sandbox), sandbox.base_url, sandbox.survey_ids["ces"], {"format": "csv"})
    assert result == {"fileId": None, "percentComplete": 100.0, "status": "failed"} and response is None
    result, response = run_export(api_session(sandbox), sandbox.base_url, sandbox.survey_ids["ces"], {"format": "csv"})
    assert result["status"] == "complete"


def test_corrupt_zip_for_the_next_k_downloads(sandbox):
    session = api_session(sandbox)
    result, good = run_export(session, sandbox.base_url, sandbox.survey_ids["csat"], {"format": "csv"})
    sandbox.faults.corrupt_zip_next = 1
    url = f"{sandbox.base_url}/API/v3/surveys/{sandbox.survey_ids['csat']}/export-responses/{result['fileId']}/file"
    broken = session.get(url)
    assert broken.status_code == 200 and int(broken.headers["Content-Length"]) == len(broken.content)
    assert len(broken.content) < len(good.content)
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(broken.content)).read(zipfile.ZipFile(io.BytesIO(good.content)).namelist()[0])
    assert session.get(url).content == good.content


def _bearer(sb) -> dict:
    return requests.post(f"{sb.base_url}/oauth2/token", auth=(sb.client_id, sb.client_secret),
                         data={"grant_type": "client_credentials"}).json()


def test_access_tokens_expire_after_n_api_calls(fresh_sandbox):
    fresh_sandbox.faults.token_expires_after_calls = 2
    headers = {"Authorization": f"Bearer {_bearer(fresh_sandbox)['access_token']}"}
    codes = [requests.get(f"{fresh_sandbox.base_url}/API/v3/whoami", headers=headers).status_code for _ in range(3)]
    assert codes == [200, 200, 401]


def test_short_access_token_lifetime(fresh_sandbox):
    fresh_sandbox.faults.access_token_lifetime = 1
    token = _bearer(fresh_sandbox)
    assert token["expires_in"] == 1
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert requests.get(f"{fresh_sandbox.base_url}/API/v3/whoami", headers=headers).status_code == 200
    time.sleep(1.05)
    expired = requests.get(f"{fresh_sandbox.base_url}/API/v3/whoami", headers=headers)
    assert expired.status_code == 401 and expired.json()["meta"]["error"]["errorCode"] == "AUTH_6.0"


def test_revoked_refresh_token_is_invalid_grant(fresh_sandbox):
    sb = fresh_sandbox
    form = {"response_type": "code", "client_id": sb.client_id,
            "redirect_uri": "http://localhost:8501/api/qualtrics/callback"}
    page = requests.get(f"{sb.base_url}/oauth2/auth", params=form).text
    request_id = page.split('name="request_id" value="', 1)[1].split('"', 1)[0]
    location = requests.post(f"{sb.base_url}/oauth2/auth", data={"request_id": request_id, "decision": "approve"},
                             allow_redirects=False).headers["Location"]
    code = location.split("code=", 1)[1].split("&", 1)[0]
    token = requests.post(f"{sb.base_url}/oauth2/token", auth=(sb.client_id, sb.client_secret),
                          data={"grant_type": "authorization_code", "code": code,
                                "redirect_uri": form["redirect_uri"]}).json()
    sb.faults.refresh_revoked = True
    refresh = requests.post(f"{sb.base_url}/oauth2/token", auth=(sb.client_id, sb.client_secret),
                            data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]})
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


def test_missing_permissions_show_off_and_block_exports(sandbox):
    sandbox.faults.missing_permissions = ["Download Survey Results", "Edit Surveys"]
    session = api_session(sandbox)
    permissions = session.get(f"{sandbox.base_url}/API/v3/users/{sandbox.user_id}").json()["result"]["permissions"]
    assert permissions["surveyPlatform"]["downloadSurveyResults"] == {"state": "off"}
    assert permissions["surveyPlatform"]["editSurveys"] == {"state": "off"}
    assert permissions["controlPanel"]["accessApi"] == {"state": "on"}
    export = session.post(f"{sandbox.base_url}/API/v3/surveys/{sandbox.survey_ids['nps']}/export-responses",
                          json={"format": "csv"})
    assert export.status_code == 403


def test_faults_over_http_set_show_validate_and_reset(sandbox):
    url = f"{sandbox.base_url}/_sandbox/faults"
    control = sandbox.control_headers()
    shown = requests.post(url, headers=control, json={"rate_limit_next": 1, "missing_permissions": ["Access API"]}).json()
    assert shown["rate_limit_next"] == 1 and sandbox.faults.missing_permissions == ["Access API"]
    assert requests.get(url, headers=control).json() == shown
    assert requests.post(url, headers=control, json={"no_such_fault": 1}).status_code == 400
    assert requests.post(url, headers=control, json={"server_error_status": 418}).status_code == 400
    assert requests.post(url, headers=control, json={"missing_permissions": ["Fly"]}).status_code == 400
    assert requests.post(url, headers=control, json={"drop_next": "many"}).status_code == 400
    assert sandbox.faults.drop_next == 0  # a rejected update changes nothing
    assert whoami(sandbox).status_code == 429
    reset = requests.post(f"{sandbox.base_url}/_sandbox/reset", headers=control).json()
    assert reset["rate_limit_next"] == 0 and reset["missing_permissions"] == []
    assert sandbox.faults_fired == {}


def test_fixture_resets_faults_after_each_test_part_one(sandbox):
    sandbox.faults.server_error_next = 5


def test_fixture_resets_faults_after_each_test_part_two(sandbox):
    assert sandbox.faults.server_error_next == 0
    assert whoami(sandbox).status_code == 200
