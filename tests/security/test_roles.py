"""Finding 5: a role comes only from an email the identity provider verified (and from a configured
provider's issuer); a malformed ``[roles]`` is a configuration error naming the key, never "everyone".

The pages run under AppTest with ``[auth]`` configured and ``st.user`` seeded as st.login fills it from the
ID token's claims.
"""

from __future__ import annotations

import pytest

from tests.test_pages import EDITOR, LOGIN_SECRETS, MANAGER, button_labels, open_page
from tests.test_pages import settings  # noqa: F401  (fixture: own database, the session sandbox)
from ui import routes
from workspace.config import ConfigError
from workspace.people import Role, expected_issuers, role_lists, verified_email

ISSUER = "https://accounts.example.com"  # LOGIN_SECRETS' server_metadata_url minus the discovery path


def claims(email: str, **extra: object) -> dict:
    return {"is_logged_in": True, "email": email, "name": "Ana", **extra}


@pytest.mark.parametrize("extra", [
    {},                                                    # provider said nothing about verification
    {"email_verified": False, "iss": ISSUER},
    {"email_verified": "false", "iss": ISSUER},
    {"email_verified": True, "iss": "https://evil.example"},  # a provider that is not configured
])
def test_an_unverified_manager_email_gets_no_manager_actions(settings, extra):  # noqa: F811
    at = open_page(routes.INTEGRATIONS, user=claims(MANAGER, **extra), secrets=LOGIN_SECRETS)
    assert not at.exception
    assert not button_labels(at) & {"Enable", "Authorize", "Reauthorize", "Disconnect"}
    assert any("Only integration managers" in i.value for i in at.info)


def test_a_verified_manager_email_from_the_configured_issuer_manages(settings):  # noqa: F811
    at = open_page(routes.INTEGRATIONS, user=claims(MANAGER, email_verified=True, iss=ISSUER), secrets=LOGIN_SECRETS)
    assert not at.exception
    assert "Enable" in button_labels(at)


@pytest.mark.parametrize("section, key", [
    ({"integration_managers": "*@example.com"}, "integration_managers"),
    ({"editors": "eli@example.com"}, "editors"),
    ({"integration_managers": [MANAGER, 7]}, "integration_managers"),
    ({"managers": [MANAGER]}, "managers"),
])
def test_a_malformed_roles_section_is_a_configuration_error_naming_the_key(section, key):
    with pytest.raises(ConfigError, match=rf"\[roles\] {key}"):
        role_lists(section)


def test_a_string_instead_of_a_list_stops_every_page_instead_of_making_everyone_a_manager(settings):  # noqa: F811
    secrets = {**LOGIN_SECRETS, "roles": {"integration_managers": "*@example.com", "editors": [EDITOR]}}
    at = open_page(routes.INTEGRATIONS, user=claims("someone@else.example", email_verified=True, iss=ISSUER),
                   secrets=secrets)
    assert at.exception and "[roles] integration_managers" in at.exception[0].message
    assert "Enable" not in button_labels(at)


def test_issuers_come_from_every_configured_provider():
    auth = {"redirect_uri": "x", "google": {"server_metadata_url":
                                            "https://accounts.google.com/.well-known/openid-configuration"},
            "server_metadata_url": f"{ISSUER}/.well-known/openid-configuration"}
    assert expected_issuers(auth) == {"https://accounts.google.com", ISSUER}
    assert verified_email({"email": "a@b.c", "email_verified": True}, expected_issuers(auth)) == "a@b.c"
    assert role_lists({"integration_managers": ["*"]}).role_of("a@b.c") == Role.MANAGER
    assert role_lists({}).role_of(None) == Role.VIEWER
