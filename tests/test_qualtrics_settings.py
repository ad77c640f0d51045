"""Settings from the environment (design.md section 3) and the permissions shape shared with the sandbox."""

from __future__ import annotations

import pytest

from qualtrics.errors import QualtricsError
from qualtrics.permissions import REQUIRED_PERMISSIONS, check_permissions, user_permissions
from qualtrics.settings import QualtricsSettings

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)


@pytest.mark.parametrize("env, base_url", [
    ({"QUALTRICS_BASE_URL": "https://fra1.qualtrics.com"}, "https://fra1.qualtrics.com"),
    ({"QUALTRICS_BASE_URL": " https://acme.iad1.qualtrics.com/API/v3/ "}, "https://acme.iad1.qualtrics.com"),
    ({"QUALTRICS_DATACENTER": "FRA1"}, "https://fra1.qualtrics.com"),
    ({"QUALTRICS_BASE_URL": "http://127.0.0.1:8765", "QUALTRICS_DATACENTER": "iad1"}, "http://127.0.0.1:8765"),
    ({}, None),
    ({"QUALTRICS_BASE_URL": "", "QUALTRICS_DATACENTER": "  "}, None),
])
def test_base_url_comes_from_the_url_else_the_data_center_else_the_sandbox(env, base_url):
    settings = QualtricsSettings.from_env(env)
    assert settings.base_url == base_url
    assert settings.uses_sandbox is (base_url is None)


def test_credentials_are_read_and_blank_values_mean_unset():
    settings = QualtricsSettings.from_env({"QUALTRICS_CLIENT_ID": "id", "QUALTRICS_CLIENT_SECRET": "s3cret",
                                           "QUALTRICS_API_TOKEN": " "})
    assert (settings.client_id, settings.client_secret, settings.api_token) == ("id", "s3cret", None)
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize("env", [{"QUALTRICS_DATACENTER": "fra1/evil"}, {"QUALTRICS_BASE_URL": "fra1.qualtrics"}])
def test_malformed_locations_are_refused_with_an_example(env):
    with pytest.raises(QualtricsError, match="fra1"):
        QualtricsSettings.from_env(env)


def test_permissions_built_for_the_sandbox_read_back_as_granted_and_missing():
    missing = ("Edit Surveys", "Filter Survey Results")
    check = check_permissions(user_permissions([p for p in REQUIRED_PERMISSIONS if p not in missing]))
    assert check.missing == missing
    assert check.granted == tuple(p for p in REQUIRED_PERMISSIONS if p not in missing)


def test_permissions_are_found_under_another_nesting_and_as_booleans():
    payload = {"controlPanel": {"accountPermissions": {"accessApi": True, "downloadSurveyReports": "ON"}},
               "surveys": {"surveyPlatform": {"surveyPlatform": {"state": "on"}, "editSurveys": {"state": "on"},
                                              "downloadSurveyResults": {"state": "enabled"},
                                              "filterSurveyResults": {"state": "off"}}}}
    check = check_permissions(payload)
    assert check.missing == ("Filter Survey Results",)


def test_no_permissions_payload_means_every_permission_is_reported_missing():
    assert check_permissions(None).missing == REQUIRED_PERMISSIONS


def test_unknown_permission_names_are_refused():
    with pytest.raises(ValueError):
        user_permissions(["Fly"])
