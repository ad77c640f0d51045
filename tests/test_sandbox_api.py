"""The sandbox's API v3 endpoints over real HTTP, held key by key against real recorded Qualtrics responses."""

from __future__ import annotations

import json
import re
import uuid

import pytest
import requests

from tests.sandbox_fixtures import api_session, shared_fixture

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)


def real(name: str) -> dict:
    return json.loads(shared_fixture(f"qualtrics-real/{name}").read_text())


def assert_success_envelope(body: dict) -> None:
    assert set(body) == {"result", "meta"}
    assert body["meta"]["httpStatus"] == "200 - OK"
    uuid.UUID(body["meta"]["requestId"])


def assert_error_envelope(response: requests.Response, status: int, message: str, code: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"meta"}
    assert body["meta"]["httpStatus"].startswith(f"{status} - ")
    assert body["meta"]["error"]["errorMessage"] == message
    assert body["meta"]["error"]["errorCode"] == code
    uuid.UUID(body["meta"]["requestId"])


def test_missing_authorization_is_400_atp_2(sandbox):
    response = requests.get(f"{sandbox.base_url}/API/v3/whoami")
    assert_error_envelope(response, 400, "Expected authorization in headers, but none provided.", "ATP_2")
    # the real recorded envelope has exactly these keys
    assert response.json()["meta"]["httpStatus"] == "400 - Bad Request"


def test_unknown_api_token_is_401(sandbox):
    response = requests.get(f"{sandbox.base_url}/API/v3/whoami", headers={"X-API-TOKEN": "nope"})
    assert_error_envelope(response, 401, "Unrecognized X-API-TOKEN", "AUTH_6.0")
    assert response.json()["meta"]["httpStatus"] == "401 - Unauthorized"


def test_unknown_bearer_token_is_401_auth_6(sandbox):
    response = requests.get(f"{sandbox.base_url}/API/v3/whoami", headers={"Authorization": "Bearer nope"})
    assert_error_envelope(response, 401, "invalid_client", "AUTH_6.0")


def test_whoami_has_the_documented_fields(sandbox):
    body = api_session(sandbox).get(f"{sandbox.base_url}/API/v3/whoami").json()
    assert_success_envelope(body)
    assert set(body["result"]) == {"brandId", "userId", "userName", "accountType", "firstName", "lastName", "email",
                                   "datacenter"}
    assert body["result"]["userId"].startswith("UR_")


def test_user_lists_all_six_permissions_on_by_default(sandbox):
    session = api_session(sandbox)
    user_id = session.get(f"{sandbox.base_url}/API/v3/whoami").json()["result"]["userId"]
    body = session.get(f"{sandbox.base_url}/API/v3/users/{user_id}").json()
    assert_success_envelope(body)
    permissions = body["result"]["permissions"]
    states = [leaf["state"] for group in permissions.values() for leaf in group.values()]
    assert states == ["on"] * 6
    assert permissions["controlPanel"]["accessApi"] == {"state": "on"}
    assert permissions["surveyPlatform"]["downloadSurveyResults"] == {"state": "on"}


def test_other_users_are_not_found(sandbox):
    response = api_session(sandbox).get(f"{sandbox.base_url}/API/v3/users/UR_somebodyElse1")
    assert response.status_code == 404
    assert response.json()["meta"]["error"]["errorCode"]


def test_survey_list_pages_by_100_with_full_next_page_urls(sandbox):
    session = api_session(sandbox)
    url = f"{sandbox.base_url}/API/v3/surveys"
    pages = []
    while url:
        body = session.get(url).json()
        assert_success_envelope(body)
        pages.append(body["result"]["elements"])
        url = body["result"]["nextPage"]
        if url:
            assert url.startswith(f"{sandbox.base_url}/API/v3/surveys?") and "offset=" in url
    assert [len(p) for p in pages] == [100, 36]
    ids = [s["id"] for page in pages for s in page]
    assert len(set(ids)) == len(ids) == 136
    assert set(sandbox.survey_ids.values()) <= set(ids)
    foreign = sandbox.catalog.by_role("foreign")
    assert foreign.id not in ids  # owned by a colleague who did not share it


def test_survey_list_shape_matches_the_real_recording(sandbox):
    mine = api_session(sandbox).get(f"{sandbox.base_url}/API/v3/surveys").json()
    recorded = real("list_surveys_response.json")
    assert set(mine) == set(recorded)
    assert set(mine["meta"]) == set(recorded["meta"])
    assert set(mine["result"]) == set(recorded["result"])
    for element in mine["result"]["elements"]:
        assert set(element) == set(recorded["result"]["elements"][0])
        assert re.fullmatch(r"SV_[A-Za-z0-9]{15}", element["id"])
        for key, value in recorded["result"]["elements"][0].items():
            assert type(element[key]) is type(value), key
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", element["lastModified"])


def test_a_survey_shared_by_nobody_is_forbidden(sandbox):
    foreign = sandbox.catalog.by_role("foreign")
    response = api_session(sandbox).get(f"{sandbox.base_url}/API/v3/surveys/{foreign.id}")
    assert response.status_code == 403
    assert response.json()["meta"]["httpStatus"] == "403 - Forbidden"


def test_unknown_survey_is_404(sandbox):
    response = api_session(sandbox).get(f"{sandbox.base_url}/API/v3/survey-definitions/SV_doesNotExist00")
    assert response.status_code == 404
    assert response.json()["meta"]["httpStatus"] == "404 - Not Found"


def _definition(sandbox, role: str) -> dict:
    body = api_session(sandbox).get(f"{sandbox.base_url}/API/v3/survey-definitions/{sandbox.survey_ids[role]}").json()
    assert_success_envelope(body)
    return body["result"]


def test_survey_definition_top_level_matches_the_real_recording(sandbox):
    recorded = real("survey_definition_SV_3gbwq8aJgqPwQDP_beskar_csat.json")["result"]
    for role in ("nps", "csat", "ces", "matrix"):
        mine = _definition(sandbox, role)
        assert list(mine) == list(recorded)  # same keys, same order
        for key, value in recorded.items():
            if value is not None:
                assert type(mine[key]) is type(value), key
        assert set(mine["SurveyOptions"]) <= set(recorded["SurveyOptions"])
        assert set(mine["Scoring"]) == set(recorded["Scoring"])
        assert set(mine["ProjectInfo"]) == set(recorded["ProjectInfo"])
        assert set(mine["SurveyFlow"]) == set(recorded["SurveyFlow"])
        for block in mine["Blocks"].values():
            standard = recorded["Blocks"]["BL_bvJSDbLJ6WXqDU9"]
            assert set(block) <= set(standard) | {"Options"}
            assert all(e in ({"Type": "Page Break"},) or set(e) == {"Type", "QuestionID"}
                       for e in block["BlockElements"])


def test_single_choice_and_text_questions_have_the_real_keys(sandbox):
    recorded = real("survey_definition_SV_3gbwq8aJgqPwQDP_beskar_csat.json")["result"]["Questions"]
    csat = _definition(sandbox, "csat")["Questions"]
    # QID16 is a plain MC/SAVR; QID63 adds RecodeValues and VariableNaming
    assert set(recorded["QID16"]) <= set(csat["QID1"]) <= set(recorded["QID63"])
    assert set(csat["QID2"]) == set(recorded["QID22"])  # TE/ESTB
    for choice in csat["QID1"]["Choices"].values():
        assert set(choice) == {"Display"}
    assert csat["QID1"]["Validation"].keys() == recorded["QID16"]["Validation"].keys()
    assert csat["QID1"]["RecodeValues"]["8"] == "99"  # N/A carries a custom recode
    assert "<b>" in csat["QID1"]["QuestionText"]  # HTML, like real question text


def test_nps_question_is_mc_with_nps_selector_and_eleven_choices(sandbox):
    nps = _definition(sandbox, "nps")["Questions"]["QID1"]
    assert (nps["QuestionType"], nps["Selector"]) == ("MC", "NPS")
    assert nps["ChoiceOrder"] == [str(i) for i in range(11)]


def test_matrix_definition_has_rows_as_choices_and_scale_as_answers(sandbox):
    qsf = json.loads(shared_fixture("qualtricstools-real/Single_Answer_Matrix_Questions.qsf").read_text())
    recorded = next(e["Payload"] for e in qsf["SurveyElements"]
                    if e["Element"] == "SQ" and e["Payload"]["QuestionType"] == "Matrix")
    matrix = _definition(sandbox, "matrix")["Questions"]["QID1"]
    assert set(recorded) - {"DefaultChoices", "GradingData"} <= set(matrix)
    assert (matrix["QuestionType"], matrix["Selector"], matrix["SubSelector"]) == ("Matrix", "Likert", "SingleAnswer")
    assert [c["Display"] for c in matrix["Choices"].values()] == ["Discover", "Sign up", "First use", "Billing",
                                                                    "Support"]
    assert len(matrix["Answers"]) == 5


def _get_survey(sandbox, role: str) -> dict:
    body = api_session(sandbox).get(f"{sandbox.base_url}/API/v3/surveys/{sandbox.survey_ids[role]}").json()
    assert_success_envelope(body)
    return body["result"]


def test_get_survey_top_level_matches_the_real_recordings(sandbox):
    for fixture in ("get_survey_SV_3gbwq8aJgqPwQDP_beskar_csat.json", "get_survey_SV_56icaa9YAafpAqx_cats_nps.json",
                    "get_survey_SV_5BJRo2RGHajIlOB_sourdough_matrix.json"):
        recorded = real(fixture)["result"]
        for role in ("nps", "csat", "ces", "matrix"):
            mine = _get_survey(sandbox, role)
            assert list(mine) == list(recorded)
            assert set(mine["responseCounts"]) == set(recorded["responseCounts"])
            assert set(mine["expiration"]) == set(recorded["expiration"])
            assert all(set(e) == set(recorded["embeddedData"][0]) for e in mine["embeddedData"])
            for block in mine["blocks"].values():
                assert set(block) == set(next(iter(recorded["blocks"].values())))


def test_get_survey_nps_question_matches_the_real_nps_question(sandbox):
    recorded = real("get_survey_SV_56icaa9YAafpAqx_cats_nps.json")["result"]
    mine = _get_survey(sandbox, "nps")
    real_nps, nps = recorded["questions"]["QID18"], mine["questions"]["QID1"]
    assert set(nps) == set(real_nps)
    assert nps["questionType"] == real_nps["questionType"] == {"type": "MC", "selector": "NPS", "subSelector": None}
    assert list(nps["choices"]) == list(real_nps["choices"])
    for key, choice in nps["choices"].items():
        assert set(choice) == set(real_nps["choices"][key])
        assert choice["recode"] == key
    assert mine["exportColumnMap"]["Q1"] == {"question": "QID1"}
    real_text = recorded["questions"]["QID27"]
    assert set(mine["questions"]["QID2"]) == set(real_text)


def test_get_survey_matrix_matches_the_real_matrix(sandbox):
    recorded = real("get_survey_SV_5BJRo2RGHajIlOB_sourdough_matrix.json")["result"]
    mine = _get_survey(sandbox, "matrix")
    real_matrix, matrix = recorded["questions"]["QID1"], mine["questions"]["QID1"]
    assert set(real_matrix) - {"randomization"} == set(matrix)
    assert set(matrix["subQuestions"]["1"]) == set(real_matrix["subQuestions"]["1"])
    assert set(matrix["choices"]["1"]) == set(real_matrix["choices"]["1"])
    assert mine["exportColumnMap"]["Q1_3"] == {"question": "QID1", "subQuestion": "QID1.subQuestions.3"}
    assert set(recorded["exportColumnMap"]["Q1_3"]) == set(mine["exportColumnMap"]["Q1_3"])


def test_get_survey_csat_choices_match_the_real_single_choice(sandbox):
    recorded = real("get_survey_SV_3gbwq8aJgqPwQDP_beskar_csat.json")["result"]
    csat = _get_survey(sandbox, "csat")["questions"]["QID1"]
    real_q = recorded["questions"]["QID16"]
    assert set(csat) == set(real_q)
    assert csat["questionType"] == real_q["questionType"]
    assert set(csat["choices"]["8"]) == set(real_q["choices"]["1"])
    assert csat["choices"]["8"]["recode"] == "99" and csat["choices"]["8"]["description"] == "N/A"
    assert csat["choices"]["1"]["description"] == "Very dissatisfied"  # plain text of "Very <b>dis</b>satisfied"


def test_trailing_slashes_are_accepted_like_the_real_api(sandbox):
    assert api_session(sandbox).get(f"{sandbox.base_url}/API/v3/surveys/").status_code == 200


def test_unknown_endpoint_is_404_in_the_envelope(sandbox):
    response = api_session(sandbox).get(f"{sandbox.base_url}/API/v3/no-such-thing")
    assert response.status_code == 404
    assert response.json()["meta"]["error"]["errorCode"]


@pytest.mark.parametrize("seed", [3, 11])
def test_same_seed_same_data_other_seed_other_ids(seed):
    from qualtrics.sandbox import Sandbox

    a, b, c = Sandbox(seed=seed), Sandbox(seed=seed), Sandbox(seed=seed + 1)
    try:
        assert a.survey_ids == b.survey_ids != c.survey_ids
        expected = a.expected_answers("nps", "QID1")
        assert expected.equals(b.expected_answers("nps", "QID1"))
    finally:
        for sb in (a, b, c):
            sb.stop()
